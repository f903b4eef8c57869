package org.routecal.report;

import tech.tablesaw.api.Table;

import java.util.List;
import java.util.Objects;

/**
 * One piece of a {@link Displayable}: text, a heading, a table, a chart or a colour legend. Parts carry values, never
 * HTML: {@link Parts#html} renders every kind through {@link Html}'s escaping, for reports and notebooks alike.
 */
public sealed interface DisplayPart {

    /** Pre-formatted text (shown in a monospace block). */
    record Text(String text) implements DisplayPart {
        public Text { Objects.requireNonNull(text, "text"); }
    }

    /** A section heading. */
    record Heading(String text) implements DisplayPart {
        public Heading { Objects.requireNonNull(text, "text"); }
    }

    /** A paragraph of prose (a note or an explanation). */
    record Paragraph(String text) implements DisplayPart {
        public Paragraph { Objects.requireNonNull(text, "text"); }
    }

    /** A table, rendered paged when long. */
    record TablePart(Table table) implements DisplayPart {
        public TablePart { Objects.requireNonNull(table, "table"); }
    }

    /** A Plotly chart (interactive, with its static image). */
    record ChartPart(Chart chart) implements DisplayPart {
        public ChartPart { Objects.requireNonNull(chart, "chart"); }
    }

    /** What the colours of a chart mean: one swatch, label and explanation per entry. */
    record Legend(String title, List<Entry> entries) implements DisplayPart {
        public Legend { entries = List.copyOf(entries); }

        /** {@code color} is a CSS hex colour ({@code #rrggbb}). */
        public record Entry(String label, String color, String meaning) {
            public Entry {
                if (!color.matches("#[0-9a-fA-F]{6}")) throw new IllegalArgumentException("legend colour must be #rrggbb: " + color);
            }
        }
    }

    static DisplayPart text(String text) { return new Text(text); }

    static DisplayPart heading(String text) { return new Heading(text); }

    static DisplayPart paragraph(String text) { return new Paragraph(text); }

    static DisplayPart table(Table table) { return new TablePart(table); }

    static DisplayPart chart(Chart chart) { return new ChartPart(chart); }
}
