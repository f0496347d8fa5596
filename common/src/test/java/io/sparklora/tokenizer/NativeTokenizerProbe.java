package io.sparklora.tokenizer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/**
 * The child JVM of {@link NativeTokenizerFuzzTest}: loads each {@code case-N/tokenizer.json} under the directory given
 * through {@link HfTokenizer} (the native library) and encodes and decodes a sample. Prints {@code start N} before
 * each case, so that when the native code takes the process down the parent knows which input did it. Exit status 0
 * when every case loaded or was refused with an IOException naming its file, 1 when one failed otherwise.
 */
public final class NativeTokenizerProbe {
    private static final String SAMPLE = "Hello world 123! the lazy dog ▁ é <|endoftext|> [CLS]";

    private NativeTokenizerProbe() {
    }

    public static void main(String[] args) throws IOException {
        List<Path> cases;
        try (Stream<Path> s = Files.list(Path.of(args[0]))) {
            cases = s.sorted().toList();
        }
        int undocumented = 0;
        for (Path dir : cases) {
            Path file = dir.resolve("tokenizer.json");
            System.out.println("start " + dir.getFileName());
            System.out.flush();
            try (HfTokenizer t = HfTokenizer.load(file)) {
                int[] ids = t.encode(SAMPLE);
                t.decode(ids);
                System.out.println("ok " + dir.getFileName() + " " + ids.length + " ids");
            } catch (IOException e) {
                boolean named = e.getMessage() != null && e.getMessage().contains(file.toString());
                undocumented += named ? 0 : 1;
                System.out.println((named ? "refused " : "UNNAMED ") + dir.getFileName() + ": " + cut(e.getMessage()));
            } catch (Throwable e) {
                undocumented++;
                System.out.println("UNDOCUMENTED " + dir.getFileName() + ": " + cut(e.toString()));
            }
        }
        System.exit(undocumented == 0 ? 0 : 1);
    }

    /** Messages quote the input; a mutant can hold a megabyte string. */
    private static String cut(String s) {
        return s == null || s.length() <= 300 ? s : s.substring(0, 300) + "…";
    }
}
