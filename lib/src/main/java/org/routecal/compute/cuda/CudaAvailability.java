package org.routecal.compute.cuda;

import static jcuda.driver.JCudaDriver.cuDeviceGet;
import static jcuda.driver.JCudaDriver.cuDeviceGetAttribute;
import static jcuda.driver.JCudaDriver.cuDeviceGetCount;
import static jcuda.driver.JCudaDriver.cuDeviceGetName;
import static jcuda.driver.JCudaDriver.cuDeviceTotalMem;
import static jcuda.driver.JCudaDriver.cuDriverGetVersion;
import static jcuda.driver.JCudaDriver.cuInit;

import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.CUresult;

/**
 * Whether a usable CUDA device is present, and if not, why — in words a user can act on. Probing never throws:
 * a missing driver ({@code libcuda.so.1}), an unloadable JCuda native, no device, or a device older than sm_80
 * (our kernels use bf16 mma.sync) all become a {@link Probe} with {@code available = false} and a reason.
 * {@code --device auto} logs the reason and falls back to CPU; {@code --device cuda} fails with it.
 */
public final class CudaAvailability {
    /** Oldest compute capability the PTX supports (mma.sync bf16, cp.async). */
    public static final int MIN_MAJOR = 8;

    private static volatile Probe cached;

    private CudaAvailability() {}

    /** Result of one probe: the device's identity when available, else the reason it is not. */
    public record Probe(boolean available, String reason, String deviceName, int ccMajor, int ccMinor,
                        long totalMemoryBytes, int driverVersion) {
        static Probe no(String reason) { return new Probe(false, reason, "", 0, 0, 0L, 0); }

        /** One line for logs: the device or the reason. */
        public String describe() {
            return available
                    ? String.format("%s (sm_%d%d, %.1f GiB, driver API %d)", deviceName, ccMajor, ccMinor,
                            totalMemoryBytes / (1024.0 * 1024 * 1024), driverVersion)
                    : reason;
        }
    }

    /** Probes device 0 once per JVM (the driver state does not change under us) and returns the cached result. */
    public static Probe probe() {
        Probe p = cached;
        if (p == null) {
            synchronized (CudaAvailability.class) {
                if (cached == null) cached = probeNow(0);
                p = cached;
            }
        }
        return p;
    }

    /** Device {@code ordinal}'s probe (device 0's is cached); unavailable with a reason when there is no such device. */
    public static Probe probe(int ordinal) {
        Probe first = probe();
        if (ordinal == 0 || !first.available()) return first;
        int count = deviceCount();
        if (ordinal < 0 || ordinal >= count) return Probe.no("no CUDA device " + ordinal + " (" + count + " visible; check CUDA_VISIBLE_DEVICES)");
        return probeNow(ordinal);
    }

    /** How many CUDA devices are visible (0 when CUDA is unusable). */
    public static int deviceCount() {
        if (!probe().available()) return 0;
        int[] count = new int[1];
        return cuDeviceGetCount(count) == CUresult.CUDA_SUCCESS ? count[0] : 0;
    }

    /**
     * Smoke test for a GPU machine: prints the probe, then JIT-loads every bundled PTX module and resolves every kernel.
     * Exit 0 when all load, 1 when one fails (the message names the module), 3 without a usable GPU.
     */
    public static void main(String[] args) {
        Probe p = probe();
        System.out.println(p.available() ? "CUDA device: " + p.describe() : "CUDA unavailable: " + p.reason());
        if (!p.available()) System.exit(3);
        try (CudaContext ctx = CudaContext.open()) {
            for (Kernel k : Kernel.values()) ctx.function(k);
            System.out.println("loaded all " + Kernel.values().length + " kernels from the bundled PTX");
        } catch (CudaException e) {
            System.out.println("error: " + e.getMessage());
            System.exit(1);
        }
    }

    private static Probe probeNow(int ordinal) {
        int rc;
        try {
            rc = cuInit(0);  // first touch loads the JCuda native, which links libcuda.so.1
        } catch (UnsatisfiedLinkError | NoClassDefFoundError e) {
            String msg = String.valueOf(e.getMessage());
            if (msg.contains("libcuda.so")) {
                return Probe.no("no NVIDIA driver: libcuda.so.1 cannot be loaded (this machine has no CUDA driver)");
            }
            return Probe.no("the JCuda native library could not be loaded (" + firstLine(msg) + "); if "
                    + System.getProperty("java.io.tmpdir") + "/libJCudaDriver-*.so is stale or owned by another user, "
                    + "run with -Djava.io.tmpdir=<a private directory>");
        } catch (Throwable e) {  // e.g. a driver too old for this JCuda; keep the CLI alive and say so
            return Probe.no("CUDA initialisation failed: " + e);
        }
        if (rc != CUresult.CUDA_SUCCESS) {
            return Probe.no("cuInit failed: " + CUresult.stringFor(rc)
                    + (rc == CUresult.CUDA_ERROR_NO_DEVICE ? " (no CUDA device visible; check CUDA_VISIBLE_DEVICES)" : ""));
        }
        int[] count = new int[1];
        rc = cuDeviceGetCount(count);
        if (rc != CUresult.CUDA_SUCCESS || count[0] == 0) return Probe.no("no CUDA device visible");
        CUdevice dev = new CUdevice();
        rc = cuDeviceGet(dev, ordinal);
        if (rc != CUresult.CUDA_SUCCESS) return Probe.no("cuDeviceGet(" + ordinal + ") failed: " + CUresult.stringFor(rc));
        int[] major = new int[1], minor = new int[1], drv = new int[1];
        long[] mem = new long[1];
        byte[] name = new byte[256];
        cuDeviceGetAttribute(major, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, dev);
        cuDeviceGetAttribute(minor, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, dev);
        cuDeviceTotalMem(mem, dev);
        cuDeviceGetName(name, name.length, dev);
        cuDriverGetVersion(drv);
        String deviceName = cString(name);
        if (major[0] < MIN_MAJOR) {
            return Probe.no(deviceName + " is sm_" + major[0] + minor[0] + "; routecal's CUDA kernels need sm_80 or newer");
        }
        return new Probe(true, "", deviceName, major[0], minor[0], mem[0], drv[0]);
    }

    private static String cString(byte[] b) {
        int n = 0;
        while (n < b.length && b[n] != 0) n++;
        return new String(b, 0, n, java.nio.charset.StandardCharsets.UTF_8);
    }

    private static String firstLine(String s) {
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
