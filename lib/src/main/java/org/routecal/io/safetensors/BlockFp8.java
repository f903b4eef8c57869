package org.routecal.io.safetensors;

import org.routecal.RoutecalException;

/**
 * FP8 e4m3 weights with one scale per block, as DeepSeek-V3/R1, Kimi K2 and transformers' FineGrainedFP8 store them:
 * {@code <module>.weight} F8_E4M3 [..., rows, cols] and {@code <module>.weight_scale_inv} [..., ⌈rows/bm⌉, ⌈cols/bn⌉]
 * (F32, BF16, or U8 e8m0 powers of two); value = fp8 × scale_inv of its block. Edge blocks are partial when a side
 * is not a multiple of the block (DeepSeek's own weight_dequant; transformers' Fp8Dequantize only accepts whole
 * blocks and is bit-identical where both apply: one float32 multiply per value, checked by
 * tests/make_fixtures.py's deepseek_v3_fp8 fixture).
 */
public final class BlockFp8 {
    private BlockFp8() {}

    /**
     * @param fp8      [leading × rows × cols] e4m3 codes, row-major
     * @param scaleInv [leading × scaleRows × scaleCols] per-block multipliers
     * @return [leading × rows × cols] float32
     */
    public static float[] decode(byte[] fp8, int leading, int rows, int cols, float[] scaleInv, int blockRows, int blockCols,
                                 String tensor) {
        int scaleRows = ceilDiv(rows, blockRows), scaleCols = ceilDiv(cols, blockCols);
        if ((long) leading * rows * cols != fp8.length) {
            throw new RoutecalException(tensor + ": " + fp8.length + " FP8 values for shape [" + leading + ", " + rows + ", " + cols + "]");
        }
        if ((long) leading * scaleRows * scaleCols != scaleInv.length) {
            throw new RoutecalException(tensor + ": weight_scale_inv holds " + scaleInv.length + " scales; blocks of " + blockRows + "×"
                    + blockCols + " over [" + rows + ", " + cols + "] need " + leading + "×" + scaleRows + "×" + scaleCols
                    + " (weight_block_size does not match the checkpoint?)");
        }
        float[] out = new float[fp8.length];
        for (int l = 0; l < leading; l++) {
            for (int r = 0; r < rows; r++) {
                int row = (l * rows + r) * cols, scaleRow = (l * scaleRows + r / blockRows) * scaleCols;
                for (int c = 0; c < cols; c++) {
                    out[row + c] = DTypeCodec.fp8e4m3ToFloat(fp8[row + c]) * scaleInv[scaleRow + c / blockCols];
                }
            }
        }
        return out;
    }

    public static int ceilDiv(int a, int b) { return (a + b - 1) / b; }
}
