package org.routecal.route;

import org.routecal.RoutecalException;
import org.routecal.io.AtomicFiles;
import tech.tablesaw.api.Table;
import tech.tablesaw.plotly.components.Figure;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;

/**
 * {@code report.html}: one self-contained page (plotly.js 2.35.3 embedded once from the webjar, no CDN, opens offline)
 * with the run summary, the per-layer metrics table and every {@link RouteFigures} figure under a visible heading.
 */
final class RouteReport {
    static final String PLOTLY = "META-INF/resources/webjars/plotly.js-dist/2.35.3/plotly.js";

    private RouteReport() {}

    static void write(Path file, RouteResult r) {
        StringBuilder body = new StringBuilder();
        body.append("<h1>routecal route: routing analysis</h1>\n<pre>").append(escape(r.toString())).append("</pre>\n");
        body.append("<h2>Per-layer balance</h2>\n").append(tableHtml(r.metricsTable()));
        int i = 0;
        for (Map.Entry<String, Figure> e : RouteFigures.all(r, true).entrySet()) {
            String div = "fig" + i++;
            body.append("<h2>").append(escape(e.getKey())).append("</h2>\n<div id='").append(div).append("'></div>\n")
                    .append(e.getValue().asJavascript(div)).append('\n');
        }
        String html = "<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>routecal route report</title>\n"
                + "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;font-size:12px}"
                + "td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}</style>\n"
                + "<script>" + plotlyJs() + "</script>\n</head><body>\n" + body + "</body></html>\n";
        AtomicFiles.writeString(file, html);
    }

    static String tableHtml(Table t) {
        StringBuilder sb = new StringBuilder("<table><tr>");
        for (String c : t.columnNames()) sb.append("<th>").append(escape(c)).append("</th>");
        sb.append("</tr>\n");
        for (int r = 0; r < t.rowCount(); r++) {
            sb.append("<tr>");
            for (int c = 0; c < t.columnCount(); c++) sb.append("<td>").append(escape(t.getString(r, c))).append("</td>");
            sb.append("</tr>\n");
        }
        return sb.append("</table>\n").toString();
    }

    static String plotlyJs() {
        try (InputStream in = RouteReport.class.getClassLoader().getResourceAsStream(PLOTLY)) {
            if (in == null) throw new RoutecalException("plotly.js " + PLOTLY + " is missing from the classpath (broken build?)");
            // "</script" inside the library would end the inline script early
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).replace("</script", "<\\/script");
        } catch (IOException e) {
            throw new RoutecalException("cannot read " + PLOTLY + ": " + e.getMessage(), e);
        }
    }

    static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }
}
