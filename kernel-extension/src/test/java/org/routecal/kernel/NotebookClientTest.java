package org.routecal.kernel;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.routecal.cli.Main;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * End to end with real clients: the kernel installed into a temp prefix and driven by Debian's nbclient (every
 * notebook in notebooks/, plus the kernel-features test notebook), and the headless runner's HTML opened in headless
 * Chromium. Outputs and the screenshot stay under kernel-extension/target/notebook-test/ as artifacts.
 */
class NotebookClientTest {
    static final Path REPO = Path.of("").toAbsolutePath().getParent();
    static final Path WORK = Path.of("target", "notebook-test").toAbsolutePath();
    static final String PYTHON = "/usr/bin/python3";
    static Path jupyterPath;

    @BeforeAll
    static void installKernel() throws Exception {
        assumeTrue(run(List.of(PYTHON, "-c", "import nbclient, nbformat, jupyter_client"), 60) == 0,
                "Debian's python3-nbclient, python3-nbformat and python3-jupyter-client are not installed"
                        + " (.ci/run installs them): skipping the Jupyter client tests");
        Files.createDirectories(WORK);
        Path prefix = Files.createTempDirectory(WORK, "prefix");
        // The test class path holds lib, the kernel classes and the demo-table test stage.
        assertEquals(0, Main.run("kernel", "install", "--prefix", prefix.toString(), "--heap", "1g",
                "--classpath", System.getProperty("java.class.path")));
        jupyterPath = prefix.resolve("share/jupyter");
    }

    @Test
    void exampleNotebooksRunUnderNbclientWithTablesAndFigures() throws Exception {
        List<String> cmd = new ArrayList<>(List.of(PYTHON, REPO.resolve("tests/notebooks/run_notebooks.py").toString(),
                "--jupyter-path", jupyterPath.toString(), "--out", WORK.resolve("executed").toString(), "--rich"));
        try (Stream<Path> s = Files.list(REPO.resolve("notebooks"))) {
            List<String> nbs = s.filter(p -> p.toString().endsWith(".ipynb")).map(Path::toString).sorted().toList();
            assertEquals(3, nbs.size(), "quickstart, routing-analysis, quantization-comparison");
            cmd.addAll(nbs);
        }
        assertEquals(0, run(cmd, 900), "see the output above for the failing checks");
    }

    @Test
    void kernelFeaturesUnderNbclient() throws Exception {
        assertEquals(0, run(List.of(PYTHON, REPO.resolve("tests/notebooks/run_notebooks.py").toString(),
                "--jupyter-path", jupyterPath.toString(), "--out", WORK.resolve("executed").toString(),
                REPO.resolve("tests/notebooks/kernel-features.ipynb").toString()), 600));
    }

    /**
     * Stock IJava 1.3 and JJava 1.0, built from their public source by tests/kernels/build.sh, load routecal the way
     * kernel-extension/README.md says and run its magics (interpolation, --as, trailing ;, %%config, Path imported,
     * tables and charts). Skipped, with the command to run, where the kernels were not built on this machine.
     */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"ijava", "jjava"})
    void stockJavaKernelsLoadRoutecalAsDocumented(String kernel) throws Exception {
        Path built = Path.of(System.getenv().getOrDefault("ROUTECAL_KERNELS_DIR",
                System.getProperty("user.home") + "/.cache/routecal/kernels"), kernel);
        assumeTrue(Files.isRegularFile(built.resolve("kernel.jar")), kernel + " is not built here: run tests/kernels/build.sh "
                + kernel + " <checkout of its public source> (see that script)");
        String main = kernel.equals("ijava") ? "io.github.spencerpark.ijava.IJava" : "org.dflib.jjava.distro.JJava";
        Path spec = jupyterPath.resolve("kernels/" + kernel + "-test/kernel.json");
        Files.createDirectories(spec.getParent());
        String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String cp = built.resolve("kernel.jar") + java.io.File.pathSeparator + built.resolve("lib") + "/*";
        List<String> argv = new ArrayList<>(List.of(javaBin, "--add-modules", "jdk.incubator.vector", "-Xmx1g"));
        // JJava's own launcher (jjava-launcher) starts its JVM with this option; the kernelspec here does the same.
        if (kernel.equals("jjava")) argv.addAll(List.of("--add-opens", "jdk.jshell/jdk.jshell=ALL-UNNAMED"));
        argv.addAll(List.of("-cp", cp, main, "{connection_file}"));
        Files.writeString(spec, new ObjectMapper().writeValueAsString(java.util.Map.of("argv", argv,
                "display_name", kernel, "language", "java")));
        // routecal's two jars (as a user adds them), plus the test classes holding the demo-table stage.
        Path lib = REPO.resolve("lib/target/routecal.jar");
        assumeTrue(Files.isRegularFile(lib), "routecal's jar is not packaged (mvn package)");
        String kernelJar = kernelJar();
        String jars = lib + " " + kernelJar + " " + testCommandsJar();
        ProcessBuilder pb = new ProcessBuilder(PYTHON, REPO.resolve("tests/notebooks/run_notebooks.py").toString(),
                "--jupyter-path", jupyterPath.toString(), "--kernel", kernel + "-test", "--out", WORK.resolve("executed").toString(),
                REPO.resolve("tests/notebooks/" + kernel + "-interop.ipynb").toString());
        pb.environment().put("ROUTECAL_JARS", jars);
        assertEquals(0, run(pb, 600));
    }

    /**
     * The kernel jar as a user adds it, when it is newer than every compiled class; else (Maven runs this module's tests
     * before packaging it, so an earlier build's jar may be stale) the compiled classes as a jar plus the Jupyter base
     * library the shaded jar carries (from this test's class path), separated by a space as %jars takes them.
     */
    static String kernelJar() throws IOException {
        Path shaded = Path.of("target", "routecal-kernel.jar").toAbsolutePath(), classes = Path.of("target", "classes").toAbsolutePath();
        long newestClass;
        try (Stream<Path> files = Files.walk(classes)) {
            newestClass = files.filter(Files::isRegularFile).mapToLong(f -> f.toFile().lastModified()).max().orElse(0);
        }
        if (Files.isRegularFile(shaded) && shaded.toFile().lastModified() >= newestClass) return shaded.toString();
        String basekernel = java.util.Arrays.stream(System.getProperty("java.class.path").split(java.io.File.pathSeparator))
                .filter(e -> Path.of(e).getFileName().toString().startsWith("jupyter-jvm-basekernel-")).findFirst()
                .orElseThrow(() -> new IllegalStateException("jupyter-jvm-basekernel is not on the test class path"));
        return jarOf(classes, WORK.resolve("routecal-kernel-classes.jar")) + " " + basekernel;
    }

    /** The test classes (the demo-table stage) as a jar: IJava's %jars takes jar files only. */
    static Path testCommandsJar() throws IOException {
        return jarOf(Path.of("target", "test-classes").toAbsolutePath(), WORK.resolve("routecal-test-commands.jar"));
    }

    private static Path jarOf(Path classes, Path jar) throws IOException {
        try (var out = new java.util.jar.JarOutputStream(Files.newOutputStream(jar)); Stream<Path> files = Files.walk(classes)) {
            for (Path f : files.filter(Files::isRegularFile).sorted().toList()) {
                out.putNextEntry(new java.util.jar.JarEntry(classes.relativize(f).toString().replace('\\', '/')));
                Files.copy(f, out);
                out.closeEntry();
            }
        }
        return jar;
    }

    @Test
    void protocolIsCompleteCompletionAndInterrupt() throws Exception {
        assertEquals(0, run(List.of(PYTHON, REPO.resolve("tests/notebooks/protocol_check.py").toString(),
                "--jupyter-path", jupyterPath.toString()), 600));
    }

    @Test
    void headlessRunnerInjectsParametersAndItsHtmlRendersInChromium() throws Exception {
        Path out = WORK.resolve("quickstart-run.ipynb");
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream oldErr = System.err;
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        int rc;
        try {
            rc = Main.run("run-notebook", REPO.resolve("notebooks/quickstart.ipynb").toString(), out.toString(),
                    "-p", "samples=60", "-p", "bogus=1", "--to", "html");
        } finally {
            System.setErr(oldErr);
        }
        String stderr = err.toString(StandardCharsets.UTF_8);
        assertEquals(0, rc, stderr);
        assertTrue(stderr.contains("Passed unknown parameter: bogus"), stderr);
        JsonNode nb = new ObjectMapper().readTree(out.toFile());
        JsonNode cells = nb.get("cells");
        int params = -1;
        for (int i = 0; i < cells.size(); i++) if (Parameters.hasTag(cells.get(i), "parameters")) params = i;
        JsonNode injected = cells.get(params + 1);
        assertTrue(Parameters.hasTag(injected, "injected-parameters"));
        assertTrue(Parameters.source(injected).contains("int samples = 60;"), Parameters.source(injected));
        assertTrue(nb.toString().contains("of 60 samples"), "the route stage ran on the injected sample count");
        assertEquals(60, nb.at("/metadata/papermill/parameters/samples").asInt());
        assertEquals("completed", cells.get(cells.size() - 1).at("/metadata/papermill/status").asText());
        assertEquals(0, run(List.of(PYTHON, "-c", "import nbformat,sys; nbformat.validate(nbformat.read(sys.argv[1], 4))",
                out.toString()), 60), "nbformat accepts the executed notebook");
        Path html = WORK.resolve("quickstart-run.html");
        assumeTrue(run(List.of("sh", "-c", "command -v chromium"), 30) == 0, "chromium not installed: skipping the browser check");
        assertEquals(0, run(List.of(PYTHON, REPO.resolve("tests/notebooks/check_html.py").toString(), html.toString(),
                "--figures", "1", "--title", "Per-layer CV, normalised entropy and coverage at target", "--screenshot", WORK.resolve("quickstart.png").toString()), 600));
    }

    /**
     * A real classic Notebook server driven in headless Chromium (tests/browser/notebook-server.mjs): Run All draws
     * every chart and stops at the failing cell; charts draw again after a reload, a new chart after the reload draws,
     * clearing the output that carried plotly.js leaves the others drawn; a notebook executed headless opens untrusted
     * and shows every chart's static image.
     */
    @Test
    void chartsSurviveReloadClearingAndUntrustedOpeningInANotebookServer() throws Exception {
        assumeTrue(run(List.of("sh", "-c", "command -v jupyter-notebook && command -v node"), 30) == 0,
                "jupyter-notebook (Debian) or node is not installed (.ci/run installs them): skipping the notebook-server test");
        assumeTrue(Files.isDirectory(REPO.resolve("tests/browser/node_modules/puppeteer-core")),
                "puppeteer-core is not installed (npm ci --prefix tests/browser): skipping the notebook-server test");
        Path dir = Files.createTempDirectory(WORK, "server");
        Files.copy(REPO.resolve("tests/notebooks/server-charts.ipynb"), dir.resolve("charts.ipynb"));
        assertEquals(2, Main.run("run-notebook", REPO.resolve("tests/notebooks/server-charts.ipynb").toString(),
                dir.resolve("executed.ipynb").toString()), "the headless run stops at the failing cell");
        assertEquals(0, run(List.of("node", REPO.resolve("tests/browser/notebook-server.mjs").toString(), "--jupyter-path",
                jupyterPath.toString(), "--dir", dir.toString(), "--notebook", "charts.ipynb", "--untrusted", "executed.ipynb"), 900));
    }

    /**
     * run-notebook on a named kernelspec (-k) in another working directory (--cwd), with --execution-timeout: the
     * working directory is the kernel's, a runaway cell becomes CellTimeoutError, and the notebook written so far
     * holds every cell up to it. Run as a separate process, as a user does, with JUPYTER_PATH naming the test prefix.
     */
    @Test
    void runNotebookOnANamedKernelInACwdWithATimeout() throws Exception {
        Path cwd = Files.createTempDirectory(WORK, "cwd"), in = WORK.resolve("cwd-timeout.ipynb"), out = WORK.resolve("cwd-timeout-out.ipynb");
        Files.writeString(in, """
                {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
                 {"cell_type": "code", "id": "a", "metadata": {}, "outputs": [], "execution_count": null, "source": "Path.of(\\"\\").toAbsolutePath().toString()"},
                 {"cell_type": "code", "id": "b", "metadata": {}, "outputs": [], "execution_count": null, "source": "System.out.println(\\"spinning\\");\\nlong n = 0;\\nwhile (true) { n++; }"},
                 {"cell_type": "code", "id": "c", "metadata": {}, "outputs": [], "execution_count": null, "source": "\\"never\\""}]}
                """);
        ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector", "-cp", System.getProperty("java.class.path"), "org.routecal.cli.Main",
                "run-notebook", in.toString(), out.toString(), "-k", "routecal", "--cwd", cwd.toString(),
                "--execution-timeout", "5", "--log-output");
        pb.environment().put("JUPYTER_PATH", jupyterPath.toString());
        assertEquals(2, run(pb, 300), "the timed-out cell fails the run");
        JsonNode cells = new ObjectMapper().readTree(out.toFile()).get("cells");
        assertTrue(cells.get(1).toString().contains(cwd.toRealPath().toString()) || cells.get(1).toString().contains(cwd.toString()),
                "the kernel ran in --cwd: " + cells.get(1));
        JsonNode outs = cells.get(2).get("outputs");
        assertEquals("spinning\n", outs.get(0).get("text").asText());
        assertEquals("CellTimeoutError", outs.get(outs.size() - 1).get("ename").asText(), outs.toString());
        assertTrue(cells.get(3).get("execution_count").isNull(), "the run stopped at the timed-out cell");
        assertEquals("routecal", new ObjectMapper().readTree(out.toFile()).at("/metadata/kernelspec/name").asText());
    }

    @Test
    void failingCellStopsTheRunAndKeepsTheNotebookUpToIt() throws Exception {
        Path in = WORK.resolve("failing.ipynb"), out = WORK.resolve("failing-out.ipynb");
        Files.writeString(in, """
                {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
                 {"cell_type": "code", "id": "a", "metadata": {}, "outputs": [], "execution_count": null, "source": "int x = 1;"},
                 {"cell_type": "code", "id": "b", "metadata": {}, "outputs": [], "execution_count": null, "source": "int y = x / 0;"},
                 {"cell_type": "code", "id": "c", "metadata": {}, "outputs": [], "execution_count": null, "source": "\\"never\\""}]}
                """);
        assertEquals(2, Main.run("run-notebook", in.toString(), out.toString()));
        JsonNode cells = new ObjectMapper().readTree(out.toFile()).get("cells");
        assertTrue(Parameters.hasTag(cells.get(0), "papermill-error-cell-tag"));
        JsonNode failed = cells.get(2).at("/outputs/0");
        assertEquals("ArithmeticException", failed.get("ename").asText());
        assertEquals("/ by zero", failed.get("evalue").asText());
        assertEquals("failed", cells.get(2).at("/metadata/papermill/status").asText());
        assertTrue(cells.get(3).get("execution_count").isNull());
        assertEquals("pending", cells.get(3).at("/metadata/papermill/status").asText());
    }

    /**
     * Runs a process and returns its exit code. Its output is echoed through System.out (surefire's forked JVM
     * must not have its native stdout written to directly) and kept under target/notebook-test/logs.
     */
    static int run(List<String> cmd, int timeoutSeconds) throws IOException, InterruptedException {
        return run(new ProcessBuilder(cmd), timeoutSeconds);
    }

    static int run(ProcessBuilder pb, int timeoutSeconds) throws IOException, InterruptedException {
        List<String> cmd = pb.command();
        Files.createDirectories(WORK.resolve("logs"));
        Path log = Files.createTempFile(WORK.resolve("logs"), Path.of(cmd.get(Math.min(1, cmd.size() - 1))).getFileName()
                .toString().replaceAll("[^A-Za-z0-9_.-]", "_"), ".log");
        Process p = pb.directory(REPO.toFile()).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        boolean done = p.waitFor(timeoutSeconds, TimeUnit.SECONDS);
        if (!done) p.destroyForcibly().waitFor();
        System.out.println(Files.readString(log));
        if (!done) fail("timed out after " + timeoutSeconds + " s: " + cmd);
        return p.exitValue();
    }
}
