package org.routecal.synth.llm;

import org.routecal.RoutecalException;

/** A call that failed for good: retries used up, a non-retriable status, or the budget spent. */
public class LlmException extends RoutecalException {
    /** Why the call failed, as recorded in {@code llm_calls.jsonl}. */
    public enum Kind { RETRIES_EXHAUSTED, NOT_RETRIABLE, BUDGET_EXHAUSTED }

    private final Kind kind;

    public LlmException(Kind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
    }

    public Kind kind() { return kind; }
}
