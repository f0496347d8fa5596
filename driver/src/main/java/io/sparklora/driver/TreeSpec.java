package io.sparklora.driver;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.representer.Representer;
import org.yaml.snakeyaml.resolver.Resolver;

/**
 * The {@code train --tree FILE} document: a list of nodes, each a {@code name}, an optional {@code parent} and the
 * partition-key values whose rows it trains on ({@code keys}; absent: all its parent's rows, a root's: all rows).
 * The tree of specialisations of the LoRA paper's "adapters on top of adapters": every node is one LoRA module
 * trained over its ancestors, frozen.
 *
 * <p>Every scalar is read as a string (no implicit YAML types), so {@code keys: [no, 1, es]} are the key values
 * "no", "1" and "es", not false and 1 as YAML 1.1 would read them. Structure is checked here (names, duplicates,
 * unknown parents, cycles, empty key lists); keys against the data in {@link TreePlan}.
 */
public record TreeSpec(String source, List<Node> nodes) implements Serializable {
    private static final long serialVersionUID = 1L;
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,99}");

    /** One node: {@code parent} null for a root, {@code keys} null for "the parent's rows". */
    public record Node(String name, String parent, List<String> keys) implements Serializable {
        private static final long serialVersionUID = 1L;
    }

    public TreeSpec {
        nodes = List.copyOf(nodes);
        String cannot = "Cannot read tree " + source + ": ";
        if (nodes.isEmpty()) {
            throw new IllegalArgumentException(cannot + "it has no nodes (expected nodes: [{name: root}, ...])");
        }
        Map<String, Node> byName = new LinkedHashMap<>();
        for (Node n : nodes) {
            if (byName.put(n.name(), n) != null) {
                throw new IllegalArgumentException(cannot + "two nodes are named " + n.name());
            }
        }
        for (Node n : nodes) {
            if (n.parent() != null && !byName.containsKey(n.parent())) {
                throw new IllegalArgumentException(cannot + "node " + n.name() + " has parent " + n.parent()
                        + ", which is not a node (nodes: " + String.join(", ", byName.keySet()) + ")");
            }
        }
        for (Node n : nodes) {
            List<String> chain = new ArrayList<>(List.of(n.name()));
            for (Node at = n; at.parent() != null; at = byName.get(at.parent())) {
                if (chain.contains(at.parent())) {
                    chain.add(at.parent());
                    throw new IllegalArgumentException(cannot + "its parents form a cycle: "
                            + String.join(" -> ", chain.subList(chain.indexOf(at.parent()), chain.size())));
                }
                chain.add(at.parent());
            }
        }
    }

    /** Parses the YAML text of {@code source} (named in errors). */
    public static TreeSpec parse(String source, String yaml) {
        String cannot = "Cannot read tree " + source + ": ";
        LoaderOptions options = new LoaderOptions();
        options.setAllowDuplicateKeys(false);
        Object doc;
        try {
            doc = new Yaml(new SafeConstructor(options), new Representer(new org.yaml.snakeyaml.DumperOptions()),
                    new org.yaml.snakeyaml.DumperOptions(), options, new StringsOnly()).load(yaml);
        } catch (YAMLException e) {
            throw new IllegalArgumentException(cannot + "not valid YAML (" + e.getMessage().strip().replace('\n', ' ')
                    + ")", e);
        }
        if (!(doc instanceof Map<?, ?> top) || !(top.get("nodes") instanceof List<?> list)) {
            throw new IllegalArgumentException(cannot + "expected a mapping with a list 'nodes' of {name, parent, "
                    + "keys}");
        }
        if (top.size() != 1) {
            Set<Object> other = new LinkedHashSet<>(top.keySet());
            other.remove("nodes");
            throw new IllegalArgumentException(cannot + "unknown top-level key(s) " + other + " (only 'nodes')");
        }
        List<Node> nodes = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            nodes.add(node(cannot + "node " + (i + 1) + " ", list.get(i)));
        }
        return new TreeSpec(source, nodes);
    }

    private static Node node(String where, Object o) {
        if (!(o instanceof Map<?, ?> m)) {
            throw new IllegalArgumentException(where + "is " + o + "; expected a mapping {name, parent, keys}");
        }
        for (Object k : m.keySet()) {
            if (!Set.of("name", "parent", "keys").contains(k)) {
                throw new IllegalArgumentException(where + "has unknown key '" + k + "' (expected name, parent, keys)");
            }
        }
        if (!(m.get("name") instanceof String name) || !NAME.matcher(name).matches()) {
            throw new IllegalArgumentException(where + "has name " + m.get("name") + "; expected a plain name "
                    + "(letters, digits, . _ -, starting with a letter or digit, at most 100 characters)");
        }
        Object parent = m.get("parent");
        if (parent != null && !(parent instanceof String)) {
            throw new IllegalArgumentException(where + "(" + name + ") has parent " + parent + "; expected a name");
        }
        Object keys = m.get("keys");
        List<String> keyList = null;
        if (keys != null) {
            if (!(keys instanceof List<?> ks) || ks.isEmpty() || !ks.stream().allMatch(String.class::isInstance)) {
                throw new IllegalArgumentException(where + "(" + name + ") has keys " + keys + "; expected a "
                        + "non-empty list of key values (leave keys out to take all rows of the parent)");
            }
            keyList = ks.stream().map(String.class::cast).toList();
            if (new HashSet<>(keyList).size() != keyList.size()) {
                throw new IllegalArgumentException(where + "(" + name + ") lists a key twice: " + keyList);
            }
        }
        return new Node(name, (String) parent, keyList);
    }

    /** The node named {@code name}. */
    public Node node(String name) {
        return nodes.stream().filter(n -> n.name().equals(name)).findFirst().orElseThrow(
                () -> new IllegalArgumentException("Cannot find node " + name + " in tree " + source));
    }

    /** The root first: the node's ancestors, then the node itself. */
    public List<String> path(String name) {
        List<String> out = new ArrayList<>();
        for (Node n = node(name); n != null; n = n.parent() == null ? null : node(n.parent())) {
            out.add(0, n.name());
        }
        return out;
    }

    /** The nodes by depth: level 0 the roots, level i the children of level i−1, each level in file order. */
    public List<List<Node>> levels() {
        List<List<Node>> out = new ArrayList<>();
        for (Node n : nodes) {
            int depth = path(n.name()).size() - 1;
            while (out.size() <= depth) {
                out.add(new ArrayList<>());
            }
            out.get(depth).add(n);
        }
        return out;
    }

    /** The nodes no other node has as parent, in file order. */
    public List<Node> leaves() {
        Set<String> parents = new HashSet<>();
        nodes.forEach(n -> parents.add(n.parent()));
        return nodes.stream().filter(n -> !parents.contains(n.name())).toList();
    }

    /** A resolver without implicit types: every plain scalar is a string, empty ones (null) aside. */
    private static final class StringsOnly extends Resolver {
        @Override
        protected void addImplicitResolvers() {
            addImplicitResolver(org.yaml.snakeyaml.nodes.Tag.NULL, NULL, "~nN\0");
            addImplicitResolver(org.yaml.snakeyaml.nodes.Tag.NULL, EMPTY, null);
        }
    }
}
