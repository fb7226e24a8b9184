package dev.cgbpf.hook.daemon;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The request grammar, without a socket or a kernel. */
class RequestReaderTest {
    private static RequestReader reader(String s) {
        return reader(s.getBytes(StandardCharsets.UTF_8));
    }

    private static RequestReader reader(byte[] b) {
        return new RequestReader(Channels.newChannel(new ByteArrayInputStream(b)), () -> false);
    }

    @Test
    void aStageRequestWithSettingsAndState() throws Exception {
        RequestReader r = reader("cgbpf-hook 1 createRuntime\nenv CGBPF_RUN_DIR=/run/x\nenv PATH=/bin\n"
                + "env CGBPF_POLICY=/a\nenv CGBPF_POLICY=/b=c\nenv CGBPF_LOG_FILE=\nstate 7\n{\"a\":1}");
        RequestReader.Head h = r.readHead(1000);
        assertEquals("createRuntime", h.stage());
        assertEquals(Map.of("CGBPF_RUN_DIR", "/run/x", "CGBPF_POLICY", "/b=c", "CGBPF_LOG_FILE", ""), h.env());
        assertEquals(7, h.stateLength());
        assertArrayEquals("{\"a\":1}".getBytes(StandardCharsets.UTF_8), r.readState(7));
    }

    @Test
    void theShimsBundleRequestKeepsTheClientSettingsOtherKindsDropThem() throws Exception {
        String env = "env CGBPF_SOCKET=/s.sock\nenv CGBPF_HOOK=/x/cgbpf-hook\nenv CGBPF_LAUNCHER=/l\n"
                + "env CGBPF_HOOK_TIMEOUT_MS=9\nenv CGBPF_RUN_DIR=/r\nenv CGBPF_OTHER=no\n";
        RequestReader r = reader("cgbpf-hook 1 bundle\n" + env + "state 4\n/b/c");
        RequestReader.Head h = r.readHead(1000);
        assertEquals(Map.of("CGBPF_SOCKET", "/s.sock", "CGBPF_HOOK", "/x/cgbpf-hook", "CGBPF_LAUNCHER", "/l",
                "CGBPF_HOOK_TIMEOUT_MS", "9", "CGBPF_RUN_DIR", "/r"), h.env());
        assertArrayEquals("/b/c".getBytes(StandardCharsets.UTF_8), r.readState(4));
        assertEquals(Map.of("CGBPF_RUN_DIR", "/r"), reader("cgbpf-hook 1 createRuntime\n" + env + "state 0\n")
                .readHead(1000).env());
    }

    @Test
    void aStatusRequestHasNoState() throws Exception {
        RequestReader r = reader("cgbpf-hook 1 status\n");
        RequestReader.Head h = r.readHead(1000);
        assertTrue(h.isStatus());
        assertEquals(-1, h.stateLength());
        r.expectEnd();
    }

    @Test
    void anEmptyStateIsTheStagesBusinessNotTheProtocols() throws Exception {
        RequestReader r = reader("cgbpf-hook 1 poststop\nstate 0\n");
        assertEquals(0, r.readHead(1000).stateLength());
        assertEquals(0, r.readState(0).length);
    }

    @Test
    void theStageWordIsNotCheckedHere() throws Exception {
        // a stage `cgbpf hook` refuses gets the hook's own answer, from the daemon
        assertEquals("poststart", reader("cgbpf-hook 1 poststart\nstate 0\n").readHead(10).stage());
    }

    @Test
    void everyDeviationIsOneLine() {
        List<String[]> cases = List.of(
                new String[] {"", "request: empty"},
                new String[] {"GET / HTTP/1.0\n", "request: does not start with 'cgbpf-hook 1 STAGE'"},
                new String[] {"cgbpf-hook 2 poststop\n", "request: protocol version '2'"},
                new String[] {"cgbpf-hook 1\n", "request: the first line must be"},
                new String[] {"cgbpf-hook 1 poststop x\n", "request: the first line must be"},
                new String[] {"cgbpf-hook 1 poststop\n", "request: ends before its 'state N' line"},
                new String[] {"cgbpf-hook 1 poststop", "request: ends in the middle of a line"},
                new String[] {"cgbpf-hook 1 poststop\r\nstate 0\n", "request: a control character in line"},
                new String[] {"cgbpf-hook 1 poststop\nenv X\n", "request: env line 'env X' is not 'env KEY=VALUE'"},
                new String[] {"cgbpf-hook 1 poststop\nenv 1X=2\n", "request: env line"},
                new String[] {"cgbpf-hook 1 poststop\nfoo\n", "request: unexpected line 'foo'"},
                new String[] {"cgbpf-hook 1 poststop\nstate x\n", "request: state line 'state x' is not 'state N'"},
                new String[] {"cgbpf-hook 1 poststop\nstate +1\n", "request: state line"},
                new String[] {"cgbpf-hook 1 poststop\nstate 01\n", "request: state line"},
                new String[] {"cgbpf-hook 1 poststop\nstate 1001\n", "request: state of 1001 bytes, more than the limit"},
                new String[] {"cgbpf-hook 1 poststop\nstate 99999999999\n", "request: state of 99999999999 bytes"},
                new String[] {"cgbpf-hook 1 status\nstate 0\n", "request: status takes no state"},
                new String[] {"cgbpf-hook 1 poststop\nstate 5\nab", "request: state announced 5 bytes, 2 came"},
                new String[] {"cgbpf-hook 1 poststop\nstate 2\nabc", "request: bytes after the end of the request"},
                new String[] {"cgbpf-hook 1 poststop\nenv X=" + "y".repeat(Protocol.MAX_LINE) + "\n",
                        "request: a line longer than " + Protocol.MAX_LINE + " bytes"},
                new String[] {"cgbpf-hook 1 poststop\n" + "env X=1\n".repeat(Protocol.MAX_ENV_LINES + 1),
                        "request: more than " + Protocol.MAX_ENV_LINES + " env lines"});
        for (String[] c : cases) {
            RequestReader.Malformed e = assertThrows(RequestReader.Malformed.class, () -> {
                RequestReader r = reader(c[0]);
                RequestReader.Head h = r.readHead(1000);
                if (h.stateLength() >= 0) {
                    r.readState(h.stateLength());
                } else {
                    r.expectEnd();
                }
            }, c[0]);
            assertTrue(e.getMessage().startsWith(c[1]), c[0] + " -> " + e.getMessage());
            assertEquals(1, e.getMessage().lines().count(), e.getMessage());
        }
        RequestReader.Malformed e = assertThrows(RequestReader.Malformed.class,
                () -> reader(new byte[] {'c', (byte) 0xc3, (byte) 0x28, '\n'}).readHead(10));
        assertTrue(e.getMessage().startsWith("request: a line that is not UTF-8"), e.getMessage());
    }

    @Test
    void answerLinesAreOneLineAndCut() {
        assertEquals("exit 0\n", new String(Protocol.line("exit", "0"), StandardCharsets.UTF_8));
        assertEquals("accepted\n", new String(Protocol.line("accepted", null), StandardCharsets.UTF_8));
        assertEquals("error a b c\n", new String(Protocol.line("error", "a\nb\rc"), StandardCharsets.UTF_8));
        String long1 = new String(Protocol.line("error", "x".repeat(10_000)), StandardCharsets.UTF_8);
        assertEquals("error ".length() + Protocol.MAX_PAYLOAD + "...\n".length(), long1.length());
    }
}
