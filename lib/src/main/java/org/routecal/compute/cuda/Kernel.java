package org.routecal.compute.cuda;

/**
 * Every kernel entry point in {@code cuda/*.cu}: the module (PTX file) it lives in, its extern "C" name and its
 * parameter signature, one letter per parameter — {@code P} device pointer, {@code L} 64-bit integer (both .u64 in
 * PTX), {@code I} 32-bit integer (.u32), {@code F} float (.f32). {@link LaunchArgs} checks each launch against the
 * signature, and KernelSignatureTest checks the signatures against the PTX, so a wrapper that passes the wrong
 * number or kind of arguments fails in a CPU-only test instead of corrupting memory on the GPU.
 */
public enum Kernel {
    RMSNORM_F32("rmsnorm", "rmsnorm_f32", "PIPPIIIF"),
    RMSNORM_BF16("rmsnorm", "rmsnorm_bf16", "PIPPIIIF"),
    RMSNORM_WARP_F32("rmsnorm", "rmsnorm_warp_f32", "PIPPIIIF"),
    RMSNORM_WARP_BF16("rmsnorm", "rmsnorm_warp_bf16", "PIPPIIIF"),
    ROPE_NEOX_F32("rope", "rope_neox_f32", "PIPPIIIIF"),
    ROPE_INTERLEAVED_F32("rope", "rope_interleaved_f32", "PIPPIIIIF"),
    SILU_MUL_F32("silu_mul", "silu_mul_f32", "PPIPII"),
    SILU_MUL_BF16("silu_mul", "silu_mul_bf16", "PPIPII"),
    CLAMPED_SWIGLU_F32("silu_mul", "clamped_swiglu_f32", "PPIPIIFF"),
    RESIDUAL_ADD_F32("silu_mul", "residual_add_f32", "PPL"),
    CAST_F32_BF16("silu_mul", "cast_f32_bf16", "PPL"),
    ROUTER_TOPK("router_topk", "router_topk", "PPIIIIIFPP"),
    EXPERT_HISTOGRAM("expert_histogram", "expert_histogram", "PIIP"),
    EXPERT_OFFSETS("expert_histogram", "expert_offsets", "PIP"),
    MOE_SORT_STABLE("expert_histogram", "moe_sort_stable", "PIIPPP"),
    MOE_COMBINE("expert_histogram", "moe_combine", "PPPIIIPI"),
    GEMM_BF16_F32("gemm_bf16", "gemm_bf16_f32", "PIPPIIIII"),
    GEMM_BF16_BF16("gemm_bf16", "gemm_bf16_bf16", "PIPPIIIII"),
    GROUPED_GEMM_BF16_F32("gemm_bf16", "grouped_gemm_bf16_f32", "PIPPIPPIIII"),
    GROUPED_GEMM_BF16_BF16("gemm_bf16", "grouped_gemm_bf16_bf16", "PIPPIPPIIII"),
    GEMM_BF16_V2_F32("gemm_bf16", "gemm_bf16_v2_f32", "PIPPIIIII"),
    GEMM_BF16_V2_BF16("gemm_bf16", "gemm_bf16_v2_bf16", "PIPPIIIII"),
    GROUPED_GEMM_BF16_V2_F32("gemm_bf16", "grouped_gemm_bf16_v2_f32", "PIPPIPPIIII"),
    GROUPED_GEMM_BF16_V2_BF16("gemm_bf16", "grouped_gemm_bf16_v2_bf16", "PIPPIPPIIII"),
    ATTENTION_PREFILL_D64("attention_prefill", "attention_prefill_d64", "PIPIPIPIPIIIF"),
    ATTENTION_PREFILL_D128("attention_prefill", "attention_prefill_d128", "PIPIPIPIPIIIF"),
    ATTENTION_PREFILL_TC_D64("attention_prefill", "attention_prefill_tc_d64", "PIPIPIPIPIIIF"),
    ATTENTION_PREFILL_TC_D128("attention_prefill", "attention_prefill_tc_d128", "PIPIPIPIPIIIF"),
    HESSIAN_F32("hessian", "hessian_accumulate_f32", "PIPPPIPF"),
    HESSIAN_BF16("hessian", "hessian_accumulate_bf16", "PIPPPIPF"),
    ABSMAX_F32("quantize", "absmax_f32", "PLP"),
    GROUP_SCALES("quantize", "group_scales", "PIIIIIIFIPP"),
    QUANT_INT_GROUPS("quantize", "quant_int_groups", "PIIIPPIIPP"),
    QUANT_FP8_GROUPS("quantize", "quant_fp8_groups", "PIIIPPP"),
    NVFP4_QUANTIZE("quantize", "nvfp4_quantize", "PIIFFPPP"),
    GPTQ_SWEEP_ROWS32("gptq_sweep", "gptq_sweep_rows32", "PIIPIPPPIIIPII"),
    HINV_UPPER_B1("hessian_inverse", "hinv_upper_b1", "PPPIFP"),
    HINV_UPPER_F64("hessian_inverse", "hinv_upper_f64", "PPPIFP"),
    FILL_UNIFORM_BF16("random_init", "fill_uniform_bf16", "PLLF"),
    FILL_UNIFORM_F32("random_init", "fill_uniform_f32", "PLLF"),
    GATHER_ROWS_F32("elementwise", "gather_rows_f32", "PPIIP"),
    GATHER_ROWS_BF16("elementwise", "gather_rows_bf16", "PPIIP"),
    ADD_BIAS_F32("elementwise", "add_bias_f32", "PPLI"),
    SCALE_ROWS_SIGMOID_F32("elementwise", "scale_rows_sigmoid_f32", "PPLI"),
    CLAMP_F32("elementwise", "clamp_f32", "PLF"),
    COUNT_NONFINITE_F32("elementwise", "count_nonfinite_f32", "PLP"),
    ROUND_BF16_F32("elementwise", "round_bf16_f32", "PL"),
    AXPY_F32("elementwise", "axpy_f32", "PPFL"),
    GATHER_COLS_F32("elementwise", "gather_cols_f32", "PLIPIP"),
    DIAG_F32("elementwise", "diag_f32", "PIIP"),
    SUM_SQUARES_GROUPS("elementwise", "sum_squares_groups", "PIPIIP"),
    SCALE_ROWS_F32("elementwise", "scale_rows_f32", "PIPPI"),
    COPY_COLUMNS_F32("elementwise", "copy_columns_f32", "PIIIPIIIIIL"),
    ADD_GROUPED_BIAS_F32("elementwise", "add_grouped_bias_f32", "PIPPIL"),
    GEMM_F32("gemm_f32", "gemm_f32", "PIPPIIIII"),
    GROUPED_GEMM_F32("gemm_f32", "grouped_gemm_f32", "PIPPIPPIIII"),
    ATTENTION_GENERAL("attention_general", "attention_general", "PIPIPIPIPPIIIIIFI"),
    ATTENTION_EXT("attention_ext", "attention_ext", "PIPIPIPIPPIIIIIIFIIP"),
    TOKEN_STATS("token_stats", "token_stats", "PPPIP");

    private final String module;
    private final String entry;
    private final String signature;

    Kernel(String module, String entry, String signature) {
        this.module = module;
        this.entry = entry;
        this.signature = signature;
    }

    /** PTX module name: the .cu file name without extension. */
    public String module() { return module; }

    /** The extern "C" entry-point name in the PTX. */
    public String entry() { return entry; }

    /** One letter per parameter: P pointer, L long, I int, F float. */
    public String signature() { return signature; }

    /** Classpath resource of a module's PTX (bundled in the lib jar by the build). */
    public static String ptxResource(String module) { return "/org/routecal/compute/cuda/ptx/" + module + ".ptx"; }
}
