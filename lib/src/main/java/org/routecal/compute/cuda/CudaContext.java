package org.routecal.compute.cuda;

import static jcuda.driver.JCudaDriver.cuCtxSetCurrent;
import static jcuda.driver.JCudaDriver.cuCtxSynchronize;
import static jcuda.driver.JCudaDriver.cuDeviceGet;
import static jcuda.driver.JCudaDriver.cuDevicePrimaryCtxRelease;
import static jcuda.driver.JCudaDriver.cuDevicePrimaryCtxRetain;
import static jcuda.driver.JCudaDriver.cuFuncSetAttribute;
import static jcuda.driver.JCudaDriver.cuLaunchKernel;
import static jcuda.driver.JCudaDriver.cuModuleGetFunction;
import static jcuda.driver.JCudaDriver.cuModuleLoadData;
import static jcuda.driver.JCudaDriver.cuModuleLoadDataJIT;
import static jcuda.driver.JCudaDriver.cuModuleUnload;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.Map;
import jcuda.Pointer;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUfunction;
import jcuda.driver.CUfunction_attribute;
import jcuda.driver.CUjit_option;
import jcuda.driver.CUmodule;
import jcuda.driver.CUresult;
import jcuda.driver.JITOptions;

/**
 * One CUDA device's primary context and our PTX modules, loaded lazily from the classpath with the driver JIT
 * ({@code cuModuleLoadData}; when a module does not load, a second load with a sized JIT log buffer puts the
 * driver's log into the exception). Every driver call is checked; a failed launch names the
 * kernel, module and grid. Not thread-safe: use a context from one thread at a time (the CUDA context is made
 * current on the calling thread by {@link #makeCurrent()}, which every launch does).
 */
public final class CudaContext implements AutoCloseable {
    private final CUdevice device = new CUdevice();
    private final CUcontext context = new CUcontext();
    private final CudaAvailability.Probe probe;
    private final Map<String, CUmodule> modules = new HashMap<>();
    private final Map<Kernel, CUfunction> functions = new EnumMap<>(Kernel.class);
    private final Map<Kernel, Integer> dynamicShared = new EnumMap<>(Kernel.class);
    private boolean closed;
    private KernelProfile profile;

    private final int ordinal;

    private CudaContext(CudaAvailability.Probe probe, int ordinal) {
        this.probe = probe;
        this.ordinal = ordinal;
        CudaException.check(cuDeviceGet(device, ordinal), "cuDeviceGet(" + ordinal + ")");
        CudaException.check(cuDevicePrimaryCtxRetain(context, device), "cuDevicePrimaryCtxRetain");
        makeCurrent();
    }

    /** Opens device 0; throws a {@link CudaException} carrying the probe's reason when CUDA is unusable. */
    public static CudaContext open() { return open(0); }

    /**
     * Opens device {@code ordinal} (as CUDA numbers the visible devices); a {@link CudaException} carries the probe's
     * reason when CUDA or that device is unusable. Two contexts on one ordinal share its primary context (logical
     * devices on one GPU).
     */
    public static CudaContext open(int ordinal) {
        CudaAvailability.Probe p = CudaAvailability.probe(ordinal);
        if (!p.available()) throw new CudaException("CUDA device " + ordinal + " is not available: " + p.reason());
        return new CudaContext(p, ordinal);
    }

    /** The device this context runs on. */
    public CudaAvailability.Probe device() { return probe; }

    /** Its CUDA ordinal. */
    public int ordinal() { return ordinal; }

    /** Binds the context to the calling thread (cheap when already current). */
    public void makeCurrent() {
        if (closed) throw new IllegalStateException("CudaContext is closed");
        CudaException.check(cuCtxSetCurrent(context), "cuCtxSetCurrent");
    }

    /** Waits for all work on the device; the exception names {@code after} (typically the last kernel launched). */
    public void synchronize(String after) {
        makeCurrent();
        CudaException.check(cuCtxSynchronize(), "cuCtxSynchronize after " + after);
    }

    /** Times every launch of this context into {@code p} from now on (null stops); see {@link KernelProfile}. */
    public void profile(KernelProfile p) { this.profile = p; }

    /** Lets {@code k} launch with {@code bytes} of dynamic shared memory (above 48 KiB the driver needs the opt-in). */
    void allowDynamicShared(Kernel k, int bytes) {
        Integer allowed = dynamicShared.get(k);
        if (allowed != null && allowed >= bytes) return;
        makeCurrent();
        CudaException.check(cuFuncSetAttribute(function(k), CUfunction_attribute.CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, bytes),
                "cuFuncSetAttribute(" + k.entry() + ", max dynamic shared memory " + bytes + " bytes)");
        dynamicShared.put(k, bytes);
    }

    /** The function handle of a kernel, loading its module on first use. */
    CUfunction function(Kernel k) {
        CUfunction f = functions.get(k);
        if (f == null) {
            f = new CUfunction();
            CudaException.check(cuModuleGetFunction(f, module(k.module()), k.entry()),
                    "cuModuleGetFunction(" + k.entry() + " in " + k.module() + ".ptx)");
            functions.put(k, f);
        }
        return f;
    }

    private CUmodule module(String name) {
        CUmodule m = modules.get(name);
        if (m != null) return m;
        String ptx = readPtx(name);
        m = new CUmodule();
        byte[] image = (ptx + '\0').getBytes(StandardCharsets.US_ASCII);
        // Plain cuModuleLoadData: cuModuleLoadDataJIT with an error-log buffer but no size option made every load fail
        // with CUDA_ERROR_INVALID_VALUE (seen on driver 580). On failure, load again with a sized log buffer to report why.
        int rc = cuModuleLoadData(m, image);
        if (rc != CUresult.CUDA_SUCCESS) {
            String log = jitLog(image);
            throw new CudaException("CUDA cuModuleLoadData(" + name + ".ptx) failed: " + CUresult.stringFor(rc)
                    + (log == null || log.isBlank() ? "" : "; JIT log: " + log.trim())
                    + (rc == CUresult.CUDA_ERROR_UNSUPPORTED_PTX_VERSION
                            ? " (the driver is older than the nvcc that produced the PTX; rebuild with an older nvcc)" : ""));
        }
        modules.put(name, m);
        return m;
    }

    /** The JIT error log of a failing image (a second load with the buffer and its size both given), or null. */
    private static String jitLog(byte[] image) {
        try {
            JITOptions jit = new JITOptions();
            jit.putInt(CUjit_option.CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES, 16384);
            jit.putBytes(CUjit_option.CU_JIT_ERROR_LOG_BUFFER, new byte[16384]);
            cuModuleLoadDataJIT(new CUmodule(), Pointer.to(image), jit);
            return jit.getString(CUjit_option.CU_JIT_ERROR_LOG_BUFFER);
        } catch (RuntimeException e) {
            return null;
        }
    }

    /** The bundled PTX text of a module. */
    public static String readPtx(String module) {
        String res = Kernel.ptxResource(module);
        try (InputStream in = CudaContext.class.getResourceAsStream(res)) {
            if (in == null) throw new CudaException("PTX resource " + res + " is missing from the classpath (lib jar built without it?)");
            return new String(in.readAllBytes(), StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new CudaException("cannot read PTX resource " + res + ": " + e.getMessage());
        }
    }

    /**
     * Launches {@code k} on {@code stream} (null: the legacy default stream). The arguments are checked against the
     * kernel's declared signature first. Launch errors are reported immediately; execution errors surface at the next
     * synchronizing call, which {@link #synchronize(String)} names.
     */
    void launch(Kernel k, int gridX, int gridY, int gridZ, int block, int sharedBytes, CudaStream stream, LaunchArgs args) {
        if (!args.signature().equals(k.signature())) {
            throw new CudaException("kernel " + k.entry() + " expects arguments " + k.signature() + " but got " + args.signature());
        }
        if (gridX <= 0 || gridY <= 0 || gridZ <= 0) return;  // empty problem: nothing to do
        makeCurrent();
        CUfunction f = function(k);
        jcuda.driver.CUstream s = stream != null ? stream.handle() : null;
        KernelProfile p = profile;
        if (p != null) p.beforeLaunch(k.entry(), s);
        int rc = cuLaunchKernel(f, gridX, gridY, gridZ, block, 1, 1, sharedBytes, s, args.toKernelParams(), null);
        if (rc != CUresult.CUDA_SUCCESS && p != null) p.dropLast(); // no stop event will be recorded for it
        CudaException.check(rc,
                "launch of " + k.entry() + " (" + k.module() + ".cu, grid " + gridX + "×" + gridY + "×" + gridZ
                        + ", block " + block + ")");
        if (p != null) p.afterLaunch(s);
    }

    @Override
    public void close() {
        if (closed) return;
        makeCurrent();
        for (CUmodule m : modules.values()) cuModuleUnload(m);
        modules.clear();
        functions.clear();
        dynamicShared.clear();
        closed = true;
        cuDevicePrimaryCtxRelease(device);
    }
}
