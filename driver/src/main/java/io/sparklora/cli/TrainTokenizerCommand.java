package io.sparklora.cli;

import io.sparklora.storage.AtomicFiles;
import io.sparklora.tokenizer.BpeTrainer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code train-tokenizer}: trains a byte-level BPE tokenizer on a UTF-8 text file and writes {@code tokenizer.json}
 * and {@code tokenizer_config.json} ({@code <|endoftext|>} the EOS), for {@code init-model --tokenizer}.
 */
@Command(name = "train-tokenizer", mixinStandardHelpOptions = true,
        description = "Train a byte-level BPE tokenizer on a text file (tokenizer.json + tokenizer_config.json).")
final class TrainTokenizerCommand implements Callable<Integer> {
    @Option(names = "--data", required = true, description = "UTF-8 text file to learn the merges from")
    Path data;

    @Option(names = "--vocab", required = true, description = "vocabulary size: 256 bytes, the merges, <|endoftext|>")
    int vocab;

    @Option(names = "--max-length", defaultValue = "2048", description = "model_max_length in tokenizer_config.json "
            + "(default: ${DEFAULT-VALUE})")
    int maxLength;

    @Option(names = "--out", required = true, description = "output directory (must not exist or be empty)")
    Path out;

    @Override
    public Integer call() throws Exception {
        BpeTrainer trainer = new BpeTrainer(vocab);
        String text = readUtf8(data);
        long t0 = System.nanoTime();
        BpeTrainer.Result r = trainer.train(text);
        OutputDirs.writeAtomically(out, "tokenizer", dir -> {
            AtomicFiles.write(dir.resolve("tokenizer.json"), trainer.tokenizerJson(r).getBytes(StandardCharsets.UTF_8));
            AtomicFiles.write(dir.resolve("tokenizer_config.json"),
                    BpeTrainer.tokenizerConfigJson(maxLength).getBytes(StandardCharsets.UTF_8));
        });
        System.out.printf(java.util.Locale.ROOT, "Wrote a byte-level BPE tokenizer of %d ids (%d merges) learnt from "
                + "%s in %.1f s to %s%n", 257 + r.merges().size(), r.merges().size(), data,
                (System.nanoTime() - t0) / 1e9, out);
        return 0;
    }

    private static String readUtf8(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new IOException("Cannot read text file " + file + ": no such file");
        }
        return io.sparklora.util.Utf8.readFile(file, "read text file");
    }
}
