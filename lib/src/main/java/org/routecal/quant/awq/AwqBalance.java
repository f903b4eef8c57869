package org.routecal.quant.awq;

import org.routecal.quant.scheme.QuantScheme;

/**
 * A Linear layer that reads the smoothed activation (a "balance layer"): its columns are multiplied by the AWQ scales.
 *
 * @param module HF module name (errors and reports)
 * @param weight [rows, cols] row-major, cols = the smoothed channel count; not modified
 * @param rows   output features
 * @param cols   input features
 * @param scheme its quantization grid, or null when it stays unquantized (a router): then it is scaled with the others
 *               but takes no part in the search, as in llm-compressor
 */
public record AwqBalance(String module, float[] weight, int rows, int cols, QuantScheme scheme) {
    public AwqBalance {
        if (weight.length != (long) rows * cols) {
            throw new IllegalArgumentException("module " + module + ": weight has " + weight.length + " values, expected " + rows + "×" + cols);
        }
    }

    public boolean quantized() {
        return scheme != null;
    }
}
