package io.sparklora.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.sparklora.model.Checkpoints;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The official OpenAI node client ({@code openai} from npm, installed at test time by
 * {@code src/test/node/install-openai.sh}) against a real server with an API key: models, completions with echo and
 * log-probs, streaming, chat (plain and streamed), and its errors, each compared with what the JDK's HttpClient gets
 * from the same server. Tagged {@code node}; skipped, saying so, where node or npm is not installed.
 */
@Tag("node")
class OpenAiNodeClientTest {
    static final Path NODE_DIR = Path.of("src/test/node");

    @Test
    void theOfficialNodeClientGetsWhatTheHttpClientGets(@TempDir Path dir) throws Exception {
        Assumptions.assumeTrue(onPath("node") && onPath("npm"), "node and npm are not installed: the OpenAI node "
                + "client test is skipped");
        Path client = dir.resolve("client");
        run(dir, List.of("bash", NODE_DIR.resolve("install-openai.sh").toAbsolutePath().toString(),
                client.toString()), null, 300);
        Files.copy(NODE_DIR.resolve("openai-client.mjs"), client.resolve("openai-client.mjs"));
        Path model = ServeFixtures.baseWithQwen3ChatTemplate(dir.resolve("base"));
        ServeFixtures.writeAdapters(Checkpoints.load(model), dir, 2);
        try (Served anonymous = Served.start(model, dir, ServeOptions.defaults().withApiKey("sk-node"))) {
            Served s = anonymous.withBearer("sk-node");
            String out = run(client, List.of("node", "openai-client.mjs"), new String[] {"BASE_URL=" + s.url + "/v1",
                "API_KEY=sk-node", "MODEL=a1"}, 120);
            JsonNode got = Served.JSON.readTree(out.substring(out.indexOf('{')));
            assertEquals("[\"base\",\"a0\",\"a1\",\"auto\"]", got.path("models").toString());
            JsonNode jdk = s.complete("{\"model\":\"a1\",\"prompt\":\"Once upon\",\"max_tokens\":12,\"temperature\":0,"
                    + "\"echo\":true,\"logprobs\":1}").path("choices").get(0);
            JsonNode completion = got.path("completion");
            assertEquals(jdk.path("text").asText(), completion.path("text").asText());
            JsonNode lj = jdk.path("logprobs").path("token_logprobs");
            JsonNode ln = completion.path("logprobs");
            assertEquals(lj.size(), ln.size());
            for (int k = 1; k < lj.size(); k++) {
                assertEquals(lj.get(k).asDouble(), ln.get(k).asDouble(), 1e-4, "token " + k);
            }
            assertEquals("Once upon" + got.path("streamed").asText(), completion.path("text").asText());
            assertEquals(9 + 12, completion.path("usage").path("total_tokens").asInt());
            String chat = Served.JSON.readTree(s.post("/v1/chat/completions", "{\"model\":\"a1\",\"messages\":[{"
                    + "\"role\":\"user\",\"content\":\"Hello!\"}],\"max_tokens\":10,\"temperature\":0}").body())
                    .path("choices").get(0).path("message").path("content").asText();
            assertEquals(chat, got.path("chat").asText());
            assertEquals(chat, got.path("chat_streamed").asText());
            assertEquals(404, got.path("unknown_model").path("status").asInt(), got.toString());
            assertEquals("The model `nope` does not exist.", got.path("unknown_model").path("message").asText());
            assertEquals(400, got.path("bad_max_tokens").path("status").asInt(), got.toString());
            assertEquals(401, got.path("wrong_key").path("status").asInt(), got.toString());
            assertEquals("invalid_api_key", got.path("wrong_key").path("code").asText(), got.toString());
            assertEquals(200, s.get("/health").statusCode());
        }
    }

    static boolean onPath(String tool) {
        try {
            return new ProcessBuilder(tool, "--version").redirectErrorStream(true).start().waitFor() == 0;
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }

    /** Runs a command in {@code dir}; its output, or an AssertionError with it when it fails or overruns. */
    static String run(Path dir, List<String> command, String[] env, int seconds) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true);
        if (env != null) {
            for (String e : env) {
                pb.environment().put(e.substring(0, e.indexOf('=')), e.substring(e.indexOf('=') + 1));
            }
        }
        Files.createDirectories(dir);
        Process p = pb.start();
        byte[] output = p.getInputStream().readAllBytes();
        boolean done = p.waitFor(seconds, TimeUnit.SECONDS);
        String text = new String(output, StandardCharsets.UTF_8);
        if (!done) {
            p.destroyForcibly();
        }
        assertTrue(done && p.exitValue() == 0, String.join(" ", command) + " failed:\n" + text);
        return text;
    }
}
