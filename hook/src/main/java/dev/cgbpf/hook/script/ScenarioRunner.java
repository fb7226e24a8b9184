package dev.cgbpf.hook.script;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cgbpf.engine.backend.Backend;
import dev.cgbpf.engine.backend.BpfException;
import java.io.PrintStream;
import java.util.List;

/**
 * Runs a scenario (docs/SCENARIOS.md) on any {@link Backend}: one result object per op line, in
 * order, on one line each. The runner never looks at which backend it drives; the kernel and the
 * engine must produce the same stream.
 */
public final class ScenarioRunner {
    /** All lines ran (some may have returned an errno: that is a result, not a failure). */
    public static final int EXIT_OK = 0;
    /** At least one line was malformed (or the backend failed on it in a way that is no errno). */
    public static final int EXIT_MALFORMED = 1;
    /** The backend is unavailable: nothing ran (decided by the caller, before the runner). */
    public static final int EXIT_UNAVAILABLE = 2;

    private static final JsonMapper JSON = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    private final Backend backend;

    public ScenarioRunner(Backend backend) {
        this.backend = backend;
    }

    /**
     * Runs every line and closes what the scenario made, also when a line fails.
     *
     * @return {@link #EXIT_OK} or {@link #EXIT_MALFORMED}
     */
    public int run(List<String> lines, PrintStream out) {
        boolean malformed = false;
        try (Scenario scenario = new Scenario(backend)) {
            for (int i = 0; i < lines.size(); i++) {
                String text = lines.get(i).strip();
                if (text.isEmpty() || text.startsWith("#") || text.startsWith("//")) {
                    continue;
                }
                ObjectNode result;
                int lineNumber = i + 1;
                try {
                    result = runLine(lineNumber, text, scenario);
                } catch (MalformedLineException e) {
                    result = Results.lineError(lineNumber, e.getMessage());
                    malformed = true;
                } catch (RuntimeException e) {
                    // A backend fault (e.g. the engine stopping an unverified program) is reported
                    // on the line like a malformed one rather than ending the scenario.
                    result = Results.lineError(lineNumber, backend.name() + ": " + describe(e));
                    malformed = true;
                }
                out.println(result.toString());
            }
        }
        out.flush();
        return malformed ? EXIT_MALFORMED : EXIT_OK;
    }

    private static ObjectNode runLine(int lineNumber, String text, Scenario scenario) throws MalformedLineException {
        ObjectNode json = parse(text);
        JsonNode opNode = json.get("op");
        if (opNode == null) {
            throw new MalformedLineException("missing field 'op'");
        }
        if (!opNode.isTextual()) {
            throw new MalformedLineException("field 'op' must be a string");
        }
        String op = opNode.textValue();
        OpSpec spec = Ops.lookup(op).orElseThrow(() -> new MalformedLineException("unknown op '" + op + "'"));
        OpLine line = OpLine.check(lineNumber, spec, json);
        try {
            return spec.handler().run(line, scenario);
        } catch (BpfException e) {
            return Results.errno(op, e);
        }
    }

    private static ObjectNode parse(String text) throws MalformedLineException {
        JsonNode node;
        try {
            node = JSON.readTree(text);
        } catch (JsonProcessingException e) {
            throw new MalformedLineException("invalid JSON: " + e.getOriginalMessage());
        }
        if (!(node instanceof ObjectNode o)) {
            throw new MalformedLineException("a scenario line must be a JSON object");
        }
        return o;
    }

    private static String describe(RuntimeException e) {
        String m = e.getMessage();
        return m == null || m.isBlank() ? e.getClass().getSimpleName() : m;
    }
}
