package dev.cgbpf.engine.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The errno table against the host's uapi headers: every number asm-generic defines has a name in
 * {@link Errno}, the header's own (aliases, defined as another name, are skipped), so that no answer
 * prints as "errno N" (errno 71 did, before EPROTO was added).
 */
class ErrnoTableTest {
    private static final Pattern DEFINE = Pattern.compile("^#define\\s+(E[A-Z0-9_]+)\\s+(\\d+)\\b", Pattern.MULTILINE);

    @Test
    void everyUapiErrnoHasItsHeaderName() throws IOException {
        Path base = Path.of("/usr/include/asm-generic/errno-base.h");
        Path more = Path.of("/usr/include/asm-generic/errno.h");
        assumeTrue(Files.isReadable(base) && Files.isReadable(more), "no kernel uapi headers on this host");
        List<String> wrong = new ArrayList<>();
        int seen = 0;
        for (Path p : List.of(base, more)) {
            Matcher m = DEFINE.matcher(Files.readString(p));
            while (m.find()) {
                seen++;
                int number = Integer.parseInt(m.group(2));
                String name = Errno.of(number).map(Enum::name).orElse("errno " + number);
                if (!name.equals(m.group(1))) {
                    wrong.add(m.group(1) + "=" + number + " named " + name);
                }
            }
        }
        assertEquals(List.of(), wrong);
        assertEquals(true, seen > 120, "read " + seen + " definitions");
    }

    @Test
    void kernelInternalErrnosHaveNames() {
        assertEquals("ENOTSUPP", Errno.of(524).orElseThrow().name());
        assertEquals("ERESTARTSYS", Errno.of(512).orElseThrow().name());
        assertEquals("EPROTO", BpfException.ofNumber(71, "x", null).errno());
    }
}
