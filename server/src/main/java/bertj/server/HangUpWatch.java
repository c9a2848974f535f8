package bertj.server;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Notices clients that hung up while their request waits, so that its queued work can be dropped.
 *
 * <p>The JDK's HTTP server does not say when a client closes its connection mid-request, and reading the socket to
 * find out would take bytes of the next request. The kernel knows, though: a connection whose client closed it sits
 * in CLOSE_WAIT until the server closes its end. On Linux this reads the connection table in {@code /proc/net/tcp}
 * and {@code tcp6} a few times a second while requests are in flight, and runs the action registered for each
 * connection found closing. Elsewhere it does nothing (work is then run for clients that left, as before).
 */
final class HangUpWatch implements AutoCloseable {
    private static final List<Path> TABLES = List.of(Path.of("/proc/net/tcp"), Path.of("/proc/net/tcp6"));
    /** The states of a connection whose peer has sent its FIN or reset: CLOSE_WAIT, LAST_ACK, CLOSE. */
    private static final Set<String> PEER_GONE = Set.of("08", "09", "07");
    private static final long POLL_MILLIS = 50;
    /**
     * The table lists every connection of the host, so on a host with very many, reading it takes long: the watch
     * then waits this many times as long as its last read took, so that it costs at most 5% of a core.
     */
    private static final long BACK_OFF = 20;

    /** A connection as the kernel's table names it: local and remote address and port. */
    record Connection(String local, String remote) {
        static Connection of(InetSocketAddress local, InetSocketAddress remote) {
            return new Connection(key(local.getAddress().getAddress(), local.getPort()),
                    key(remote.getAddress().getAddress(), remote.getPort()));
        }
    }

    private final Map<Connection, Runnable> watched = new ConcurrentHashMap<>();
    private final Object wakeUp = new Object();
    private final Thread thread; // null where hang-ups cannot be seen
    private volatile boolean running = true;

    HangUpWatch() {
        thread = supported() ? Thread.ofPlatform().daemon().name("bertj-hang-up-watch").start(this::loop) : null;
    }

    /** Whether this system lets hang-ups be seen. */
    static boolean supported() {
        return TABLES.stream().anyMatch(Files::isReadable);
    }

    /**
     * Runs {@code onHangUp} once if the client of this connection closes it before the returned registration is
     * closed. The action runs on the watch's thread and should be short.
     */
    Registration watch(InetSocketAddress local, InetSocketAddress remote, Runnable onHangUp) {
        if (thread == null) return () -> { };
        Connection connection = Connection.of(local, remote);
        watched.put(connection, onHangUp);
        synchronized (wakeUp) {
            wakeUp.notifyAll();
        }
        return () -> watched.remove(connection, onHangUp);
    }

    /** Ends a watch; never throws. */
    interface Registration extends AutoCloseable {
        @Override
        void close();
    }

    private void loop() {
        long lastReadNanos = 0;
        while (running) {
            try {
                synchronized (wakeUp) {
                    while (running && watched.isEmpty()) wakeUp.wait();
                }
                Thread.sleep(Math.max(POLL_MILLIS, BACK_OFF * lastReadNanos / 1_000_000));
            } catch (InterruptedException e) {
                continue; // close() interrupts to end the loop
            }
            if (watched.isEmpty()) continue;
            long start = System.nanoTime();
            Set<Connection> closing = closing();
            lastReadNanos = System.nanoTime() - start;
            for (Connection gone : closing) {
                Runnable action = watched.remove(gone);
                if (action != null) action.run();
            }
        }
    }

    /** The connections in the kernel's tables whose peer has closed its end. */
    static Set<Connection> closing() {
        Set<Connection> out = new HashSet<>();
        for (Path table : TABLES) {
            List<String> lines;
            try {
                lines = Files.readAllLines(table);
            } catch (IOException e) {
                continue; // no IPv6 table, say
            }
            for (int i = 1; i < lines.size(); i++) {
                // "  sl  local_address rem_address   st ...": hex address:port, then the state in hex
                String[] f = lines.get(i).trim().split("\\s+");
                if (f.length > 3 && PEER_GONE.contains(f[3])) out.add(new Connection(parse(f[1]), parse(f[2])));
            }
        }
        return out;
    }

    /**
     * The table's "ADDRESS:PORT", the address as 32-bit words each in the machine's (little-endian) byte order,
     * into the key {@link #key} makes; an IPv4 address mapped into IPv6 comes out as the IPv4 one.
     */
    static String parse(String hex) {
        int colon = hex.indexOf(':');
        byte[] words = HexFormat.of().parseHex(hex, 0, colon);
        byte[] address = new byte[words.length];
        for (int w = 0; w < words.length; w += 4) {
            for (int b = 0; b < 4; b++) address[w + b] = words[w + 3 - b];
        }
        return key(address, Integer.parseInt(hex.substring(colon + 1), 16));
    }

    private static String key(byte[] address, int port) {
        if (address.length == 16 && isIpv4Mapped(address)) address = java.util.Arrays.copyOfRange(address, 12, 16);
        return HexFormat.of().formatHex(address) + ":" + port;
    }

    private static boolean isIpv4Mapped(byte[] a) {
        for (int i = 0; i < 10; i++) if (a[i] != 0) return false;
        return a[10] == (byte) 0xff && a[11] == (byte) 0xff;
    }

    @Override
    public void close() {
        running = false;
        if (thread != null) thread.interrupt();
    }
}
