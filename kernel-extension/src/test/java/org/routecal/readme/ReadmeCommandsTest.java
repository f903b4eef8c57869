package org.routecal.readme;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;
import org.routecal.cli.Main;
import org.routecal.demo.DemoAssets;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Runs every command line of README.md's {@code bash} blocks, so the README cannot drift from the CLI. It lives in
 * kernel-extension because its test class path is the launcher's (lib + the kernel commands such as
 * {@code kernel install}).
 *
 * <p>Lines run in README order, in-process through {@link Main#run} (what {@code ./routecal} runs after its build),
 * on the demo model in a temporary directory, with the substitutions README states:
 * <ul>
 *   <li>{@code /models/…} → the demo model;</li>
 *   <li>{@code calib.jsonl} and {@code eval.jsonl} → two disjoint samples of the demo corpus (every 16th row);</li>
 *   <li>{@code --user} → {@code --prefix} a temporary directory (nothing is written to the home directory);</li>
 *   <li>relative paths under {@code notebooks/} resolve against the repository, all others (such as
 *       {@code runs/r1}) against the temporary directory.</li>
 * </ul>
 * Only lines needing a notebook server or a long run are skipped, each with its reason ({@link #SKIPPED}); any other
 * kind of line fails until it gets a rule here.
 */
class ReadmeCommandsTest {
    static final Path REPO = Path.of("").toAbsolutePath().getParent();
    @TempDir static Path work;
    static Path demoModel;

    /** Lines not run, by their first words, and why. */
    static final Map<String, String> SKIPPED = Map.of(
            "./routecal demo", "a long run (~3 min on 2 cores); DemoPipelineTest runs the pipeline on a smaller budget",
            "./routecal run-notebook", "a long run (~90 s); NotebookClientTest runs the headless runner with parameters",
            "./routecal experiment", "a long run (quantizes and evaluates every set × mode × scheme); ExperimentCommandTest runs it on the demo model",
            "./test.sh", "the test suite that runs this test",
            "jupyter", "needs a notebook server and a browser");

    @BeforeAll static void demoAssets() throws IOException {
        Path demo = work.resolve("demo");
        DemoAssets.writeTo(demo);
        demoModel = demo.resolve("model");
        List<String> rows = Files.readAllLines(demo.resolve("corpus.jsonl"));
        List<String> calib = new ArrayList<>(), eval = new ArrayList<>();
        for (int i = 0; i < rows.size(); i++) {
            if (i % 16 == 0) calib.add(rows.get(i));
            else if (i % 16 == 8) eval.add(rows.get(i));
        }
        Files.write(work.resolve("calib.jsonl"), calib);
        Files.write(work.resolve("eval.jsonl"), eval);
    }

    /** A command line of a bash block and where it is in README.md. */
    record CommandLine(int lineNumber, String text) {
        List<String> words() { return Arrays.asList(text.trim().split("\\s+")); }
    }

    /** The command lines of README's {@code ```bash} blocks: comments dropped, {@code \}-continuations joined. */
    static List<CommandLine> commandLines(List<String> readme) {
        List<CommandLine> out = new ArrayList<>();
        boolean inBash = false;
        StringBuilder pending = null;
        int start = 0;
        for (int i = 0; i < readme.size(); i++) {
            String line = readme.get(i);
            if (!inBash) {
                inBash = line.strip().equals("```bash");
                continue;
            }
            if (line.strip().equals("```")) {
                inBash = false;
                continue;
            }
            int comment = line.indexOf(" #");
            String code = (line.stripLeading().startsWith("#") ? "" : comment >= 0 ? line.substring(0, comment) : line).strip();
            if (pending == null) {
                if (code.isEmpty()) continue;
                pending = new StringBuilder();
                start = i + 1;
            }
            boolean continued = code.endsWith("\\");
            pending.append(continued ? code.substring(0, code.length() - 1) : code).append(' ');
            if (!continued) {
                out.add(new CommandLine(start, pending.toString().strip().replaceAll("\\s+", " ")));
                pending = null;
            }
        }
        assertFalse(inBash, "README.md: a ```bash block is not closed");
        return out;
    }

    @Test void parsesBlocksCommentsAndContinuations() {
        List<CommandLine> lines = commandLines(List.of("text", "```bash", "./routecal a --x 1   # note", "# only a comment", "",
                "./routecal b \\", "  --y 2", "```", "```", "./routecal not-bash", "```"));
        assertEquals(List.of(new CommandLine(3, "./routecal a --x 1"), new CommandLine(6, "./routecal b --y 2")), lines);
    }

    /**
     * Every relative link and every {@code `….md`} path named in README.md, SECURITY.md and docs/ exists in the
     * repository (README once pointed to a design file that lives outside it).
     */
    @Test void documentedPathsExist() throws IOException {
        List<Path> pages = new ArrayList<>(List.of(REPO.resolve("README.md"), REPO.resolve("SECURITY.md")));
        try (Stream<Path> docs = Files.walk(REPO.resolve("docs"))) {
            docs.filter(p -> p.toString().endsWith(".md")).forEach(pages::add);
        }
        java.util.regex.Pattern link = java.util.regex.Pattern.compile("\\]\\(([^)#\\s]+)[^)]*\\)|`([\\w./-]+\\.md)`");
        List<String> missing = new ArrayList<>();
        for (Path page : pages) {
            java.util.regex.Matcher m = link.matcher(Files.readString(page));
            while (m.find()) {
                String target = m.group(1) != null ? m.group(1) : m.group(2);
                if (target.matches("[a-z]+:.*")) continue; // http:, https:, mailto:
                Path resolved = (m.group(1) != null ? page.getParent() : REPO).resolve(target).normalize();
                boolean exists = Files.exists(resolved) || Files.exists(page.getParent().resolve(target));
                if (!exists) missing.add(REPO.relativize(page) + " → " + target);
            }
        }
        assertEquals(List.of(), missing);
    }

    @TestFactory Stream<DynamicTest> readmeCommandsRunOnTheDemoModel() throws IOException {
        List<CommandLine> lines = commandLines(Files.readAllLines(REPO.resolve("README.md")));
        assertTrue(lines.stream().anyMatch(l -> l.text().startsWith("./routecal quantize")), "README has command blocks: " + lines);
        return lines.stream().map(l -> DynamicTest.dynamicTest("README.md:" + l.lineNumber() + " " + l.text(), () -> run(l)));
    }

    static void run(CommandLine line) {
        List<String> words = new ArrayList<>(line.words());
        while (!words.isEmpty() && words.get(0).matches("[A-Z_]+=\\S*")) words.remove(0); // VAR=value: the launcher's environment
        String joined = String.join(" ", words);
        for (Map.Entry<String, String> skip : SKIPPED.entrySet()) {
            boolean matches = joined.equals(skip.getKey()) || joined.startsWith(skip.getKey() + " ");
            assumeTrue(!matches, "README.md:" + line.lineNumber() + " `" + line.text() + "` not run: " + skip.getValue());
        }
        assertTrue(words.get(0).equals("./routecal"), "README.md:" + line.lineNumber() + ": no rule for `" + line.text()
                + "`; run it in ReadmeCommandsTest or add a skip with its reason");
        for (String w : words) {
            assertFalse(w.contains("'") || w.contains("\"") || w.contains("$") || w.contains("|"),
                    "README.md:" + line.lineNumber() + ": quoting, variables and pipes are not parsed here: " + line.text());
        }
        List<String> args = new ArrayList<>();
        for (String w : words.subList(1, words.size())) args.add(substitute(w));
        assertEquals(0, Main.run(args.toArray(String[]::new)), "README.md:" + line.lineNumber() + " `" + line.text() + "` ran as " + args);
    }

    /** The documented substitutions; options and plain values pass unchanged. */
    static String substitute(String word) {
        if (word.startsWith("/models/")) return demoModel.toString();
        if (word.equals("calib.jsonl") || word.equals("eval.jsonl")) return work.resolve(word).toString();
        if (word.equals("--user")) return "--prefix=" + work.resolve("jupyter-prefix");
        boolean looksLikePath = !word.startsWith("-") && (word.contains("/") || word.matches(".*\\.[A-Za-z]{2,}"));
        if (!looksLikePath || Path.of(word).isAbsolute()) return word;
        // inputs the repository ships; everything else (runs/…, outputs) stays in the temporary directory, so a run
        // never reads or writes a user's own runs/ in the checkout
        return (word.startsWith("notebooks/") ? REPO : work).resolve(word).toString();
    }
}
