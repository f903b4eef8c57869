package org.routecal.compute;

import java.nio.ByteBuffer;
import java.util.List;
import org.routecal.compute.RouterRule;

/**
 * The one compute interface of the engine (ARCHITECTURE "Backend"): it owns the tensors and runs every operation the
 * forward pass, the calibration statistics and the evaluation need. The forward pass is written once against this
 * interface; {@code cpu.CpuBackend} (host arrays, Vector API) is the reference and {@code cuda.CudaBackend} (device
 * buffers, our PTX kernels) keeps activations on the GPU so that only results cross to the host.
 *
 * <p>Conventions: tensors are 2-D row-major; activations F32; weights F32 or BF16; index tensors I32 shaped [1, n].
 * Ops are queued in order on one stream (CUDA) and may run asynchronously: {@link #download} and
 * {@link #synchronize} wait. A backend is used from one thread at a time.
 *
 * <p>Linear products follow {@link #precision()}: in {@link Precision#BF16} the activation operand is rounded to bf16
 * and products accumulate in fp32 (what HF transformers does for a bf16 checkpoint); in {@link Precision#FP32} both
 * operands are fp32.
 */
public interface Backend extends AutoCloseable {
    /** Short description for logs, e.g. "cpu(vector 256 bit, 2 threads)" or "cuda(NVIDIA H200)". */
    String name();

    DeviceInfo device();

    Precision precision();

    // ---- tensors ---------------------------------------------------------------------------------------------------

    /** A zero-filled tensor. */
    Tensor allocate(TensorType type, long rows, int cols, String name);

    /** Host floats into a new tensor stored as {@code as} (F32, or BF16 rounded to nearest even). */
    Tensor upload(float[] values, long rows, int cols, TensorType as, String name);

    Tensor uploadInts(int[] values, long rows, int cols, String name);

    /**
     * Raw little-endian elements of {@code storedAs} (a checkpoint's BF16 or F32 bytes, e.g. a memory-mapped slice)
     * into a new tensor of type {@code as}: a byte copy when the types agree, a conversion otherwise.
     */
    Tensor uploadRaw(ByteBuffer data, TensorType storedAs, long rows, int cols, TensorType as, String name);

    /**
     * Copies raw little-endian elements of {@code storedAs} (BF16 or F32) into rows starting at {@code row} of an
     * existing F32/BF16 tensor: a byte copy when the types agree (a checkpoint's bf16 weights go to a bf16 stack as
     * they are), a conversion otherwise.
     */
    void writeRaw(Tensor dst, long row, ByteBuffer data, TensorType storedAs);

    /** Copies host floats into rows [row, row + values.length / cols) of an existing F32/BF16 tensor. */
    void write(Tensor dst, long row, float[] values);

    /** All elements as floats (F32, BF16 and F64 tensors); waits for queued work. */
    float[] download(Tensor t);

    int[] downloadInts(Tensor t);

    /** F32 or F64 elements as doubles (Hessians for the host solver). */
    double[] downloadDoubles(Tensor t);

    /** dst rows [dstRow, dstRow + rows) = src rows [srcRow, srcRow + rows); same type and cols. */
    void copyRows(Tensor src, long srcRow, Tensor dst, long dstRow, long rows);

    void zero(Tensor t);

    /**
     * Hands over {@code t} (an owner: a Linear weight matrix, or a stack of matrices of {@code segmentRows} rows each,
     * such as a layer's experts, used one whole matrix at a time as a row view) as Linear weights, and returns the
     * tensor to use from now on: {@code t} itself, or the same values in a layout the backend multiplies faster (the
     * CPU's packed panels, in the same memory). After the call only the returned tensor may be used.
     */
    default Tensor prepareLinearWeights(Tensor t, int segmentRows) { return t; }

    /** Whether {@link #write}/{@link #writeRaw} into disjoint rows of one tensor may run on several threads at once. */
    default boolean concurrentHostWrites() { return false; }

    /**
     * The largest tensor a layer's experts are stacked in, in bytes. A GPU's {@link #groupedLinear} needs each layer's
     * experts as views of one contiguous [E·rows, cols] stack (one pointer and stride for the grouped kernel): no
     * limit. The CPU takes any views, and keeps stacks small: a layer's stack would be one array, over the JVM's
     * 2³¹-element limit from GLM-4.5 and DeepSeek-V3 geometry up, and a 1.6 GB block the collector has to find in
     * one piece at Qwen3-30B-A3B's.
     */
    default long expertStackBytes() { return Long.MAX_VALUE; }

    /** Frees a tensor's storage; called by {@link Tensor#close()}. */
    void release(Tensor t);

    /** Waits until every queued op has finished (no-op on the CPU). */
    void synchronize();

    /** Element type of Hessian accumulators: F32 on a device, F64 on the CPU reference. */
    default TensorType hessianType() { return TensorType.F32; }

    /**
     * Host doubles (a Hessian summed on the host from several devices' partials) into a new tensor of
     * {@link #hessianType()}: exact in F64, rounded to nearest in F32.
     */
    default Tensor uploadHessian(double[] values, long rows, int cols, String name) {
        float[] f = new float[values.length];
        for (int i = 0; i < f.length; i++) f[i] = (float) values[i];
        return upload(f, rows, cols, TensorType.F32, name);
    }

    /** Bytes this backend can still allocate for tensors (device free memory, or the JVM's free heap). */
    long memoryAvailable();

    // ---- element-wise, norms -----------------------------------------------------------------------------------------

    /** out [n, cols] F32 = rows ids[0..n) of table (F32 or BF16). Ids are checked against the table's rows. */
    void gatherRows(Tensor table, Tensor ids, Tensor out);

    /** out = x / sqrt(mean(x²) + eps) · weight, per row; weight [1, cols] F32; x and out may be the same tensor. */
    void rmsNorm(Tensor x, Tensor weight, float eps, Tensor out);

    /** acc += x (same shape, F32). */
    void add(Tensor acc, Tensor x);

    /** acc += alpha · x (same shape, F32). */
    void axpy(float alpha, Tensor x, Tensor acc);

    /** acc += bias broadcast over rows; bias [1, cols] F32. */
    void addBias(Tensor acc, Tensor bias);

    /** out [rows, I] = silu(gateUp[:, :I]) · gateUp[:, I:2I] for gateUp [rows, 2I]. */
    void siluMul(Tensor gateUp, Tensor out);

    /**
     * GPT-OSS's clamped SwiGLU on gateUp [rows, 2I] (gate half first, as {@link #siluMul}): with g = min(gate, limit)
     * and u = clamp(up, −limit, limit), out [rows, I] = (u + 1) · g · sigmoid(alpha · g).
     */
    void clampedSwiglu(Tensor gateUp, float alpha, float limit, Tensor out);

    /** x[r] *= sigmoid(gate[r]) for gate [rows, 1]: a shared expert's gate. */
    void scaleRowsBySigmoid(Tensor x, Tensor gate);

    /**
     * x[rowIndex[i]] *= scale[i] for i below scale's element count n (rowIndex null: x[i] *= scale[i]); scale F32 of
     * any shape with n elements, rowIndex [1, n] I32 naming distinct rows. Llama 4 scales each routed slot's input by
     * its routing weight (scale = the weights [T, k], rowIndex = the slots' sorted rows); its NoPE layers scale each
     * query row by a per-position temperature.
     */
    void scaleRows(Tensor x, Tensor scale, Tensor rowIndex);

    /**
     * Copies column blocks between tensors of the same rows: dst[r, dstCol + b·dstStride + i] = src[r, srcCol +
     * b·srcStride + i] for every row r, block b &lt; blocks and i &lt; width (F32). srcStride 0 repeats one block of
     * src into every block of dst. MLA splits and joins its per-head parts with it (q's rotary part, k from kv_b's
     * nope part and the one shared rotary key, v).
     */
    void copyColumns(Tensor src, int srcCol, int srcStride, Tensor dst, int dstCol, int dstStride, int width, int blocks);

    /** Clamps every element to [−limit, limit] in place (OLMoE's clip_qkv). */
    void clamp(Tensor x, float limit);

    /** Counts NaN and ±Inf elements (F32). */
    long countNonFinite(Tensor x);

    // ---- products ------------------------------------------------------------------------------------------------------

    /** out [rows, N] (+)= x [rows, K] · wᵀ (+ bias) for a Linear weight w [N, K] (HF layout); bias [1, N] or null. */
    void linear(Tensor x, Tensor w, Tensor bias, Tensor out, boolean accumulate);

    /**
     * out[i] = x · w[i]ᵀ (+ bias[i]) for Linear weights that read the same x (q, k and v; MLA's q_a and kv_a); bias
     * entries may be null. The values of separate {@link #linear}s; a backend may run them as one product (the CPU
     * packs x once and runs every weight's tiles in one task list).
     */
    default void linears(Tensor x, Tensor[] w, Tensor[] bias, Tensor[] out) {
        if (w.length != bias.length || w.length != out.length) throw new IllegalArgumentException("linears: " + w.length + " weights, " + bias.length + " biases, " + out.length + " outputs");
        for (int i = 0; i < w.length; i++) linear(x, w[i], bias[i], out[i], false);
    }

    /**
     * Expert products over rows grouped by expert: sorted row r of expert e gets
     * {@code out[r] = in[r'] · w[e]ᵀ}, where r' = groups.sortedToken[r] when {@code gather} (x in token order) and
     * r' = r otherwise (x already in sorted order). {@code w} holds one [N, K] tensor per expert.
     */
    void groupedLinear(Tensor x, boolean gather, ExpertGroups groups, List<Tensor> w, Tensor out);

    /**
     * y[r] += bias[e] for every sorted row r of expert e (rows offsets[e]..offsets[e+1]): the per-expert biases of
     * a grouped product (GPT-OSS). bias [experts, N] F32 (row e for expert e), y [slots, N] F32.
     */
    void addGroupedBias(Tensor y, ExpertGroups groups, Tensor bias);

    // ---- attention -------------------------------------------------------------------------------------------------------

    /**
     * Rotate-half (NeoX) RoPE in place on the first {@code rotaryDim} dims of each head of x [T, heads·headDim]:
     * pair i rotates by positions[t] · invFreq[i]; cos and sin are multiplied by {@code attentionScaling} (YaRN).
     */
    default void rope(Tensor x, int heads, int headDim, int rotaryDim, Tensor positions, float[] invFreq, float attentionScaling) {
        rope(x, heads, headDim, rotaryDim, positions, invFreq, attentionScaling, false);
    }

    /**
     * RoPE as above, the pairing chosen: {@code interleaved} rotates pairs (x[2i], x[2i+1]) of the first rotaryDim
     * dims (GPT-J; Llama 4's complex product; DeepSeek's rope_interleave) by positions[t] · invFreq[i], in place;
     * otherwise the rotate-half pairs (x[i], x[i + rotaryDim/2]).
     */
    void rope(Tensor x, int heads, int headDim, int rotaryDim, Tensor positions, float[] invFreq, float attentionScaling,
              boolean interleaved);

    /**
     * Causal GQA attention (see {@link AttentionLayout}): out [Tq, heads·valueHeadDim] from q [Tq, heads·headDim],
     * k [Tkv, kvHeads·headDim], v [Tkv, kvHeads·valueHeadDim]; fp32 at either precision (at bf16 the GPU's tensor-core
     * kernel splits its operands into bf16 pairs to keep fp32 accuracy, about 1e-6 relative).
     */
    void attention(Tensor q, Tensor k, Tensor v, AttentionLayout layout, Tensor out);

    // ---- routing ---------------------------------------------------------------------------------------------------------

    /**
     * Applies a router rule to logits [T, E]: ids [T, k] I32 by descending choice score, weights [T, k] F32 as the
     * block combines them; bias [1, E] (score-correction, choice only) or null. Same rule as {@code model.Router}.
     */
    void routerTopk(Tensor logits, Tensor bias, RouterRule rule, Tensor ids, Tensor weights);

    /** Groups the slots of ids [T, k] by expert (stable within an expert). The caller closes the result. */
    ExpertGroups groupByExpert(Tensor ids, int experts);

    /** out[t] += Σ_j weights[t, j] · y[slotPos[t·k + j]] for expert outputs y [T·k, H] in sorted order. */
    void combine(Tensor y, ExpertGroups groups, Tensor weights, Tensor out);

    // ---- calibration and evaluation ----------------------------------------------------------------------------------------

    /**
     * h[b] += alpha · Σ_r c_r · x_r x_rᵀ over the rows of group b: rows offsets[b]..offsets[b+1] of the index space,
     * row r reading x[rowIndex[r]] (rowIndex null: x[r]) with c_r = rowWeight[r] (null: 1). h [groups·K, K], F32 on a
     * device and F64 on the CPU; symmetric.
     */
    void gram(Tensor x, Tensor rowIndex, Tensor rowWeight, int[] offsets, Tensor h, float alpha);

    /**
     * Σ y[r, c]² per group of rows (rows rowOffsets[g]..rowOffsets[g+1], columns [colFrom, colTo)), in double: output
     * energies per expert without downloading the rows.
     */
    double[] sumSquaresByGroup(Tensor y, int[] rowOffsets, int colFrom, int colTo);

    /**
     * Per-row statistics of logits [R, V]: out [R, 4] F32 = (−log p(target), KL(ref ‖ this) or 0, argmax, ref argmax or
     * −1); targets [1, R] I32 with −1 for rows without a target (nll 0); reference logits [R, V] or null.
     */
    void tokenStats(Tensor logits, Tensor targets, Tensor reference, Tensor out);

    @Override
    void close();
}
