package bertj.engine;

/**
 * Counts calls in progress so that {@code close()} can wait for them instead of freeing memory
 * under them; calls that start after close fail cleanly.
 */
final class CallGuard {
    private final String owner;
    private int active;
    private boolean closed;

    CallGuard(String owner) {
        this.owner = owner;
    }

    synchronized void enter() {
        if (closed) throw new IllegalStateException(owner + " is closed");
        active++;
    }

    synchronized void exit() {
        if (--active == 0) notifyAll();
    }

    /** Marks closed and waits until no call is in progress; false if it was already closed. */
    synchronized boolean closeAndAwait() {
        if (closed) return false;
        closed = true;
        boolean interrupted = false;
        while (active > 0) {
            try {
                wait();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) Thread.currentThread().interrupt();
        return true;
    }
}
