package io.sparklora.infer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparklora.generate.Generator;
import io.sparklora.generate.Sampling;
import io.sparklora.lora.TinyModels;
import io.sparklora.model.BaseModel;
import io.sparklora.model.ModelConfig;
import io.sparklora.nn.CausalLms;
import java.util.Arrays;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link GenerateBench} at toy size: both paths run, choose the same greedy tokens (a correctness check of the
 * comparison, not of the timings), and every figure is reported with its spread. No timing is asserted.
 */
class GenerateBenchTest {
    static Stream<ModelConfig> families() {
        return Stream.of(TinyModels.llama(), TinyModels.gpt2());
    }

    @ParameterizedTest
    @MethodSource("families")
    void bothPathsAgreeOnEveryRunAndEveryFigureHasItsSpread(ModelConfig config) {
        BaseModel base = TinyModels.randomBase(config, 3);
        ObjectNode r = GenerateBench.run("tiny", base, new GenerateBench.Options(40, 5, 3, 4, 7));
        assertEquals(3, r.get("runs_equal").asInt(), r.toPrettyString());
        assertEquals(0, r.get("runs_parted_at_a_tie").asInt(), r.toPrettyString());
        assertEquals(0, r.get("partings").size(), r.toPrettyString());
        assertTrue(GenerateBench.agrees(r));
        assertEquals(16, r.get("latency_window_tokens").asInt());
        for (String f : new String[] {"kv_tokens_per_s", "uncached_tokens_per_s", "speed_up", "kv_first_token_ms",
                "kv_token_ms_start", "kv_token_ms_end", "uncached_token_ms_start", "uncached_token_ms_end"}) {
            JsonNode s = r.get(f);
            assertTrue(s.get("min").asDouble() > 0 && s.get("min").asDouble() <= s.get("median").asDouble()
                    && s.get("median").asDouble() <= s.get("max").asDouble(), f + ": " + s);
        }
    }

    @Test
    void theComparedTokensAreTheUncachedGeneratorsOnTheBenchPrompt() {
        // The bench's agreement is only worth something if the uncached side is the old generate path: check it
        // against Generator directly, and that a toy base's greedy continuation is not trivially constant.
        BaseModel base = TinyModels.randomBase(TinyModels.llama(), 3);
        int[] prompt = GenerateBench.randomPrompt(5, 64, 7);
        int[] old = new Generator(CausalLms.of(base)).generate(prompt, Sampling.greedy(40)).tokens();
        KvDecoder decoder = KvDecoder.create(base, 64, 5);
        Generation g = new Generation(decoder.newCache(), null, prompt, Sampling.greedy(40), new int[0],
                Segment.Logits.LAST);
        g.runAlone(decoder, id -> true);
        assertArrayEquals(old, g.tokens());
        assertTrue(Arrays.stream(old).distinct().count() > 1, Arrays.toString(old));
    }

    @Test
    void firstDifferenceFindsThePartingAndLengthDifferences() {
        assertEquals(-1, GenerateBench.firstDifference(new int[] {1, 2, 3}, new int[] {1, 2, 3}));
        assertEquals(1, GenerateBench.firstDifference(new int[] {1, 2, 3}, new int[] {1, 4, 3}));
        assertEquals(2, GenerateBench.firstDifference(new int[] {1, 2}, new int[] {1, 2, 3}));
    }

    @Test
    void aPromptAndNewTokensBeyondTheContextAreRefusedBeforeAnyRun() {
        BaseModel base = TinyModels.randomBase(TinyModels.gpt2(), 1);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> GenerateBench.run("tiny", base, new GenerateBench.Options(60, 5, 1, 0, 0)));
        assertEquals("Cannot bench generate on tiny: --prompt-tokens 5 + --new-tokens 60 exceed the model's max "
                + "positions 64", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new GenerateBench.Options(0, 5, 1, 0, 0));
    }
}
