package org.routecal.kernel;

import io.github.spencerpark.jupyter.kernel.display.DisplayData;
import io.github.spencerpark.jupyter.kernel.display.Renderer;
import io.github.spencerpark.jupyter.kernel.display.mime.MIMEType;
import io.github.spencerpark.jupyter.kernel.magic.registry.Magics;
import org.junit.jupiter.api.Test;
import org.routecal.kernel.testing.DemoResult;
import org.routecal.report.Chart;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The IJava/JJava registration against basekernel's real {@link Magics} and {@link Renderer}, with a host whose
 * "notebook" is a map of variables. The real kernels are driven by NotebookClientTest (ijava, jjava notebooks).
 */
class IJavaSupportTest {
    @Test
    void magicsInterpolateBindStripSemicolonsAndRender() throws Exception {
        Map<String, Object> vars = new HashMap<>(Map.of("rows", 3));
        List<String> evaluated = new ArrayList<>();
        List<DisplayData> shown = new ArrayList<>();
        List<String> updated = new ArrayList<>();
        HostedMagics hosted = new HostedMagics(new NotebookHost() {
            @Override public Object eval(String java) {
                evaluated.add(java);
                return vars.get(java);
            }
            @Override public void display(DisplayData d) { shown.add(d); }
            @Override public void updateDisplay(String id, DisplayData d) { updated.add(id); }
        });
        Magics magics = new Magics();
        Renderer renderer = new Renderer();
        IJavaSupport.registerInto(magics, renderer, hosted);
        Object r = magics.applyLineMagic("demo-table", List.of("--rows", "${rows};"));
        DemoResult result = assertInstanceOf(DemoResult.class, r);
        assertEquals(3, result.table().rowCount(), "${rows} read from the notebook, the trailing ; dropped");
        assertFalse(updated.isEmpty(), "the progress bar updated in place");
        shown.clear();
        DisplayData last = renderer.render(result);
        assertTrue(last.hasDataForType(MIMEType.parse(Chart.PLOTLY_MIME)), "the chart is the value's own bundle");
        assertTrue(shown.stream().anyMatch(d -> String.valueOf(d.getData(MIMEType.TEXT_HTML)).contains("<td>2</td>")),
                "the table was displayed before it");
        assertInstanceOf(DemoResult.class, magics.applyLineMagic("demo-table", List.of("--as", "x")));
        assertTrue(evaluated.get(evaluated.size() - 1).startsWith("var x = (org.routecal.kernel.testing.DemoResult) "),
                evaluated.toString());
        Object cfg = magics.applyCellMagic("config", List.of(), "rows: 2");
        assertTrue(String.valueOf(cfg).contains("rows: 2"));
    }
}
