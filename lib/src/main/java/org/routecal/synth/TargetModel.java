package org.routecal.synth;

import org.routecal.route.Brackets;
import org.routecal.route.RoutingCounts;
import org.routecal.tokenize.TextCodec;

/**
 * The model being quantized, as the synth stages need it: its tokenizer and chat template ({@link #codec}, through
 * which every text becomes a sample the same way as in every other stage: {@link org.routecal.corpus.SampleMaker}) and
 * its router ({@link #route}, run on exactly that text). Implementations must be thread-safe or document otherwise
 * (the stages call them from one thread).
 */
public interface TargetModel extends AutoCloseable {
    /** The model's tokenizer and chat template. */
    TextCodec codec();

    /** Top-k picks per (MoE layer, expert) when {@code text} is run through the target model. */
    RoutingCounts route(String text);

    /**
     * {@code text} with {@code <red>}/{@code <blue>} tags for the balance mode of extract: a token is red when at least
     * half of its top-k picks (over all MoE layers) land on slots still short of {@code target} in {@code current},
     * blue when none do.
     */
    default Brackets.Tagged bracket(String text, RoutingCounts current, long target) {
        throw new org.routecal.RoutecalException(getClass().getSimpleName() + " cannot bracket text");
    }

    @Override default void close() {}
}
