package org.routecal.compute.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The -Droutecal.gemmVariant switch: the compiled variants, a clear error for anything else, and their shared memory. */
class GemmVariantTest {
    @Test
    void acceptsTheCompiledVariantsOnly() {
        assertEquals(1, CudaKernels.gemmVariant("1"));
        assertEquals(2, CudaKernels.gemmVariant("2"));
        assertEquals(3, CudaKernels.gemmVariant("3"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CudaKernels.gemmVariant("4"));
        assertTrue(e.getMessage().contains("routecal.gemmVariant"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> CudaKernels.gemmVariant(" 2"));
    }

    @Test
    void sharedMemoryOfEachVariantFitsAnSm80Block() {
        // variant 1 is static (40 KiB); 2 and 3 need the dynamic-smem opt-in above 48 KiB and must fit sm_80's 163 KiB
        // and sm_86/89's 99 KiB per block
        assertEquals(0, CudaKernels.gemmShared(1));
        for (int v : new int[]{2, 3}) {
            assertTrue(CudaKernels.gemmShared(v) > 48 * 1024, "variant " + v);
            assertTrue(CudaKernels.gemmShared(v) <= 99 * 1024, "variant " + v);
        }
    }
}
