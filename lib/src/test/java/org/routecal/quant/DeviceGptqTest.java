package org.routecal.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.routecal.compute.Precision;
import org.routecal.compute.SolverOps;
import org.routecal.compute.Tensor;
import org.routecal.compute.cpu.CpuBackend;
import org.routecal.compute.cpu.ReferenceOps;
import org.routecal.compute.cuda.ref.ReferenceMoeOps;
import org.routecal.model.MoeModel;
import org.routecal.pipeline.Progress;
import org.routecal.quant.ct.CompressedTensorsReader;
import org.routecal.quant.gptq.ActOrder;
import org.routecal.quant.gptq.GptqArgs;

/**
 * The device GPTQ path (batched expert Hessians, act-order permutation, dead columns, the in-place sweep) run on the CPU
 * through the kernels' plain-loop references, against the host solver: the same codes up to fp32 rounding order.
 */
class DeviceGptqTest {
    /** A CPU backend that offers the device solver ops through the kernels' plain-loop references. */
    static final class ReferenceSolverBackend extends CpuBackend implements SolverOps {
        private final ReferenceMoeOps ref = new ReferenceMoeOps();

        ReferenceSolverBackend() { super(new ReferenceOps(), Precision.FP32, "test"); }

        @Override public org.routecal.compute.TensorType hessianType() { return org.routecal.compute.TensorType.F32; }

        @Override
        public int[] choleskyInverseUpper(Tensor h, float dampFraction, Tensor u) {
            int k = h.cols(), batches = (int) (h.rows() / k);
            float[][] us = ref.hinvUpper(download(h), batches, k, dampFraction);
            int[] status = new int[batches];
            for (int b = 0; b < batches; b++) {
                if (us[b] == null) status[b] = 1;
                else write(u, (long) b * k, us[b]);
            }
            return status;
        }

        @Override
        public void gptqSweep(Tensor w, Tensor u, int rowsPerH, Tensor scales, Tensor zeros, Tensor groupOfStep, int groupSize, int qmin,
                              int qmax, int qRound, int blockSize, Tensor loss) {
            ReferenceMoeOps.GptqResult r = ref.gptqSweep(download(w), w.rowCount(), w.cols(), download(u), rowsPerH, download(scales),
                    zeros == null ? null : download(zeros), groupOfStep == null ? null : downloadInts(groupOfStep), groupSize, qmin, qmax,
                    qRound, blockSize);
            write(w, 0, r.deq());
            if (loss != null) write(loss, 0, r.loss());
        }

        @Override
        public float[] diagonals(Tensor h) {
            int k = h.cols(), batches = (int) (h.rows() / k);
            float[] all = download(h), d = new float[k * batches];
            for (int i = 0; i < d.length; i++) d[i] = all[i * k + i % k];
            return d;
        }

        @Override
        public void gatherColumns(Tensor src, Tensor idx, int rowsPerIdx, Tensor dst) {
            float[] s = download(src), out = new float[s.length];
            int[] ix = downloadInts(idx);
            int k = src.cols();
            for (int r = 0; r < src.rows(); r++) {
                int m = rowsPerIdx > 0 ? r / rowsPerIdx : 0;
                for (int j = 0; j < k; j++) {
                    int c = ix[m * k + j];
                    out[r * k + j] = c >= 0 ? s[r * k + c] : 0f;
                }
            }
            write(dst, 0, out);
        }
    }

    @Test
    void batchedDevicePathMatchesTheHostSolver(@TempDir Path tmp) throws Exception {
        Path src = QuantizeStageTest.model("qwen3_moe");
        List<int[]> calib = QuantizeStageTest.corpus(12, 32, 1);
        for (MoeMode mode : List.of(MoeMode.HYBRID, MoeMode.ROUTED, MoeMode.ALL)) {
            QuantizeOptions o = new QuantizeOptions("w4a16", true, 16, false, true, new GptqArgs(128, 0.01, ActOrder.STATIC), mode, 0.5, 16,
                    true, true, null, false);
            Path host = tmp.resolve("host-" + mode.id()), device = tmp.resolve("device-" + mode.id());
            QuantizeStageTest.quantize(src, calib, o, host, Map.of(), Progress.NONE);
            try (ReferenceSolverBackend b = new ReferenceSolverBackend(); MoeModel m = MoeModel.load(src, b)) {
                QuantizeStage.run(m, calib, o, device, Map.of(), Progress.NONE, () -> {});
            }
            long same = 0, total = 0;
            java.util.Map<String, long[]> perKind = new java.util.TreeMap<>();
            try (CompressedTensorsReader a = CompressedTensorsReader.open(host); CompressedTensorsReader c = CompressedTensorsReader.open(device)) {
                for (String name : a.names()) {
                    if (!name.endsWith(".weight") || !name.contains("layers")) continue;
                    float[] x = a.readFloat(name), y = c.readFloat(name);
                    assertEquals(x.length, y.length, name);
                    String kind = name.replaceAll("experts\\.\\d+", "experts.*");
                    long[] pk = perKind.computeIfAbsent(kind, n -> new long[2]);
                    for (int i = 0; i < x.length; i++) {
                        total++;
                        pk[1]++;
                        if (x[i] == y[i]) { same++; pk[0]++; }
                    }
                }
            }
            perKind.forEach((n, v) -> System.out.printf("%s %.4f%n", n, v[0] / (double) v[1]));
            double frac = same / (double) total;
            assertTrue(total > 10_000, "compared " + total + " weights");
            assertTrue(frac >= 0.999, mode + ": " + frac + " of dequantized weights equal between the device and host paths");
        }
    }
}
