package org.routecal.compute.cuda;

import static jcuda.driver.JCudaDriver.cuEventCreate;
import static jcuda.driver.JCudaDriver.cuEventDestroy;
import static jcuda.driver.JCudaDriver.cuEventElapsedTime;
import static jcuda.driver.JCudaDriver.cuEventRecord;
import static jcuda.driver.JCudaDriver.cuEventSynchronize;
import static jcuda.driver.JCudaDriver.cuStreamCreate;
import static jcuda.driver.JCudaDriver.cuStreamDestroy;
import static jcuda.driver.JCudaDriver.cuStreamSynchronize;
import static jcuda.driver.JCudaDriver.cuStreamWaitEvent;

import jcuda.driver.CUevent;
import jcuda.driver.CUevent_flags;
import jcuda.driver.CUstream;
import jcuda.driver.CUstream_flags;

/** A non-blocking CUDA stream, plus the event helpers the weight streamer and the benchmarks need. */
public final class CudaStream implements AutoCloseable {
    private final CUstream stream = new CUstream();
    private final String name;

    /** Creates a stream that does not synchronize with the legacy default stream; {@code name} appears in errors. */
    public CudaStream(CudaContext ctx, String name) {
        ctx.makeCurrent();
        this.name = name;
        CudaException.check(cuStreamCreate(stream, CUstream_flags.CU_STREAM_NON_BLOCKING), "cuStreamCreate(" + name + ")");
    }

    CUstream handle() { return stream; }

    /** Blocks until all work queued on this stream has finished. */
    public void synchronize() { CudaException.check(cuStreamSynchronize(stream), "cuStreamSynchronize(" + name + ")"); }

    /** Records a new event on this stream (timing enabled when {@code timing}). */
    public Event record(boolean timing) {
        Event e = new Event(timing);
        CudaException.check(cuEventRecord(e.event, stream), "cuEventRecord(" + name + ")");
        return e;
    }

    /** Re-records an existing event at the current end of this stream. */
    public void record(Event e) { CudaException.check(cuEventRecord(e.event, stream), "cuEventRecord(" + name + ")"); }

    /** Makes later work on this stream wait for {@code e} (no host blocking). */
    public void waitFor(Event e) { CudaException.check(cuStreamWaitEvent(stream, e.event, 0), "cuStreamWaitEvent(" + name + ")"); }

    @Override
    public void close() { cuStreamDestroy(stream); }

    /** A CUDA event. */
    public static final class Event implements AutoCloseable {
        final CUevent event = new CUevent();

        public Event(boolean timing) {
            CudaException.check(cuEventCreate(event, timing ? CUevent_flags.CU_EVENT_DEFAULT : CUevent_flags.CU_EVENT_DISABLE_TIMING),
                    "cuEventCreate");
        }

        public void synchronize() { CudaException.check(cuEventSynchronize(event), "cuEventSynchronize"); }

        /** Milliseconds from {@code start} to this event (both recorded with timing enabled). */
        public float millisSince(Event start) {
            float[] ms = new float[1];
            CudaException.check(cuEventElapsedTime(ms, start.event, event), "cuEventElapsedTime");
            return ms[0];
        }

        @Override
        public void close() { cuEventDestroy(event); }
    }
}
