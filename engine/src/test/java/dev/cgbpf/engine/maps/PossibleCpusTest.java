package dev.cgbpf.engine.maps;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class PossibleCpusTest {
    @Test
    void countsTheCpusOfACpuList() {
        assertEquals(2, PossibleCpus.parse("0-1"));
        assertEquals(1, PossibleCpus.parse("0"));
        assertEquals(8, PossibleCpus.parse("0-3,8-11"));
        assertThrows(IllegalArgumentException.class, () -> PossibleCpus.parse("3-1"));
    }
}
