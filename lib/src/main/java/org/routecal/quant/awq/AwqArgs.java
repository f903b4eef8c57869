package org.routecal.quant.awq;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * AWQ grid-search settings, as llm-compressor's {@code AWQModifier} names them.
 *
 * @param gridSize   grid points per search (n_grid, 20)
 * @param duoScaling whether scales also divide by the weights' mean normalized magnitude
 */
public record AwqArgs(int gridSize, DuoScaling duoScaling) {
    /** llm-compressor's defaults: 20 points, duo scaling on. */
    public static final AwqArgs DEFAULT = new AwqArgs(20, DuoScaling.ON);

    /**
     * {@code OFF}: s = x̄^α; {@code ON}: s = x̄^α / (w̄^(1−α) + 1e-4), with the identity (α = 0 without duo) tried
     * first; {@code BOTH}: half the grid each way.
     */
    public enum DuoScaling {
        OFF, ON, BOTH;

        public static DuoScaling parse(String s) {
            return switch (s.toLowerCase(Locale.ROOT)) {
                case "off", "false" -> OFF;
                case "on", "true" -> ON;
                case "both" -> BOTH;
                default -> throw new IllegalArgumentException("unknown duo scaling '" + s + "' (expected on, off or both)");
            };
        }
    }

    public AwqArgs {
        if (gridSize < 3) throw new IllegalArgumentException("AWQ grid size must be ≥ 3, got " + gridSize);
    }

    /** One grid point: the exponent α ∈ [0, 1] and whether the weight term divides. */
    public record GridPoint(double ratio, boolean duo) {}

    /** The grid in llm-compressor's order ({@code _get_grid_search_params}); ties keep the earliest point. */
    public List<GridPoint> grid() {
        List<GridPoint> out = new ArrayList<>();
        switch (duoScaling) {
            case OFF -> {
                for (int i = 0; i < gridSize; i++) out.add(new GridPoint(i / (double) (gridSize - 1), false));
            }
            case ON -> {
                out.add(new GridPoint(0, false)); // the identity: without it duo scaling could never leave W unscaled
                for (int i = 0; i < gridSize - 1; i++) out.add(new GridPoint(i / (double) (gridSize - 2), true));
            }
            case BOTH -> {
                int n = gridSize / 2;
                for (int i = 0; i < n; i++) {
                    out.add(new GridPoint(i / (double) (n - 1), false));
                    out.add(new GridPoint(i / (double) (n - 1), true));
                }
            }
        }
        return out;
    }
}
