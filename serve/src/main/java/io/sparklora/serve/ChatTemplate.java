package io.sparklora.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.LegacyOverrides;
import com.hubspot.jinjava.el.JinjavaInterpreterResolver;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import jinjava.javax.el.CompositeELResolver;

/**
 * The base's {@code chat_template} from {@code tokenizer_config.json}, rendered as transformers'
 * {@code apply_chat_template} renders it with Jinja2 ({@code trim_blocks}, {@code lstrip_blocks}, the special tokens
 * as variables, {@code raise_exception}, {@code strftime_now}, {@code tojson}), here with HubSpot's Jinjava.
 *
 * <p>Where Jinjava departs from Jinja2 it is brought back, each for a construct real templates use (Qwen3's is the
 * test): Python's {@code str} methods ({@link PythonStrings}); the reversed slice {@code [::-1]}, which Jinjava's
 * parser refuses, becomes {@code |reverse|list}; and keyword arguments of {@code namespace(...)} are parenthesised,
 * since Jinjava binds {@code b=x|length - 1} as {@code (b=x|length) - 1}. Both rewrites touch only tag and
 * expression delimiters' insides, never literal text.
 */
public final class ChatTemplate {
    static final String CONFIG = "tokenizer_config.json";
    private static final Pattern TAG = Pattern.compile("\\{[{%].*?[%}]\\}", Pattern.DOTALL);
    private static final Pattern REVERSED = Pattern.compile("\\[\\s*:\\s*:\\s*-1\\s*]");
    private static final List<String> SPECIAL = List.of("bos_token", "eos_token", "unk_token", "pad_token",
            "sep_token", "cls_token", "mask_token");

    private final String source; // after the two rewrites
    private final Map<String, Object> specialTokens;
    private final Jinjava jinjava;

    ChatTemplate(String template, Map<String, Object> specialTokens) {
        this.source = rewrite(template);
        this.specialTokens = Map.copyOf(specialTokens);
        CompositeELResolver resolver = new CompositeELResolver();
        resolver.add(new PythonStrings());
        resolver.add(JinjavaInterpreterResolver.DEFAULT_RESOLVER_READ_WRITE); // set ns.x = ... writes
        this.jinjava = new Jinjava(JinjavaConfig.newBuilder().withTrimBlocks(true).withLstripBlocks(true)
                .withElResolver(resolver).withMaxOutputSize(16L << 20)
                .withLegacyOverrides(LegacyOverrides.newBuilder().withUseNaturalOperatorPrecedence(true)
                        .withParseWhitespaceControlStrictly(true).withUseTrimmingForNotesAndExpressions(true)
                        .withKeepNullableLoopValues(true).build())
                .build());
        jinjava.getGlobalContext().registerFunction(new ELFunctionDefinition("", "raise_exception",
                ChatTemplate.class, "raiseException", String.class));
        jinjava.getGlobalContext().registerFunction(new ELFunctionDefinition("", "strftime_now",
                ChatTemplate.class, "strftimeNow", String.class));
    }

    /** The template of {@code modelDir/tokenizer_config.json}, or null when the base ships none. */
    public static ChatTemplate read(Path modelDir) throws IOException {
        Path file = modelDir.resolve(CONFIG);
        if (!Files.isRegularFile(file)) {
            return null;
        }
        JsonNode config;
        try {
            config = new ObjectMapper().readTree(file.toFile());
        } catch (IOException e) {
            throw new IOException("Cannot read " + file + ": not valid JSON (" + e.getMessage() + ")", e);
        }
        JsonNode t = config.get("chat_template");
        String template = null;
        if (t != null && t.isTextual()) {
            template = t.asText();
        } else if (t != null && t.isArray()) { // [{"name": "default", "template": ...}, {"name": "tool_use", ...}]
            for (JsonNode named : t) {
                if (named.path("name").asText().equals("default")) {
                    template = named.path("template").asText(null);
                }
            }
        } else if (t != null && !t.isNull()) {
            throw new IOException("Cannot read " + file + ": chat_template must be a string or a list of named "
                    + "templates, got " + t.getNodeType());
        }
        if (template == null) {
            return null;
        }
        Map<String, Object> special = new HashMap<>();
        for (String name : SPECIAL) {
            JsonNode v = config.get(name);
            String text = v == null ? null : v.isTextual() ? v.asText() : v.path("content").asText(null);
            if (text != null) {
                special.put(name, text);
            }
        }
        return new ChatTemplate(template, special);
    }

    /** Thrown for a template's own {@code raise_exception} and for a template Jinjava cannot render. */
    public static final class TemplateException extends Exception {
        TemplateException(String message) {
            super(message);
        }
    }

    /**
     * The prompt for {@code messages} (each a map with at least role and content), ending with the assistant's
     * turn opened when {@code addGenerationPrompt}.
     */
    public String render(List<Map<String, Object>> messages, boolean addGenerationPrompt) throws TemplateException {
        Map<String, Object> vars = new HashMap<>(specialTokens);
        vars.put("messages", messages);
        vars.put("add_generation_prompt", addGenerationPrompt);
        RAISED.remove();
        RenderResult r = jinjava.renderForResult(source, vars);
        String raised = RAISED.get();
        RAISED.remove();
        if (raised != null) {
            throw new TemplateException(raised);
        }
        for (TemplateError e : r.getErrors()) {
            if (e.getSeverity() == TemplateError.ErrorType.FATAL) {
                throw new TemplateException("Cannot render the chat template: " + e.getMessage() + " (line "
                        + e.getLineno() + ")");
            }
        }
        return r.getOutput();
    }

    /** The message of a raise_exception during this thread's render (Jinjava reports only that a function failed). */
    private static final ThreadLocal<String> RAISED = new ThreadLocal<>();

    /** Jinja2's {@code raise_exception(message)} as transformers defines it: the render fails with the message. */
    public static String raiseException(String message) {
        RAISED.set(message);
        throw new IllegalArgumentException(message);
    }

    /** transformers' {@code strftime_now(format)}: the local time in Python's strftime codes that templates use. */
    public static String strftimeNow(String format) {
        LocalDateTime now = LocalDateTime.now();
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < format.length(); i++) {
            char c = format.charAt(i);
            if (c != '%' || i + 1 == format.length()) {
                b.append(c);
                continue;
            }
            char code = format.charAt(++i);
            String pattern = switch (code) {
                case 'd' -> "dd";
                case 'm' -> "MM";
                case 'Y' -> "yyyy";
                case 'y' -> "yy";
                case 'b' -> "MMM";
                case 'B' -> "MMMM";
                case 'H' -> "HH";
                case 'M' -> "mm";
                case 'S' -> "ss";
                case 'a' -> "EEE";
                case 'A' -> "EEEE";
                default -> null;
            };
            b.append(pattern == null ? "%" + code : now.format(DateTimeFormatter.ofPattern(pattern, Locale.ENGLISH)));
        }
        return b.toString();
    }

    /** The two source rewrites (see the class comment), inside tags and expressions only. */
    static String rewrite(String template) {
        Matcher m = TAG.matcher(template);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String tag = REVERSED.matcher(m.group()).replaceAll("|reverse|list");
            m.appendReplacement(out, Matcher.quoteReplacement(parenthesiseNamespaceArguments(tag)));
        }
        m.appendTail(out);
        return out.toString();
    }

    /** {@code namespace(a=1, b=x|length - 1)} → {@code namespace(a=(1), b=(x|length - 1))}. */
    static String parenthesiseNamespaceArguments(String tag) {
        StringBuilder out = new StringBuilder();
        int from = 0;
        int at;
        while ((at = tag.indexOf("namespace(", from)) >= 0) {
            int open = at + "namespace(".length();
            int close = matchingParen(tag, open);
            if (close < 0) {
                break;
            }
            out.append(tag, from, open);
            List<String> args = topLevelSplit(tag.substring(open, close));
            for (int i = 0; i < args.size(); i++) {
                String a = args.get(i);
                int eq = a.indexOf('=');
                boolean keyword = eq > 0 && a.substring(0, eq).trim().matches("[A-Za-z_][A-Za-z0-9_]*")
                        && (eq + 1 == a.length() || a.charAt(eq + 1) != '=');
                out.append(i == 0 ? "" : ",").append(keyword ? a.substring(0, eq + 1) + "(" + a.substring(eq + 1)
                        + ")" : a);
            }
            out.append(')');
            from = close + 1;
        }
        return out.append(tag.substring(from)).toString();
    }

    /** The index of the ')' closing the '(' before {@code from}, skipping quoted strings; -1 if none. */
    private static int matchingParen(String s, int from) {
        int depth = 1;
        for (int i = from; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\'' || c == '"') {
                i = s.indexOf(c, i + 1);
                if (i < 0) {
                    return -1;
                }
            } else if (c == '(' || c == '[' || c == '{') {
                depth++;
            } else if ((c == ')' || c == ']' || c == '}') && --depth == 0) {
                return c == ')' ? i : -1;
            }
        }
        return -1;
    }

    /** Splits at commas outside brackets and quotes. */
    private static List<String> topLevelSplit(String s) {
        List<String> out = new java.util.ArrayList<>();
        int depth = 0;
        int start = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\'' || c == '"') {
                int end = s.indexOf(c, i + 1);
                i = end < 0 ? s.length() : end;
            } else if (c == '(' || c == '[' || c == '{') {
                depth++;
            } else if (c == ')' || c == ']' || c == '}') {
                depth--;
            } else if (c == ',' && depth == 0) {
                out.add(s.substring(start, i));
                start = i + 1;
            }
        }
        out.add(s.substring(start));
        return out;
    }
}
