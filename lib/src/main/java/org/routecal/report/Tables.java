package org.routecal.report;

import tech.tablesaw.api.NumberColumn;
import tech.tablesaw.api.Table;
import tech.tablesaw.columns.Column;

import java.math.BigDecimal;
import java.math.MathContext;
import java.util.UUID;

/**
 * Tablesaw {@link Table} → an HTML fragment. Long tables are paged: every rendered row is in the HTML (so a page
 * opened without scripts, or an untrusted notebook output, still shows the first page and the row count), split into
 * {@code <tbody>} pages that small inline buttons switch between. Rows past {@link #DEFAULT_MAX_ROWS} are left out
 * with a note, so a million-row table cannot blow up a notebook. Numbers show 4 significant digits; a table wider
 * than its box scrolls inside the box, not the page.
 */
public final class Tables {
    public static final int DEFAULT_PAGE_ROWS = 25;
    public static final int DEFAULT_MAX_ROWS = 2000;
    private static final MathContext FOUR_DIGITS = new MathContext(4);

    private Tables() {}

    public static String toHtml(Table table) {
        return toHtml(table, DEFAULT_PAGE_ROWS, DEFAULT_MAX_ROWS);
    }

    public static String toHtml(Table table, int pageRows, int maxRows) {
        if (pageRows < 1 || maxRows < 1) throw new IllegalArgumentException("pageRows and maxRows must be ≥ 1");
        String id = "rctbl" + UUID.randomUUID().toString().replace("-", "");
        int rows = table.rowCount(), shown = Math.min(rows, maxRows);
        int pages = Math.max(1, (shown + pageRows - 1) / pageRows);
        StringBuilder b = new StringBuilder(256 + shown * table.columnCount() * 16);
        b.append("<div class=\"rc-table\" id=\"").append(id).append("\" style=\"max-width:100%;overflow-x:auto\">");
        String name = table.name() == null ? "" : table.name();
        // The caption sits above the table (a <caption> would wrap to a narrow table's width).
        b.append("<div class=\"rc-caption\" style=\"font-size:12px;color:#444\">").append(Html.escape(name))
                .append(name.isEmpty() ? "" : " — ").append(rows).append(rows == 1 ? " row" : " rows")
                .append(" × ").append(table.columnCount()).append(" columns</div>");
        b.append("<table border=\"1\" style=\"border-collapse:collapse;font-size:12px\">");
        b.append("<thead><tr>");
        for (Column<?> c : table.columns()) {
            b.append("<th title=\"").append(Html.escape(c.type().name())).append("\">")
                    .append(Html.escape(c.name())).append("</th>");
        }
        b.append("</tr></thead>");
        for (int p = 0; p < pages; p++) {
            b.append("<tbody data-page=\"").append(p).append('"');
            if (p > 0) b.append(" style=\"display:none\"");
            b.append('>');
            int end = Math.min(shown, (p + 1) * pageRows);
            for (int r = p * pageRows; r < end; r++) {
                b.append("<tr>");
                for (Column<?> c : table.columns()) {
                    b.append("<td>").append(Html.escape(cell(c, r))).append("</td>");
                }
                b.append("</tr>");
            }
            b.append("</tbody>");
        }
        b.append("</table>");
        if (pages > 1) appendPager(b, id, pages);
        if (shown < rows) {
            b.append("<div class=\"rc-note\">first ").append(shown).append(" of ").append(rows)
                    .append(" rows shown</div>");
        }
        b.append("</div>");
        return b.toString();
    }

    /** A cell's text: floating-point numbers to 4 significant digits, everything else as Tablesaw prints it. */
    static String cell(Column<?> c, int row) {
        if (c instanceof NumberColumn<?, ?> n && !c.isMissing(row)) {
            Object v = c.get(row);
            if (v instanceof Double || v instanceof Float) return number(n.getDouble(row));
        }
        return c.getString(row);
    }

    /** {@code x} to 4 significant digits: plain between 0.001 and 10^7, scientific outside (e.g. 1.235e-5). */
    public static String number(double x) {
        if (Double.isNaN(x)) return "NaN";
        if (Double.isInfinite(x)) return x > 0 ? "∞" : "-∞";
        if (x == 0) return "0";
        double a = Math.abs(x);
        if (a >= 1e-3 && a < 1e7) {
            return new BigDecimal(x).round(FOUR_DIGITS).stripTrailingZeros().toPlainString();
        }
        return String.format(java.util.Locale.ROOT, "%.3e", x).replace("e+0", "e+").replace("e-0", "e-");
    }

    /** Prev/next buttons and a page label; the script only toggles which tbody is visible. */
    private static void appendPager(StringBuilder b, String id, int pages) {
        String go = "(function(d){var t=document.getElementById('" + id + "');var bs=t.querySelectorAll('tbody');"
                + "var c=+t.getAttribute('data-cur')||0;var n=Math.max(0,Math.min(bs.length-1,c+d));"
                + "bs[c].style.display='none';bs[n].style.display='';t.setAttribute('data-cur',n);"
                + "t.querySelector('.rc-page').textContent='page '+(n+1)+' of '+bs.length;})";
        b.append("<div class=\"rc-pager\"><button type=\"button\" onclick=\"").append(go).append("(-1)\">‹ prev</button> ")
                .append("<span class=\"rc-page\">page 1 of ").append(pages).append("</span> ")
                .append("<button type=\"button\" onclick=\"").append(go).append("(1)\">next ›</button></div>");
    }
}
