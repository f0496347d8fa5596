package io.sparklora.tokenizer;

import io.sparklora.fuzz.Fuzz;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * Fuzzes the Java check of tokenizer.json ({@link TokenizerJson}) that stands before the native library: each mutant
 * of a BPE, WordLevel, Unigram or WordPiece file is accepted with a vocabulary size, or refused with an IOException
 * naming the file. {@link NativeTokenizerFuzzTest} hands the accepted ones to the native library, in another JVM.
 */
class TokenizerJsonFuzzTest {
    @Test
    void mutatedTokenizerJson() {
        Fuzz.run("tokenizer.json", 8_000, TokenizerSeeds.all(), true, TokenizerSeeds.FILE,
                input -> TokenizerJson.parse(new String(input, StandardCharsets.UTF_8), TokenizerSeeds.FILE),
                IOException.class);
    }
}
