package org.routecal.quant.ct;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * How far two quantized checkpoints of one model agree (e.g. quantized on the GPU and on the CPU): per module kind
 * (expert indices folded), the share of dequantized weights that are equal, and overall. Writes JSON.
 *
 * <pre>java -cp routecal.jar org.routecal.quant.ct.CheckpointDiff A B [--out diff.json]</pre>
 */
public final class CheckpointDiff {
    private CheckpointDiff() {}

    public static void main(String[] args) throws Exception {
        Path a = Path.of(args[0]), b = Path.of(args[1]);
        Path out = args.length > 3 && args[2].equals("--out") ? Path.of(args[3]) : null;
        Map<String, long[]> kinds = new TreeMap<>();
        long same = 0, total = 0;
        try (CompressedTensorsReader x = CompressedTensorsReader.open(a); CompressedTensorsReader y = CompressedTensorsReader.open(b)) {
            for (String name : x.names()) {
                if (!name.endsWith(".weight") || !x.dtype(name).equals(y.dtype(name)) || x.dtype(name).matches("BF16|F16|F32")) continue;
                float[] p = x.readFloat(name), q = y.readFloat(name);
                long[] k = kinds.computeIfAbsent(name.replaceAll("experts\\.\\d+", "experts.*"), n -> new long[2]);
                for (int i = 0; i < Math.min(p.length, q.length); i++) {
                    if (p[i] == q[i]) { same++; k[0]++; }
                }
                total += p.length;
                k[1] += p.length;
            }
        }
        Map<String, Object> report = new LinkedHashMap<>();
        report.put("a", a.toString());
        report.put("b", b.toString());
        report.put("weights_compared", total);
        report.put("fraction_equal", total == 0 ? Double.NaN : same / (double) total);
        Map<String, Double> perKind = new LinkedHashMap<>();
        kinds.forEach((n, v) -> perKind.put(n, v[0] / (double) v[1]));
        report.put("per_module_kind", perKind);
        String json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(report);
        System.out.println(json);
        if (out != null) Files.writeString(out, json);
    }
}
