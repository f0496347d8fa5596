package io.sparklora.route;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparklora.util.StrictJson;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The router {@code train} fits and saves as {@code <out>/router.json}: multinomial naive Bayes over hashed token
 * n-grams (McCallum and Nigam 1998, "A comparison of event models for naive Bayes text classification"), one class per
 * adapter. A prompt goes to the class c maximising log P(c) + Σ_f x_f · log P(f | c), with P(f | c) =
 * (n_cf + α) / (N_c + α·B) (additive smoothing over B buckets) and P(c) from the examples per class, add-one smoothed.
 * It needs one pass over the training rows to fit and a few hash lookups per prompt token to apply — far cheaper than
 * the loss router, which runs every adapter over the prompt.
 */
public final class NgramRouter {
    public static final String FILE = "router.json";
    public static final int FORMAT_VERSION = 1;
    public static final String KIND = "ngram-naive-bayes";
    /** Defaults of {@code train}: bigrams and trigrams of bytes separate languages; 2^16 buckets keep the file small. */
    public static final int DEFAULT_ORDER = 3;
    public static final int DEFAULT_BUCKETS = 1 << 16;
    public static final double DEFAULT_ALPHA = 0.5;

    private final int order;
    private final int buckets;
    private final double alpha;
    private final List<NgramCounts> classes;
    private final double[] logPrior; // (classes)
    private final double[] logDenominator; // (classes) log(N_c + α·B)
    private final List<Map<Integer, Double>> logNumerator; // per class: bucket -> log(n_cf + α), seen buckets only

    public NgramRouter(List<NgramCounts> classes, double alpha) {
        if (classes.isEmpty()) {
            throw new IllegalArgumentException("Cannot build a router: no class");
        }
        if (!(alpha > 0)) {
            throw new IllegalArgumentException("Invalid router alpha " + alpha + ": must be > 0");
        }
        this.order = classes.get(0).order();
        this.buckets = classes.get(0).buckets();
        for (NgramCounts c : classes) {
            if (c.order() != order || c.buckets() != buckets) {
                throw new IllegalArgumentException("Cannot build a router: class " + c.name() + " counts order "
                        + c.order() + " in " + c.buckets() + " buckets, class " + classes.get(0).name() + " order "
                        + order + " in " + buckets);
            }
        }
        this.alpha = alpha;
        this.classes = List.copyOf(classes);
        int k = classes.size();
        long examples = classes.stream().mapToLong(NgramCounts::examples).sum();
        logPrior = new double[k];
        logDenominator = new double[k];
        logNumerator = new ArrayList<>(k);
        for (int c = 0; c < k; c++) {
            NgramCounts counts = classes.get(c);
            logPrior[c] = Math.log((counts.examples() + 1.0) / (examples + k));
            logDenominator[c] = Math.log(counts.total() + alpha * buckets);
            Map<Integer, Double> num = new HashMap<>();
            counts.counts().forEach((b, n) -> num.put(b, Math.log(n + alpha)));
            logNumerator.add(num);
        }
    }

    /** The class names, in the order of {@link #logPosteriors}. */
    public List<String> names() {
        return classes.stream().map(NgramCounts::name).toList();
    }

    /** The unnormalised log posterior of every class for the tokens {@code ids[from, to)}. */
    public double[] logPosteriors(int[] ids, int from, int to) {
        double[] score = logPrior.clone();
        double logAlpha = Math.log(alpha);
        for (Map.Entry<Integer, Integer> f : NgramFeatures.count(ids, from, to, order, buckets).entrySet()) {
            for (int c = 0; c < score.length; c++) {
                score[c] += f.getValue() * (logNumerator.get(c).getOrDefault(f.getKey(), logAlpha)
                        - logDenominator[c]);
            }
        }
        return score;
    }

    /** The index of the most likely class (the first on a tie). */
    public int classify(int[] ids, int from, int to) {
        double[] s = logPosteriors(ids, from, to);
        int best = 0;
        for (int c = 1; c < s.length; c++) {
            if (s[c] > s[best]) {
                best = c;
            }
        }
        return best;
    }

    /** The most likely class's name for a whole prompt. */
    public String route(int[] ids) {
        return classes.get(classify(ids, 0, ids.length)).name();
    }

    /** The router as {@code router.json}, with {@code heldOut} (the accuracy report) under {@code held_out}. */
    public byte[] toJson(JsonNode heldOut) throws IOException {
        ObjectNode o = StrictJson.MAPPER.createObjectNode();
        o.put("format_version", FORMAT_VERSION);
        o.put("kind", KIND);
        o.put("hash", NgramFeatures.HASH);
        o.put("order", order);
        o.put("buckets", buckets);
        o.put("alpha", alpha);
        ArrayNode list = o.putArray("classes");
        for (NgramCounts c : classes) {
            ObjectNode co = list.addObject();
            co.put("name", c.name());
            co.put("examples", c.examples());
            ArrayNode b = co.putArray("buckets");
            ArrayNode n = co.putArray("counts");
            new TreeMap<>(c.counts()).forEach((bucket, count) -> {
                b.add(bucket);
                n.add(count);
            });
        }
        if (heldOut != null) {
            o.set("held_out", heldOut);
        }
        return StrictJson.MAPPER.writeValueAsBytes(o);
    }

    /** Reads a {@code router.json}, checking its version, kind, hash and that every bucket is in range. */
    public static NgramRouter read(byte[] json, String source) throws IOException {
        JsonNode o;
        try {
            o = StrictJson.MAPPER.readTree(json);
        } catch (IOException e) {
            throw new IOException("Cannot read router " + source + ": not valid JSON (" + e.getMessage() + ")", e);
        }
        if (o.path("format_version").asInt() != FORMAT_VERSION || !KIND.equals(o.path("kind").asText())
                || !NgramFeatures.HASH.equals(o.path("hash").asText())) {
            throw new IOException("Cannot read router " + source + ": expected format_version " + FORMAT_VERSION
                    + ", kind " + KIND + " and hash " + NgramFeatures.HASH + ", got " + o.path("format_version")
                    + ", " + o.path("kind") + " and " + o.path("hash"));
        }
        int order = o.path("order").asInt();
        int buckets = o.path("buckets").asInt();
        List<NgramCounts> classes = new ArrayList<>();
        try {
            for (JsonNode c : o.path("classes")) {
                NgramCounts counts = new NgramCounts(c.path("name").asText(), order, buckets);
                counts.setExamples(c.path("examples").asLong());
                JsonNode b = c.path("buckets");
                JsonNode n = c.path("counts");
                if (b.size() != n.size()) {
                    throw new IllegalArgumentException("class " + counts.name() + " has " + b.size() + " buckets and "
                            + n.size() + " counts");
                }
                for (int i = 0; i < b.size(); i++) {
                    int bucket = b.get(i).asInt(-1);
                    if (bucket < 0 || bucket >= buckets || n.get(i).asLong(-1) < 0) {
                        throw new IllegalArgumentException("class " + counts.name() + " has bucket " + b.get(i)
                                + " (count " + n.get(i) + ") outside [0, " + buckets + ")");
                    }
                    counts.put(bucket, n.get(i).asLong());
                }
                classes.add(counts);
            }
            return new NgramRouter(classes, o.path("alpha").asDouble());
        } catch (IllegalArgumentException e) {
            throw new IOException("Cannot read router " + source + ": " + e.getMessage(), e);
        }
    }
}
