package org.routecal.compute.cuda.bench;

/** Layer geometry of a Qwen3-MoE-style decoder layer (defaults: Qwen3-30B-A3B). */
public record MoeGeometry(int hidden, int experts, int topK, int inter, int heads, int kvHeads, int headDim, int layers,
                          double ropeTheta) {
    public static MoeGeometry qwen3_30b_a3b(int layers) {
        return new MoeGeometry(2048, 128, 8, 768, 32, 4, 128, layers, 1_000_000.0);
    }

    int qDim() { return heads * headDim; }

    int kvDim() { return kvHeads * headDim; }

    /** Multiply-add FLOPs (×2) of one routing pass over batch × seq tokens, as hf_bench.py counts them. */
    double routingPassFlops(int batch, int seq) {
        double t = (double) batch * seq;
        double proj = 2 * t * hidden * (qDim() + 2.0 * kvDim()) + 2 * t * qDim() * hidden;
        double attn = 2 * 2 * batch * (seq * (seq + 1) / 2.0) * heads * headDim;
        double router = 2 * t * hidden * experts;
        double moe = 2 * t * topK * 3.0 * hidden * inter;
        return layers * (proj + attn + router + moe);
    }
}
