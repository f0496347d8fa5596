package io.sparklora.serve;

import java.beans.FeatureDescriptor;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import jinjava.javax.el.ELContext;
import jinjava.javax.el.ELResolver;

/**
 * Python's {@code str} methods for Jinjava, which otherwise offers Java's: chat templates are written for Jinja2,
 * where {@code message.content.startswith('<tool_response>')} or {@code content.split('</think>')[-1].lstrip('\n')}
 * call Python's. Python's semantics, not Java's: {@code split} splits on the literal separator and keeps trailing
 * empty strings, {@code strip(chars)} strips any of the characters. Other calls fall through to Jinjava's resolver.
 */
final class PythonStrings extends ELResolver {
    private static final Set<String> METHODS = Set.of("startswith", "endswith", "strip", "lstrip", "rstrip", "split",
            "upper", "lower", "title", "capitalize", "replace");

    @Override
    public Object invoke(ELContext context, Object base, Object method, Class<?>[] paramTypes, Object[] params) {
        if (!(base instanceof String s) || !(method instanceof String name) || !METHODS.contains(name)) {
            return null;
        }
        Object[] p = params == null ? new Object[0] : params;
        Object result = switch (name) {
            case "startswith" -> anyOf(p, 0, prefix -> s.startsWith(prefix));
            case "endswith" -> anyOf(p, 0, suffix -> s.endsWith(suffix));
            case "strip" -> rstrip(lstrip(s, chars(p)), chars(p));
            case "lstrip" -> lstrip(s, chars(p));
            case "rstrip" -> rstrip(s, chars(p));
            case "split" -> split(s, p);
            case "upper" -> s.toUpperCase(Locale.ROOT);
            case "lower" -> s.toLowerCase(Locale.ROOT);
            case "title" -> title(s);
            case "capitalize" -> s.isEmpty() ? s : s.substring(0, 1).toUpperCase(Locale.ROOT)
                    + s.substring(1).toLowerCase(Locale.ROOT);
            default -> s.replace(String.valueOf(p[0]), String.valueOf(p[1])); // replace
        };
        context.setPropertyResolved(true);
        return result;
    }

    private interface Test {
        boolean test(String s);
    }

    /** str.startswith / endswith: one string, or a tuple (list) of strings any of which may match. */
    private static boolean anyOf(Object[] p, int i, Test t) {
        if (p.length > i && p[i] instanceof List<?> options) {
            for (Object o : options) {
                if (t.test(String.valueOf(o))) {
                    return true;
                }
            }
            return false;
        }
        return t.test(p.length > i ? String.valueOf(p[i]) : "");
    }

    /** null: whitespace, as Python's strip() without an argument. */
    private static String chars(Object[] p) {
        return p.length == 0 || p[0] == null ? null : String.valueOf(p[0]);
    }

    private static boolean strips(char c, String chars) {
        return chars == null ? Character.isWhitespace(c) : chars.indexOf(c) >= 0;
    }

    static String lstrip(String s, String chars) {
        int i = 0;
        while (i < s.length() && strips(s.charAt(i), chars)) {
            i++;
        }
        return s.substring(i);
    }

    static String rstrip(String s, String chars) {
        int j = s.length();
        while (j > 0 && strips(s.charAt(j - 1), chars)) {
            j--;
        }
        return s.substring(0, j);
    }

    /** str.split(sep=None, maxsplit=-1). */
    static List<String> split(String s, Object[] p) {
        String sep = p.length == 0 || p[0] == null ? null : String.valueOf(p[0]);
        int max = p.length > 1 && p[1] instanceof Number n ? n.intValue() : -1;
        List<String> out = new ArrayList<>();
        if (sep == null) {
            String rest = lstrip(s, null);
            while (!rest.isEmpty()) {
                int end = 0;
                while (end < rest.length() && !Character.isWhitespace(rest.charAt(end))) {
                    end++;
                }
                if (max >= 0 && out.size() == max) {
                    out.add(rstrip(rest, null));
                    break;
                }
                out.add(rest.substring(0, end));
                rest = lstrip(rest.substring(end), null);
            }
            return out;
        }
        if (sep.isEmpty()) {
            throw new IllegalArgumentException("empty separator");
        }
        int from = 0;
        int at;
        while ((max < 0 || out.size() < max) && (at = s.indexOf(sep, from)) >= 0) {
            out.add(s.substring(from, at));
            from = at + sep.length();
        }
        out.add(s.substring(from));
        return out;
    }

    private static String title(String s) {
        StringBuilder b = new StringBuilder(s.length());
        boolean previousCased = false;
        for (char c : s.toCharArray()) {
            b.append(previousCased ? Character.toLowerCase(c) : Character.toUpperCase(c));
            previousCased = Character.isLetter(c);
        }
        return b.toString();
    }

    @Override
    public Object getValue(ELContext context, Object base, Object property) {
        return null;
    }

    @Override
    public Class<?> getType(ELContext context, Object base, Object property) {
        return null;
    }

    @Override
    public void setValue(ELContext context, Object base, Object property, Object value) {
    }

    @Override
    public boolean isReadOnly(ELContext context, Object base, Object property) {
        return true;
    }

    @Override
    public Iterator<FeatureDescriptor> getFeatureDescriptors(ELContext context, Object base) {
        return null;
    }

    @Override
    public Class<?> getCommonPropertyType(ELContext context, Object base) {
        return null;
    }
}
