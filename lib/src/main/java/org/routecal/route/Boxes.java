package org.routecal.route;

/**
 * Token class boxes on the (x, y) plane, with the reference's strict inequalities:
 * blue ⇔ x &lt; blueX ∧ y &gt; blueY; red ⇔ x &gt; redX ∧ y &lt; redY. A token can be in neither (grey) or, with
 * unusual thresholds, in both; the bracket overlap policy settles that case.
 */
public record Boxes(double blueX, double blueY, double redX, double redY) {

    public boolean blue(double x, double y) { return x < blueX && y > blueY; }

    public boolean red(double x, double y) { return x > redX && y < redY; }

    /** A copy with any non-null override applied. */
    public Boxes with(Double blueX, Double blueY, Double redX, Double redY) {
        return new Boxes(blueX != null ? blueX : this.blueX, blueY != null ? blueY : this.blueY,
                redX != null ? redX : this.redX, redY != null ? redY : this.redY);
    }
}
