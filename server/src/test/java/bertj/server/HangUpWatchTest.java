package bertj.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The kernel's connection table read back into addresses, and a closed connection found in it. */
class HangUpWatchTest {
    @Test
    void tableAddressesAreWordsInLittleEndianOrder() {
        // lines of /proc/net/tcp and tcp6 for 127.0.0.1:8080 and [::1]:8080
        assertEquals("7f000001:8080", HangUpWatch.parse("0100007F:1F90"));
        assertEquals("7f000001:8080", HangUpWatch.parse("0000000000000000FFFF00000100007F:1F90"), "IPv4 mapped into IPv6");
        assertEquals("00000000000000000000000000000001:8080", HangUpWatch.parse("00000000000000000000000001000000:1F90"));
        InetSocketAddress local = new InetSocketAddress(InetAddress.getLoopbackAddress(), 8080);
        assertEquals(new HangUpWatch.Connection("7f000001:8080", "7f000001:8080"), HangUpWatch.Connection.of(local, local));
    }

    @Test
    @Timeout(30)
    void aConnectionWhoseClientClosedIsFound() throws Exception {
        assumeTrue(HangUpWatch.supported(), "this system does not show the kernel's connection table");
        InetAddress loopback = InetAddress.getByName("127.0.0.1");
        try (ServerSocket listener = new ServerSocket(0, 1, loopback)) {
            Socket client = new Socket(loopback, listener.getLocalPort());
            try (Socket served = listener.accept()) {
                var connection = HangUpWatch.Connection.of((InetSocketAddress) served.getLocalSocketAddress(),
                        (InetSocketAddress) served.getRemoteSocketAddress());
                assertFalse(HangUpWatch.closing().contains(connection), "an open connection reported closing");
                client.close();
                while (!HangUpWatch.closing().contains(connection)) Thread.sleep(10);
            }
        }
    }
}
