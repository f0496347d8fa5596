package io.sparklora.driver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The full corner's plane points, read from a hand-written {@code train --full} manifest and model directory: the
 * size counts config and weights only, the parameters are the manifest's, a partition without a key value keeps a
 * null key (as its LoRA points have it), and a failed model keeps the path it would have had.
 */
class SweepJobTest {
    @Test
    void theCornersPointsComeFromItsManifestAndFiles(@TempDir Path tmp) throws Exception {
        Path corner = tmp.resolve("points/full");
        Path de = Files.createDirectories(corner.resolve("models/de"));
        Files.write(de.resolve("config.json"), new byte[10]);
        Files.write(de.resolve("model.safetensors"), new byte[200]);
        Files.write(de.resolve("training.json"), new byte[33]);
        Files.write(de.resolve("_committed.json"), new byte[44]);
        io.sparklora.output.ManifestFile manifest = io.sparklora.output.ManifestFile.read(("{\"format_version\": 1, "
                + "\"adapters\": [], \"models\": ["
                + "{\"name\": \"de\", \"key\": \"de\", \"status\": \"trained\", \"path\": \"models/de\", "
                + "\"parameters\": 25696, \"final_held_out_loss\": 1.25, \"seconds\": 3.5},"
                + "{\"name\": \"null\", \"key\": null, \"status\": \"failed\", \"path\": null, "
                + "\"parameters\": 25696, \"seconds\": 0}]}").getBytes(java.nio.charset.StandardCharsets.UTF_8),
                "manifest.json");

        List<Plane.Point> points = SweepJob.fullPoints(manifest, corner.toUri().toString(), new Configuration());

        assertEquals(2, points.size());
        Plane.Point p = points.get(0);
        assertEquals("de", p.key());
        assertTrue(p.full());
        assertEquals(List.of(Plane.FULL), p.targets());
        assertEquals("points/full/models/de", p.path());
        assertEquals(25_696, p.trainableParams());
        assertEquals(210, p.adapterBytes(), "config.json and model.safetensors, not the record or the marker");
        assertEquals(1.25, p.heldOutLoss());
        assertEquals(3.5, p.seconds());
        Plane.Point failed = points.get(1);
        assertNull(failed.key(), "the JSON null, not \"null\"");
        assertEquals("points/full/models/null", failed.path());
        assertTrue(Double.isNaN(failed.heldOutLoss()));
        assertTrue(Plane.json(points, 0.01).path("points").get(1).path("key").isNull());
    }
}
