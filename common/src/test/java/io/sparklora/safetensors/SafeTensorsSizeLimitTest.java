package io.sparklora.safetensors;

import static io.sparklora.safetensors.SafeTensorsBytes.file;
import static io.sparklora.safetensors.SafeTensorsBytes.open;
import static io.sparklora.safetensors.SafeTensorsBytes.zeros;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.math.BigInteger;
import org.junit.jupiter.api.Test;

/**
 * A tensor whose float32 size exceeds one buffer (2^31 - 1 bytes) is refused while the header is parsed, with one
 * message naming the tensor, its shape, its exact F32 size and what to change. The headers below claim huge shapes
 * with no data behind them: the refusal must come before the data layout is even checked, let alone allocated.
 */
class SafeTensorsSizeLimitTest {
    private static final String TAIL = " bytes as F32, over the 2 GiB a single tensor may hold (2147483647 bytes, "
            + "536870911 elements); use a base model whose every tensor fits, e.g. a smaller vocabulary or hidden size "
            + "(the embedding is vocab_size x hidden_size)";

    private static byte[] headerOnly(String dtype, String shape, String end) {
        return file("{\"model.embed_tokens.weight\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape
                + ",\"data_offsets\":[0," + end + "]}}", zeros(0));
    }

    private static String refusal(byte[] bytes) {
        return assertThrows(TensorTooLargeException.class, () -> open(bytes).close()).getMessage();
    }

    private static String expected(String shape, String bytes) {
        return "Cannot load base model test.safetensors: tensor model.embed_tokens.weight " + shape + " is " + bytes
                + TAIL;
    }

    @Test
    void a128kBy8kF32EmbeddingIsRefusedAtHeaderParse() {
        assertEquals(expected("[131072, 8192]", "4294967296"),
                refusal(headerOnly("F32", "[131072,8192]", "4294967296")));
    }

    @Test
    void halfPrecisionIsMeasuredAsTheF32ItBecomes() {
        // 2.1 GB on disk as BF16, 4.3 GB once converted
        assertEquals(expected("[131072, 8192]", "4294967296"),
                refusal(headerOnly("BF16", "[131072,8192]", "2147483648")));
    }

    @Test
    void theFirstElementOverTheLimitIsRefused() {
        assertEquals(expected("[536870912]", "2147483648"), refusal(headerOnly("F32", "[536870912]", "2147483648")));
    }

    @Test
    void theLargestLoadableTensorPassesTheLimitAndMeetsTheLayoutCheck() {
        SafeTensorsException e = assertThrows(SafeTensorsException.class,
                () -> open(headerOnly("F32", "[536870911]", "2147483644")).close());
        assertEquals("Cannot read safetensors test.safetensors: tensor 'model.embed_tokens.weight' has data_offsets "
                + "[0, 2147483644] past the end of the data buffer of 0 bytes", e.getMessage());
    }

    @Test
    void aDimensionOfTwoToThe31IsASizeNotAFormatError() {
        assertEquals(expected("[2147483648]", "8589934592"), refusal(headerOnly("F32", "[2147483648]", "0")));
    }

    @Test
    void shapeProductsThatOverflowALongAreReportedExactly() {
        long d = 1L << 32;
        String bytes = BigInteger.valueOf(d).pow(3).shiftLeft(2).toString(); // 2^98
        assertEquals(expected("[" + d + ", " + d + ", " + d + "]", bytes),
                refusal(headerOnly("F32", "[" + d + "," + d + "," + d + "]", "0")));
        long max = Long.MAX_VALUE;
        String both = BigInteger.valueOf(max).pow(2).shiftLeft(2).toString();
        assertEquals(expected("[" + max + ", " + max + "]", both),
                refusal(headerOnly("U8", "[" + max + "," + max + "]", "0")));
    }

    @Test
    void anyLaterTensorIsCheckedToo() {
        byte[] bytes = file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                + "\"lm_head.weight\":{\"dtype\":\"F16\",\"shape\":[151936,4096],\"data_offsets\":[4,4]}}", zeros(4));
        assertEquals("Cannot load base model test.safetensors: tensor lm_head.weight [151936, 4096] is 2489319424"
                + TAIL, refusal(bytes));
    }

    @Test
    void aZeroDimensionBesideAHugeOneIsAFormatError() {
        SafeTensorsException e = assertThrows(SafeTensorsException.class,
                () -> open(headerOnly("F32", "[0,2147483648]", "0")).close());
        assertEquals("Cannot read safetensors test.safetensors: tensor 'model.embed_tokens.weight' has shape "
                + "[0,2147483648]: dimensions must be below 2^31", e.getMessage());
    }

    @Test
    void tensorInfoItselfRefusesWhatNoBufferHolds() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new TensorInfo("w", DType.F32, new int[] {65536, 65536, 65536}, 0, 0));
        assertEquals("Tensor w [65536, 65536, 65536] is 1125899906842624 bytes as F32, over the 2147483647 bytes one "
                + "tensor may hold", e.getMessage());
        assertEquals(536870911L, new TensorInfo("w", DType.F32, new int[] {536870911}, 0, 2147483644L).numel());
    }
}
