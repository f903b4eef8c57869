package org.routecal.compute.cuda;

import org.routecal.compute.cuda.ref.RouterScoring;
/**
 * Typed launchers for the kernels in {@code cuda/*.cu}, one method per operation. Each method checks the
 * preconditions its kernel relies on (alignment, size limits) with a message naming the kernel, picks the variant and
 * launch configuration documented at the top of the .cu file, and queues the launch on {@code stream}. Buffers hold
 * row-major data in the layouts stated per method; all calls are asynchronous.
 */
public final class CudaKernels {
    private static final int BLOCK = 256;
    /**
     * Which gemm_bf16.cu variant the bf16 GEMMs run: 2 (four stages, ldmatrix; the default) or 1, set with
     * {@code -Droutecal.gemmVariant} for side-by-side measurements. Both give bit-identical results (the same k order
     * per output).
     */
    static final int GEMM_VARIANT = gemmVariant(System.getProperty("routecal.gemmVariant", "2"));
    /** Dynamic shared memory of variant 2: four stages of a 128×40 A tile and a 128×40 W tile, bf16. */
    static final int GEMM_V2_SHARED = 4 * (128 + 128) * 40 * 2;

    static int gemmShared(int variant) {
        return variant == 2 ? GEMM_V2_SHARED : 0;
    }

    private int gemmVariant = GEMM_VARIANT;

    /** Runs the bf16 GEMMs with variant {@code v} (1 or 2) from now on: for benchmarks that time both in one run. */
    public void useGemmVariant(int v) { gemmVariant = gemmVariant(Integer.toString(v)); }

    static int gemmVariant(String spec) {
        if (spec.equals("1") || spec.equals("2")) return Integer.parseInt(spec);
        throw new IllegalArgumentException("-Droutecal.gemmVariant must be 1 or 2, got '" + spec + "'");
    }
    private static final int MAX_GRID = 65535 * 4;
    private final CudaContext ctx;

    public CudaKernels(CudaContext ctx) { this.ctx = ctx; }

    public CudaContext context() { return ctx; }

    /** Blocks for a grid-stride kernel: enough to fill the GPU, capped (each thread loops over the rest). */
    private static int blocks(long work, int perBlock) { return (int) Math.min(MAX_GRID, Math.max(1, (work + perBlock - 1) / perBlock)); }

    /** Blocks for a kernel with one thread (or warp) per work item and no stride loop: never capped. */
    private static int blocksExact(long work, int perBlock, Kernel k) {
        long b = Math.max(1, (work + perBlock - 1) / perBlock);
        require(b <= Integer.MAX_VALUE, k, "problem too large for one launch (" + work + " items)");
        return (int) b;
    }

    private static void require(boolean ok, Kernel k, String what) {
        if (!ok) throw new CudaException(k.entry() + ": " + what);
    }

    /** y[rows, dim] (row stride ldy) = rmsnorm(x[rows, dim] (stride ldx)) · w; bf16 output when {@code bf16Out}. */
    public void rmsnorm(DeviceBuffer x, int ldx, DeviceBuffer w, DeviceBuffer y, int ldy, int rows, int dim, float eps,
                        boolean bf16Out, CudaStream stream) {
        boolean perWarp = dim <= 256;  // variant 2 for per-head norms, variant 1 for hidden sizes
        Kernel k = perWarp ? (bf16Out ? Kernel.RMSNORM_WARP_BF16 : Kernel.RMSNORM_WARP_F32)
                : (bf16Out ? Kernel.RMSNORM_BF16 : Kernel.RMSNORM_F32);
        LaunchArgs a = new LaunchArgs().ptr(x).i(ldx).ptr(w).ptr(y).i(ldy).i(rows).i(dim).f(eps);
        ctx.launch(k, perWarp ? (rows + 7) / 8 : rows, 1, 1, BLOCK, 0, stream, a);
    }

    /** NeoX rotate-half RoPE in place on x[tokens, heads, headDim] (token stride ldx); invFreq [rot/2]. */
    public void ropeNeox(DeviceBuffer x, int ldx, DeviceBuffer positions, DeviceBuffer invFreq, int tokens, int heads,
                         int headDim, int rot, float attnScale, CudaStream stream) {
        require(rot % 2 == 0 && rot <= headDim, Kernel.ROPE_NEOX_F32, "rotary dim " + rot + " must be even and ≤ head_dim " + headDim);
        LaunchArgs a = new LaunchArgs().ptr(x).i(ldx).ptr(positions).ptr(invFreq).i(tokens).i(heads).i(headDim).i(rot).f(attnScale);
        ctx.launch(Kernel.ROPE_NEOX_F32, blocksExact((long) tokens * heads * (rot / 2), BLOCK, Kernel.ROPE_NEOX_F32), 1, 1, BLOCK, 0, stream, a);
    }

    /** As {@link #ropeNeox} with interleaved pairs (x[2i], x[2i+1]) (variant 2 of rope.cu). */
    public void ropeInterleaved(DeviceBuffer x, int ldx, DeviceBuffer positions, DeviceBuffer invFreq, int tokens, int heads,
                                int headDim, int rot, float attnScale, CudaStream stream) {
        require(rot % 2 == 0 && rot <= headDim, Kernel.ROPE_INTERLEAVED_F32, "rotary dim " + rot + " must be even and ≤ head_dim " + headDim);
        LaunchArgs a = new LaunchArgs().ptr(x).i(ldx).ptr(positions).ptr(invFreq).i(tokens).i(heads).i(headDim).i(rot).f(attnScale);
        ctx.launch(Kernel.ROPE_INTERLEAVED_F32, blocksExact((long) tokens * heads * (rot / 2), BLOCK, Kernel.ROPE_INTERLEAVED_F32), 1, 1, BLOCK, 0,
                stream, a);
    }

    /** GPT-OSS's clamped SwiGLU (variant 2 of silu_mul.cu): gate/up with row stride ldIn, out [rows, inter] fp32. */
    public void clampedSwiglu(DeviceBuffer gate, DeviceBuffer up, int ldIn, DeviceBuffer out, int rows, int inter, float alpha, float limit,
                              CudaStream stream) {
        LaunchArgs a = new LaunchArgs().ptr(gate).ptr(up).i(ldIn).ptr(out).i(rows).i(inter).f(alpha).f(limit);
        ctx.launch(Kernel.CLAMPED_SWIGLU_F32, blocks((long) rows * inter, BLOCK), 1, 1, BLOCK, 0, stream, a);
    }

    /** out[rows, inter] = silu(gate) · up, gate/up with row stride ldIn (use offsets into one buffer for fused gate_up). */
    public void siluMul(DeviceBuffer gate, DeviceBuffer up, int ldIn, DeviceBuffer out, int rows, int inter, boolean bf16Out,
                        CudaStream stream) {
        Kernel k = bf16Out ? Kernel.SILU_MUL_BF16 : Kernel.SILU_MUL_F32;
        LaunchArgs a = new LaunchArgs().ptr(gate).ptr(up).i(ldIn).ptr(out).i(rows).i(inter);
        ctx.launch(k, blocks((long) rows * inter, BLOCK), 1, 1, BLOCK, 0, stream, a);
    }

    /** y[i] += x[i] for n floats. */
    public void residualAdd(DeviceBuffer y, DeviceBuffer x, long n, CudaStream stream) {
        ctx.launch(Kernel.RESIDUAL_ADD_F32, blocks(n, BLOCK), 1, 1, BLOCK, 0, stream, new LaunchArgs().ptr(y).ptr(x).l(n));
    }

    /** y = bf16(x) (round to nearest even) for n elements. */
    public void castToBf16(DeviceBuffer x, DeviceBuffer y, long n, CudaStream stream) {
        ctx.launch(Kernel.CAST_F32_BF16, blocks(n, BLOCK), 1, 1, BLOCK, 0, stream, new LaunchArgs().ptr(x).ptr(y).l(n));
    }

    /** Router scoring + top-k (see router_topk.cu for the exact rule); bias may be null. */
    public void routerTopk(DeviceBuffer logits, DeviceBuffer bias, int tokens, int experts, int k, RouterScoring scoring,
                           boolean renormalize, float routedScaling, DeviceBuffer topkIds, DeviceBuffer topkWeights,
                           CudaStream stream) {
        require(experts <= 256 && k >= 1 && k <= 8 && k <= experts, Kernel.ROUTER_TOPK,
                "supports experts ≤ 256 and 1 ≤ k ≤ 8, got experts=" + experts + " k=" + k);
        LaunchArgs a = new LaunchArgs().ptr(logits).ptr(bias).i(tokens).i(experts).i(k).i(scoring.code())
                .i(renormalize ? 1 : 0).f(routedScaling).ptr(topkIds).ptr(topkWeights);
        ctx.launch(Kernel.ROUTER_TOPK, (tokens + 7) / 8, 1, 1, BLOCK, 0, stream, a);
    }

    /**
     * Groups routed slots by expert: counts [experts] (zeroed here), offsets [experts+1], sortedToken [n] and
     * slotPos [n] for ids = topkIds [tokens, k] flattened (n = tokens·k). Stable: rows of one expert stay in token order.
     */
    public void sortByExpert(DeviceBuffer ids, int tokens, int k, int experts, DeviceBuffer counts, DeviceBuffer offsets,
                             DeviceBuffer sortedToken, DeviceBuffer slotPos, CudaStream stream) {
        require(experts <= 1024, Kernel.EXPERT_HISTOGRAM, "supports ≤ 1024 experts, got " + experts);
        int n = tokens * k;
        counts.zero(stream);
        ctx.launch(Kernel.EXPERT_HISTOGRAM, Math.min(1024, blocks(n, BLOCK)), 1, 1, BLOCK, 0, stream,
                new LaunchArgs().ptr(ids).i(n).i(experts).ptr(counts));
        ctx.launch(Kernel.EXPERT_OFFSETS, 1, 1, 1, 32, 0, stream, new LaunchArgs().ptr(counts).i(experts).ptr(offsets));
        ctx.launch(Kernel.MOE_SORT_STABLE, experts, 1, 1, BLOCK, 0, stream,
                new LaunchArgs().ptr(ids).i(n).i(k).ptr(offsets).ptr(sortedToken).ptr(slotPos));
    }

    /** counts[e] += number of ids equal to e (counts is not cleared). */
    public void expertHistogram(DeviceBuffer ids, int n, int experts, DeviceBuffer counts, CudaStream stream) {
        require(experts <= 1024, Kernel.EXPERT_HISTOGRAM, "supports ≤ 1024 experts, got " + experts);
        ctx.launch(Kernel.EXPERT_HISTOGRAM, Math.min(1024, blocks(n, BLOCK)), 1, 1, BLOCK, 0, stream,
                new LaunchArgs().ptr(ids).i(n).i(experts).ptr(counts));
    }

    /** out[t] (+)= Σ_j w[t,j] · y[slotPos[t·k+j]]; y [tokens·k, hidden] in expert-sorted order. */
    public void moeCombine(DeviceBuffer y, DeviceBuffer slotPos, DeviceBuffer topkWeights, int tokens, int k, int hidden,
                           DeviceBuffer out, boolean accumulate, CudaStream stream) {
        LaunchArgs a = new LaunchArgs().ptr(y).ptr(slotPos).ptr(topkWeights).i(tokens).i(k).i(hidden).ptr(out).i(accumulate ? 1 : 0);
        ctx.launch(Kernel.MOE_COMBINE, blocks((long) tokens * hidden, BLOCK), 1, 1, BLOCK, 0, stream, a);
    }

    /** C[M, N] (stride ldc) (+)= A[M, K] (bf16, stride lda) · Wᵀ, W [N, K] bf16. */
    public void gemmBf16(DeviceBuffer a, int lda, DeviceBuffer w, DeviceBuffer c, int ldc, int m, int n, int kDim,
                         boolean bf16Out, boolean accumulate, CudaStream stream) {
        Kernel k = switch (gemmVariant) {
            case 2 -> bf16Out ? Kernel.GEMM_BF16_V2_BF16 : Kernel.GEMM_BF16_V2_F32;
            default -> bf16Out ? Kernel.GEMM_BF16_BF16 : Kernel.GEMM_BF16_F32;
        };
        launchGemm(k, kDim, lda, n, (m + 127) / 128, stream,
                new LaunchArgs().ptr(a).i(lda).ptr(w).ptr(c).i(ldc).i(m).i(n).i(kDim).i(accumulate ? 1 : 0));
    }

    /**
     * Expert GEMM over rows grouped by expert: rows offsets[e]..offsets[e+1] of C [rows, N] get A[rowIndex[r]] · W_eᵀ,
     * W [experts, N, K] bf16. {@code totalRows} (= offsets[experts]) sizes the grid from the host without a sync.
     */
    public void groupedGemmBf16(DeviceBuffer a, int lda, DeviceBuffer rowIndex, DeviceBuffer offsets, int experts, int totalRows,
                                DeviceBuffer w, DeviceBuffer c, int ldc, int n, int kDim, boolean bf16Out, boolean accumulate,
                                CudaStream stream) {
        Kernel k = switch (gemmVariant) {
            case 2 -> bf16Out ? Kernel.GROUPED_GEMM_BF16_V2_BF16 : Kernel.GROUPED_GEMM_BF16_V2_F32;
            default -> bf16Out ? Kernel.GROUPED_GEMM_BF16_BF16 : Kernel.GROUPED_GEMM_BF16_F32;
        };
        launchGemm(k, kDim, lda, n, (totalRows + 127) / 128 + experts, stream,
                new LaunchArgs().ptr(a).i(lda).ptr(rowIndex).ptr(offsets).i(experts).ptr(w).ptr(c).i(ldc).i(n).i(kDim).i(accumulate ? 1 : 0));
    }

    /** One bf16 GEMM launch of the current variant: its column tile, its dynamic shared memory; rowBlocks is grid y. */
    private void launchGemm(Kernel k, int kDim, int lda, int n, int rowBlocks, CudaStream stream, LaunchArgs args) {
        require(kDim % 8 == 0 && lda % 8 == 0, k, "needs K and lda multiples of 8 (16-byte cp.async chunks), got K=" + kDim + " lda=" + lda);
        int shared = gemmShared(gemmVariant), tileN = 128;
        if (shared > 0) ctx.allowDynamicShared(k, shared);
        ctx.launch(k, (n + tileN - 1) / tileN, rowBlocks, 1, BLOCK, shared, stream, args);
    }

    /** Causal GQA prefill attention over packed sequences seqStart [numSeqs+1]; head dim 64 or 128. */
    public void attentionPrefill(DeviceBuffer q, int ldq, DeviceBuffer k, int ldk, DeviceBuffer v, int ldv, DeviceBuffer out, int ldo,
                                 DeviceBuffer seqStart, int numSeqs, int totalTokens, int hq, int hkv, int headDim, float scale,
                                 CudaStream stream) {
        Kernel kern = headDim == 128 ? Kernel.ATTENTION_PREFILL_D128 : Kernel.ATTENTION_PREFILL_D64;
        require(headDim == 64 || headDim == 128, kern, "head_dim " + headDim + " not compiled (64 and 128 are)");
        require(hkv > 0 && hq % hkv == 0, kern, "query heads " + hq + " must be a multiple of KV heads " + hkv);
        LaunchArgs a = new LaunchArgs().ptr(q).i(ldq).ptr(k).i(ldk).ptr(v).i(ldv).ptr(out).i(ldo).ptr(seqStart).i(numSeqs)
                .i(hq).i(hkv).f(scale);
        ctx.launch(kern, (totalTokens + 15) / 16 + numSeqs, hq, 1, 128, 0, stream, a);
    }

    /**
     * The same attention on tensor cores at fp32 accuracy (variant 2 of attention_prefill.cu: every operand as hi + lo
     * bf16 terms). Needs 16-byte aligned q, k, v and strides that are multiples of 4.
     */
    public void attentionPrefillTc(DeviceBuffer q, int ldq, DeviceBuffer k, int ldk, DeviceBuffer v, int ldv, DeviceBuffer out, int ldo,
                                   DeviceBuffer seqStart, int numSeqs, int totalTokens, int hq, int hkv, int headDim, float scale,
                                   CudaStream stream) {
        Kernel kern = headDim == 128 ? Kernel.ATTENTION_PREFILL_TC_D128 : Kernel.ATTENTION_PREFILL_TC_D64;
        require(headDim == 64 || headDim == 128, kern, "head_dim " + headDim + " not compiled (64 and 128 are)");
        require(hkv > 0 && hq % hkv == 0, kern, "query heads " + hq + " must be a multiple of KV heads " + hkv);
        require(ldq % 4 == 0 && ldk % 4 == 0 && ldv % 4 == 0 && ldo % 2 == 0, kern,
                "needs ldq, ldk, ldv multiples of 4 and ldo of 2 (float4 loads, float2 stores), got " + ldq + ", " + ldk + ", " + ldv + ", " + ldo);
        LaunchArgs a = new LaunchArgs().ptr(q).i(ldq).ptr(k).i(ldk).ptr(v).i(ldv).ptr(out).i(ldo).ptr(seqStart).i(numSeqs)
                .i(hq).i(hkv).f(scale);
        int shared = 2 * 64 * (headDim + 8) * 2 + 2 * headDim * 72 * 2;  // TcSmem<D>: K and Vᵀ tiles, hi and lo terms
        ctx.allowDynamicShared(kern, shared);
        ctx.launch(kern, (totalTokens + 63) / 64 + numSeqs, hq, 1, 128, shared, stream, a);
    }

    /** H[b] += alpha · Σ_r w_r x_r x_rᵀ over rows offsets[b]..offsets[b+1] (see hessian.cu); X fp32 or bf16. */
    public void hessianAccumulate(DeviceBuffer x, int ldx, boolean xBf16, DeviceBuffer rowIndex, DeviceBuffer rowWeight,
                                  DeviceBuffer offsets, int batches, int kDim, DeviceBuffer h, float alpha, CudaStream stream) {
        Kernel k = xBf16 ? Kernel.HESSIAN_BF16 : Kernel.HESSIAN_F32;
        int tiles = (kDim + 63) / 64;
        LaunchArgs a = new LaunchArgs().ptr(x).i(ldx).ptr(rowIndex).ptr(rowWeight).ptr(offsets).i(kDim).ptr(h).f(alpha);
        ctx.launch(k, tiles, tiles, batches, BLOCK, 0, stream, a);
    }

    /** out = max |x| over n floats; out is zeroed here. */
    public void absmax(DeviceBuffer x, long n, DeviceBuffer out, CudaStream stream) {
        out.zero(stream);
        ctx.launch(Kernel.ABSMAX_F32, Math.min(1024, blocks(n, BLOCK)), 1, 1, BLOCK, 0, stream, new LaunchArgs().ptr(x).l(n).ptr(out));
    }

    /** Per-group scales (and zero points for {@link ScaleMode#INT_ASYMMETRIC}) of W [rows, K], groups of gs columns. */
    public void groupScales(DeviceBuffer w, int rows, int kDim, int gs, ScaleMode mode, int qmin, int qmax, float eps,
                            boolean roundScaleBf16, DeviceBuffer scale, DeviceBuffer zp, CudaStream stream) {
        long items = (long) rows * ((kDim + gs - 1) / gs);
        LaunchArgs a = new LaunchArgs().ptr(w).i(rows).i(kDim).i(gs).i(mode.code()).i(qmin).i(qmax).f(eps)
                .i(roundScaleBf16 ? 1 : 0).ptr(scale).ptr(zp);
        ctx.launch(Kernel.GROUP_SCALES, blocksExact(items, 8, Kernel.GROUP_SCALES), 1, 1, BLOCK, 0, stream, a);
    }

    /** RTN integer quantization with given scales; q (int8) and deq (fp32) may each be null. */
    public void quantIntGroups(DeviceBuffer w, int rows, int kDim, int gs, DeviceBuffer scale, DeviceBuffer zp, int qmin, int qmax,
                               DeviceBuffer q, DeviceBuffer deq, CudaStream stream) {
        LaunchArgs a = new LaunchArgs().ptr(w).i(rows).i(kDim).i(gs).ptr(scale).ptr(zp).i(qmin).i(qmax).ptr(q).ptr(deq);
        ctx.launch(Kernel.QUANT_INT_GROUPS, blocks((long) rows * kDim, BLOCK), 1, 1, BLOCK, 0, stream, a);
    }

    /** FP8 E4M3 quantization with given scales; q (codes) and deq may each be null. */
    public void quantFp8Groups(DeviceBuffer w, int rows, int kDim, int gs, DeviceBuffer scale, DeviceBuffer q, DeviceBuffer deq,
                               CudaStream stream) {
        LaunchArgs a = new LaunchArgs().ptr(w).i(rows).i(kDim).i(gs).ptr(scale).ptr(q).ptr(deq);
        ctx.launch(Kernel.QUANT_FP8_GROUPS, blocks((long) rows * kDim, BLOCK), 1, 1, BLOCK, 0, stream, a);
    }

    /** NVFP4: packed [rows, K/2], FP8 group scales [rows, K/16]; globalScale = 448·6/amax (a divisor). */
    public void nvfp4Quantize(DeviceBuffer w, int rows, int kDim, float globalScale, float eps, DeviceBuffer packed,
                              DeviceBuffer scaleFp8, DeviceBuffer deq, CudaStream stream) {
        require(kDim % 16 == 0, Kernel.NVFP4_QUANTIZE, "in_features " + kDim + " must be a multiple of 16");
        LaunchArgs a = new LaunchArgs().ptr(w).i(rows).i(kDim).f(globalScale).f(eps).ptr(packed).ptr(scaleFp8).ptr(deq);
        ctx.launch(Kernel.NVFP4_QUANTIZE, blocksExact((long) rows * (kDim / 16), BLOCK, Kernel.NVFP4_QUANTIZE), 1, 1, BLOCK, 0, stream, a);
    }

    /**
     * Upper Cholesky factors of the damped inverse Hessians, batched: H, work, u [batches, K, K]; status [batches]
     * (0 ok, j+1 = not positive definite at column j: fall back to RTN for that matrix).
     */
    public void hinvUpper(DeviceBuffer h, DeviceBuffer work, DeviceBuffer u, int batches, int kDim, float dampFraction,
                          DeviceBuffer status, CudaStream stream) {
        require(kDim <= 4096, Kernel.HINV_UPPER_B1, "K " + kDim + " exceeds 4096");
        ctx.launch(Kernel.HINV_UPPER_B1, batches, 1, 1, 1024, 0, stream,
                new LaunchArgs().ptr(h).ptr(work).ptr(u).i(kDim).f(dampFraction).ptr(status));
    }

    /** As {@link #hinvUpper} in double (work [batches, K, K] doubles); K ≤ 3072. */
    public void hinvUpperF64(DeviceBuffer h, DeviceBuffer work, DeviceBuffer u, int batches, int kDim, float dampFraction,
                             DeviceBuffer status, CudaStream stream) {
        require(kDim <= 3072, Kernel.HINV_UPPER_F64, "K " + kDim + " exceeds 3072");
        ctx.launch(Kernel.HINV_UPPER_F64, batches, 1, 1, 1024, 0, stream,
                new LaunchArgs().ptr(h).ptr(work).ptr(u).i(kDim).f(dampFraction).ptr(status));
    }

    /**
     * GPTQ sweep in place on W [rows, K] with upper Cholesky factors of H⁻¹, in the host solver's order and rounding
     * (see gptq_sweep.cu); qRound 0 none, 1 bf16, 2 fp16; block = the solver's block size (≤ 128).
     */
    public void gptqSweep(DeviceBuffer w, int rows, int kDim, DeviceBuffer hinvUpper, int rowsPerH, DeviceBuffer scale,
                          DeviceBuffer zp, DeviceBuffer gIdx, int gs, int qmin, int qmax, DeviceBuffer loss, int qRound, int block,
                          CudaStream stream) {
        Kernel k = Kernel.GPTQ_SWEEP_ROWS32;
        require(kDim % 32 == 0, k, "in_features " + kDim + " must be a multiple of 32");
        require(rowsPerH % 32 == 0, k, "rows per Hessian " + rowsPerH + " must be a multiple of 32 (or 0 = shared)");
        require(block >= 1 && block <= 128, k, "block size " + block + " must be 1..128");
        LaunchArgs a = new LaunchArgs().ptr(w).i(rows).i(kDim).ptr(hinvUpper).i(rowsPerH).ptr(scale).ptr(zp).ptr(gIdx).i(gs)
                .i(qmin).i(qmax).ptr(loss).i(qRound).i(block);
        ctx.launch(k, (rows + 31) / 32, 1, 1, BLOCK, 0, stream, a);
    }

    /** Fills n elements with deterministic uniform noise of standard deviation {@code scale} (random_init.cu). */
    public void fillUniform(DeviceBuffer out, long n, boolean bf16, long seed, float scale, CudaStream stream) {
        ctx.launch(bf16 ? Kernel.FILL_UNIFORM_BF16 : Kernel.FILL_UNIFORM_F32, blocks(n, BLOCK), 1, 1, BLOCK, 0, stream,
                new LaunchArgs().ptr(out).l(n).l(seed).f(scale));
    }

    // ---- kernels of the device-resident engine (elementwise.cu, gemm_f32.cu, attention_general.cu, token_stats.cu) ----

    /** out [n, cols] fp32 = table rows ids[0..n) (table fp32 or bf16). */
    public void gatherRows(DeviceBuffer table, boolean bf16, DeviceBuffer ids, int n, int cols, DeviceBuffer out, CudaStream stream) {
        Kernel k = bf16 ? Kernel.GATHER_ROWS_BF16 : Kernel.GATHER_ROWS_F32;
        ctx.launch(k, blocks((long) n * cols, BLOCK), 1, 1, BLOCK, 0, stream, new LaunchArgs().ptr(table).ptr(ids).i(n).i(cols).ptr(out));
    }

    /** y [rows, cols] += bias [cols]. */
    public void addBias(DeviceBuffer y, DeviceBuffer bias, long rows, int cols, CudaStream stream) {
        ctx.launch(Kernel.ADD_BIAS_F32, blocks(rows * cols, BLOCK), 1, 1, BLOCK, 0, stream, new LaunchArgs().ptr(y).ptr(bias).l(rows).i(cols));
    }

    /** x [rows, cols] *= sigmoid(gate[r]). */
    public void scaleRowsSigmoid(DeviceBuffer x, DeviceBuffer gate, long rows, int cols, CudaStream stream) {
        ctx.launch(Kernel.SCALE_ROWS_SIGMOID_F32, blocks(rows * cols, BLOCK), 1, 1, BLOCK, 0, stream,
                new LaunchArgs().ptr(x).ptr(gate).l(rows).i(cols));
    }

    /** x = clamp(x, −limit, limit) for n floats. */
    public void clamp(DeviceBuffer x, long n, float limit, CudaStream stream) {
        ctx.launch(Kernel.CLAMP_F32, blocks(n, BLOCK), 1, 1, BLOCK, 0, stream, new LaunchArgs().ptr(x).l(n).f(limit));
    }

    /** count (one u64, zeroed here) = number of NaN/Inf among n floats. */
    public void countNonFinite(DeviceBuffer x, long n, DeviceBuffer count, CudaStream stream) {
        count.zero(stream);
        ctx.launch(Kernel.COUNT_NONFINITE_F32, Math.min(2048, blocks(n, BLOCK)), 1, 1, BLOCK, 0, stream, new LaunchArgs().ptr(x).l(n).ptr(count));
    }

    /** out[g] (doubles, zeroed here) = Σ y[r, c]² over rows offsets[g]..offsets[g+1], columns [colFrom, colTo). */
    public void sumSquaresGroups(DeviceBuffer y, int ld, DeviceBuffer offsets, int groups, int colFrom, int colTo, DeviceBuffer out,
                                 CudaStream stream) {
        out.zero(stream);
        ctx.launch(Kernel.SUM_SQUARES_GROUPS, groups, 8, 1, BLOCK, 0, stream,
                new LaunchArgs().ptr(y).i(ld).ptr(offsets).i(colFrom).i(colTo).ptr(out));
    }

    /** dst [rows, K] = src with columns gathered through idx [rows / rowsPerIdx, K] (−1 → 0); see elementwise.cu. */
    public void gatherCols(DeviceBuffer src, long rows, int kDim, DeviceBuffer idx, int rowsPerIdx, DeviceBuffer dst, CudaStream stream) {
        ctx.launch(Kernel.GATHER_COLS_F32, blocks(rows * kDim, BLOCK), 1, 1, BLOCK, 0, stream,
                new LaunchArgs().ptr(src).l(rows).i(kDim).ptr(idx).i(rowsPerIdx).ptr(dst));
    }

    /** out [batches·K] = diagonals of h [batches·K, K]. */
    public void diag(DeviceBuffer h, int kDim, int batches, DeviceBuffer out, CudaStream stream) {
        ctx.launch(Kernel.DIAG_F32, blocks((long) kDim * batches, BLOCK), 1, 1, BLOCK, 0, stream, new LaunchArgs().ptr(h).i(kDim).i(batches).ptr(out));
    }

    /** y += alpha · x for n floats. */
    public void axpy(DeviceBuffer y, DeviceBuffer x, float alpha, long n, CudaStream stream) {
        ctx.launch(Kernel.AXPY_F32, blocks(n, BLOCK), 1, 1, BLOCK, 0, stream, new LaunchArgs().ptr(y).ptr(x).f(alpha).l(n));
    }

    /** x = float(bf16(x)) for n floats, in place. */
    public void roundBf16(DeviceBuffer x, long n, CudaStream stream) {
        ctx.launch(Kernel.ROUND_BF16_F32, blocks(n, BLOCK), 1, 1, BLOCK, 0, stream, new LaunchArgs().ptr(x).l(n));
    }

    /** C[M, N] (stride ldc) (+)= A[M, K] (fp32, stride lda) · Wᵀ, W [N, K] fp32. */
    public void gemmF32(DeviceBuffer a, int lda, DeviceBuffer w, DeviceBuffer c, int ldc, int m, int n, int kDim, boolean accumulate,
                        CudaStream stream) {
        ctx.launch(Kernel.GEMM_F32, (n + 63) / 64, (m + 63) / 64, 1, BLOCK, 0, stream,
                new LaunchArgs().ptr(a).i(lda).ptr(w).ptr(c).i(ldc).i(m).i(n).i(kDim).i(accumulate ? 1 : 0));
    }

    /** The fp32 expert GEMM (same contract as {@link #groupedGemmBf16}). */
    public void groupedGemmF32(DeviceBuffer a, int lda, DeviceBuffer rowIndex, DeviceBuffer offsets, int experts, int totalRows,
                               DeviceBuffer w, DeviceBuffer c, int ldc, int n, int kDim, boolean accumulate, CudaStream stream) {
        ctx.launch(Kernel.GROUPED_GEMM_F32, (n + 63) / 64, (totalRows + 63) / 64 + experts, 1, BLOCK, 0, stream,
                new LaunchArgs().ptr(a).i(lda).ptr(rowIndex).ptr(offsets).i(experts).ptr(w).ptr(c).i(ldc).i(n).i(kDim).i(accumulate ? 1 : 0));
    }

    /** Causal attention with separate query and key layouts (decode after a cache, sliding windows); see attention_general.cu. */
    public void attentionGeneral(DeviceBuffer q, int ldq, DeviceBuffer k, int ldk, DeviceBuffer v, int ldv, DeviceBuffer out, int ldo,
                                 DeviceBuffer qStart, DeviceBuffer kvStart, int numSeqs, int totalQ, int hq, int hkv, int headDim,
                                 float scale, int window, CudaStream stream) {
        require(headDim % 32 == 0 && headDim <= 256, Kernel.ATTENTION_GENERAL, "head_dim " + headDim + " must be a multiple of 32 and ≤ 256");
        require(hkv > 0 && hq % hkv == 0, Kernel.ATTENTION_GENERAL, "query heads " + hq + " must be a multiple of KV heads " + hkv);
        LaunchArgs a = new LaunchArgs().ptr(q).i(ldq).ptr(k).i(ldk).ptr(v).i(ldv).ptr(out).i(ldo).ptr(qStart).ptr(kvStart).i(numSeqs)
                .i(totalQ).i(hq).i(hkv).i(headDim).f(scale).i(window);
        ctx.launch(Kernel.ATTENTION_GENERAL, (totalQ + 3) / 4, hq, 1, 128, 0, stream, a);
    }

    /**
     * Attention with value heads of their own width, any head widths ≤ 256, windows, chunks and sinks (see
     * attention_ext.cu); sinks [hq] or null.
     */
    public void attentionExt(DeviceBuffer q, int ldq, DeviceBuffer k, int ldk, DeviceBuffer v, int ldv, DeviceBuffer out, int ldo,
                             DeviceBuffer qStart, DeviceBuffer kvStart, int numSeqs, int totalQ, int hq, int hkv, int dk, int dv, float scale,
                             int window, int chunk, DeviceBuffer sinks, CudaStream stream) {
        require(dk >= 1 && dk <= 256 && dv >= 1 && dv <= 256, Kernel.ATTENTION_EXT, "head widths " + dk + "/" + dv + " must be 1..256");
        require(hkv > 0 && hq % hkv == 0, Kernel.ATTENTION_EXT, "query heads " + hq + " must be a multiple of KV heads " + hkv);
        LaunchArgs a = new LaunchArgs().ptr(q).i(ldq).ptr(k).i(ldk).ptr(v).i(ldv).ptr(out).i(ldo).ptr(qStart).ptr(kvStart).i(numSeqs)
                .i(totalQ).i(hq).i(hkv).i(dk).i(dv).f(scale).i(window).i(chunk).ptr(sinks);
        ctx.launch(Kernel.ATTENTION_EXT, (totalQ + 3) / 4, hq, 1, 128, 0, stream, a);
    }

    /** x[rowIndex[i]] *= scale[i] for i < n (rowIndex null: row i); x has {@code cols} columns, contiguous rows. */
    public void scaleRows(DeviceBuffer x, int cols, DeviceBuffer scale, DeviceBuffer rowIndex, int n, CudaStream stream) {
        ctx.launch(Kernel.SCALE_ROWS_F32, blocks((long) n * cols, BLOCK), 1, 1, BLOCK, 0, stream,
                new LaunchArgs().ptr(x).i(cols).ptr(scale).ptr(rowIndex).i(n));
    }

    /** Column blocks of src [rows, ldSrc] into dst [rows, ldDst] (see elementwise.cu copy_columns_f32). */
    public void copyColumns(DeviceBuffer src, int ldSrc, int srcCol, int srcStride, DeviceBuffer dst, int ldDst, int dstCol, int dstStride,
                            int width, int blocks, long rows, CudaStream stream) {
        ctx.launch(Kernel.COPY_COLUMNS_F32, blocks(rows * blocks * width, BLOCK), 1, 1, BLOCK, 0, stream,
                new LaunchArgs().ptr(src).i(ldSrc).i(srcCol).i(srcStride).ptr(dst).i(ldDst).i(dstCol).i(dstStride).i(width).i(blocks).l(rows));
    }

    /** y [rows, cols] sorted rows of expert e += bias[e] (bias [experts, cols]; offsets [experts + 1]). */
    public void addGroupedBias(DeviceBuffer y, int cols, DeviceBuffer bias, DeviceBuffer offsets, int experts, long rows, CudaStream stream) {
        require(experts >= 1, Kernel.ADD_GROUPED_BIAS_F32, "needs at least one expert");
        ctx.launch(Kernel.ADD_GROUPED_BIAS_F32, blocks(rows * cols, BLOCK), 1, 1, BLOCK, 0, stream,
                new LaunchArgs().ptr(y).i(cols).ptr(bias).ptr(offsets).i(experts).l(rows));
    }

    /** Per-row (nll, kl, argmax, ref argmax) of logits [rows, vocab]; ref may be null. */
    public void tokenStats(DeviceBuffer logits, DeviceBuffer ref, DeviceBuffer targets, int rows, int vocab, DeviceBuffer out,
                           CudaStream stream) {
        ctx.launch(Kernel.TOKEN_STATS, rows, 1, 1, BLOCK, 0, stream, new LaunchArgs().ptr(logits).ptr(ref).ptr(targets).i(vocab).ptr(out));
    }
}
