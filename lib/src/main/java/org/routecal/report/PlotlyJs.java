package org.routecal.report;

import org.routecal.RoutecalException;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

/**
 * The plotly.js bundle, read from the {@code org.webjars.npm:plotly.js-dist} jar on the class path, for offline pages
 * and notebooks. Pinned to 2.35.x: Tablesaw writes titles as plain strings ({@code title: '…'}), which plotly.js 3
 * silently drops. This is the unminified 10.8 MB UMD build, because the minified one is not published as a WebJar.
 */
public final class PlotlyJs {
    public static final String VERSION = "2.35.3";
    private static final String RESOURCE = "META-INF/resources/webjars/plotly.js-dist/" + VERSION + "/plotly.js";
    private static volatile String source;

    private PlotlyJs() {}

    /** The bundle's JavaScript source. */
    public static String source() {
        String s = source;
        if (s == null) {
            synchronized (PlotlyJs.class) {
                if (source == null) source = read();
                s = source;
            }
        }
        return s;
    }

    /**
     * Inline {@code <script>} blocks that define {@code window.Plotly} once. The UMD bundle would register itself with
     * RequireJS instead of setting the global when a page has {@code define} (classic Notebook, some nbconvert
     * templates), so {@code define} is hidden while it loads. A second copy on the same page is skipped.
     */
    public static String scriptTag() {
        // "</script" cannot occur inside an inline script; the bundle has none, checked here to be sure.
        String js = source();
        if (js.contains("</script")) js = js.replace("</script", "<\\/script");
        return "<script>if(!window.Plotly){window.__rcDefine=window.define;window.define=undefined;}</script>\n"
                + "<script>if(!window.Plotly){\n" + js + "\n}</script>\n"
                + "<script>if(window.__rcDefine!==undefined){window.define=window.__rcDefine;}"
                + "delete window.__rcDefine;</script>\n";
    }

    private static String read() {
        try (InputStream in = PlotlyJs.class.getClassLoader().getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new RoutecalException("plotly.js " + VERSION + " is missing from the class path (" + RESOURCE
                        + "): the org.webjars.npm:plotly.js-dist jar must be on it");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new RoutecalException("cannot read " + RESOURCE + ": " + e.getMessage(), e);
        }
    }
}
