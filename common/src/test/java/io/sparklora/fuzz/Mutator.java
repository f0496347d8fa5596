package io.sparklora.fuzz;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A seeded, deterministic mutator of file contents, in the manner of AFL's havoc stage: each call stacks one to four
 * edits on a valid seed — bit flips, "interesting" bytes, truncation, random insertions and deletions, duplicated
 * ranges, splices with another seed — or, for JSON seeds, one structural edit from {@link JsonMutations}. The same
 * seed always gives the same sequence of inputs, so a failing case is reproduced by its seed and index alone.
 */
public final class Mutator {
    /** Bytes that break parsers: NUL, quotes and brackets, high bit, invalid UTF-8 leads, digits and minus. */
    private static final byte[] INTERESTING = {0, 1, '"', '\\', '{', '}', '[', ']', ',', ':', '-', '0', '9', 'e',
        (byte) 0x7f, (byte) 0x80, (byte) 0xc0, (byte) 0xff, '\n', ' '};

    private final SplittableRandom random;
    private final JsonMutations json;

    public Mutator(long seed) {
        this.random = new SplittableRandom(seed);
        this.json = new JsonMutations(random);
    }

    /** The generator, for callers that pick seeds or sizes from the same stream. */
    public SplittableRandom random() {
        return random;
    }

    /** One mutant of a seed picked from {@code seeds}; JSON-aware edits when {@code jsonAware} (about half the time). */
    public byte[] mutate(List<byte[]> seeds, boolean jsonAware) {
        byte[] seed = seeds.get(random.nextInt(seeds.size()));
        if (jsonAware && random.nextBoolean()) {
            byte[] structural = json.mutate(new String(seed, StandardCharsets.UTF_8));
            if (structural != null) {
                return random.nextInt(4) == 0 ? havoc(structural, seeds) : structural;
            }
        }
        return havoc(seed, seeds);
    }

    /** One to four byte-level edits. */
    public byte[] havoc(byte[] seed, List<byte[]> seeds) {
        byte[] b = seed;
        int edits = 1 + random.nextInt(4);
        for (int i = 0; i < edits; i++) {
            b = edit(b, seeds);
        }
        return b;
    }

    private byte[] edit(byte[] b, List<byte[]> seeds) {
        int op = random.nextInt(8);
        if (b.length == 0) {
            op = 3; // only an insertion can grow an empty input
        }
        switch (op) {
            case 0 -> { // flip one bit
                b = b.clone();
                b[random.nextInt(b.length)] ^= (byte) (1 << random.nextInt(8));
            }
            case 1 -> { // an interesting byte
                b = b.clone();
                b[random.nextInt(b.length)] = INTERESTING[random.nextInt(INTERESTING.length)];
            }
            case 2 -> b = Arrays.copyOf(b, random.nextInt(b.length)); // truncate
            case 3 -> { // insert 1..16 random or interesting bytes
                byte[] ins = new byte[1 + random.nextInt(16)];
                for (int i = 0; i < ins.length; i++) {
                    ins[i] = random.nextBoolean() ? INTERESTING[random.nextInt(INTERESTING.length)]
                            : (byte) random.nextInt(256);
                }
                b = splice(b, random.nextInt(b.length + 1), 0, ins);
            }
            case 4 -> { // delete a range
                int at = random.nextInt(b.length);
                b = splice(b, at, 1 + random.nextInt(Math.min(64, b.length - at)), new byte[0]);
            }
            case 5 -> { // duplicate a range in place
                int at = random.nextInt(b.length);
                int len = 1 + random.nextInt(Math.min(64, b.length - at));
                b = splice(b, at, 0, Arrays.copyOfRange(b, at, at + len));
            }
            case 6 -> { // splice: our head, another seed's tail
                byte[] other = seeds.get(random.nextInt(seeds.size()));
                int cut = random.nextInt(b.length + 1);
                int from = other.length == 0 ? 0 : random.nextInt(other.length);
                b = splice(Arrays.copyOf(b, cut), cut, 0, Arrays.copyOfRange(other, from, other.length));
            }
            default -> { // overwrite 1..8 bytes with random ones
                b = b.clone();
                int at = random.nextInt(b.length);
                for (int i = at; i < Math.min(b.length, at + 1 + random.nextInt(8)); i++) {
                    b[i] = (byte) random.nextInt(256);
                }
            }
        }
        return b;
    }

    /** {@code b} with {@code remove} bytes at {@code at} replaced by {@code insert}. */
    static byte[] splice(byte[] b, int at, int remove, byte[] insert) {
        byte[] out = new byte[b.length - remove + insert.length];
        System.arraycopy(b, 0, out, 0, at);
        System.arraycopy(insert, 0, out, at, insert.length);
        System.arraycopy(b, at + remove, out, at + insert.length, b.length - at - remove);
        return out;
    }
}
