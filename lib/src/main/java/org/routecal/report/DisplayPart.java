package org.routecal.report;

import tech.tablesaw.api.Table;
import tech.tablesaw.plotly.components.Figure;

import java.util.Objects;

/** One piece of a {@link Displayable}: plain text, an HTML fragment, a Tablesaw table or a Plotly figure. */
public sealed interface DisplayPart {

    /** Pre-formatted text (shown in a monospace block). */
    record Text(String text) implements DisplayPart {
        public Text { Objects.requireNonNull(text, "text"); }
    }

    /** A trusted HTML fragment (no {@code <html>} or {@code <body>}). */
    record Html(String html) implements DisplayPart {
        public Html { Objects.requireNonNull(html, "html"); }
    }

    /** A table, rendered paged when long. */
    record TablePart(Table table) implements DisplayPart {
        public TablePart { Objects.requireNonNull(table, "table"); }
    }

    /** A tablesaw-jsplot figure, rendered with the embedded plotly.js. */
    record FigurePart(Figure figure) implements DisplayPart {
        public FigurePart { Objects.requireNonNull(figure, "figure"); }
    }

    static DisplayPart text(String text) { return new Text(text); }

    static DisplayPart html(String html) { return new Html(html); }

    static DisplayPart table(Table table) { return new TablePart(table); }

    static DisplayPart figure(Figure figure) { return new FigurePart(figure); }
}
