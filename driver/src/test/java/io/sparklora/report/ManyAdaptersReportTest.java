package io.sparklora.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.sparklora.util.StrictJson;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A report past {@link ReportWriter#CURVES_FOR_ALL} adapters: one overview chart, a few curves, full tables. */
class ManyAdaptersReportTest {
    static final int N = 40;

    /**
     * Adapter i has held-out loss 3.0 - 0.01·i against a base of 3.0: a39 gains most, a0 nothing; its manifest entry
     * has {@code trainable_params} 112·(i % 4 + 1) (rank i % 4 + 1 on q_proj 32+32 and v_proj 32+16), but a00's
     * entry, as one written before the field, has none.
     */
    static Path output(Path dir) throws IOException {
        StringBuilder m = new StringBuilder("{\"format_version\": 1, \"adapters\": [");
        for (int i = 0; i < N; i++) {
            String name = String.format(Locale.ROOT, "a%02d", i);
            Path a = Files.createDirectories(dir.resolve("adapters").resolve(name));
            Files.writeString(a.resolve("training.json"), ReportFixtures.trainingJson(name, 20, true, i % 4));
            m.append(i > 0 ? "," : "").append(String.format(Locale.ROOT, "{\"name\": \"%s\", \"key\": \"%s\", "
                    + "\"path\": \"adapters/%s\", \"status\": \"trained\", \"rows\": 10, \"steps\": 20, "
                    + "\"final_train_loss\": 2.5, \"final_held_out_loss\": %.4f, \"base_held_out_loss\": 3.0, "
                    + "\"seconds\": 1.5%s}", name, name, name, 3.0 - 0.01 * i,
                    i == 0 ? "" : ", \"trainable_params\": " + 112 * (i % 4 + 1)));
        }
        Files.writeString(dir.resolve("manifest.json"), m + "]}");
        return dir;
    }

    @Test
    void theReportHasAnOverviewTheExtremesASampleAndEveryAdapterInItsTables(@TempDir Path tmp) throws IOException {
        Path out = output(tmp);
        ReportWriter.Written w = ReportWriter.write(TrainOutput.read(out), null);
        List<String> curves = w.files().stream().filter(f -> f.startsWith("loss-")).toList();
        assertTrue(curves.size() >= 6 && curves.size() <= 12, "curves: " + curves);
        assertTrue(curves.containsAll(List.of("loss-a39.png", "loss-a38.png", "loss-a37.png", "loss-a00.png",
                "loss-a01.png", "loss-a02.png")), "best and worst three: " + curves);
        assertTrue(w.files().containsAll(List.of(ReportWriter.GAINS, AdapterTables.CSV, AdapterTables.JSON)));
        ReportWriterTest.assertImage(w.dir().resolve(ReportWriter.GAINS), GainsChart.WIDTH, GainsChart.HEIGHT);

        List<String> csv = Files.readAllLines(w.dir().resolve(AdapterTables.CSV));
        assertEquals(N + 1, csv.size());
        assertEquals("name,key,rows,steps,trainable_params,train_loss,held_out_loss,base_held_out_loss,gain,seconds",
                csv.get(0));
        assertEquals("a39,a39,10,20,448,2.500000,2.610000,3.000000,0.390000,1.500000", csv.get(N));
        assertEquals("a00,a00,10,20,,2.500000,3.000000,3.000000,0.000000,1.500000", csv.get(1), "unknown: empty");
        JsonNode json = StrictJson.MAPPER.readTree(w.dir().resolve(AdapterTables.JSON).toFile());
        assertEquals(N, json.size());
        assertEquals(0.0, json.get(0).path("gain").asDouble(), 1e-9);
        assertTrue(json.get(0).get("trainable_params").isNull(), json.get(0).toString());
        for (int i = 1; i < N; i++) {
            assertEquals(112 * (i % 4 + 1), json.get(i).path("trainable_params").asLong(), json.get(i).toString());
        }

        String html = Files.readString(w.dir().resolve(ReportWriter.INDEX));
        assertTrue(html.contains("40 adapters; 39 of 40 with a held-out loss improved"), html);
        assertTrue(html.contains("<td>best 1</td>") && html.contains("<td>worst 1</td>"));
        for (String f : w.files()) {
            if (f.endsWith(".png")) {
                assertTrue(html.contains("src=\"" + f + "\""), f + " is not on the page");
            }
        }
    }

    /** Past 24 fine-tuned models ({@code train --full}), the tables' trainable_params is each model's parameters. */
    @Test
    void theTablesOfManyFineTunedModelsCountEveryWeight(@TempDir Path tmp) throws IOException {
        StringBuilder m = new StringBuilder("{\"format_version\": 1, \"adapters\": [], \"models\": [");
        for (int i = 0; i < N; i++) {
            String name = String.format(Locale.ROOT, "m%02d", i);
            Path d = Files.createDirectories(tmp.resolve("models").resolve(name));
            Files.writeString(d.resolve("training.json"), ReportFixtures.trainingJson(name, 20, true, i % 4));
            m.append(i > 0 ? "," : "").append(String.format(Locale.ROOT, "{\"name\": \"%s\", \"key\": \"%s\", "
                    + "\"path\": \"models/%s\", \"status\": \"trained\", \"mode\": \"full\", "
                    + "\"parameters\": 25696, \"rows\": 10, \"steps\": 20, \"final_train_loss\": 2.5, "
                    + "\"final_held_out_loss\": 2.9, \"base_held_out_loss\": 3.0, \"seconds\": 4.0}",
                    name, name, name));
        }
        Files.writeString(tmp.resolve("manifest.json"), m + "]}");
        ReportWriter.Written w = ReportWriter.write(TrainOutput.read(tmp), null);
        List<String> csv = Files.readAllLines(w.dir().resolve(AdapterTables.CSV));
        assertEquals(N + 1, csv.size());
        for (int i = 1; i <= N; i++) {
            assertEquals("25696", csv.get(i).split(",")[4], csv.get(i));
        }
        JsonNode json = StrictJson.MAPPER.readTree(w.dir().resolve(AdapterTables.JSON).toFile());
        assertEquals(25696, json.get(N - 1).path("trainable_params").asLong());
    }

    @Test
    void onlyTheDrawnAdaptersRecordsAreRead(@TempDir Path tmp) throws IOException {
        Path out = output(tmp);
        Set<String> drawn = CurveSelection.of(TrainOutput.read(out).adapters()).keySet();
        for (int i = 0; i < N; i++) {
            String name = String.format(Locale.ROOT, "a%02d", i);
            if (!drawn.contains(name)) { // a record the report must not need
                Files.writeString(out.resolve("adapters").resolve(name).resolve("training.json"), "{broken");
            }
        }
        ReportWriter.Written w = ReportWriter.write(TrainOutput.read(out), null);
        assertEquals(drawn.size(), w.files().stream().filter(f -> f.startsWith("loss-")).count());
    }
}
