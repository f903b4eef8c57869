package org.routecal.quant.scheme;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The fused rounding error equals the general path's dequantize − w bit for bit, whatever the scheme. */
class RtnErrorTest {
    @ParameterizedTest
    // cols 387 with per-row groups: a tail shorter than a vector in every row
    @CsvSource({"4,true,128,BF16,384", "4,true,0,BF16,384", "4,true,0,BF16,387", "8,true,32,F32,384", "3,true,64,F16,384",
            "4,false,128,BF16,384", "2,true,0,F32,387"})
    void fusedErrorEqualsQuantizeDequantizeMinusW(int bits, boolean symmetric, int group, ScaleDType dtype, int cols) {
        int rows = 24;
        float[] w = new float[rows * cols];
        Random r = new Random(bits * 31 + group);
        for (int i = 0; i < w.length; i++) w[i] = (float) (r.nextGaussian() * 0.02);
        for (int c = 0; c < cols; c++) w[3 * cols + c] = 0f;                  // an all-zero row: the eps scale
        for (int c = 0; c < 128; c++) w[5 * cols + c] = 0.5f * (c % 3 - 1);  // exact ties of x/scale on the grid
        w[7 * cols + 1] = -0f;
        IntScheme scheme = new IntScheme(bits, symmetric, group, dtype);
        float[] q = Rtn.quantize(scheme, w, rows, cols).dequantize();
        float[] e = Rtn.error(scheme, w, rows, cols);
        for (int i = 0; i < w.length; i++) {
            assertEquals(Float.floatToIntBits(q[i] - w[i]), Float.floatToIntBits(e[i]), "element " + i);
        }
    }
}
