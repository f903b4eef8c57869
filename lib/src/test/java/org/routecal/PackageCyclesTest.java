package org.routecal;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The packages of lib depend on each other one way (docs/ARCHITECTURE.md draws the arrows): no package reaches back
 * to one that uses it, directly or through others. A dependency is an import or a fully qualified reference in code
 * (comments are documentation, not dependencies). tests/tools/package_graph.py prints the same graph.
 */
class PackageCyclesTest {
    private static final Path SOURCES = Path.of("src/main/java");
    private static final Pattern REFERENCE = Pattern.compile("\\b(org\\.routecal(?:\\.[a-z][a-z0-9_]*)*)\\.[A-Z]");
    private static final Pattern PACKAGE = Pattern.compile("(?m)^package ([\\w.]+);");

    static Map<String, Set<String>> graph() throws Exception {
        Map<String, Set<String>> deps = new TreeMap<>();
        try (Stream<Path> files = Files.walk(SOURCES)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
                String text = Files.readString(f).replaceAll("(?s)/\\*.*?\\*/", "").replaceAll("//[^\\n]*", "");
                Matcher pm = PACKAGE.matcher(text);
                assertTrue(pm.find(), f + " has no package line");
                String pkg = pm.group(1);
                Set<String> uses = deps.computeIfAbsent(pkg, k -> new TreeSet<>());
                Matcher m = REFERENCE.matcher(text);
                while (m.find()) if (!m.group(1).equals(pkg)) uses.add(m.group(1));
            }
        }
        deps.values().forEach(s -> s.retainAll(deps.keySet()));
        return deps;
    }

    /** Tarjan's strongly connected components of more than one package. */
    static List<Set<String>> cycles(Map<String, Set<String>> g) {
        Map<String, Integer> index = new HashMap<>(), low = new HashMap<>();
        Deque<String> stack = new ArrayDeque<>();
        Set<String> onStack = new java.util.HashSet<>();
        List<Set<String>> out = new ArrayList<>();
        int[] next = {0};
        for (String v : g.keySet()) if (!index.containsKey(v)) strongConnect(v, g, index, low, stack, onStack, out, next);
        return out;
    }

    private static void strongConnect(String v, Map<String, Set<String>> g, Map<String, Integer> index, Map<String, Integer> low,
                                      Deque<String> stack, Set<String> onStack, List<Set<String>> out, int[] next) {
        index.put(v, next[0]);
        low.put(v, next[0]++);
        stack.push(v);
        onStack.add(v);
        for (String w : g.getOrDefault(v, Set.of())) {
            if (!index.containsKey(w)) {
                strongConnect(w, g, index, low, stack, onStack, out, next);
                low.put(v, Math.min(low.get(v), low.get(w)));
            } else if (onStack.contains(w)) {
                low.put(v, Math.min(low.get(v), index.get(w)));
            }
        }
        if (low.get(v).equals(index.get(v))) {
            Set<String> scc = new TreeSet<>();
            String w;
            do {
                w = stack.pop();
                onStack.remove(w);
                scc.add(w);
            } while (!w.equals(v));
            if (scc.size() > 1) out.add(scc);
        }
    }

    @Test
    void packagesDependOneWay() throws Exception {
        Map<String, Set<String>> g = graph();
        assertTrue(g.size() > 20, "found the sources: " + g.keySet());
        assertEquals(List.of(), cycles(g), "package cycles (python3 tests/tools/package_graph.py shows who uses whom)");
    }

    @Test
    void aCycleIsFound() {
        Map<String, Set<String>> g = new TreeMap<>(Map.of("a", Set.of("b"), "b", Set.of("c"), "c", Set.of("a"), "d", Set.of("a")));
        assertEquals(List.of(Set.of("a", "b", "c")), cycles(g));
    }
}
