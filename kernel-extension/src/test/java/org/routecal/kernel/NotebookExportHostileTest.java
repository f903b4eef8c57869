package org.routecal.kernel;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.routecal.cli.Main;
import org.routecal.report.BrowserCheck;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@code run-notebook --to html} of a notebook whose markdown, printed text, table and chart carry hostile strings:
 * opened in headless Chromium, no injected script runs, the strings show as text, the chart draws; a
 * {@code javascript:} link in markdown does not become a link.
 */
class NotebookExportHostileTest {
    @Test
    void hostileNotebookContentRendersAsText() throws Exception {
        String h = BrowserCheck.HOSTILE, lit = Parameters.quote(h);
        Path dir = Files.createTempDirectory(Files.createDirectories(Path.of("target", "export-test")), "nb");
        ObjectNode nb = new ObjectMapper().createObjectNode().put("nbformat", 4).put("nbformat_minor", 5);
        nb.putObject("metadata");
        ArrayNode cells = nb.putArray("cells");
        cells.addObject().put("cell_type", "markdown").put("id", "m").put("source",
                h + "\n\n<script>window.__rcPwned=4</script>\n\n[click](javascript:window.__rcPwned=3)").putObject("metadata");
        String[] sources = {
            "System.out.println(" + lit + ");",
            "Table.create(" + lit + ", StringColumn.create(" + lit + ", new String[]{" + lit + "}))",
            "Chart.titled(" + lit + ").axes(" + lit + ", " + lit + ").bar(" + lit + ", List.of(" + lit + "), new double[]{1})",
        };
        for (int i = 0; i < sources.length; i++) {
            ObjectNode c = cells.addObject().put("cell_type", "code").put("id", "c" + i).put("source", sources[i]);
            c.putObject("metadata");
            c.putArray("outputs");
            c.putNull("execution_count");
        }
        Path in = dir.resolve("hostile.ipynb");
        new ObjectMapper().writeValue(in.toFile(), nb);
        assertEquals(0, Main.run("run-notebook", in.toString(), dir.resolve("out.html").toString(), "--to", "html"));
        assertTrue(Files.isRegularFile(dir.resolve("out.ipynb")), "OUT.html with --to html: the notebook goes next to it");
        String html = Files.readString(dir.resolve("out.html"));
        assertFalse(html.contains("href=\"javascript:"), "a javascript: link is not a link");
        BrowserCheck.assertPage(dir.resolve("out.html"), "--charts", "1", "--text", h);
        BrowserCheck.assertPage(dir.resolve("out.html"), "--charts", "1", "--no-js");
    }
}
