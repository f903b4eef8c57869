package org.routecal.compute.cuda;

import jcuda.driver.CUresult;
import org.routecal.RoutecalException;

/**
 * A failed CUDA driver call. The message names the call and, for launches, the kernel and its module, plus the
 * driver's result name (e.g. {@code CUDA_ERROR_UNSUPPORTED_PTX_VERSION}), so a failure on the GPU machine can be
 * traced to one line of one .cu file without a debugger.
 */
public final class CudaException extends RoutecalException {
    private final int result;

    public CudaException(String what, int result) {
        super("CUDA " + what + " failed: " + CUresult.stringFor(result) + " (" + result + ")");
        this.result = result;
    }

    public CudaException(String message) {
        super(message);
        this.result = -1;
    }

    /** The CUresult code, or -1 when the failure was detected on the Java side. */
    public int result() { return result; }

    /** Throws unless {@code result} is CUDA_SUCCESS; {@code what} names the call (and kernel) for the message. */
    static void check(int result, String what) {
        if (result != CUresult.CUDA_SUCCESS) throw new CudaException(what, result);
    }
}
