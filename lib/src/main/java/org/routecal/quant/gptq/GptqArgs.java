package org.routecal.quant.gptq;

/**
 * GPTQ settings.
 *
 * @param blockSize     columns per lazy-update block (128)
 * @param dampeningFrac damping added to the Hessian diagonal, as a fraction of its mean (0.01)
 * @param actOrder      activation ordering
 */
public record GptqArgs(int blockSize, double dampeningFrac, ActOrder actOrder) {
    /** llm-compressor's defaults: block 128, damping 0.01, static act-order. */
    public static final GptqArgs DEFAULT = new GptqArgs(128, 0.01, ActOrder.STATIC);

    public GptqArgs {
        if (blockSize <= 0) throw new IllegalArgumentException("block size must be > 0, got " + blockSize);
        if (!(dampeningFrac >= 0)) throw new IllegalArgumentException("dampening fraction must be ≥ 0, got " + dampeningFrac);
    }
}
