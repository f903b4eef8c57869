package org.routecal.quant.gptq;

import org.routecal.quant.scheme.QuantizedWeight;

/**
 * Result of one GPTQ solve.
 *
 * @param loss           GPTQ's own loss, Σ (w − q)² / (2·Hinv_ii²) over all weights (llm-compressor's "error")
 * @param weight         codes (original column order), scales, zero points and g_idx
 * @param fallback       true when the Cholesky factorisation failed and the weight was rounded (RTN) instead
 * @param deadColumns    input columns whose Hessian diagonal was 0 (their weights are set to 0, as the reference does)
 * @param fallbackReason why the fallback happened, or null
 */
public record GptqResult(double loss, QuantizedWeight weight, boolean fallback, int deadColumns, String fallbackReason) {}
