package org.routecal.kernel;

import io.github.spencerpark.jupyter.kernel.display.DisplayData;
import io.github.spencerpark.jupyter.kernel.display.mime.MIMEType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.routecal.report.Chart;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/** The kernel's session in-process: Java cells, errors, interrupt, magics with the CLI parser, --as, %%config. */
class SessionTest {
    static final List<DisplayData> displayed = new ArrayList<>();
    static final List<String> updatedIds = new ArrayList<>();
    static Session session;

    @BeforeAll
    static void start() {
        session = new Session(new OutputSink() {
            @Override public void display(DisplayData d) { synchronized (displayed) { displayed.add(d); } }
            @Override public synchronized void updateDisplay(String id, DisplayData d) { updatedIds.add(id); }
        });
    }

    @AfterAll
    static void stop() {
        session.close();
    }

    static String plain(DisplayData d) {
        return String.valueOf(d.getData(MIMEType.TEXT_PLAIN));
    }

    static synchronized boolean progressShown() {
        synchronized (displayed) {
            return displayed.stream().anyMatch(d -> String.valueOf(d.getData(MIMEType.TEXT_HTML)).contains("rc-progress"));
        }
    }

    @Test
    void expressionValueIsTheLiveObjectAndDeclarationsShowNothing() throws Exception {
        assertNull(session.eval("int a = 20;\nint b = 22;", "t1"));
        assertEquals("42", plain(session.eval("a + b", "t2")));
        // A table result is rendered as HTML with its rows, proving the live object (not JShell's string) was used.
        DisplayData t = session.eval("Table.create(\"tt\", IntColumn.create(\"k\", new int[]{7, 8, 9}))", "t3");
        String html = (String) t.getData(MIMEType.TEXT_HTML);
        assertTrue(html.contains("<td>8</td>") && html.contains("3 rows"), html);
    }

    @Test
    void runtimeErrorNamesTheUsersLine() {
        CellException e = assertThrows(CellException.class,
                () -> session.eval("int q = 1;\n\nint r = q / 0;\n", "cell [9]"));
        assertEquals("ArithmeticException", e.ename());
        assertTrue(e.traceback().stream().anyMatch(l -> l.contains("cell [9] line 3: int r = q / 0;")), e.traceback().toString());
        assertTrue(e.traceback().stream().noneMatch(l -> l.contains("org.routecal.kernel")), e.traceback().toString());
    }

    @Test
    void compileErrorNamesTheLineAndSymbol() {
        CellException e = assertThrows(CellException.class, () -> session.eval("int ok = 1;\nnoSuchMethod(ok);", "c"));
        assertInstanceOf(CellException.CompilationError.class, e);
        assertTrue(e.getMessage().startsWith("c line 2: cannot find symbol"), e.getMessage());
    }

    @Test
    void interruptStopsACpuBoundLoopAndTheSessionGoesOn() throws Exception {
        Thread interrupter = new Thread(() -> {
            try {
                Thread.sleep(1500);
            } catch (InterruptedException ignored) {
                return;
            }
            session.interrupt();
        });
        interrupter.start();
        long t0 = System.nanoTime();
        assertThrows(CellException.Interrupted.class, () -> session.eval("long n = 0;\nwhile (true) { n++; }", "loop"));
        assertTrue((System.nanoTime() - t0) / 1e9 < 30, "stopped within 30 s");
        assertEquals("3", plain(session.eval("1 + 2", "after")));
    }

    @Test
    void isCompleteAndCompletion() throws Exception {
        session.eval("String s = \"x\";", "s");
        assertEquals("complete", session.isComplete("int z = 1;"));
        assertEquals("incomplete", session.isComplete("for (int i = 0; i < 3; i++) {"));
        assertEquals("complete", session.isComplete("%demo-table --rows 3"));
        JavaEvaluator.Completions c = session.complete("String s = \"x\";\ns.toUpp", 23);
        assertTrue(c.matches().stream().anyMatch(m -> m.startsWith("toUpperCase")), c.matches().toString());
        JavaEvaluator.Completions m = session.complete("%demo-t", 7);
        assertEquals(List.of("%demo-table"), m.matches());
        JavaEvaluator.Completions o = session.complete("%demo-table --ro", 16);
        assertEquals(List.of("--rows"), o.matches());
    }

    @Test
    void magicParsesWithTheCliParserRendersAndBindsTheResult() throws Exception {
        displayed.clear();
        DisplayData last = session.eval("%demo-table --rows 4 --title Sq --as res", "m");
        // Parts: summary text, table, figure; all but the last are displayed, the figure is the execute_result.
        assertNotNull(last);
        assertTrue(last.hasDataForType(MIMEType.parse(Chart.PLOTLY_MIME)));
        assertTrue(displayed.stream().anyMatch(d -> String.valueOf(d.getData(MIMEType.TEXT_HTML)).contains("<td>3</td>")));
        assertFalse(updatedIds.isEmpty(), "the progress bar was updated in place");
        // The variable holds the very result object with its static type, usable in the next cell.
        assertEquals("4", plain(session.eval("res.table().rowCount()", "n")));
        assertEquals("Sq", plain(session.eval("res.table().name()", "n2")));
    }

    @Test
    void unknownMagicAndBadOptionGiveUsageNotStackTraces() {
        CellException u = assertThrows(CellException.UsageError.class, () -> session.eval("%nosuch --x", "u"));
        assertTrue(u.traceback().stream().anyMatch(l -> l.contains("%demo-table")), u.traceback().toString());
        CellException d = assertThrows(CellException.UsageError.class, () -> session.eval("%demo-tabel --rows 2", "d"));
        assertEquals("unknown magic %demo-tabel; did you mean %demo-table?", d.getMessage());
        CellException o = assertThrows(CellException.UsageError.class, () -> session.eval("%demo-table --rowz 3", "o"));
        assertEquals("%demo-table: unknown option --rowz; did you mean --rows?", o.getMessage());
        assertTrue(o.traceback().size() <= 2, "a short message, not the usage: " + o.traceback());
        CellException f = assertThrows(CellException.RuntimeError.class, () -> session.eval("%demo-table --fail", "f"));
        assertEquals("RoutecalException", f.ename());
        assertEquals(List.of("error: demo-table: --fail was given"), f.traceback());
    }

    @Test
    void everyCompileErrorIsShownOnceWithItsSpan() {
        CellException e = assertThrows(CellException.CompilationError.class,
                () -> session.eval("int a = undefinedOne + 1;\nRunnable r = () -> { int b = undefinedTwo; };", "ce"));
        String tb = String.join("\n", e.traceback());
        // JShell rejects the first snippet; a snippet with two errors shows both.
        CellException two = assertThrows(CellException.CompilationError.class,
                () -> session.eval("Runnable r = () -> { int b = undefinedTwo; String s = 1; };", "two"));
        String tb2 = String.join("\n", two.traceback());
        assertTrue(tb2.startsWith("2 compile errors:"), tb2);
        assertEquals(1, tb2.split("cannot find symbol", -1).length - 1, "the lambda's error once: " + tb2);
        assertEquals(1, tb2.split("incompatible types", -1).length - 1, tb2);
        assertTrue(tb2.contains("^~~~~~~~~~~"), "the span of undefinedTwo is marked: " + tb2);
        assertFalse(tb2.matches("(?s).*location: class\\s*\n.*") || tb2.endsWith("location: class"), tb2);
        assertTrue(tb.contains("undefinedOne"), tb);
    }

    @Test
    void lsmagicJarsAndInspection(@TempDir Path dir) throws Exception {
        String ls = plain(session.eval("%lsmagic", "ls"));
        assertTrue(ls.contains("%demo-table") && ls.contains("%jars") && ls.contains("%%config"), ls);
        CellException missing = assertThrows(CellException.UsageError.class, () -> session.eval("%jars " + dir.resolve("none.jar"), "j"));
        assertTrue(missing.getMessage().contains("does not exist"), missing.getMessage());
        DisplayData help = session.inspect("%demo-table --rows 3", 3);
        assertTrue(plain(help).contains("--rows"), plain(help));
        DisplayData doc = session.inspect("Math.max(1, 2)", 6);
        assertNotNull(doc, "JShell documents Math.max");
        assertTrue(plain(doc).contains("max("), plain(doc));
    }

    /** A Maven repository on disk: test.rc:hello:1.0 (class rc.Hello) depending on test.rc:dep:1.0 (class rc.Dep). */
    static Path fileRepository(Path dir) throws Exception {
        Path src = Files.createDirectories(dir.resolve("src/rc")), classes = Files.createDirectories(dir.resolve("classes"));
        Files.writeString(src.resolve("Dep.java"), "package rc; public class Dep { public static String word() { return \"transitive\"; } }");
        Files.writeString(src.resolve("Hello.java"), "package rc; public class Hello { public String greet() { return \"hello, \" + Dep.word(); } }");
        javax.tools.JavaCompiler javac = javax.tools.ToolProvider.getSystemJavaCompiler();
        assertEquals(0, javac.run(null, null, null, "-d", classes.toString(), src.resolve("Dep.java").toString(), src.resolve("Hello.java").toString()));
        Path repo = dir.resolve("repo");
        for (String[] a : new String[][] {{"dep", "Dep", ""}, {"hello", "Hello",
                "<dependencies><dependency><groupId>test.rc</groupId><artifactId>dep</artifactId><version>1.0</version></dependency></dependencies>"}}) {
            Path d = Files.createDirectories(repo.resolve("test/rc/" + a[0] + "/1.0"));
            try (var jar = new java.util.jar.JarOutputStream(Files.newOutputStream(d.resolve(a[0] + "-1.0.jar")))) {
                jar.putNextEntry(new java.util.jar.JarEntry("rc/" + a[1] + ".class"));
                Files.copy(classes.resolve("rc/" + a[1] + ".class"), jar);
                jar.closeEntry();
            }
            Files.writeString(d.resolve(a[0] + "-1.0.pom"), "<project><modelVersion>4.0.0</modelVersion><groupId>test.rc</groupId><artifactId>"
                    + a[0] + "</artifactId><version>1.0</version>" + a[2] + "</project>");
        }
        return repo;
    }

    @Test
    void mavenResolvesAnArtifactWithItsDependencies(@TempDir Path dir) throws Exception {
        Path repo = fileRepository(dir);
        String old = System.getProperty("maven.repo.local");
        System.setProperty("maven.repo.local", dir.resolve("local").toString());
        try {
            String added = plain(session.eval("%maven test.rc:hello:1.0 --repository " + repo.toUri(), "mvn"));
            assertTrue(added.contains("hello-1.0.jar") && added.contains("dep-1.0.jar"), added);
            assertEquals("hello, transitive", plain(session.eval("new rc.Hello().greet()", "use")));
            CellException bad = assertThrows(CellException.UsageError.class,
                    () -> session.eval("%maven test.rc:nosuch:1.0 --repository " + repo.toUri(), "bad"));
            assertTrue(bad.getMessage().contains("cannot resolve test.rc:nosuch:1.0"), bad.getMessage());
            CellException typo = assertThrows(CellException.UsageError.class, () -> session.eval("%maven x:y:1 --repositry z", "t"));
            assertTrue(typo.getMessage().contains("did you mean --repository?"), typo.getMessage());
        } finally {
            if (old == null) System.clearProperty("maven.repo.local");
            else System.setProperty("maven.repo.local", old);
        }
    }

    @Test
    void configSetsDefaultsAndRejectsUnknownKeys() throws Exception {
        session.eval("%%config --replace\ndemo-table:\n  rows: 2\ntitle: FromConfig", "cfg");
        session.eval("%demo-table --as c1", "use");
        assertEquals("2", plain(session.eval("c1.table().rowCount()", "x")));
        assertEquals("FromConfig", plain(session.eval("c1.table().name()", "y")));
        // A value on the magic line wins over the default.
        session.eval("%demo-table --rows 3 --as c2", "use2");
        assertEquals("3", plain(session.eval("c2.table().rowCount()", "z")));
        CellException e = assertThrows(CellException.UsageError.class, () -> session.eval("%%config\nrowz: 3", "bad"));
        assertTrue(e.getMessage().contains("'rowz'"), e.getMessage());
        session.eval("%%config --replace\n{}", "reset");
    }

    @Test
    void stageMagicsShareOneLoadedModelAcrossCells(@TempDir Path dir) throws Exception {
        Path model = Path.of("../tests/fixtures/models/qwen3_moe/v1").toAbsolutePath().normalize();
        Path corpus = dir.resolve("c.jsonl");
        java.nio.file.Files.writeString(corpus, "{\"text\": \"def f(x): return x + 1\", \"domain\": \"code\"}\n"
                + "{\"text\": \"The cat sat on the mat.\", \"domain\": \"chat\"}\n");
        String common = " --model " + model + " --corpus " + corpus + " --tokenizer byte --device cpu";
        session.eval("%route" + common + " --out " + dir.resolve("r1") + " --as r1", "route1");
        org.routecal.session.Session stages = session.magicRunner().stages();
        assertEquals(List.of(model), stages.loadedModels());
        org.routecal.model.MoeModel loaded = stages.model(model, new org.routecal.compute.devices.DeviceOptions());
        session.eval("%route" + common + " --out " + dir.resolve("r2") + " --as r2", "route2");
        assertSame(stages, session.magicRunner().stages());
        assertSame(loaded, stages.model(model, new org.routecal.compute.devices.DeviceOptions()), "the second cell reused the loaded model");
        // the same routing both times (timings aside)
        assertEquals(plain(session.eval("r1.metricsTable().print()", "a")), plain(session.eval("r2.metricsTable().print()", "b")));
    }

    @Test
    void interruptedMagicLeavesNoHalfWrittenFiles(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("run");
        displayed.clear();
        // Interrupt once the stage is inside its loop (its progress bar is up and its temp file exists).
        Thread interrupter = new Thread(() -> {
            try {
                long deadline = System.nanoTime() + 60_000_000_000L;
                while (System.nanoTime() < deadline && !progressShown()) Thread.sleep(50);
                Thread.sleep(300);
            } catch (InterruptedException ignored) {
                return;
            }
            session.interrupt();
        });
        interrupter.start();
        assertThrows(CellException.Interrupted.class,
                () -> session.eval("%demo-table --rows 1000 --spin-ms 100 --out " + out, "slow"));
        assertTrue(Files.isDirectory(out), "the stage had started writing");
        try (Stream<Path> files = Files.list(out)) {
            assertEquals(List.of(), files.toList(), "no temp or result file remains");
        }
        assertEquals("5", plain(session.eval("2 + 3", "next")));
    }
}
