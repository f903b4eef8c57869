package org.routecal.route;

import org.routecal.report.HtmlReport;

import java.nio.file.Path;

/**
 * {@code report.html}: the result's display parts (summary, per-layer table, every {@link RouteFigures} figure under a
 * visible heading) in one self-contained page through the report package (plotly.js embedded once, opens offline).
 */
final class RouteReport {
    private RouteReport() {}

    static void write(Path file, RouteResult r) {
        HtmlReport.titled("routecal route: routing analysis").parts(r).write(file);
    }
}
