package org.routecal.compute.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Every {@link Kernel} constant names an entry that exists in the bundled PTX with exactly the declared parameter
 * kinds, and every PTX entry has a constant — so a wrapper/kernel argument mismatch is caught without a GPU.
 */
class KernelSignatureTest {
    private static final Pattern ENTRY = Pattern.compile("\\.visible \\.entry (\\w+)\\(([^)]*)\\)", Pattern.DOTALL);
    private static final Pattern PARAM = Pattern.compile("\\.param \\.(\\w+) ");

    static Map<String, String> entries(String ptx) {
        Map<String, String> out = new LinkedHashMap<>();
        Matcher m = ENTRY.matcher(ptx);
        while (m.find()) {
            StringBuilder sig = new StringBuilder();
            Matcher p = PARAM.matcher(m.group(2));
            while (p.find()) {
                sig.append(switch (p.group(1)) {
                    case "u64" -> 'Q';  // pointer or 64-bit integer: PTX does not distinguish them
                    case "u32" -> 'I';
                    case "f32" -> 'F';
                    default -> '?';
                });
            }
            out.put(m.group(1), sig.toString());
        }
        return out;
    }

    @Test
    void everyKernelMatchesItsPtxEntry() {
        Set<String> seen = new HashSet<>();
        for (String module : java.util.Arrays.stream(Kernel.values()).map(Kernel::module).distinct().toList()) {
            Map<String, String> inPtx = entries(CudaContext.readPtx(module));
            for (Kernel k : Kernel.values()) {
                if (!k.module().equals(module)) continue;
                String ptxSig = inPtx.get(k.entry());
                assertNotNull(ptxSig, k + ": no entry " + k.entry() + " in " + module + ".ptx (entries: " + inPtx.keySet() + ")");
                assertEquals(ptxSig, k.signature().replace('P', 'Q').replace('L', 'Q'), k + ": parameter kinds differ from the PTX");
                seen.add(module + "/" + k.entry());
            }
            for (String e : inPtx.keySet()) assertTrue(seen.contains(module + "/" + e), module + ".ptx entry " + e + " has no Kernel constant");
        }
    }

    @Test
    void everyCudaSourceHasBundledPtxWithEntries() throws Exception {
        for (String module : PtxFiles.modules()) {
            assertTrue(!entries(CudaContext.readPtx(module)).isEmpty(), module + ".ptx has no kernel entries");
        }
    }
}
