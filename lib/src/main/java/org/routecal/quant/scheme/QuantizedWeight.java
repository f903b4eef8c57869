package org.routecal.quant.scheme;

/**
 * One quantized weight: codes in the original column order plus the parameters to decode them.
 *
 * @param scheme    the grid
 * @param rows      output features
 * @param cols      input features
 * @param codes     [rows, cols] row-major codes as {@link QuantScheme#encode} returns them
 * @param params    scales / zero points / global scale
 * @param groupSize input columns per group (when {@code gIdx} is null, column c is in group c / groupSize)
 * @param gIdx      [cols] group of each original column (GPTQ group act-order), or null
 */
public record QuantizedWeight(QuantScheme scheme, int rows, int cols, int[] codes, QuantParams params, int groupSize,
                              int[] gIdx) {
    public QuantizedWeight {
        if (codes.length != rows * cols) throw new IllegalArgumentException("codes length " + codes.length + " != " + rows + "×" + cols);
        if (gIdx != null && gIdx.length != cols) throw new IllegalArgumentException("g_idx length " + gIdx.length + " != " + cols);
    }

    /** Scale group of an original column. */
    public int groupOf(int col) {
        return gIdx != null ? gIdx[col] : col / groupSize;
    }

    /** The dequantized weight, [rows, cols] row-major. */
    public float[] dequantize() {
        float[] out = new float[rows * cols];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                int g = groupOf(c);
                out[r * cols + c] = scheme.decode(codes[r * cols + c], params.effectiveScale(r, g), params.zero(r, g));
            }
        }
        return out;
    }
}
