package io.sparklora.job;

import io.sparklora.model.Batch;
import io.sparklora.tokenizer.EncodedRow;
import io.sparklora.tokenizer.Tokenizer;
import io.sparklora.util.SplitMix64;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * Tokenizes rows (or takes rows tokenized elsewhere, {@link EncodedRow}: with the tokenizer's BOS and EOS) and packs
 * them end to end into fixed windows of {@code seqLen} tokens, then splits off held-out windows deterministically by
 * seed.
 *
 * <p>Targets: position i of a row predicts token i+1 of the same row, so the last token of a row predicts nothing
 * (no loss across row boundaries, where the next row's first token is not predictable from this one). For a
 * prompt/completion row the prompt and completion are tokenized separately and concatenated, and only positions
 * whose next token belongs to the completion carry loss. A row may span two windows; its targets are computed on the
 * whole row first, so the window boundary loses nothing. The last window is padded with id 0 and {@link Batch#IGNORE};
 * windows with no target at all (inside a long prompt) are dropped.
 *
 * <p>Rows are numbered from 1 in error messages.
 */
public final class WindowPacker {
    private static final long HELD_OUT_SALT = 0x6865_6c64_6f75_7431L; // "heldout1": the split's own stream

    private final Tokenizer tokenizer;
    private final int seqLen;

    public WindowPacker(Tokenizer tokenizer, int seqLen) {
        if (seqLen < 2) {
            throw new IllegalArgumentException("Invalid seqLen " + seqLen + ": must be >= 2");
        }
        this.tokenizer = tokenizer;
        this.seqLen = seqLen;
    }

    /**
     * Reads rows given as column maps: {@code prompt} and {@code completion} when the row has both, else
     * {@code textColumn}.
     */
    public PackedData packRows(String adapterName, Iterator<? extends Map<String, ?>> rows, String textColumn,
                               double heldOutFraction, long seed) {
        Iterator<Example> examples = new Iterator<>() {
            private long row;

            @Override
            public boolean hasNext() {
                return rows.hasNext();
            }

            @Override
            public Example next() {
                row++;
                return toExample(adapterName, row, rows.next(), textColumn);
            }
        };
        return pack(adapterName, examples, heldOutFraction, seed);
    }

    private static Example toExample(String adapter, long row, Map<String, ?> columns, String textColumn) {
        Object prompt = columns.get("prompt");
        Object completion = columns.get("completion");
        if (prompt != null && completion != null) {
            return Example.promptCompletion(prompt.toString(), completion.toString());
        }
        if (!columns.containsKey(textColumn)) {
            throw new IllegalArgumentException("Cannot train adapter " + adapter + ": row " + row
                    + " has no column '" + textColumn + "' (nor 'prompt' and 'completion'); its columns are "
                    + new TreeSet<>(columns.keySet()));
        }
        Object text = columns.get(textColumn);
        if (text == null) {
            throw new IllegalArgumentException("Cannot train adapter " + adapter + ": row " + row + " has a null '"
                    + textColumn + "'");
        }
        return Example.text(text.toString());
    }

    /** Packs examples, tokenizing each once ({@link EncodedRow}: the tokenizer's BOS/EOS); see the class comment. */
    public PackedData pack(String adapterName, Iterator<Example> rows, double heldOutFraction, long seed) {
        Iterator<EncodedRow> encoded = new Iterator<>() {
            private long row;

            @Override
            public boolean hasNext() {
                return rows.hasNext();
            }

            @Override
            public EncodedRow next() {
                row++;
                return encode(adapterName, row, rows.next());
            }
        };
        return packEncoded(adapterName, encoded, heldOutFraction, seed);
    }

    private EncodedRow encode(String adapterName, long row, Example ex) {
        EncodedRow r = ex.isPromptCompletion() ? EncodedRow.promptCompletion(tokenizer, ex.prompt(), ex.completion())
                : EncodedRow.text(tokenizer, ex.text());
        if (r != null) {
            return r;
        }
        if (ex.isPromptCompletion() && tokenizer.encode(ex.completion()).length == 0) {
            throw new IllegalArgumentException("Cannot train adapter " + adapterName + ": row " + row
                    + " has an empty completion");
        }
        int n = tokenizer.encode(ex.isPromptCompletion() ? ex.prompt() + ex.completion() : ex.text()).length;
        throw new IllegalArgumentException("Cannot train adapter " + adapterName + ": row " + row + " has " + n
                + (n == 1 ? " token" : " tokens") + "; need at least 2");
    }

    /** Packs rows tokenized elsewhere (once per row, on the executor that read them); see the class comment. */
    public PackedData packEncoded(String adapterName, Iterator<EncodedRow> rows, double heldOutFraction, long seed) {
        if (!(heldOutFraction >= 0 && heldOutFraction < 1)) {
            throw new IllegalArgumentException("Invalid heldOutFraction " + heldOutFraction + ": must be in [0, 1)");
        }
        IntList inputs = new IntList();
        IntList targets = new IntList();
        long rowCount = 0;
        while (rows.hasNext()) {
            EncodedRow r = rows.next();
            rowCount++;
            int[] tokens = r.tokens();
            int lossFrom = r.lossFrom();
            for (int i = 0; i < tokens.length; i++) {
                inputs.add(tokens[i]);
                targets.add(i + 1 < tokens.length && i + 1 >= lossFrom ? tokens[i + 1] : Batch.IGNORE);
            }
        }
        if (rowCount == 0) {
            throw new IllegalArgumentException("Cannot train adapter " + adapterName + ": the data has no rows");
        }
        List<Window> windows = new ArrayList<>();
        long targetTokens = 0;
        for (int start = 0; start < inputs.size(); start += seqLen) {
            int[] in = new int[seqLen];
            int[] tg = new int[seqLen];
            Arrays.fill(tg, Batch.IGNORE);
            int n = Math.min(seqLen, inputs.size() - start);
            int count = 0;
            for (int i = 0; i < n; i++) {
                in[i] = inputs.get(start + i);
                tg[i] = targets.get(start + i);
                count += tg[i] != Batch.IGNORE ? 1 : 0;
            }
            if (count > 0) {
                windows.add(new Window(in, tg));
                targetTokens += count;
            }
        }
        if (windows.isEmpty()) {
            throw new IllegalArgumentException("Cannot train adapter " + adapterName
                    + ": no position carries loss (every row is prompt only)");
        }
        return split(adapterName, windows, rowCount, inputs.size(), targetTokens, heldOutFraction, seed);
    }

    private PackedData split(String adapterName, List<Window> windows, long rows, long tokens, long targetTokens,
                             double fraction, long seed) {
        int n = windows.size();
        int held = fraction > 0 ? (int) Math.max(1, Math.round(n * fraction)) : 0;
        if (n - held < 1) {
            throw new IllegalArgumentException("Cannot train adapter " + adapterName + ": the data fills " + n
                    + (n == 1 ? " window" : " windows") + " of " + seqLen + " tokens; holding out " + held
                    + " leaves none to train on (use more data, a shorter seqLen, or heldOutFraction 0)");
        }
        // The first `held` entries of a seeded Fisher–Yates shuffle of the window indices are held out.
        int[] idx = new int[n];
        for (int i = 0; i < n; i++) {
            idx[i] = i;
        }
        SplitMix64 rng = new SplitMix64(seed ^ HELD_OUT_SALT);
        for (int i = 0; i < held; i++) {
            int j = i + rng.nextInt(n - i);
            int t = idx[i];
            idx[i] = idx[j];
            idx[j] = t;
        }
        boolean[] isHeld = new boolean[n];
        for (int i = 0; i < held; i++) {
            isHeld[idx[i]] = true;
        }
        List<Window> train = new ArrayList<>(n - held);
        List<Window> heldOut = new ArrayList<>(held);
        for (int i = 0; i < n; i++) {
            (isHeld[i] ? heldOut : train).add(windows.get(i));
        }
        return new PackedData(train, heldOut, rows, tokens, targetTokens);
    }

    /** A growable int array (token streams are too long for List&lt;Integer&gt;). */
    private static final class IntList {
        private int[] a = new int[1024];
        private int size;

        void add(int v) {
            if (size == a.length) {
                a = Arrays.copyOf(a, a.length * 2);
            }
            a[size++] = v;
        }

        int get(int i) {
            return a[i];
        }

        int size() {
            return size;
        }
    }
}
