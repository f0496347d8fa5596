package io.sparklora.driver;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintStream;
import java.util.List;

/**
 * The result of a sampled {@code eval} ({@link EvalPairs.Mode#SAMPLED}) as JSON: the partitions (columns), the base
 * model's loss on each, and one cell per scored (adapter, partition) pair, marked {@code own} where the adapter was
 * trained on that partition's key — a sparse list instead of the full matrix's rows, which at 10,000 adapters would
 * be 10⁸ mostly empty cells.
 */
final class SampledEval {
    private SampledEval() {
    }

    static ObjectNode json(String model, String adapters, String data, List<String> names,
                           List<AdapterPlan> partitions, EvalPairs pairs, List<double[]> cells) {
        ObjectNode m = TrainingRecord.JSON.createObjectNode();
        m.put("format_version", 1);
        m.put("pairs", "sampled");
        m.put("model", model);
        m.put("adapters", adapters);
        m.put("data", data);
        ArrayNode columns = m.putArray("columns");
        ArrayNode keys = m.putArray("column_keys");
        ArrayNode windows = m.putArray("held_out_windows");
        ArrayNode windowsIn = m.putArray("windows_in");
        ArrayNode base = m.putArray("base_loss");
        ArrayNode list = m.putArray("cells");
        for (int p = 0; p < partitions.size(); p++) {
            double[] c = cells.get(p);
            int[] scored = pairs.adaptersFor(p);
            columns.add(partitions.get(p).name());
            keys.add(partitions.get(p).key());
            windows.add((long) c[scored.length + 1]);
            windowsIn.add(SparkEvalJob.windowsIn(c));
            put(base, c[scored.length]);
            for (int i = 0; i < scored.length; i++) {
                ObjectNode cell = list.addObject();
                cell.put("column", partitions.get(p).name());
                cell.put("adapter", names.get(scored[i]));
                cell.put("own", scored[i] == pairs.own(p));
                if (Double.isNaN(c[i])) {
                    cell.putNull("loss");
                    cell.putNull("perplexity");
                } else {
                    cell.put("loss", c[i]);
                    cell.put("perplexity", Math.exp(c[i]));
                }
            }
        }
        return m;
    }

    private static void put(ArrayNode a, double v) {
        if (Double.isNaN(v)) {
            a.addNull();
        } else {
            a.add(v);
        }
    }

    /** How many partitions their own adapter serves better than the base and than every sampled other adapter. */
    static void printSummary(ObjectNode m, PrintStream out) {
        java.util.Map<String, Double> own = new java.util.HashMap<>();
        java.util.Map<String, Double> bestOther = new java.util.HashMap<>();
        for (JsonNode c : m.path("cells")) {
            if (!c.path("loss").isNumber()) {
                continue;
            }
            String col = c.path("column").asText();
            double loss = c.path("loss").asDouble();
            if (c.path("own").asBoolean()) {
                own.put(col, loss);
            } else {
                bestOther.merge(col, loss, Math::min);
            }
        }
        int beatsBase = 0;
        int beatsOthers = 0;
        JsonNode columns = m.path("columns");
        for (int p = 0; p < columns.size(); p++) {
            Double mine = own.get(columns.get(p).asText());
            JsonNode base = m.path("base_loss").get(p);
            if (mine == null) {
                continue;
            }
            beatsBase += base.isNumber() && mine < base.asDouble() ? 1 : 0;
            Double other = bestOther.get(columns.get(p).asText());
            beatsOthers += other == null || mine < other ? 1 : 0;
        }
        out.println("Sampled eval: " + columns.size() + " partition(s), " + m.path("cells").size() + " cell(s); "
                + own.size() + " scored by their own adapter, which beats the base on " + beatsBase
                + " and every sampled other adapter on " + beatsOthers);
    }
}
