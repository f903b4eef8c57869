package org.routecal.compute.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The committed PTX (the fallback bundled when nvcc is absent) equals what this nvcc produces from cuda/*.cu, and
 * every PTX file assembles for sm_80 and sm_90 with ptxas — the closest we get to "the driver will load it" on a
 * machine without a GPU. Each check is skipped, with the reason, when its tool is missing.
 */
class PtxBuildTest {
    @Test
    void committedPtxIsInSyncWithSources() throws Exception {
        Assumptions.assumeTrue(PtxFiles.onPath("nvcc"), "skipped: nvcc not on PATH, cannot check committed PTX against cuda/*.cu");
        Path fresh = Path.of("target", "ptx-sync");
        PtxFiles.Result r = PtxFiles.run(List.of("bash", PtxFiles.CUDA_DIR.resolve("build_ptx.sh").toString(), fresh.toString()));
        assertEquals(0, r.code(), "build_ptx.sh failed:\n" + r.output());
        String committedHeader = Files.readString(PtxFiles.COMMITTED.resolve("rmsnorm.ptx")).lines().limit(6).reduce("", String::concat);
        String freshHeader = Files.readString(fresh.resolve("rmsnorm.ptx")).lines().limit(6).reduce("", String::concat);
        Assumptions.assumeTrue(committedHeader.equals(freshHeader),
                "skipped: this nvcc differs from the one that produced the committed PTX; run cuda/build_ptx.sh --update with it if intended");
        for (String m : PtxFiles.modules()) {
            Path c = PtxFiles.COMMITTED.resolve(m + ".ptx");
            assertTrue(Files.exists(c), c + " is missing: run cuda/build_ptx.sh --update");
            assertEquals(Files.readString(fresh.resolve(m + ".ptx")), Files.readString(c),
                    c + " is stale relative to cuda/" + m + ".cu: run cuda/build_ptx.sh --update and commit");
        }
    }

    @Test
    void committedPtxAssemblesForAmpereAndHopper() throws Exception {
        Assumptions.assumeTrue(PtxFiles.onPath("ptxas"), "skipped: ptxas not on PATH");
        for (String m : PtxFiles.modules()) {
            for (String arch : new String[] {"sm_80", "sm_90"}) {
                PtxFiles.Result r = PtxFiles.run(List.of("ptxas", "-arch=" + arch, "-o", "/dev/null",
                        PtxFiles.COMMITTED.resolve(m + ".ptx").toString()));
                assertEquals(0, r.code(), "ptxas -arch=" + arch + " " + m + ".ptx:\n" + r.output());
            }
        }
    }
}
