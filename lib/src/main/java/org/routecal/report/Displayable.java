package org.routecal.report;

import java.util.List;

/**
 * A result that knows how to show itself: a stage result returns its parts (summary text, tables, figures) and the
 * notebook kernel renders each part inline, the HTML report writes them into a page. {@link Object#toString()} stays
 * the CLI's one-screen summary.
 */
public interface Displayable {
    /** The parts to show, in order; never null. */
    List<DisplayPart> displayParts();
}
