package org.routecal.compute.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * Horizontal sums of four accumulators at once. {@code reduceLanes(ADD)} on float vectors is a strictly ordered
 * chain of L scalar adds (Java's float semantics), about 40 cycles at 16 lanes; a 4×4 tile needs 16 of them, which
 * cost a quarter of the tile's time at 512 inputs. Here four accumulators are folded together: add each to its
 * half-swapped self and blend pairs (a|b, c|d), repeat on quarters (ab|cd), then finish with swap-adds inside each
 * quarter — about 20 vector ops for four sums: lane 0 holds Σa, lane L/2 Σb, lane L/4 Σc, lane 3L/4 Σd. The tiles
 * write this sequence out inline: as a helper method it is called after the hot loop, so C2 does not inline it and
 * boxes every vector argument (measured 8× slower).
 */
final class Reductions {
    static final VectorSpecies<Float> F = VectorOps.SPECIES;
    static final int L = F.length();
    static final VectorShuffle<Float> SWAP_HALF = VectorShuffle.fromOp(F, i -> i ^ (L / 2));
    static final VectorShuffle<Float> SWAP_QUARTER = VectorShuffle.fromOp(F, i -> i ^ Math.max(1, L / 4));
    static final VectorShuffle<Float> SWAP_EIGHTH = VectorShuffle.fromOp(F, i -> i ^ Math.max(1, L / 8));
    static final VectorShuffle<Float> SWAP_SIXTEENTH = VectorShuffle.fromOp(F, i -> i ^ Math.max(1, L / 16));
    static final VectorMask<Float> HALF_BIT = VectorMask.fromLong(F, laneBits(L / 2));
    static final VectorMask<Float> QUARTER_BIT = VectorMask.fromLong(F, laneBits(Math.max(1, L / 4)));

    private Reductions() {}

    /** Mask of the lanes whose index has {@code bit} set. */
    private static long laneBits(int bit) {
        long m = 0;
        for (int i = 0; i < L; i++) if ((i & bit) != 0) m |= 1L << i;
        return m;
    }
}
