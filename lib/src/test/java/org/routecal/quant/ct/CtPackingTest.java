package org.routecal.quant.ct;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.routecal.quant.FixtureTensors;

/**
 * Int packing against compressed-tensors' own {@code pack_to_int32} (tests/make_quant_fixtures.py writes
 * packing.safetensors: random codes at 1..8 bits, 77 columns so elements straddle int32 words, and zero points packed
 * along 13 rows), plus round trips on shapes the fixture does not cover.
 */
class CtPackingTest {

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3, 4, 5, 6, 7, 8})
    void packsLikeCompressedTensorsBitForBit(int bits) throws IOException {
        FixtureTensors t = new FixtureTensors(FixtureTensors.DIR.resolve("packing.safetensors"));
        int[] codes = t.ints("codes_" + bits);
        int rows = (int) t.shape("codes_" + bits)[0], cols = (int) t.shape("codes_" + bits)[1];
        int[] packed = t.ints("packed_" + bits);
        assertArrayEquals(new long[]{rows, CtPacking.packedCols(cols, bits)}, t.shape("packed_" + bits), "packed shape");
        assertArrayEquals(packed, CtPacking.packInt(codes, rows, cols, bits), "weight_packed words");
        assertArrayEquals(codes, CtPacking.unpackInt(packed, rows, cols, bits));

        int[] zeros = t.ints("zeros_" + bits);
        int zr = (int) t.shape("zeros_" + bits)[0], zc = (int) t.shape("zeros_" + bits)[1];
        int[] zp = t.ints("zeros_packed_" + bits);
        assertArrayEquals(new long[]{CtPacking.packedCols(zr, bits), zc}, t.shape("zeros_packed_" + bits), "zero-point shape");
        assertArrayEquals(zp, CtPacking.packAlongRows(zeros, zr, zc, bits), "weight_zero_point words");
        assertArrayEquals(zeros, CtPacking.unpackAlongRows(zp, zr, zc, bits));
    }

    @ParameterizedTest
    @ValueSource(ints = {2, 3, 5, 6, 7})
    void roundTripsEveryShapeAndUsesNoSpareBits(int bits) {
        Random rnd = new Random(bits);
        for (int cols : new int[]{1, 10, 11, 31, 32, 33, 96, 100, 2048}) {
            int rows = 3;
            int[] codes = new int[rows * cols];
            int lo = -(1 << (bits - 1)), n = 1 << bits;
            for (int i = 0; i < codes.length; i++) codes[i] = lo + rnd.nextInt(n);
            int[] packed = CtPacking.packInt(codes, rows, cols, bits);
            assertEquals(rows * ((cols * bits + 31) / 32), packed.length, "dense: ceil(cols·bits/32) words per row");
            assertArrayEquals(codes, CtPacking.unpackInt(packed, rows, cols, bits), "cols " + cols);
        }
    }

    @Test
    void threeBitElementTenStraddlesTheFirstWord() {
        // element 10 occupies bits 30..32: its low two bits end word 0, its high bit starts word 1
        int[] codes = new int[11];
        java.util.Arrays.fill(codes, -4); // unsigned 0
        codes[10] = 3;                    // unsigned 7 = 0b111
        int[] packed = CtPacking.packInt(codes, 1, 11, 3);
        assertEquals(0xC0000000, packed[0]);
        assertEquals(1, packed[1]);
    }
}
