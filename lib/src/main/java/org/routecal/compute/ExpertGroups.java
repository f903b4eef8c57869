package org.routecal.compute;

/**
 * Routed slots (token t's j-th choice = slot t·k + j) grouped by expert, as {@link Backend#groupByExpert} makes them.
 *
 * @param experts     number of experts E
 * @param slots       tokens × k
 * @param offsets     [1, E+1] I32: expert e owns sorted rows offsets[e]..offsets[e+1]
 * @param sortedToken [1, slots] I32: the token of each sorted row (stable: token order within an expert)
 * @param slotPos     [1, slots] I32: the sorted row of slot t·k + j (used to combine expert outputs per token)
 */
public record ExpertGroups(int experts, int slots, Tensor offsets, Tensor sortedToken, Tensor slotPos) implements AutoCloseable {
    @Override
    public void close() {
        offsets.close();
        sortedToken.close();
        slotPos.close();
    }
}
