package io.sparklora.driver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The tree file: strings only, levels and paths, and one clear message per structural mistake. */
class TreeSpecTest {
    @Test
    void readsNodesLevelsPathsAndLeavesWithEveryScalarAString() {
        TreeSpec t = TreeSpec.parse("t.yaml", """
                nodes:
                  - name: root
                  - {name: nordic, parent: root, keys: [no, 'sv', 1, 2.0, on]}
                  - {name: romance, parent: root, keys: [es, it]}
                  - {name: es, parent: romance, keys: [es]}
                  - name: it
                    parent: romance
                    keys:
                      - it
                """);
        assertNull(t.node("root").keys());
        assertNull(t.node("root").parent());
        assertEquals(List.of("no", "sv", "1", "2.0", "on"), t.node("nordic").keys()); // not false, 1, 2.0, true
        assertEquals(List.of("root", "romance", "es"), t.path("es"));
        assertEquals(List.of(List.of("root"), List.of("nordic", "romance"), List.of("es", "it")),
                t.levels().stream().map(l -> l.stream().map(TreeSpec.Node::name).toList()).toList());
        assertEquals(List.of("nordic", "es", "it"), t.leaves().stream().map(TreeSpec.Node::name).toList());
    }

    @Test
    void everyStructuralMistakeIsOneClearError() {
        bad("nodes: []", "Cannot read tree t.yaml: it has no nodes (expected nodes: [{name: root}, ...])");
        bad("nodes:\n  - name: a\n  - name: a\n", "Cannot read tree t.yaml: two nodes are named a");
        bad("nodes:\n  - {name: a}\n  - {name: b, parent: c}\n",
                "Cannot read tree t.yaml: node b has parent c, which is not a node (nodes: a, b)");
        bad("nodes:\n  - {name: r}\n  - {name: a, parent: b}\n  - {name: b, parent: c}\n  - {name: c, parent: a}\n",
                "Cannot read tree t.yaml: its parents form a cycle: a -> b -> c -> a");
        bad("nodes:\n  - {name: a, parent: a}\n", "Cannot read tree t.yaml: its parents form a cycle: a -> a");
        bad("nodes:\n  - {name: a, keys: []}\n", "Cannot read tree t.yaml: node 1 (a) has keys []; expected a "
                + "non-empty list of key values (leave keys out to take all rows of the parent)");
        bad("nodes:\n  - {name: a, keys: es}\n", "Cannot read tree t.yaml: node 1 (a) has keys es; expected a "
                + "non-empty list of key values (leave keys out to take all rows of the parent)");
        bad("nodes:\n  - {name: a, keys: [es, es]}\n", "Cannot read tree t.yaml: node 1 (a) lists a key twice: "
                + "[es, es]");
        bad("nodes:\n  - {name: ../x}\n", "Cannot read tree t.yaml: node 1 has name ../x; expected a plain name "
                + "(letters, digits, . _ -, starting with a letter or digit, at most 100 characters)");
        bad("nodes:\n  - {parent: a}\n", "Cannot read tree t.yaml: node 1 has name null; expected a plain name "
                + "(letters, digits, . _ -, starting with a letter or digit, at most 100 characters)");
        bad("nodes:\n  - {name: a, key: [es]}\n", "Cannot read tree t.yaml: node 1 has unknown key 'key' (expected "
                + "name, parent, keys)");
        bad("nodes:\n  - {name: a}\nroot: a\n", "Cannot read tree t.yaml: unknown top-level key(s) [root] (only "
                + "'nodes')");
        bad("- a\n- b\n", "Cannot read tree t.yaml: expected a mapping with a list 'nodes' of {name, parent, keys}");
        bad("", "Cannot read tree t.yaml: expected a mapping with a list 'nodes' of {name, parent, keys}");
        bad("nodes:\n  - name: a\n  - name: a\n    name: b\n", null); // duplicate mapping key: not valid YAML
        bad("nodes: [ {name: a\n", null);
    }

    private static void bad(String yaml, String message) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TreeSpec.parse("t.yaml",
                yaml));
        if (message != null) {
            assertEquals(message, e.getMessage());
        } else {
            assertEquals(true, e.getMessage().startsWith("Cannot read tree t.yaml: not valid YAML ("), e.getMessage());
        }
    }
}
