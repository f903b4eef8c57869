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
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CudaKernels.gemmVariant("3"));
        assertTrue(e.getMessage().contains("routecal.gemmVariant"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> CudaKernels.gemmVariant(" 2"));
    }

    @Test
    void sharedMemoryOfEachVariantFitsAnSm86Block() {
        // variant 1 is static (40 KiB); 2 needs the dynamic-smem opt-in above 48 KiB and must fit sm_86/89's 99 KiB
        // per block (sm_80 has 163 KiB)
        assertEquals(0, CudaKernels.gemmShared(1));
        assertTrue(CudaKernels.gemmShared(2) > 48 * 1024);
        assertTrue(CudaKernels.gemmShared(2) <= 99 * 1024);
    }
}
