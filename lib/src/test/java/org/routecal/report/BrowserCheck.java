package org.routecal.report;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Opens an HTML output in headless Chromium through tests/browser/check-page.mjs (puppeteer-core driving Debian's
 * /usr/bin/chromium, offline) and fails with what the page showed. Skips, naming the reason, where node, the
 * installed puppeteer-core ({@code npm ci --prefix tests/browser}, done by .ci/run) or chromium is missing.
 */
public final class BrowserCheck {
    /** A string that runs script if any HTML or JS writer fails to escape it; pages must show it as text. */
    public static final String HOSTILE = "</script><script>window.__rcPwned=1</script><img src=x onerror=\"window.__rcPwned=2\">'\"&amp;<!--";

    private BrowserCheck() {}

    public static Path repo() {
        Path p = Path.of("").toAbsolutePath();
        while (p != null && !Files.isDirectory(p.resolve("tests/browser"))) p = p.getParent();
        if (p == null) throw new IllegalStateException("tests/browser not found above " + Path.of("").toAbsolutePath());
        return p;
    }

    /** Asserts that the page passes check-page.mjs with these arguments (e.g. "--charts", "2", "--text", HOSTILE). */
    public static String assertPage(Path html, String... checks) throws IOException, InterruptedException {
        Path repo = repo();
        assumeTrue(Files.isDirectory(repo.resolve("tests/browser/node_modules/puppeteer-core")),
                "puppeteer-core is not installed (npm ci --prefix tests/browser): skipping the browser check");
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/chromium")) || System.getenv("CHROMIUM") != null,
                "chromium is not installed: skipping the browser check");
        List<String> cmd = new ArrayList<>(List.of("node", repo.resolve("tests/browser/check-page.mjs").toString(), html.toString()));
        cmd.addAll(List.of(checks));
        Path log = Files.createTempFile("check-page", ".log");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        if (!p.waitFor(300, TimeUnit.SECONDS)) {
            p.destroyForcibly().waitFor();
            throw new AssertionError("check-page timed out on " + html);
        }
        String out = Files.readString(log);
        Files.delete(log);
        System.out.println(out);
        assertEquals(0, p.exitValue(), "browser check of " + html + ": " + out);
        return out;
    }
}
