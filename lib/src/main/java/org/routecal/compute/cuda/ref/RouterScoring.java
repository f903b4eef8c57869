package org.routecal.compute.cuda.ref;

/** How router logits become scores before top-k (the kernel's {@code scoring} argument). */
public enum RouterScoring {
    /** softmax over all experts; weights = top-k probabilities (Mixtral, Qwen2/3-MoE, OLMoE). */
    SOFTMAX(0),
    /** element-wise sigmoid; an optional correction bias steers selection only (DeepSeek-V3 style). */
    SIGMOID(1);

    private final int code;

    RouterScoring(int code) { this.code = code; }

    public int code() { return code; }
}
