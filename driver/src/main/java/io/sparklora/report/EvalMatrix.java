package io.sparklora.report;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * The cross-evaluation matrix written by {@code eval}: the mean held-out loss of every model (each adapter, and the
 * base) on every partition.
 *
 * <p>Shape read (format_version 1): {@code {"columns": ["de", "en"], "rows": [{"adapter": "de", "loss": [1.6, 3.1],
 * "perplexity": [...]}, ..., {"adapter": "base", "loss": [2.9, null]}]}}; a null cell was not measured. Also accepted:
 * {@code partitions} for {@code columns}, {@code model} or {@code name} for {@code adapter}, {@code mean_loss} for
 * {@code loss}, and a row's losses as an object keyed by partition whose values are numbers or
 * {@code {"mean_loss": x, ...}}.
 *
 * @param models     row labels (adapters and "base")
 * @param partitions column labels
 * @param meanLoss   (models, partitions) mean token cross-entropy; NaN where a cell was not measured
 */
public record EvalMatrix(List<String> models, List<String> partitions, double[][] meanLoss) {
    public EvalMatrix {
        models = List.copyOf(models);
        partitions = List.copyOf(partitions);
        Objects.requireNonNull(meanLoss, "meanLoss");
        if (models.isEmpty() || partitions.isEmpty()) {
            throw new IllegalArgumentException("Invalid eval matrix " + models.size() + " x " + partitions.size()
                    + ": needs at least one model and one partition");
        }
        if (meanLoss.length != models.size()) {
            throw new IllegalArgumentException("Invalid eval matrix: " + meanLoss.length + " rows of losses for "
                    + models.size() + " models");
        }
        double[][] copy = new double[meanLoss.length][];
        for (int r = 0; r < meanLoss.length; r++) {
            if (meanLoss[r].length != partitions.size()) {
                throw new IllegalArgumentException("Invalid eval matrix: row " + models.get(r) + " has "
                        + meanLoss[r].length + " losses for " + partitions.size() + " partitions");
            }
            copy[r] = meanLoss[r].clone();
        }
        meanLoss = copy;
    }

    /** Equal labels and equal cells (NaN equals NaN), as the record's default would not compare the arrays. */
    @Override
    public boolean equals(Object o) {
        return o instanceof EvalMatrix m && models.equals(m.models) && partitions.equals(m.partitions)
                && java.util.Arrays.deepEquals(meanLoss, m.meanLoss);
    }

    @Override
    public int hashCode() {
        return Objects.hash(models, partitions, java.util.Arrays.deepHashCode(meanLoss));
    }

    public double loss(int model, int partition) {
        return meanLoss[model][partition];
    }

    /** The row with the lowest loss in a column, or -1 when the column has no measured cell. */
    public int bestModel(int partition) {
        int best = -1;
        for (int r = 0; r < models.size(); r++) {
            double v = meanLoss[r][partition];
            if (Double.isFinite(v) && (best < 0 || v < meanLoss[best][partition])) {
                best = r;
            }
        }
        return best;
    }

    /** This matrix in the shape {@link #read} reads (NaN cells as null). */
    public String toJson() {
        com.fasterxml.jackson.databind.node.ObjectNode o = io.sparklora.util.StrictJson.MAPPER.createObjectNode();
        o.put("format_version", 1);
        partitions.forEach(o.putArray("columns")::add);
        var rows = o.putArray("rows");
        for (int r = 0; r < models.size(); r++) {
            var row = rows.addObject().put("adapter", models.get(r));
            var loss = row.putArray("loss");
            for (double v : meanLoss[r]) {
                if (Double.isNaN(v)) {
                    loss.addNull();
                } else {
                    loss.add(v);
                }
            }
        }
        return o.toPrettyString();
    }

    /** Reads the JSON written by {@code eval}. */
    public static EvalMatrix read(Path file) throws IOException {
        JsonFields json = JsonFields.readObject(file, "eval matrix");
        json.checkFormatVersion(1);
        JsonNode cols = json.array("columns", "partitions");
        JsonNode rows = json.array("rows", "models");
        if (cols == null || cols.isEmpty()) {
            throw json.bad("columns", "is missing or empty");
        }
        if (rows == null || rows.isEmpty()) {
            throw json.bad("rows", "is missing or empty");
        }
        List<String> partitions = labels(json, cols, "columns");
        List<String> models = new ArrayList<>();
        double[][] loss = new double[rows.size()][];
        for (int r = 0; r < rows.size(); r++) {
            String at = "rows[" + r + "]";
            if (!rows.get(r).isObject()) {
                throw json.bad(at, "is not an object");
            }
            JsonFields row = new JsonFields(rows.get(r), json.source());
            String model = row.text("adapter", "model", "name");
            if (model == null) {
                throw json.bad(at + ".adapter", "is missing");
            }
            models.add(model);
            loss[r] = cells(json, row.get("loss", "mean_loss", "meanLoss", "losses"), partitions, at + ".loss");
        }
        if (new HashSet<>(models).size() != models.size()) {
            throw json.bad("rows", "repeats a model: " + models);
        }
        return new EvalMatrix(models, partitions, loss);
    }

    private static List<String> labels(JsonFields json, JsonNode array, String field) throws IOException {
        List<String> out = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < array.size(); i++) {
            JsonNode v = array.get(i);
            if (!v.isTextual()) {
                throw json.bad(field + "[" + i + "]", "is not a string: " + v);
            }
            if (!seen.add(v.asText())) {
                throw json.bad(field, "repeats \"" + v.asText() + "\"");
            }
            out.add(v.asText());
        }
        return out;
    }

    private static double[] cells(JsonFields json, JsonNode v, List<String> partitions, String at)
            throws IOException {
        double[] out = new double[partitions.size()];
        if (v == null) {
            throw json.bad(at, "is missing");
        }
        if (v.isArray()) {
            if (v.size() != partitions.size()) {
                throw json.bad(at, "has " + v.size() + " values for " + partitions.size() + " partitions");
            }
            for (int c = 0; c < out.length; c++) {
                out[c] = json.asNumber(v.get(c), at + "[" + c + "]");
            }
            return out;
        }
        if (!v.isObject()) {
            throw json.bad(at, "is neither an array nor an object keyed by partition");
        }
        for (var it = v.fieldNames(); it.hasNext(); ) {
            String key = it.next();
            if (!partitions.contains(key)) {
                throw json.bad(at, "names partition \"" + key + "\", which is not in \"columns\"");
            }
        }
        for (int c = 0; c < out.length; c++) {
            JsonNode cell = v.get(partitions.get(c));
            if (cell != null && cell.isObject()) {
                out[c] = new JsonFields(cell, json.source()).number("mean_loss", "meanLoss");
            } else {
                out[c] = json.asNumber(cell, at + "." + partitions.get(c));
            }
        }
        return out;
    }
}
