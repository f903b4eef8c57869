package org.routecal.route;

import org.routecal.RoutecalException;

/**
 * The two token-scoring modes of the reference. In both, a token's point is (x, y) = shares of its picks in two slot
 * sets; blue tokens sit at small x and large y, red tokens at large x and small y.
 */
public enum Mode {
    /** x = share of picks on scarce ("less") slots, y = share on frequent slots. */
    BALANCE("balance", new Boxes(0.10, 0.77, 0.15, 0.60)),
    /** x = share of picks on weight-outlier-sensitive slots, y = share on robust slots. */
    Q_SENSITIVITY("q_sensitivity", new Boxes(0.20, 0.20, 0.35, 0.25));

    private final String key;
    private final Boxes defaultBoxes;

    Mode(String key, Boxes defaultBoxes) {
        this.key = key;
        this.defaultBoxes = defaultBoxes;
    }

    /** The name used in files and flags ({@code balance}, {@code q_sensitivity}). */
    public String key() { return key; }

    /** The reference's token boxes for this mode ({@code run_phase1.sh}). */
    public Boxes defaultBoxes() { return defaultBoxes; }

    /** Parses {@code balance} or {@code q_sensitivity} (also {@code q-sensitivity}). */
    public static Mode parse(String s) {
        for (Mode m : values()) if (m.key.equalsIgnoreCase(s.replace('-', '_'))) return m;
        throw new RoutecalException("unknown mode '" + s + "': expected balance or q_sensitivity");
    }

    @Override public String toString() { return key; }
}
