package io.sparklora.util;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Arrays;
import java.util.List;

/**
 * Summaries of repeated measurements for the benchmark commands: on a shared machine one figure means little, so each
 * is reported as the median with its min and max over the repeats.
 */
public final class Spread {
    private Spread() {
    }

    /** The nearest-rank p-th percentile of {@code values} (p in (0, 100]; the lower middle for an even median). */
    public static double percentile(double[] values, double p) {
        if (values.length == 0) {
            throw new IllegalArgumentException("Cannot take a percentile of no values");
        }
        double[] v = values.clone();
        Arrays.sort(v);
        return v[(int) Math.max(0, Math.min(v.length - 1, Math.ceil(p / 100 * v.length) - 1))];
    }

    /** {@code {"median", "min", "max"}} of the values. */
    public static ObjectNode of(double[] values) {
        return JsonNodeFactory.instance.objectNode().put("median", percentile(values, 50))
                .put("min", Arrays.stream(values).min().orElse(Double.NaN))
                .put("max", Arrays.stream(values).max().orElse(Double.NaN));
    }

    /** As {@link #of(double[])}. */
    public static ObjectNode of(List<Double> values) {
        return of(values.stream().mapToDouble(Double::doubleValue).toArray());
    }
}
