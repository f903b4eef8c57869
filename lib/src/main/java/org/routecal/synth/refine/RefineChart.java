package org.routecal.synth.refine;

import java.util.List;
import java.util.Locale;

/**
 * A self-contained SVG of the loop's trajectory: total deficit and the smallest per-layer normalised entropy per round
 * (two panels, round 0 = the original corpus). No scripts, so it opens anywhere and embeds in any report.
 */
final class RefineChart {
    private RefineChart() {}

    static String svg(List<Long> deficits, List<Double> entropies, long target) {
        int w = 640, h = 260, pad = 48, panelW = (w - 3 * pad) / 2;
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" font-family=\"sans-serif\" font-size=\"11\">%n", w, h));
        double maxDeficit = Math.max(1, deficits.stream().mapToLong(Long::longValue).max().orElse(1));
        panel(sb, pad, pad, panelW, h - 2 * pad, deficits.stream().map(d -> d / maxDeficit).toList(),
                "total deficit (target " + target + "/slot)", String.valueOf((long) maxDeficit), "#c0392b");
        panel(sb, 2 * pad + panelW, pad, panelW, h - 2 * pad, entropies, "min per-layer normalised entropy", "1", "#2471a3");
        sb.append("</svg>\n");
        return sb.toString();
    }

    /** One panel: values in [0, 1] (scaled), x = round index. */
    private static void panel(StringBuilder sb, int x0, int y0, int pw, int ph, List<Double> values, String title, String topLabel, String color) {
        sb.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\">%s</text>%n", x0, y0 - 10, title));
        sb.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#999\"/>%n", x0, y0, pw, ph));
        sb.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>%n", x0 - 4, y0 + 4, topLabel));
        sb.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">0</text>%n", x0 - 4, y0 + ph));
        int n = values.size();
        StringBuilder pts = new StringBuilder();
        for (int i = 0; i < n; i++) {
            double x = x0 + (n == 1 ? pw / 2.0 : (double) i * pw / (n - 1)), y = y0 + ph * (1 - Math.max(0, Math.min(1, values.get(i))));
            pts.append(String.format(Locale.ROOT, "%.1f,%.1f ", x, y));
            sb.append(String.format(Locale.ROOT, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"/>%n", x, y, color));
            sb.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%d</text>%n", x, y0 + ph + 14, i));
        }
        sb.append(String.format(Locale.ROOT, "<polyline points=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\"/>%n", pts.toString().trim(), color));
        sb.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">round</text>%n", x0 + pw / 2, y0 + ph + 28));
    }
}
