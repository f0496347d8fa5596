package io.sparklora.lora;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Regressions the adapter_config.json fuzzer found: regexes from a file must fail fast, not hang or crash. */
class PeftMatchBoundsTest {
    private static final Duration FAST = Duration.ofSeconds(5);

    /** {@code (.*.){12}x} backtracks for seconds per 31-character module path (n^12 steps): resolve() hung. */
    @Test
    void backtrackingTargetRegexFailsInsteadOfHanging() {
        LoraConfig c = LoraConfig.defaults().withTargetModulesRegex("(.*.){12}x");
        IllegalArgumentException e = assertTimeoutPreemptively(FAST,
                () -> assertThrows(IllegalArgumentException.class, () -> c.resolve(TinyModels.llama())));
        assertTrue(e.getMessage().startsWith("Invalid pattern (.*.){12}x: matching it against model.layers.0"),
                e.getMessage());
        assertTrue(e.getMessage().contains("backtracks exponentially"), e.getMessage());
    }

    @Test
    void backtrackingRankPatternKeyFailsToo() {
        LoraConfig c = LoraConfig.defaults().withRankPattern(Map.of("(.*){1,32000}[bc]", 4));
        IllegalArgumentException e = assertTimeoutPreemptively(FAST,
                () -> assertThrows(IllegalArgumentException.class, () -> c.resolve(TinyModels.llama())));
        assertTrue(e.getMessage().contains("backtracks exponentially"), e.getMessage());
    }

    /** A 100,000-character target_modules string took Pattern.compile seconds per module path. */
    @Test
    void overlongRegexIsRefusedAtConstruction() {
        String huge = "a".repeat(100_000);
        IllegalArgumentException e = assertTimeoutPreemptively(FAST,
                () -> assertThrows(IllegalArgumentException.class,
                        () -> LoraConfig.defaults().withTargetModulesRegex(huge)));
        assertEquals("Invalid targetModulesRegex " + "a".repeat(40) + "… (100000 characters): a pattern may have"
                + " at most 1000", e.getMessage());
    }

    /** A group in layers_pattern used to shift the index group: Integer.parseInt("lay") threw NumberFormatException. */
    @Test
    void layersPatternWithItsOwnGroupStillFindsTheIndex() {
        LoraConfig c = LoraConfig.defaults().withRank(2).withLayersToTransform(List.of(1), "(lay)ers");
        List<LoraTarget> targets = c.resolve(TinyModels.llama());
        assertEquals(List.of("model.layers.1.self_attn.q_proj", "model.layers.1.self_attn.v_proj"),
                targets.stream().map(t -> t.module().path()).toList());
    }
}
