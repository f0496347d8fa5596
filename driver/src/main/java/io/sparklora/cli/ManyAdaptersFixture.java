package io.sparklora.cli;

import io.sparklora.model.Checkpoints;
import io.sparklora.model.LlamaConfig;
import io.sparklora.model.LlamaFamily;
import io.sparklora.model.RopeScaling;
import io.sparklora.util.StrictJson;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * The inputs of {@code bench-many}: a micro LLaMA (dim 64, 2 layers, 4 heads, byte vocabulary, 64 positions) as
 * {@code init-model} writes it, and JSONL data with N keys of two rows each (about 190 byte tokens: three windows of
 * 64, one held out), trained at rank 4 for one step of batch 1 × seq 64, so that compute is negligible and what the
 * bench measures is the per-adapter overhead of the job.
 */
final class ManyAdaptersFixture {
    static final String DESCRIPTION = "llama dim 64, 2 layers, rank 4, 1 step of batch 1 x seq 64";
    private static final LlamaConfig MICRO = new LlamaConfig(LlamaFamily.LLAMA, 256, 64, 128, 2, 4, 4, 16, 64, 1e-6,
            10000, false, false, false, 0.02, RopeScaling.NONE, 0);

    private ManyAdaptersFixture() {
    }

    static Path writeModel(Path dir) throws IOException {
        Checkpoints.save(Checkpoints.random(MICRO, 0), dir);
        return dir;
    }

    /** {@code keys} keys named {@code k000000…}, two rows each whose text differs per key. */
    static Path writeData(Path file, int keys) throws IOException {
        try (BufferedWriter w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            for (int k = 0; k < keys; k++) {
                String key = String.format("k%06d", k);
                for (int row = 0; row < 2; row++) {
                    w.write(StrictJson.MAPPER.writeValueAsString(Map.of("key", key, "text", "adapter " + key
                            + " row " + row + ": the quick brown fox jumps over the lazy dog, " + (k * 31 + row)
                            + " times, and then it rests a while in the sun.")));
                    w.write('\n');
                }
            }
        }
        return file;
    }

    /** The {@code train} options of the bench (the command's own parser reads them). */
    static String[] trainArgs(Path model, Path data, Path out) {
        return new String[] {"--model", model.toString(), "--data", data.toString(), "--partition-by", "key",
            "--rank", "4", "--steps", "1", "--batch", "1", "--seq", "64", "--progress-seconds", "1000",
            "--out", out.toString()};
    }
}
