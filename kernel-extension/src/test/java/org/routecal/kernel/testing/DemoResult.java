package org.routecal.kernel.testing;

import org.routecal.report.DisplayPart;
import org.routecal.report.Displayable;
import tech.tablesaw.api.Table;
import tech.tablesaw.plotly.components.Figure;

import java.util.List;

/** The test stage's result: a table and its chart. */
public record DemoResult(Table table, Figure figure) implements Displayable {
    @Override
    public List<DisplayPart> displayParts() {
        return List.of(DisplayPart.text(toString()), DisplayPart.table(table), DisplayPart.figure(figure));
    }

    @Override
    public String toString() {
        return "demo-table: " + table.rowCount() + " rows";
    }
}
