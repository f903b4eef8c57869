package org.routecal.compute.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The -Droutecal.gemmVariant switch: the two compiled variants, a clear error for anything else, and variant 2's smem. */
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
    void variantTwoAsksForItsFourStagesAboveTheStaticLimit() {
        // GB_STAGES × (A tile + W tile) of 128 rows × 40 bf16: must match gemm_bf16.cu and need the dynamic-smem opt-in
        assertEquals(4 * (128 * 40 + 128 * 40) * 2, CudaKernels.GEMM_V2_SHARED);
        assertTrue(CudaKernels.GEMM_V2_SHARED > 48 * 1024);
    }
}
