package org.routecal.kernel;

import io.github.spencerpark.jupyter.kernel.display.DisplayData;
import io.github.spencerpark.jupyter.kernel.display.Renderer;
import io.github.spencerpark.jupyter.kernel.display.mime.MIMEType;
import io.github.spencerpark.jupyter.kernel.magic.registry.Magics;
import org.junit.jupiter.api.Test;
import org.routecal.kernel.testing.DemoResult;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The IJava registration against basekernel's real {@link Magics} and {@link Renderer} (the objects IJava's kernel
 * holds; IJava itself is not on Maven Central, so it cannot run here).
 */
class IJavaSupportTest {
    @Test
    void magicsRunAndResultsRenderAsHtml() throws Exception {
        Magics magics = new Magics();
        Renderer renderer = new Renderer();
        List<DisplayData> shown = new ArrayList<>();
        IJavaSupport.registerInto(magics, renderer, shown::add);
        Object r = magics.applyLineMagic("demo-table", List.of("--rows", "3"));
        DemoResult result = assertInstanceOf(DemoResult.class, r);
        assertEquals(3, result.table().rowCount());
        String html = (String) renderer.render(result).getData(MIMEType.TEXT_HTML);
        assertTrue(html.contains("<td>2</td>") && html.contains("Plotly.newPlot("), "table and figure in one bundle");
        assertFalse(shown.isEmpty(), "progress was displayed");
        assertThrows(Exception.class, () -> magics.applyLineMagic("demo-table", List.of("--as", "x")));
        Object cfg = magics.applyCellMagic("config", List.of(), "rows: 2");
        assertTrue(String.valueOf(cfg).contains("rows: 2"));
    }
}
