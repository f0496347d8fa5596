package io.sparklora.serve;

import io.sparklora.eval.Scorer;
import io.sparklora.lora.LoraAdapter;
import io.sparklora.lora.LoraConfig;
import io.sparklora.lora.LoraModule;
import io.sparklora.model.BaseModel;
import io.sparklora.nn.CausalLms;
import io.sparklora.peft.PeftAdapters;
import io.sparklora.tokenizer.ByteTokenizer;
import java.nio.file.Path;
import java.util.List;

/**
 * Adapters for the serve tests (rank 4 on q/v/down, random B), and the reference the server's
 * numbers are held to: the training forward through {@link Scorer}, which shares no code with the KV-cache decoder.
 */
final class ServeFixtures {
    static final Path MODEL = Path.of("../models/demo-base");

    private ServeFixtures() {
    }

    /** Writes adapter {@code name} (rank 4 on q/v/down, B random from {@code seed}) to {@code root/adapters/name}. */
    static LoraAdapter writeAdapter(BaseModel base, Path root, String name, int seed) throws Exception {
        return RandomAdapters.write(base, root, name, LoraConfig.defaults()
                .withTargetModules(List.of("q_proj", "v_proj", "down_proj")).withRank(4).withAlpha(8), seed);
    }

    /** Writes adapters a0..a{n-1} under root/adapters. */
    static void writeAdapters(BaseModel base, Path root, int n) throws Exception {
        for (int i = 0; i < n; i++) {
            writeAdapter(base, root, "a" + i, i);
        }
    }

    /** A's and B's float32 bytes: what one adapter costs in RAM. */
    static long adapterBytes(LoraAdapter a) {
        long floats = 0;
        for (LoraModule m : a.modules().values()) {
            floats += m.loraA().value().size() + m.loraB().value().size();
        }
        return 4 * floats;
    }

    /** The training forward's mean loss on {@code text} with the adapter under root/adapters/name (null: base). */
    static double scoreLoss(BaseModel base, Path root, String name, String text) throws Exception {
        var lm = name == null ? CausalLms.of(base)
                : CausalLms.withAdapter(base, PeftAdapters.read(root.resolve("adapters/" + name), base.config()));
        int n = text.length();
        return new Scorer(n).score(lm, new ByteTokenizer().encode(text), "text").meanLoss();
    }

    /**
     * A copy of the demo base (byte tokenizer) under {@code dir} whose tokenizer_config.json carries only Qwen3's
     * chat_template: Qwen3's EOS token is not a byte, the template's text is all the chat tests need.
     */
    static Path baseWithQwen3ChatTemplate(Path dir) throws Exception {
        java.nio.file.Files.createDirectories(dir);
        for (String f : new String[] {"config.json", "model.safetensors"}) {
            java.nio.file.Files.copy(MODEL.resolve(f), dir.resolve(f));
        }
        var qwen3 = Served.JSON.readTree(ChatTemplateTest.QWEN3.resolve("tokenizer_config.json").toFile());
        var config = Served.JSON.createObjectNode().put("chat_template", qwen3.path("chat_template").asText());
        java.nio.file.Files.writeString(dir.resolve("tokenizer_config.json"), Served.JSON.writeValueAsString(config));
        return dir;
    }

    /** An echo request for the prompt's log-probabilities only (what lm-evaluation-harness sends). */
    static String echoBody(String model, String text) throws Exception {
        return "{\"model\":\"" + model + "\",\"prompt\":" + Served.JSON.writeValueAsString(text)
                + ",\"max_tokens\":0,\"echo\":true,\"logprobs\":1}";
    }
}
