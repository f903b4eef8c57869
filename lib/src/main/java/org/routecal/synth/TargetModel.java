package org.routecal.synth;

import org.routecal.synth.accept.RoutingCounts;

import java.util.List;

/**
 * The model being quantized, as the synth stages need it: its chat template, its tokenizer and its router. A
 * candidate is rendered with {@link #render}, counted with {@link #countTokens} and routed with {@link #route} on
 * exactly that rendered text. Implementations must be thread-safe or document otherwise (the stages call them from
 * one thread).
 */
public interface TargetModel extends AutoCloseable {
    /** One chat turn: role is system, user or assistant. */
    /** One chat turn; {@code reasoningContent} (the thinking text, may be null) is rendered by the template as the corpus loader does. */
    record Turn(String role, String content, String reasoningContent) {
        public Turn(String role, String content) { this(role, content, null); }
    }

    /** The turns in the target's chat template (without a generation prompt); a plain join when it has none. */
    String render(List<Turn> turns);

    /** Tokens of {@code text} under the target tokenizer (no special tokens added). */
    int countTokens(String text);

    /** Top-k picks per (layer, expert) when {@code text} is run through the target model. */
    RoutingCounts route(String text);

    /**
     * {@code text} with {@code <red>}/{@code <blue>} tags for the balance mode of extract: a token is red when at least
     * half of its top-k picks (over all MoE layers) land on slots still short of {@code target} in {@code current},
     * blue when none do.
     */
    default org.routecal.route.Brackets.Tagged bracket(String text, RoutingCounts current, long target) {
        throw new org.routecal.RoutecalException(getClass().getSimpleName() + " cannot bracket text");
    }

    @Override default void close() {}
}
