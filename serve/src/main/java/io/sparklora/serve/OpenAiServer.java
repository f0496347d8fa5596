package io.sparklora.serve;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparklora.infer.EosTokens;
import io.sparklora.infer.KvDecoder;
import io.sparklora.lora.LoraAdapter;
import io.sparklora.lora.LoraMerge;
import io.sparklora.model.BaseModel;
import io.sparklora.model.Checkpoints;
import io.sparklora.tokenizer.Tokenizer;
import io.sparklora.tokenizer.Tokenizers;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HashSet;
import java.util.List;
import java.util.concurrent.RejectedExecutionException;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/**
 * The OpenAI-compatible endpoint on Jetty 12's core server: {@code GET /health}, {@code GET /v1/models},
 * {@code POST /v1/completions}, {@code POST /v1/chat/completions} (when the base ships a chat template),
 * {@code GET /metrics}. Every failure is answered as OpenAI answers errors and the
 * server keeps serving: malformed JSON, wrong types and values 400, unknown model 404, bodies over the limit 413 (from
 * Content-Length, before reading, or as soon as a chunked body passes it), full queue 429, missing or wrong bearer key
 * 401 (with an API key).
 */
public final class OpenAiServer implements AutoCloseable {
    private final Server server;
    private final ServerConnector connector;
    private final Engine engine;
    private final ServedModels models;
    private final Completions completions;
    private final ChatCompletions chat;
    private final Metrics metrics = new Metrics();
    private final ServeOptions options;
    private final long created = System.currentTimeMillis() / 1000;

    private OpenAiServer(ServeOptions options, Engine engine, ServedModels models, Tokenizer tokenizer, int[] eos,
                         ChatTemplate template, String baseName) throws Exception {
        this.options = options;
        this.engine = engine;
        this.models = models;
        this.completions = new Completions(tokenizer, engine, models, eos, metrics);
        this.chat = new ChatCompletions(template, baseName, tokenizer, engine.decoder().context(), completions);
        QueuedThreadPool threads = new QueuedThreadPool(Math.max(64, 2 * options.queueCapacity()), 8);
        threads.setName("spark-lora-http");
        this.server = new Server(threads);
        this.connector = new ServerConnector(server);
        connector.setHost(options.host());
        connector.setPort(options.port());
        server.addConnector(connector);
        server.setHandler(new Handler.Abstract() {
            @Override
            public boolean handle(Request request, Response response, Callback callback) {
                serve(request, response, callback);
                return true;
            }
        });
        server.start();
    }

    /**
     * Loads the base from {@code modelDir}, opens the adapters of {@code storage} and starts serving; ready when this
     * returns (GET /health answers 200).
     */
    public static OpenAiServer start(Path modelDir, AdapterStorage storage, ServeOptions options) throws Exception {
        BaseModel base = Checkpoints.load(modelDir);
        Tokenizer tokenizer = Tokenizers.forModel(modelDir, base.config().vocabSize());
        int[] eos = EosTokens.read(modelDir, base.config().vocabSize(), tokenizer); // with tokenizer_config.json's EOS
        ChatTemplate template = ChatTemplate.read(modelDir);
        AdapterCatalog catalog = new AdapterCatalog(storage);
        int context = base.config().maxPositions();
        ServedModels models;
        Engine engine;
        if (options.merge() != null) {
            String name = options.merge();
            String path = catalog.adapters().get(name);
            if (path == null) {
                throw new IllegalArgumentException("Cannot merge adapter " + name + ": " + storage.name()
                        + " has no such adapter (it has " + catalog.adapters().keySet() + ")");
            }
            LoraAdapter adapter = storage.readAdapter(path, base.config());
            BaseModel merged = base.copy();
            LoraMerge.merge(merged, adapter);
            base = null; // only the merged weights stay in RAM
            engine = new Engine(KvDecoder.create(merged, context, context + options.maxBatch()), options.maxBatch(),
                    options.queueCapacity());
            models = ServedModels.merged(name);
        } else {
            engine = new Engine(KvDecoder.create(base, context, context + options.maxBatch()), options.maxBatch(),
                    options.queueCapacity());
            AdapterCache cache = new AdapterCache(catalog, base.config(), options.cacheBytes(),
                    new HashSet<>(options.pin()));
            models = ServedModels.cached(cache,
                    TrainedRouter.forOutput(catalog, cache, new LossRouter(cache, engine)));
        }
        try {
            return new OpenAiServer(options, engine, models, tokenizer, eos, template, modelDir.toString());
        } catch (Exception e) {
            engine.close();
            throw new IOException("Cannot start the server on " + options.host() + ":" + options.port() + ": "
                    + e.getMessage(), e);
        }
    }

    /** The bound port (the chosen one when started on port 0). */
    public int port() {
        return connector.getLocalPort();
    }

    public AdapterCache cache() {
        return models.cache();
    }

    /** The decode engine (its counters; the benchmark reads its CPU clock). */
    public Engine engine() {
        return engine;
    }

    private void serve(Request request, Response response, Callback callback) {
        long t0 = System.nanoTime();
        String path = Request.getPathInContext(request);
        String method = request.getMethod();
        String endpoint = switch (path) {
            case "/health", "/metrics", "/v1/models", "/v1/completions", "/v1/chat/completions" -> path;
            default -> "other";
        };
        int status;
        try {
            status = route(method, path, request, response);
        } catch (ApiException e) {
            status = error(response, e);
        } catch (RejectedExecutionException e) {
            status = error(response, new ApiException(429, "rate_limit_exceeded", null, "queue_full",
                    e.getMessage()));
        } catch (Exception e) {
            status = error(response, new ApiException(500, "server_error", null, null,
                    e.getMessage() == null ? e.getClass().getName() : e.getMessage()));
        }
        metrics.request(endpoint, status, (System.nanoTime() - t0) / 1e9);
        callback.succeeded();
    }

    private int route(String method, String path, Request request, Response response) throws Exception {
        if (path.equals("/health")) {
            requireMethod(method, "GET");
            return json(response, 200, Completions.JSON.createObjectNode().put("status", "ok"));
        }
        if (!path.startsWith("/v1/") && !path.equals("/metrics")) {
            throw new ApiException(404, "invalid_request_error", null, "not_found", "Unknown path " + path + ".");
        }
        authorize(request);
        switch (path) {
            case "/metrics" -> {
                requireMethod(method, "GET");
                byte[] text = metrics.render(models.cache(), engine).getBytes(StandardCharsets.UTF_8);
                return write(response, 200, "text/plain; version=0.0.4; charset=utf-8", text);
            }
            case "/v1/models" -> {
                requireMethod(method, "GET");
                ObjectNode body = Completions.JSON.createObjectNode().put("object", "list");
                ArrayNode data = body.putArray("data");
                for (String id : models.ids()) {
                    data.addObject().put("id", id).put("object", "model").put("created", created)
                            .put("owned_by", "spark-lora");
                }
                return json(response, 200, body);
            }
            case "/v1/completions" -> {
                requireMethod(method, "POST");
                CompletionRequest req = CompletionRequest.parse(readJson(request));
                return answer(response, req, completions::respond, completions::stream);
            }
            case "/v1/chat/completions" -> {
                requireMethod(method, "POST");
                CompletionRequest req = chat.parse(readJson(request));
                return answer(response, req, chat::respond, chat::stream);
            }
            default -> throw new ApiException(404, "invalid_request_error", null, "not_found",
                    "Unknown path " + path + ".");
        }
    }

    /** Writes a whole (completion or chat) answer. */
    private interface Responder {
        ObjectNode respond(CompletionRequest req, List<Object> prepared) throws IOException;
    }

    /** Writes an answer's server-sent events. */
    private interface Streamer {
        void stream(CompletionRequest req, List<Object> prepared, Completions.Sink sink) throws IOException;
    }

    /**
     * Checks and queues the request's prompts (every 4xx before anything is written), then answers with one JSON body
     * or, with {@code stream}, server-sent events; a client that leaves mid-stream has its generation cancelled.
     */
    private int answer(Response response, CompletionRequest req, Responder respond, Streamer stream)
            throws IOException, ApiException {
        List<Object> prepared = completions.prepare(req);
        if (!req.stream()) {
            return json(response, 200, respond.respond(req, prepared));
        }
        response.setStatus(200);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/event-stream; charset=utf-8");
        response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-cache");
        try (OutputStream out = Content.Sink.asOutputStream(response)) {
            stream.stream(req, prepared, data -> {
                out.write(("data: " + data + "\n\n").getBytes(StandardCharsets.UTF_8));
                out.flush();
            });
        } catch (IOException clientGone) {
            // the client closed the stream; its generation was cancelled
        }
        return 200;
    }

    private static void requireMethod(String method, String expected) throws ApiException {
        if (!method.equals(expected)) {
            throw new ApiException(405, "invalid_request_error", null, "method_not_allowed",
                    "Method " + method + " is not allowed here; use " + expected + ".");
        }
    }

    private void authorize(Request request) throws ApiException {
        if (options.apiKey() == null) {
            return;
        }
        String auth = request.getHeaders().get(HttpHeader.AUTHORIZATION);
        String expected = "Bearer " + options.apiKey();
        if (auth == null || !MessageDigest.isEqual(auth.getBytes(StandardCharsets.UTF_8),
                expected.getBytes(StandardCharsets.UTF_8))) {
            throw new ApiException(401, "invalid_request_error", null, "invalid_api_key",
                    "Incorrect API key provided: send it as an Authorization: Bearer header.");
        }
    }

    /** The body as JSON, refused with 413 when Content-Length or the bytes read pass the limit. */
    private JsonNode readJson(Request request) throws IOException, ApiException {
        long limit = options.maxBodyBytes();
        ApiException tooLarge = new ApiException(413, "invalid_request_error", null, "request_too_large",
                "The request body exceeds the limit of " + limit + " bytes.");
        if (request.getLength() > limit) {
            throw tooLarge;
        }
        byte[] body;
        try (InputStream in = Content.Source.asInputStream(request)) {
            body = in.readNBytes((int) limit + 1);
        }
        if (body.length > limit) {
            throw tooLarge;
        }
        try {
            return Completions.JSON.readTree(body);
        } catch (JsonProcessingException e) {
            throw ApiException.invalid(null, "The request body is not valid JSON: " + e.getOriginalMessage());
        }
    }

    private static int error(Response response, ApiException e) {
        ObjectNode err = Completions.JSON.createObjectNode();
        ObjectNode inner = err.putObject("error");
        inner.put("message", e.getMessage());
        inner.put("type", e.type());
        inner.put("param", e.param());
        inner.put("code", e.code());
        try {
            return json(response, e.status(), err);
        } catch (IOException | IllegalStateException ignored) {
            return e.status(); // the response was already committed (a failed stream)
        }
    }

    private static int json(Response response, int status, JsonNode body) throws IOException {
        return write(response, status, "application/json", Completions.JSON.writeValueAsBytes(body));
    }

    private static int write(Response response, int status, String type, byte[] bytes) throws IOException {
        response.setStatus(status);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, type);
        response.getHeaders().put(HttpHeader.CONTENT_LENGTH, bytes.length);
        try (OutputStream out = Content.Sink.asOutputStream(response)) {
            out.write(bytes);
        }
        return status;
    }

    @Override
    public void close() throws Exception {
        server.stop();
        engine.close();
    }
}
