package dev.cgbpf.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

/**
 * The random sample of a differential test: sequences seeded from one random base seed (printed,
 * so that a failure can be replayed), and a tally of the kernel's answers, which must show that
 * the sample met every rule the test is about.
 */
final class DifferentialSample {
    /** One random sequence of operations on both sides; returns how many operations it ran. */
    interface Sequence {
        int run(long seed) throws Exception;
    }

    private final Map<String, Integer> answers = new TreeMap<>();

    /** Counts one answer of the kernel (an errno name, "query", or with the operation's kind). */
    void count(String answer) {
        answers.merge(answer, 1, Integer::sum);
    }

    /**
     * Runs {@code sequences} sequences of {@code ops} operations, prints a summary line headed
     * {@code title}, and fails unless every sequence ran all its operations and every answer of
     * {@code mustComeUp} was counted at least once.
     */
    void run(String title, int sequences, int ops, Sequence sequence, List<String> mustComeUp) throws Exception {
        long base = new Random().nextLong();
        int done = 0;
        for (int s = 0; s < sequences; s++) {
            done += sequence.run(base + s);
        }
        assertEquals(sequences * ops, done);
        System.out.println(title + ": " + sequences + " sequences, " + done + " ops, seeds from " + base
                + "; kernel answers " + answers);
        for (String must : mustComeUp) {
            assertTrue(answers.getOrDefault(must, 0) > 0, "'" + must + "' never came up: " + answers);
        }
    }
}
