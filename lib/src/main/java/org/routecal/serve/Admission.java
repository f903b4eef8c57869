package org.routecal.serve;

import java.time.Duration;
import java.util.ArrayDeque;

/**
 * Who may use the model, decided before any heavy work. A request first takes a {@link Ticket} ({@link #enter}):
 * at most {@code maxRunning + maxQueued} tickets exist, so a further request gets 429 before its body is read. With a
 * ticket it reads and checks its body, then waits for its turn ({@link Ticket#awaitTurn}, first come first served);
 * at most {@code maxRunning} tickets hold a turn, and only they tokenize and generate.
 *
 * <p>Draining ({@link #drain}) is the graceful stop: new requests get 503, tickets still waiting get 503, running ones
 * may finish until the deadline; after it, {@link Ticket#cancelled} turns true and generation stops at the next token.
 */
final class Admission {
    private final int maxRunning, maxQueued;
    private final ArrayDeque<Ticket> line = new ArrayDeque<>(); // waiting for a turn, in arrival order
    private int tickets, running; // guarded by this
    private boolean draining;
    private volatile boolean cancelled;

    Admission(int maxRunning, int maxQueued) {
        if (maxRunning < 1 || maxQueued < 0) throw new IllegalArgumentException("maxRunning ≥ 1 and maxQueued ≥ 0, got " + maxRunning + ", " + maxQueued);
        this.maxRunning = maxRunning;
        this.maxQueued = maxQueued;
    }

    /** A ticket, or 503 while draining, or 429 when every running and queued place is taken. */
    synchronized Ticket enter() {
        if (draining) throw shuttingDown();
        if (tickets >= maxRunning + maxQueued) {
            throw new ApiError(429, "server busy: " + maxRunning + " running and " + maxQueued + " queued requests; retry later");
        }
        tickets++;
        return new Ticket();
    }

    synchronized boolean draining() { return draining; }

    /**
     * Refuses new work and waits up to {@code timeout} for running requests to finish; then cancels the rest and waits
     * up to {@code cancelGrace} for them to send their error answers. Returns the number cancelled.
     */
    synchronized int drain(Duration timeout, Duration cancelGrace) throws InterruptedException {
        draining = true;
        notifyAll(); // waiting tickets leave with 503
        awaitNoTickets(timeout);
        int left = tickets;
        if (left > 0) {
            cancelled = true;
            awaitNoTickets(cancelGrace);
        }
        return left;
    }

    private void awaitNoTickets(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        for (long left; tickets > 0 && (left = deadline - System.nanoTime()) > 0; ) {
            wait(Math.max(1, left / 1_000_000));
        }
    }

    private static ApiError shuttingDown() { return new ApiError(503, "server shutting down; retry on another server or later"); }

    /** One admitted request; close it when the request is answered. */
    final class Ticket implements AutoCloseable {
        private boolean hasTurn, closed;

        /** Waits until this request may tokenize and generate (503 if the server starts draining meanwhile). */
        void awaitTurn() throws InterruptedException {
            synchronized (Admission.this) {
                if (hasTurn) return;
                line.add(this);
                try {
                    while (!draining && !(line.peek() == this && running < maxRunning)) Admission.this.wait();
                    if (draining) throw shuttingDown();
                    hasTurn = true;
                    running++;
                } finally {
                    line.remove(this);
                    Admission.this.notifyAll(); // the next in line may now be at the head
                }
            }
        }

        /** True once a drain's deadline has passed: stop generating and answer with an error. */
        boolean cancelled() { return cancelled; }

        @Override public void close() {
            synchronized (Admission.this) {
                if (closed) return;
                closed = true;
                tickets--;
                if (hasTurn) running--;
                Admission.this.notifyAll();
            }
        }
    }
}
