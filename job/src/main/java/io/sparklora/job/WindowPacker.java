package io.sparklora.job;

import io.sparklora.model.Batch;
import io.sparklora.tokenizer.EncodedRow;
import io.sparklora.tokenizer.Tokenizer;
import io.sparklora.util.SplitMix64;
import java.io.Closeable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.function.Consumer;

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
        checkFraction(heldOutFraction);
        List<Window> windows = new ArrayList<>();
        Counts c = packInto(adapterName, rows, windows::add);
        boolean[] held = heldOut(adapterName, windows.size(), heldOutFraction, seed);
        List<Window> train = new ArrayList<>(windows.size());
        List<Window> heldOut = new ArrayList<>();
        for (int i = 0; i < windows.size(); i++) {
            (held[i] ? heldOut : train).add(windows.get(i));
        }
        return new PackedData(train, heldOut, c.rows, c.tokens, c.targetTokens);
    }

    /**
     * The same windows and split as {@link #packEncoded}, but each window is written to {@code file} as it fills
     * instead of being kept: the heap holds one window and, afterwards, one int per window (the split's indices).
     * The result's windows are read from the file on every pass; close it, then delete the file, when done.
     */
    public SpilledWindows packEncodedSpilled(String adapterName, Iterator<EncodedRow> rows, double heldOutFraction,
                                             long seed, Path file) throws IOException {
        checkFraction(heldOutFraction);
        Counts c;
        try (WindowFile.Writer out = WindowFile.create(file, seqLen)) {
            c = packInto(adapterName, rows, w -> {
                try {
                    out.append(w);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
        WindowFile windows = WindowFile.open(file);
        try {
            boolean[] held = heldOut(adapterName, windows.count(), heldOutFraction, seed);
            int heldCount = 0;
            for (boolean h : held) {
                heldCount += h ? 1 : 0;
            }
            int[] train = new int[held.length - heldCount];
            int[] heldOut = new int[heldCount];
            for (int i = 0, t = 0, h = 0; i < held.length; i++) {
                if (held[i]) {
                    heldOut[h++] = i;
                } else {
                    train[t++] = i;
                }
            }
            return new SpilledWindows(new PackedData(windows.view(train), windows.view(heldOut), c.rows, c.tokens,
                    c.targetTokens), windows);
        } catch (RuntimeException e) {
            windows.close();
            throw e;
        }
    }

    /** Windows packed into a file, and the open file they are read from. */
    public record SpilledWindows(PackedData data, WindowFile file) implements Closeable {
        @Override
        public void close() throws IOException {
            file.close();
        }
    }

    private static void checkFraction(double heldOutFraction) {
        if (!(heldOutFraction >= 0 && heldOutFraction < 1)) {
            throw new IllegalArgumentException("Invalid heldOutFraction " + heldOutFraction + ": must be in [0, 1)");
        }
    }

    private record Counts(long rows, long tokens, long targetTokens) {
    }

    /**
     * Concatenates the rows' tokens and hands each full window to {@code sink} as it fills (the last one padded);
     * windows with no target are dropped. One window of state, whatever the number of rows.
     */
    private Counts packInto(String adapterName, Iterator<EncodedRow> rows, Consumer<Window> sink) {
        int[] in = new int[seqLen];
        int[] tg = new int[seqLen];
        int fill = 0; // positions of in/tg taken
        int count = 0; // of them, positions that carry loss
        long rowCount = 0;
        long tokenCount = 0;
        long targetTokens = 0;
        long windows = 0;
        while (rows.hasNext()) {
            EncodedRow r = rows.next();
            rowCount++;
            int[] tokens = r.tokens();
            int lossFrom = r.lossFrom();
            tokenCount += tokens.length;
            for (int i = 0; i < tokens.length; i++) {
                in[fill] = tokens[i];
                tg[fill] = i + 1 < tokens.length && i + 1 >= lossFrom ? tokens[i + 1] : Batch.IGNORE;
                count += tg[fill] != Batch.IGNORE ? 1 : 0;
                if (++fill == seqLen) {
                    if (count > 0) {
                        sink.accept(new Window(in.clone(), tg.clone()));
                        targetTokens += count;
                        windows++;
                    }
                    fill = 0;
                    count = 0;
                }
            }
        }
        if (rowCount == 0) {
            throw new IllegalArgumentException("Cannot train adapter " + adapterName + ": the data has no rows");
        }
        if (fill > 0 && count > 0) { // the last window, padded with id 0 and IGNORE
            Arrays.fill(in, fill, seqLen, 0);
            Arrays.fill(tg, fill, seqLen, Batch.IGNORE);
            sink.accept(new Window(in.clone(), tg.clone()));
            targetTokens += count;
            windows++;
        }
        if (windows == 0) {
            throw new IllegalArgumentException("Cannot train adapter " + adapterName
                    + ": no position carries loss (every row is prompt only)");
        }
        return new Counts(rowCount, tokenCount, targetTokens);
    }

    /** Which windows are held out: the first {@code held} entries of a seeded Fisher–Yates shuffle of the indices. */
    private boolean[] heldOut(String adapterName, int n, double fraction, long seed) {
        int held = fraction > 0 ? (int) Math.max(1, Math.round(n * fraction)) : 0;
        if (n - held < 1) {
            throw new IllegalArgumentException("Cannot train adapter " + adapterName + ": the data fills " + n
                    + (n == 1 ? " window" : " windows") + " of " + seqLen + " tokens; holding out " + held
                    + " leaves none to train on (use more data, a shorter seqLen, or heldOutFraction 0)");
        }
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
        return isHeld;
    }
}
