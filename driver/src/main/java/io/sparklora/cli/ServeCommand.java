package io.sparklora.cli;

import io.sparklora.driver.HadoopAdapterStorage;
import io.sparklora.serve.OpenAiServer;
import io.sparklora.serve.ServeOptions;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code serve}: the OpenAI-compatible endpoint over a base and the adapters of a train output (see the serve
 * module). Prints one line when ready and serves until the process is stopped.
 */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = "Serve base + adapters behind an OpenAI-compatible HTTP endpoint (model = adapter name or auto).")
final class ServeCommand implements Callable<Integer> {
    static final String API_KEY_ENV = "SPARK_LORA_API_KEY";

    @Option(names = "--model", required = true, description = "base model directory")
    Path model;

    @Option(names = "--adapters", required = true, description = "train output (manifest.json) or a directory of "
            + "adapter directories: a local path, file://, hdfs:// or s3a://")
    String adapters;

    @Option(names = "--host", defaultValue = "127.0.0.1", description = "address to bind (default: ${DEFAULT-VALUE})")
    String host;

    @Option(names = "--port", defaultValue = "8000", description = "port, 0 for any free one (default: "
            + "${DEFAULT-VALUE})")
    int port;

    @Option(names = "--cache-bytes", defaultValue = "1g", description = "RAM for adapters: bytes or k/m/g "
            + "(default: ${DEFAULT-VALUE})")
    String cacheBytes;

    @Option(names = "--pin", split = ",", description = "adapters kept in RAM, never evicted")
    List<String> pin = new ArrayList<>();

    @Option(names = "--merge", description = "serve only this adapter, merged into the base")
    String merge;

    @Option(names = "--max-batch", defaultValue = "32", description = "sequences decoded together (default: "
            + "${DEFAULT-VALUE})")
    int maxBatch;

    @Option(names = "--queue", defaultValue = "256", description = "requests waiting before 429 (default: "
            + "${DEFAULT-VALUE})")
    int queue;

    @Option(names = "--api-key", description = "bearer key required on /v1 and /metrics (default: $"
            + API_KEY_ENV + " when set)")
    String apiKey;

    @Override
    public Integer call() throws Exception {
        String key = apiKey != null ? apiKey : System.getenv(API_KEY_ENV);
        ServeOptions options = ServeOptions.defaults().withHost(host).withPort(port)
                .withCacheBytes(ServeOptions.parseSize(cacheBytes)).withPin(pin).withMerge(merge)
                .withMaxBatch(maxBatch).withQueueCapacity(queue).withApiKey(key == null || key.isEmpty() ? null : key);
        OpenAiServer server = OpenAiServer.start(model, adapterStorage(adapters), options);
        System.out.println("Serving " + model + " with adapters " + adapters + " on http://" + host + ":"
                + server.port() + " (GET /health, /v1/models, /metrics; POST /v1/completions, /v1/chat/completions)");
        System.out.flush();
        new CountDownLatch(1).await();
        return 0;
    }

    /**
     * The adapters of {@code --adapters} as the server reads them: through Hadoop's file systems configured as
     * {@code train} is ({@link LocalHadoopConf}: {@code spark.hadoop.*} settings reach {@code s3a://} and HDFS).
     */
    static HadoopAdapterStorage adapterStorage(String adapters) throws java.io.IOException {
        return new HadoopAdapterStorage(adapters, LocalHadoopConf.create());
    }
}
