package org.routecal.compute;

/**
 * A 2-D row-major tensor [rows, cols] owned by a {@link Backend}: host arrays on the CPU backend, device memory on
 * CUDA. The engine never reads the storage itself; it passes tensors to backend ops and downloads only results.
 * A view ({@link #rows(long, long)}, {@link #reshape}) shares storage with its parent and is never freed on its own.
 * Closing the owner releases the storage (device memory at once; host arrays to the GC).
 */
public final class Tensor implements AutoCloseable {
    private final Backend backend;
    private final TensorType type;
    private final long rows;
    private final int cols;
    private final Object storage;   // backend-specific: float[]/short[]/int[] (CPU), DeviceBuffer (CUDA)
    private final long offset;      // in elements, from the start of storage
    private final String name;
    private final Tensor parent;    // null for an owner
    private boolean closed;

    public Tensor(Backend backend, TensorType type, long rows, int cols, Object storage, long offset, String name, Tensor parent) {
        if (rows < 0 || cols < 0) throw new IllegalArgumentException(name + ": negative shape [" + rows + ", " + cols + "]");
        this.backend = backend;
        this.type = type;
        this.rows = rows;
        this.cols = cols;
        this.storage = storage;
        this.offset = offset;
        this.name = name;
        this.parent = parent;
    }

    public Backend backend() { return backend; }

    public TensorType type() { return type; }

    public long rows() { return rows; }

    /** Rows as an int, for the many ops whose row count is bounded by one batch. */
    public int rowCount() { return Math.toIntExact(rows); }

    public int cols() { return cols; }

    public long elements() { return rows * cols; }

    public long bytes() { return elements() * type.bytes(); }

    public String name() { return name; }

    /** Backend-specific storage; only the owning backend interprets it. */
    public Object storage() { return storage; }

    /** Offset of element [0, 0] in {@link #storage()}, in elements. */
    public long offset() { return offset; }

    public boolean isView() { return parent != null; }

    /** Rows [from, to) as a view. */
    public Tensor rows(long from, long to) {
        if (from < 0 || to > rows || from > to) {
            throw new IllegalArgumentException(name + ": rows [" + from + ", " + to + ") outside [0, " + rows + ")");
        }
        return new Tensor(backend, type, to - from, cols, storage, offset + from * cols, name + "[" + from + ":" + to + "]", root());
    }

    /** The same elements seen as [newRows, newCols] (row-major, so e.g. [T, H·D] ↔ [T·H, D]). */
    public Tensor reshape(long newRows, int newCols) {
        if (newRows * newCols != elements()) {
            throw new IllegalArgumentException(name + ": cannot view [" + rows + ", " + cols + "] as [" + newRows + ", " + newCols + "]");
        }
        return new Tensor(backend, type, newRows, newCols, storage, offset, name, root());
    }

    private Tensor root() { return parent == null ? this : parent; }

    public boolean isClosed() { return closed || (parent != null && parent.closed); }

    /**
     * Marks an owner whose storage a backend has moved into a new tensor (the CPU's in-place panel packing, which
     * reorders the values): it reads as closed, so no op can read the storage through it again, and closing it
     * releases nothing under the new owner.
     */
    public void handOver() {
        if (parent != null) throw new IllegalStateException(name + ": a view cannot hand over its parent's storage");
        closed = true;
    }

    /** Releases an owner's storage (no-op for views and when already closed). */
    @Override
    public void close() {
        if (parent != null || closed) return;
        closed = true;
        backend.release(this);
    }

    @Override
    public String toString() { return name + " " + type + "[" + rows + ", " + cols + "]"; }
}
