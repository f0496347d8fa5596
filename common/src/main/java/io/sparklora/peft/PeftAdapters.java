package io.sparklora.peft;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.sparklora.lora.LoraAdapter;
import io.sparklora.lora.LoraConfig;
import io.sparklora.lora.LoraModule;
import io.sparklora.lora.LoraTarget;
import io.sparklora.model.LinearModule;
import io.sparklora.model.ModelConfig;
import io.sparklora.model.WeightLayout;
import io.sparklora.safetensors.DType;
import io.sparklora.safetensors.SafeTensorsReader;
import io.sparklora.safetensors.SafeTensorsWriter;
import io.sparklora.storage.AtomicFiles;
import io.sparklora.storage.FileSink;
import io.sparklora.safetensors.TensorInfo;
import io.sparklora.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * LoRA adapters in PEFT's on-disk format, the one PEFT's {@code PeftModel.from_pretrained}, vLLM and LoRAX load:
 * {@code adapter_config.json} plus {@code adapter_model.safetensors} holding, per adapted module,
 * {@code base_model.model.<HF module path>.lora_A.weight} (rank, in) and {@code ...lora_B.weight} (out, rank) in F32,
 * with metadata {@code {"format": "pt"}} (what PEFT's {@code save_pretrained} writes, adapter name stripped).
 */
public final class PeftAdapters {
    public static final String WEIGHTS_FILE = "adapter_model.safetensors";
    public static final String PICKLE_FILE = "adapter_model.bin";
    private static final Pattern KEY = Pattern.compile("base_model\\.model\\.(.+)\\.(lora_A|lora_B)(?:\\.[^.]+)?\\.weight");
    private static final Set<DType> FLOAT_DTYPES = Set.of(DType.F64, DType.F32, DType.F16, DType.BF16);

    private PeftAdapters() {
    }

    /**
     * Writes {@code adapter} into {@code dir} (created if needed); each file appears whole or not at all (written to a
     * temporary name, then moved). An adapter without a config (assembled from modules) is described by a config
     * derived from its modules.
     */
    public static void write(Path dir, LoraAdapter adapter, String baseModelNameOrPath) throws IOException {
        Files.createDirectories(dir);
        write(dir.toString(), (name, content) -> AtomicFiles.write(dir.resolve(name), content), adapter,
                baseModelNameOrPath);
    }

    /**
     * Writes the adapter's two files into {@code sink}: {@value #WEIGHTS_FILE} first, {@code adapter_config.json}
     * last, so on stores without rename a present config means the weights are complete. {@code where} names the
     * destination in messages.
     */
    public static void write(String where, FileSink sink, LoraAdapter adapter, String baseModelNameOrPath)
            throws IOException {
        if (adapter.modules().isEmpty()) {
            throw new IllegalArgumentException("Cannot write adapter " + where + ": it has no modules");
        }
        LoraConfig config = adapter.config() != null ? adapter.config() : DerivedConfig.of(adapter);
        DerivedConfig.checkDescribes(config, adapter, where);
        Set<WeightLayout> layouts = new TreeSet<>();
        Set<String> names = new TreeSet<>();
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        for (LoraModule m : adapter.modules().values()) {
            layouts.add(m.target().layout());
            names.add(m.target().name());
            tensors.put(m.loraA().name(), m.loraA().value()); // (rank, in)
            tensors.put(m.loraB().name(), m.loraB().value()); // (out, rank)
        }
        if (layouts.size() != 1) {
            throw new IllegalArgumentException("Cannot write adapter " + where + ": its modules mix weight layouts "
                    + layouts + "; fan_in_fan_out must hold for all of them");
        }
        List<String> targetNames = config.allLinear() ? List.copyOf(names) : config.targetModules();
        Map<String, Object> json = PeftAdapterConfig.toJson(config, targetNames,
                layouts.contains(WeightLayout.IN_OUT), baseModelNameOrPath);
        sink.write(WEIGHTS_FILE, out -> SafeTensorsWriter.write(out, Map.of("format", "pt"), tensors));
        byte[] configBytes = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsBytes(json);
        sink.write(PeftAdapterConfig.FILE, out -> out.write(configBytes));
    }

    /**
     * Reads the adapter in {@code dir} for {@code base}, checking that the config is one we can honour, that every
     * tensor adapts a module the config targets in this base, that each targeted module has exactly one A and one B
     * of shapes (rank, in) and (out, rank) with the rank the config gives that module, and that nothing else is in
     * the file. Keys that still carry PEFT's adapter name ({@code .lora_A.default.weight}) are accepted.
     */
    public static LoraAdapter read(Path dir, ModelConfig base) throws IOException {
        return read(dir, dir.toString(), base);
    }

    /**
     * As {@link #read(Path, ModelConfig)}, naming the adapter {@code where} in errors: the URI it was fetched from when
     * {@code dir} is a local copy of a remote one.
     */
    public static LoraAdapter read(Path dir, String where, ModelConfig base) throws IOException {
        String cannot = "Cannot read adapter " + where + ": ";
        Path weights = dir.resolve(WEIGHTS_FILE);
        Path configFile = dir.resolve(PeftAdapterConfig.FILE);
        if (!Files.isRegularFile(weights)) {
            if (Files.isRegularFile(dir.resolve(PICKLE_FILE))) {
                throw new IOException(cannot + PICKLE_FILE + " is a pickle file; convert it to " + WEIGHTS_FILE
                        + " (e.g. with PEFT: model.save_pretrained(dir, safe_serialization=True))");
            }
            throw new IOException(cannot + WEIGHTS_FILE + " is missing");
        }
        if (!Files.isRegularFile(configFile)) {
            throw new IOException(cannot + PeftAdapterConfig.FILE + " is missing");
        }
        LoraConfig config;
        List<LoraTarget> targets;
        try {
            JsonNode json = new ObjectMapper().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
                    .readTree(configFile.toFile());
            config = PeftAdapterConfig.fromJson(json, base);
            targets = config.resolve(base);
        } catch (com.fasterxml.jackson.core.JacksonException e) {
            throw new IOException(cannot + PeftAdapterConfig.FILE + " is not valid JSON (" + e.getOriginalMessage()
                    + ")", e);
        } catch (IllegalArgumentException e) {
            throw new IOException(cannot + PeftAdapterConfig.FILE + ": " + e.getMessage(), e);
        }
        Map<String, LinearModule> baseModules = new HashMap<>();
        base.linearModules().forEach(m -> baseModules.put(m.path(), m));
        Map<String, LoraTarget> byPath = new LinkedHashMap<>();
        targets.forEach(t -> byPath.put(t.module().path(), t));
        Map<String, String[]> keys = new HashMap<>(); // module path -> {key of A, key of B}
        try (SafeTensorsReader st = SafeTensorsReader.open(weights)) {
            for (String key : st.names()) {
                Matcher km = KEY.matcher(key);
                if (!km.matches()) {
                    throw new IOException(cannot + "unexpected tensor " + key + " (not a LoRA A or B matrix)");
                }
                String path = km.group(1);
                if (!baseModules.containsKey(path)) {
                    throw new IOException(cannot + "tensor " + key + " adapts " + path + ", which the "
                            + base.modelType() + " base does not have");
                }
                if (!byPath.containsKey(path)) {
                    throw new IOException(cannot + "tensor " + key + " adapts " + path + ", which "
                            + PeftAdapterConfig.FILE + " does not target");
                }
                int which = km.group(2).equals("lora_A") ? 0 : 1;
                String[] pair = keys.computeIfAbsent(path, p -> new String[2]);
                if (pair[which] != null) {
                    throw new IOException(cannot + "module " + path + " has two " + km.group(2) + " tensors: "
                            + pair[which] + " and " + key);
                }
                pair[which] = key;
            }
            List<LoraModule> modules = new ArrayList<>();
            for (LoraTarget t : targets) {
                String path = t.module().path();
                String[] pair = keys.get(path);
                if (pair == null || pair[0] == null || pair[1] == null) {
                    String missing = pair == null ? "lora_A and lora_B tensors" : pair[0] == null ? "lora_A tensor"
                            : "lora_B tensor";
                    throw new IOException(cannot + "module " + path + " is targeted by " + PeftAdapterConfig.FILE
                            + " but has no " + missing);
                }
                Tensor loraA = readChecked(st, pair[0], t.rank(), t.module().inFeatures(), cannot, t, "in"); // (rank, in)
                Tensor loraB = readChecked(st, pair[1], t.module().outFeatures(), t.rank(), cannot, t, "out"); // (out, rank)
                modules.add(new LoraModule(t.module(), t.rank(), (float) t.alpha(), (float) t.scaling(),
                        (float) config.dropout(), loraA, loraB));
            }
            return new LoraAdapter(config, modules);
        }
    }

    /** Checks dtype and shape from the header before reading the data. */
    private static Tensor readChecked(SafeTensorsReader st, String key, int rows, int cols, String cannot, LoraTarget t,
                                      String width) throws IOException {
        TensorInfo info = st.info(key);
        if (!FLOAT_DTYPES.contains(info.dtype())) {
            throw new IOException(cannot + "tensor " + key + " has dtype " + info.dtype() + ", expected a float type");
        }
        if (!Arrays.equals(info.shape(), new int[] {rows, cols})) {
            throw new IOException(cannot + "tensor " + key + " has shape " + Arrays.toString(info.shape())
                    + ", expected [" + rows + ", " + cols + "] (rank " + t.rank() + " from " + PeftAdapterConfig.FILE
                    + ", " + width + " = " + (width.equals("in") ? t.module().inFeatures() : t.module().outFeatures())
                    + " in the base)");
        }
        return st.read(key);
    }
}
