package io.sparklora.job;

import static io.sparklora.model.Batch.IGNORE;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparklora.model.Batch;
import io.sparklora.model.CausalLm;
import io.sparklora.nn.CausalLms;
import io.sparklora.tensor.Tensor;
import io.sparklora.tokenizer.ByteTokenizer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class WindowPackerTest {
    private static final WindowPacker BYTES_8 = new WindowPacker(new ByteTokenizer(), 8);

    private static PackedData pack(WindowPacker packer, List<Example> rows) {
        return packer.pack("a1", rows.iterator(), 0, 1);
    }

    @Test
    void textRowsArePackedEndToEndWithNoLossAcrossRowsAndPaddingIgnored() {
        // "abcde" (5 tokens) then "xyz" (3 tokens) = 8 tokens + "pq" = 10 tokens -> two windows of 8.
        PackedData d = pack(BYTES_8, List.of(Example.text("abcde"), Example.text("xyz"), Example.text("pq")));
        assertEquals(2, d.train().size());
        Window w0 = d.train().get(0);
        assertArrayEquals(new int[] {'a', 'b', 'c', 'd', 'e', 'x', 'y', 'z'}, w0.inputs());
        assertArrayEquals(new int[] {'b', 'c', 'd', 'e', IGNORE, 'y', 'z', IGNORE}, w0.targets());
        Window w1 = d.train().get(1);
        assertArrayEquals(new int[] {'p', 'q', 0, 0, 0, 0, 0, 0}, w1.inputs());
        assertArrayEquals(new int[] {'q', IGNORE, IGNORE, IGNORE, IGNORE, IGNORE, IGNORE, IGNORE}, w1.targets());
        assertEquals(3, d.rows());
        assertEquals(10, d.tokens());
        assertEquals(4 + 2 + 1, d.targetTokens());
    }

    @Test
    void aRowSpanningTwoWindowsKeepsTheTargetAtTheBoundary() {
        PackedData d = pack(new WindowPacker(new ByteTokenizer(), 4), List.of(Example.text("abcdef")));
        assertArrayEquals(new int[] {'b', 'c', 'd', 'e'}, d.train().get(0).targets());
        assertArrayEquals(new int[] {'f', IGNORE, IGNORE, IGNORE}, d.train().get(1).targets());
    }

    @Test
    void promptCompletionRowsIgnoreEveryPositionWhoseNextTokenIsPrompt() {
        PackedData d = pack(BYTES_8, List.of(Example.promptCompletion("Q:ab", "cd")));
        Window w = d.train().get(0);
        assertArrayEquals(new int[] {'Q', ':', 'a', 'b', 'c', 'd', 0, 0}, w.inputs());
        // Positions 0..2 predict prompt tokens ':', 'a', 'b': no loss. Position 3 predicts the first completion token.
        assertArrayEquals(new int[] {IGNORE, IGNORE, IGNORE, 'c', 'd', IGNORE, IGNORE, IGNORE}, w.targets());
    }

    /**
     * On the real model: the loss of a prompt/completion window is the mean cross-entropy of the completion
     * positions' logits alone (so whatever the model predicts at prompt positions cannot change it), while the same
     * tokens as a text row, which also scores the prompt positions, give another loss.
     */
    @Test
    void promptPositionsCarryNoLossInTheModel() {
        WindowPacker packer = new WindowPacker(new ByteTokenizer(), 16);
        Window pc = pack(packer, List.of(Example.promptCompletion("question: 2+2?", " 4"))).train().get(0);
        Window text = pack(packer, List.of(Example.text("question: 2+2? 4"))).train().get(0);
        assertArrayEquals(pc.inputs(), text.inputs());
        CausalLm model = CausalLms.of(TrainerFixtures.tinyBase());
        double pcLoss = model.forward(new Batch(1, 16, pc.inputs(), pc.targets()));
        Tensor logits = model.logits(); // (16, 256)
        double sum = 0;
        int n = 0;
        for (int t = 0; t < 16; t++) {
            if (pc.targets()[t] != IGNORE) {
                sum += crossEntropy(logits, t, pc.targets()[t]);
                n++;
            }
        }
        assertEquals(2, n, "' ' follows '?' and '4' follows ' ': the two completion tokens");
        assertEquals(sum / n, pcLoss, 1e-5);
        double textLoss = model.forward(new Batch(1, 16, text.inputs(), text.targets()));
        assertNotEquals(pcLoss, textLoss, 1e-3);
    }

    private static double crossEntropy(Tensor logits, int row, int target) {
        int v = logits.dim(1);
        double max = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < v; j++) {
            max = Math.max(max, logits.get(row * v + j));
        }
        double s = 0;
        for (int j = 0; j < v; j++) {
            s += Math.exp(logits.get(row * v + j) - max);
        }
        return Math.log(s) + max - logits.get(row * v + target);
    }

    @Test
    void heldOutSplitIsDeterministicBySeedAndHoldsOutAtLeastOneWindow() {
        List<Example> rows = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            rows.add(Example.text("row " + (char) ('a' + i % 26) + "!")); // 6 tokens each -> 30 windows of 8
        }
        PackedData a = BYTES_8.pack("a1", rows.iterator(), 0.1, 7);
        PackedData b = BYTES_8.pack("a1", rows.iterator(), 0.1, 7);
        PackedData c = BYTES_8.pack("a1", rows.iterator(), 0.1, 8);
        assertEquals(30, a.train().size() + a.heldOut().size());
        assertEquals(3, a.heldOut().size());
        assertEquals(inputs(a.heldOut()), inputs(b.heldOut()));
        assertNotEquals(inputs(a.heldOut()), inputs(c.heldOut()));
        PackedData tiny = BYTES_8.pack("a1", rows.subList(0, 3).iterator(), 0.1, 7); // 3 windows, 0.3 rounds to 0
        assertEquals(1, tiny.heldOut().size());
        assertEquals(0, BYTES_8.pack("a1", rows.iterator(), 0, 7).heldOut().size());
    }

    private static List<String> inputs(List<Window> ws) {
        List<String> out = new ArrayList<>();
        ws.forEach(w -> out.add(java.util.Arrays.toString(w.inputs())));
        return out;
    }

    @Test
    void columnMapsChooseTextOrPromptAndCompletion() {
        Map<String, Object> pcRow = Map.of("prompt", "ab", "completion", "cd", "id", 1);
        Map<String, Object> textRow = Map.of("body", "xyz");
        PackedData d = BYTES_8.packRows("a1", List.of(pcRow, textRow).iterator(), "body", 0, 1);
        assertArrayEquals(new int[] {'a', 'b', 'c', 'd', 'x', 'y', 'z', 0}, d.train().get(0).inputs());
        assertArrayEquals(new int[] {IGNORE, 'c', 'd', IGNORE, 'y', 'z', IGNORE, IGNORE}, d.train().get(0).targets());
    }

    @Test
    void emptyDataIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> BYTES_8.pack("a1", Collections.emptyIterator(), 0.1, 1));
        assertEquals("Cannot train adapter a1: the data has no rows", e.getMessage());
    }

    @Test
    void aRowWithoutTheTextColumnIsRefusedNamingRowAndColumns() {
        Map<String, Object> bad = new HashMap<>(Map.of("content", "hello", "lang", "en"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> BYTES_8.packRows("a1",
                List.of(Map.of("text", "fine row"), Map.of("text", "also fine"), bad).iterator(), "text", 0.1, 1));
        assertEquals("Cannot train adapter a1: row 3 has no column 'text' (nor 'prompt' and 'completion'); its "
                + "columns are [content, lang]", e.getMessage());
    }

    @Test
    void aNullTextIsRefused() {
        Map<String, Object> row = new HashMap<>();
        row.put("text", null);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> BYTES_8.packRows("a1", List.of(row).iterator(), "text", 0.1, 1));
        assertEquals("Cannot train adapter a1: row 1 has a null 'text'", e.getMessage());
    }

    @Test
    void textShorterThanTwoTokensIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> pack(BYTES_8,
                List.of(Example.text("fine"), Example.text("ok"), Example.text("x"))));
        assertEquals("Cannot train adapter a1: row 3 has 1 token; need at least 2", e.getMessage());
        IllegalArgumentException empty = assertThrows(IllegalArgumentException.class,
                () -> pack(BYTES_8, List.of(Example.text(""))));
        assertEquals("Cannot train adapter a1: row 1 has 0 tokens; need at least 2", empty.getMessage());
    }

    @Test
    void anEmptyCompletionIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> pack(BYTES_8, List.of(Example.promptCompletion("question", ""))));
        assertEquals("Cannot train adapter a1: row 1 has an empty completion", e.getMessage());
    }

    @Test
    void dataTooSmallToHoldOutAWindowIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> BYTES_8.pack("a1", List.of(Example.text("abc")).iterator(), 0.1, 1));
        assertEquals("Cannot train adapter a1: the data fills 1 window of 8 tokens; holding out 1 leaves none to "
                + "train on (use more data, a shorter seqLen, or heldOutFraction 0)", e.getMessage());
    }

    @Test
    void anExampleIsEitherTextOrPromptAndCompletion() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new Example("t", "p", null));
        assertEquals("Invalid example: give either text, or prompt and completion (text=true, prompt=true, "
                + "completion=false)", e.getMessage());
        assertTrue(Example.promptCompletion("p", "c").isPromptCompletion());
    }
}
