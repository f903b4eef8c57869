package org.routecal.kernel.testing;

import org.routecal.report.DisplayPart;
import org.routecal.report.Displayable;
import tech.tablesaw.api.Table;
import org.routecal.report.Chart;

import java.util.List;

/** The test stage's result: a table and its chart. */
public record DemoResult(Table table, Chart figure) implements Displayable {
    @Override
    public List<DisplayPart> displayParts() {
        return List.of(DisplayPart.text(toString()), DisplayPart.table(table), DisplayPart.chart(figure));
    }

    @Override
    public String toString() {
        return "demo-table: " + table.rowCount() + " rows";
    }
}
