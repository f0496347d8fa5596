package io.sparklora.cli;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The provenance of an adapter made from others rather than trained ({@code combine.json}, {@code extract.json} beside
 * its PEFT files): what it was made from and how, and how far each module is from the exact result (the relative
 * Frobenius error ‖ΔW − ΔŴ‖/‖ΔW‖, 0 where exact), so a truncation's cost is on record with the adapter.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
record DerivedAdapterRecord(int formatVersion, String command, String sparkLora, String baseModel,
                            String baseModelSha256, List<String> inputs, String tuned, String method,
                            List<Double> weights, Integer rank, Map<String, Integer> ranks,
                            Map<String, Double> relativeError, double maxRelativeError,
                            Map<String, Double> notExtracted, String writtenAt) {
    static final int FORMAT_VERSION = 1;
    private static final ObjectMapper JSON = new ObjectMapper()
            .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .enable(SerializationFeature.INDENT_OUTPUT);

    /** Writes this record as {@code <dir>/<command>.json}. */
    void writeTo(Path dir) throws IOException {
        Files.write(dir.resolve(command + ".json"), JSON.writeValueAsBytes(this));
    }
}
