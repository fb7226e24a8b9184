package dev.cgbpf.hook.script;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.HexFormat;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Address text as glibc's inet_ntop prints it (the expected column was printed by it). */
class InetNtopTest {

    @ParameterizedTest(name = "{1}")
    @CsvSource({
            "00000000000000000000000000000001, ::1",
            "00000000000000000000000000000000, ::",
            "00000000000000000000ffff7f000002, ::ffff:127.0.0.2",
            "00010000000000010000000000000001, 1:0:0:1::1",
            "00010000000000000001000000000001, 1::1:0:0:1",
            "00000000000100000000000000000000, 0:0:1::",
            "00010000000000000000000000000000, 1::",
            "fe800000000000000001000000000000, fe80::1:0:0:0",
            "0000000000000000000000007f000001, ::127.0.0.1",
            "00000000000000000000ffff00000001, ::ffff:0.0.0.1",
            "00010002000300040005000600070008, 1:2:3:4:5:6:7:8",
            "00000001000000010000000100000001, 0:1:0:1:0:1:0:1",
            "0000000000000000ffff000100020003, ::ffff:1:2:3",
            "20010db8000000000001000000000001, 2001:db8::1:0:0:1",
            "00000000000200030004000500060007, ::2:3:4:5:6:7",
            "00010002000300040005000600070000, 1:2:3:4:5:6:7:0",
            "7f000001, 127.0.0.1",
            "00000000, 0.0.0.0",
            "ff0a0b01, 255.10.11.1",
    })
    void printsAsInetNtop(String hex, String text) {
        assertEquals(text, InetNtop.format(HexFormat.of().parseHex(hex)));
    }
}
