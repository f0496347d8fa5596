package io.sparklora.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Jinjava's rendering of a real chat template against Jinja2's: Qwen3's {@code tokenizer_config.json} (which uses
 * {@code namespace}, {@code [::-1]}, Python string methods, loop variables and whitespace control) over conversations
 * whose prompts {@code tools/reference/chat_template_reference.py} recorded with Jinja2 as transformers configures
 * it ({@code src/test/resources/chat/qwen3-rendered.json}).
 */
class ChatTemplateTest {
    static final Path QWEN3 = Path.of("../common/src/test/resources/tokenizers/qwen3");

    @Test
    void qwen3TemplateRendersAsJinja2Does() throws Exception {
        ChatTemplate t = ChatTemplate.read(QWEN3);
        JsonNode cases = Served.JSON.readTree(ChatTemplateTest.class.getResourceAsStream("/chat/qwen3-rendered.json"));
        assertEquals(6, cases.size());
        for (JsonNode c : cases) {
            List<Map<String, Object>> messages = Served.JSON.convertValue(c.path("messages"), new TypeReference<>() {
            });
            assertEquals(c.path("rendered").asText(), t.render(messages, c.path("add_generation_prompt").asBoolean()),
                    c.path("name").asText());
        }
    }

    @Test
    void raiseExceptionFailsTheRenderWithTheTemplatesMessage(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"eos_token\": \"</s>\", \"chat_template\": "
                + "\"{% for m in messages %}{% if m.role not in ['user', 'assistant'] %}"
                + "{{ raise_exception('Only user and assistant roles are supported!') }}{% endif %}"
                + "{{ m.role|upper }}: {{ m.content.strip() }}{{ eos_token }}\\n{% endfor %}\"}");
        ChatTemplate t = ChatTemplate.read(dir);
        assertEquals("USER: hi</s>\nASSISTANT: yo</s>\n", t.render(List.of(Map.of("role", "user", "content", " hi "),
                Map.of("role", "assistant", "content", "yo\n")), true));
        ChatTemplate.TemplateException e = assertThrows(ChatTemplate.TemplateException.class,
                () -> t.render(List.of(Map.of("role", "tool", "content", "x")), true));
        assertEquals("Only user and assistant roles are supported!", e.getMessage());
    }

    @Test
    void aBaseWithoutATemplateHasNone(@TempDir Path dir) throws Exception {
        assertNull(ChatTemplate.read(dir));
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"eos_token\": \"</s>\"}");
        assertNull(ChatTemplate.read(dir));
    }

    @Test
    void pythonStringMethodsKeepPythonsSemantics() {
        assertEquals(List.of("a", ""), PythonStrings.split("a</think>", new Object[] {"</think>"}));
        assertEquals(List.of("a", "b c"), PythonStrings.split("  a  b c ", new Object[] {null, 1}));
        assertEquals("x\n", PythonStrings.lstrip("\n\nx\n", "\n"));
        assertEquals("x", PythonStrings.rstrip("xabba", "ab"));
        assertEquals("abb", PythonStrings.rstrip("abba", "a"));
    }

    @Test
    void rewritesTouchOnlyTagsAndExpressions() {
        assertEquals("text [::-1] {% for m in messages|reverse|list %}", ChatTemplate.rewrite(
                "text [::-1] {% for m in messages[::-1] %}"));
        assertEquals("{%- set ns = namespace(a=(true), b=( m|length - 1), c=(f(1, 2))) %}",
                ChatTemplate.rewrite("{%- set ns = namespace(a=true, b= m|length - 1, c=f(1, 2)) %}"));
    }
}
