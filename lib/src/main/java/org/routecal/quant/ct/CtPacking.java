package org.routecal.quant.ct;

/**
 * compressed-tensors' bit packing (compressors/pack_quantized/helpers.py, nvfp4/helpers.py), pure functions.
 * Int codes are offset to unsigned ({@code u = q + 2^(bits-1)}) and packed densely into little-endian int32 words
 * along a row: element c occupies bits [c·bits, (c+1)·bits) of the row's bit string, spilling into the next word
 * when it crosses a boundary (for 4 and 8 bits: 8 or 4 whole elements per word, column 8k in the lowest nibble).
 * E2M1 codes go two per byte, the even column in the low nibble.
 */
public final class CtPacking {
    private CtPacking() {}

    /** Packed int32 words per row for {@code cols} elements of {@code bits}. */
    public static int packedCols(int cols, int bits) {
        return (int) (((long) cols * bits + 31) / 32);
    }

    /** Packs signed codes [rows, cols] row-major into int32 [rows, packedCols] along the columns. */
    public static int[] packInt(int[] codes, int rows, int cols, int bits) {
        int pc = packedCols(cols, bits);
        int[] out = new int[rows * pc];
        int offset = 1 << (bits - 1), mask = (1 << bits) - 1;
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                long u = (codes[r * cols + c] + offset) & mask;
                long bit = (long) c * bits;
                int word = (int) (bit >>> 5), shift = (int) (bit & 31);
                out[r * pc + word] |= (int) (u << shift);
                if (shift + bits > 32) out[r * pc + word + 1] |= (int) (u >>> (32 - shift));
            }
        }
        return out;
    }

    /** Inverse of {@link #packInt}: signed codes [rows, cols]. */
    public static int[] unpackInt(int[] packed, int rows, int cols, int bits) {
        int pc = packedCols(cols, bits);
        if (packed.length != rows * pc) {
            throw new IllegalArgumentException("packed length " + packed.length + " != " + rows + "×" + pc);
        }
        int[] out = new int[rows * cols];
        int offset = 1 << (bits - 1), mask = (1 << bits) - 1;
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                long bit = (long) c * bits;
                int word = (int) (bit >>> 5), shift = (int) (bit & 31);
                long v = (packed[r * pc + word] & 0xFFFFFFFFL) >>> shift;
                if (shift + bits > 32) v |= (packed[r * pc + word + 1] & 0xFFFFFFFFL) << (32 - shift);
                out[r * cols + c] = (int) (v & mask) - offset;
            }
        }
        return out;
    }

    /** Zero points [rows, groups] packed along dim 0 (compressed-tensors: transpose, pack, transpose back). */
    public static int[] packAlongRows(int[] values, int rows, int cols, int bits) {
        int[] t = transpose(values, rows, cols);
        int[] packed = packInt(t, cols, rows, bits); // [cols, packedCols(rows)]
        return transpose(packed, cols, packedCols(rows, bits));
    }

    /** Inverse of {@link #packAlongRows}. */
    public static int[] unpackAlongRows(int[] packed, int rows, int cols, int bits) {
        int[] t = transpose(packed, packedCols(rows, bits), cols);
        return transpose(unpackInt(t, cols, rows, bits), cols, rows);
    }

    static int[] transpose(int[] a, int rows, int cols) {
        int[] t = new int[a.length];
        for (int r = 0; r < rows; r++) for (int c = 0; c < cols; c++) t[c * rows + r] = a[r * cols + c];
        return t;
    }

    /** E2M1 codes [rows, cols] (cols even) into bytes [rows, cols/2]. */
    public static byte[] packFp4(int[] codes, int rows, int cols) {
        byte[] out = new byte[rows * cols / 2];
        for (int i = 0; i < out.length; i++) out[i] = (byte) ((codes[2 * i] & 0xF) | ((codes[2 * i + 1] & 0xF) << 4));
        return out;
    }

    /** Inverse of {@link #packFp4}. */
    public static int[] unpackFp4(byte[] packed) {
        int[] out = new int[packed.length * 2];
        for (int i = 0; i < packed.length; i++) {
            out[2 * i] = packed[i] & 0xF;
            out[2 * i + 1] = (packed[i] >>> 4) & 0xF;
        }
        return out;
    }
}
