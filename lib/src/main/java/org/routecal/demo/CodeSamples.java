package org.routecal.demo;

import java.util.List;
import java.util.Map;

/** Code snippets in several languages from templates with random identifiers and constants, written for this project. */
final class CodeSamples {
    private CodeSamples() {}

    /** A snippet template: language, what it does (for the chat prompt), body with {placeholders}. */
    private record Template(String language, String task, String body) {}

    private static final List<String> NOUNS = List.of("item", "order", "user", "record", "packet", "sample", "token",
            "score", "price", "event", "node", "row", "line", "block", "entry", "value");
    private static final List<String> VERBS = List.of("count", "parse", "merge", "filter", "load", "check", "update",
            "compute", "collect", "normalize", "sum", "find");

    private static final List<Template> TEMPLATES = List.of(
            new Template("python", "sums the {noun} values above a threshold", """
                    def {verb}_{noun}s({a}, threshold={n}):
                        \"\"\"Return the sum of the {noun} values above threshold.\"\"\"
                        total = 0
                        for {b} in {a}:
                            if {b} > threshold:
                                total += {b}
                        return total


                    print({verb}_{noun}s([{l1}, {l2}, {l3}]))
                    """),
            new Template("python", "counts how often each {noun} occurs", """
                    from collections import Counter

                    def {verb}_{noun}_counts({a}):
                        counts = Counter()
                        for {b} in {a}:
                            counts[{b}.strip().lower()] += 1
                        return counts.most_common({m})
                    """),
            new Template("python", "defines a small {Noun} class", """
                    class {Noun}:
                        def __init__(self, {a}, {b}={n}):
                            self.{a} = {a}
                            self.{b} = {b}

                        def {verb}(self):
                            return self.{a} * {m} + self.{b}

                        def __repr__(self):
                            return f"{Noun}({self.{a}!r}, {self.{b}!r})"
                    """),
            new Template("java", "returns the largest {noun} in an array", """
                    public static int {verb}Max{Noun}(int[] {a}) {
                        int best = Integer.MIN_VALUE;
                        for (int {b} : {a}) {
                            if ({b} > best) {
                                best = {b};
                            }
                        }
                        return best == Integer.MIN_VALUE ? {n} : best;
                    }
                    """),
            new Template("java", "defines a {Noun} record with a validation", """
                    public record {Noun}(String {a}, int {b}) {
                        public {Noun} {
                            if ({b} < 0 || {b} > {n}) {
                                throw new IllegalArgumentException("{b} out of range: " + {b});
                            }
                        }

                        public int {verb}() {
                            return {b} * {m};
                        }
                    }
                    """),
            new Template("javascript", "filters the {noun}s by a minimum value", """
                    function {verb}{Noun}s({a}, min = {n}) {
                      const result = [];
                      for (const {b} of {a}) {
                        if ({b}.value >= min) {
                          result.push({ ...{b}, rank: result.length + 1 });
                        }
                      }
                      return result;
                    }

                    console.log({verb}{Noun}s([{ value: {l1} }, { value: {l2} }]));
                    """),
            new Template("javascript", "fetches a {noun} as JSON", """
                    async function load{Noun}(id) {
                      const response = await fetch(`/api/{noun}s/${id}?limit={n}`);
                      if (!response.ok) {
                        throw new Error(`HTTP ${response.status}`);
                      }
                      const {a} = await response.json();
                      return {a}.items.slice(0, {m});
                    }
                    """),
            new Template("c", "computes the mean of an array of {noun}s", """
                    #include <stdio.h>

                    double {verb}_mean(const int *{a}, int len) {
                        long sum = 0;
                        for (int i = 0; i < len; i++) {
                            sum += {a}[i];
                        }
                        return len > 0 ? (double) sum / len : 0.0;
                    }

                    int main(void) {
                        int {b}[] = { {l1}, {l2}, {l3}, {n} };
                        printf("%.2f\\n", {verb}_mean({b}, 4));
                        return 0;
                    }
                    """),
            new Template("rust", "sums the even {noun}s", """
                    fn {verb}_even_{noun}s({a}: &[i64]) -> i64 {
                        {a}.iter().filter(|&&{b}| {b} % 2 == 0).sum()
                    }

                    fn main() {
                        let {b} = vec![{l1}, {l2}, {l3}, {n}];
                        println!("{}", {verb}_even_{noun}s(&{b}));
                    }
                    """),
            new Template("sql", "finds the top {noun}s by total", """
                    SELECT {a}.id, {a}.name, SUM({b}.amount) AS total
                    FROM {noun}s AS {a}
                    JOIN payments AS {b} ON {b}.{noun}_id = {a}.id
                    WHERE {b}.created_at >= '2024-01-{dd}'
                    GROUP BY {a}.id, {a}.name
                    HAVING SUM({b}.amount) > {n}
                    ORDER BY total DESC
                    LIMIT {m};
                    """),
            new Template("bash", "counts lines of the {noun} log files", """
                    #!/usr/bin/env bash
                    set -euo pipefail
                    for f in logs/{noun}_*.log; do
                      n=$(wc -l < "$f")
                      if [ "$n" -gt {n} ]; then
                        echo "$f: $n lines"
                      fi
                    done
                    """));

    static DemoSample next(DemoRandom rnd) {
        Template t = rnd.pick(TEMPLATES);
        String noun = rnd.pick(NOUNS);
        String verb = rnd.pick(VERBS);
        String a = rnd.pick("xs", "items", "data", "values", "entries", "batch");
        String b = rnd.pick("x", "v", "e", "it", "elem", "cur");
        Map<String, String> vars = Map.ofEntries(
                Map.entry("{noun}", noun), Map.entry("{Noun}", capitalize(noun)), Map.entry("{verb}", verb),
                Map.entry("{a}", a), Map.entry("{b}", b),
                Map.entry("{n}", Integer.toString(rnd.between(2, 500))), Map.entry("{m}", Integer.toString(rnd.between(2, 20))),
                Map.entry("{l1}", Integer.toString(rnd.between(1, 99))), Map.entry("{l2}", Integer.toString(rnd.between(1, 99))),
                Map.entry("{l3}", Integer.toString(rnd.between(1, 99))),
                Map.entry("{dd}", String.format(java.util.Locale.ROOT, "%02d", rnd.between(1, 28))));
        String code = fill(t.body(), vars);
        String task = fill(t.task(), vars);
        if (rnd.chance(0.5)) return DemoSample.text("code", "en", code);
        String fence = t.language().equals("javascript") ? "js" : t.language();
        return DemoSample.chat("code", "en", List.of(
                DemoSample.Message.of("user", "Write a " + t.language() + " snippet that " + task + "."),
                DemoSample.Message.of("assistant", "Here is one way to do it:\n\n```" + fence + "\n" + code + "```\n\n"
                        + rnd.pick("It runs in linear time.", "Adjust the constants to your data.",
                        "Add tests for the empty case.", "The names are only examples."))));
    }

    /** Replaces every placeholder, in sorted key order so the result never depends on map iteration order. */
    static String fill(String template, Map<String, String> vars) {
        String s = template;
        for (String key : vars.keySet().stream().sorted().toList()) s = s.replace(key, vars.get(key));
        return s;
    }

    static String capitalize(String s) {
        return Character.toUpperCase(s.charAt(0)) + s.substring(1);
    }
}
