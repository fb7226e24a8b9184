package dev.cgbpf.hook.oci;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.util.RawValue;
import dev.cgbpf.hook.spec.Config;
import dev.cgbpf.hook.spec.Json;
import dev.cgbpf.hook.spec.SpecException;

import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Iterator;
import java.util.List;
import java.util.Set;

/**
 * {@code cgbpf hook install --bundle DIR}: adds the hook to a bundle's config.json for plain
 * runc/crun (podman and CRI-O use the oci-hooks(5) file instead). The document is edited as a raw
 * JSON tree, so that every field cgbpf does not model survives unchanged, in its order; numbers
 * keep their exact text (raw value nodes: {@code 1e3}, {@code -0} and 20-digit integers are
 * written back as they were). Idempotent: cgbpf's entries of an earlier install (either form of
 * {@link HookExecutable}, or the same path with {@code args[1] == "hook"}) are replaced, not
 * duplicated, so switching between the launcher and the C client leaves one entry per stage.
 *
 * @param launcher absolute path of what the runtime executes: the C client {@code cgbpf-hook} or
 *                 the launcher {@code cgbpf} ({@link HookExecutable} gives the args of each)
 * @param stage the attach stage: createRuntime (default) or prestart
 * @param env environment of the hook process, {@code KEY=VALUE} (runtimes give hooks only this)
 * @param timeout seconds, or null for none
 */
public record BundleHooks(String launcher, HookStage stage, List<String> env, Integer timeout) {
    private static final ObjectMapper TREE = JsonMapper.builder()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .build();

    public BundleHooks {
        env = List.copyOf(env);
        if (stage.action() != HookStage.Action.ATTACH) {
            throw new IllegalArgumentException("the attach stage must be createRuntime or prestart");
        }
    }

    /** Edits {@code bundle/config.json} in place (atomically, keeping its mode). */
    public void install(Path bundle) throws HookException {
        Path file = bundle.resolve(Config.FILE);
        byte[] bytes;
        try {
            bytes = Json.readBytes(file, Config.FILE);
            Config.parse(bytes);
        } catch (SpecException e) {
            throw new HookException(e.getMessage());
        }
        check();
        replace(bundle, edit(bytes));
    }

    /** Writes {@code out} as {@code bundle/config.json} atomically (a temporary file moved over it), keeping its mode. */
    static void replace(Path bundle, byte[] out) throws HookException {
        Path file = bundle.resolve(Config.FILE);
        try {
            Set<PosixFilePermission> mode = Files.getPosixFilePermissions(file, LinkOption.NOFOLLOW_LINKS);
            Path tmp = Files.createTempFile(bundle, ".config.json.", ".tmp");
            try {
                Files.write(tmp, out);
                Files.setPosixFilePermissions(tmp, mode);
                try {
                    Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                } catch (AtomicMoveNotSupportedException e) {
                    Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
                }
            } finally {
                Files.deleteIfExists(tmp);
            }
        } catch (IOException e) {
            throw new HookException("cannot write " + file + ": " + e.getMessage());
        }
    }

    void check() throws HookException {
        if (!launcher.startsWith("/") || launcher.indexOf('\0') >= 0) {
            throw new HookException("hook path '" + launcher + "' is not absolute (runtimes require an absolute path)");
        }
        for (String e : env) {
            if (e.indexOf('=') <= 0 || e.indexOf('\0') >= 0) {
                throw new HookException("hook environment entry '" + e + "' is not KEY=VALUE");
            }
        }
        if (timeout != null && timeout <= 0) {
            throw new HookException("hook timeout " + timeout + " is not greater than zero");
        }
    }

    /** The edited document: the raw tree with our entries replaced or added. */
    byte[] edit(byte[] configJson) throws HookException {
        JsonNode root;
        try {
            root = readKeepingNumbers(configJson);
        } catch (IOException e) {
            throw new HookException(Config.FILE + ": malformed JSON: " + e.getMessage().lines().findFirst().orElse(""));
        }
        if (!(root instanceof ObjectNode doc)) {
            throw new HookException(Config.FILE + ": the document is not an object");
        }
        addTo(doc);
        return write(doc);
    }

    /** Replaces or adds cgbpf's entries in the document's hooks. */
    void addTo(ObjectNode doc) throws HookException {
        JsonNode h = doc.get("hooks");
        if (h != null && !h.isObject() && !h.isNull()) {
            throw new HookException(Config.FILE + ": field 'hooks' is not an object");
        }
        ObjectNode hooks = h instanceof ObjectNode o ? o : doc.putObject("hooks");
        for (HookStage s : HookStage.values()) {
            removeOurs(hooks, s.specName());
        }
        ours(hooks, stage);
        ours(hooks, HookStage.POSTSTOP);
    }

    /** The document's text, indented, with a final newline. */
    static byte[] write(ObjectNode doc) throws HookException {
        try {
            return (TREE.writeValueAsString(doc) + "\n").getBytes(java.nio.charset.StandardCharsets.UTF_8);
        } catch (JsonProcessingException e) {
            throw new HookException("cannot write " + Config.FILE + ": " + e.getMessage());
        }
    }

    /**
     * The document as a tree whose numbers are raw values holding their text as written: a tree
     * of BigDecimals would still rewrite {@code 1e3} as {@code 1E+3} and {@code -0} as {@code 0}.
     * Jackson's parser bounds the nesting depth (StreamReadConstraints), which bounds the recursion.
     */
    static JsonNode readKeepingNumbers(byte[] json) throws IOException {
        try (JsonParser p = TREE.getFactory().createParser(json)) {
            JsonToken first = p.nextToken();
            if (first == null) {
                throw new IOException("the file is empty");
            }
            JsonNode root = node(p, first);
            if (p.nextToken() != null) {
                throw new IOException("content after the end of the document");
            }
            return root;
        }
    }

    private static JsonNode node(JsonParser p, JsonToken t) throws IOException {
        JsonNodeFactory f = TREE.getNodeFactory();
        switch (t) {
            case START_OBJECT -> {
                ObjectNode o = f.objectNode();
                while (p.nextToken() == JsonToken.FIELD_NAME) {
                    String name = p.currentName();
                    o.set(name, node(p, p.nextToken()));
                }
                return o;
            }
            case START_ARRAY -> {
                ArrayNode a = f.arrayNode();
                for (JsonToken e; (e = p.nextToken()) != JsonToken.END_ARRAY; ) {
                    a.add(node(p, e));
                }
                return a;
            }
            case VALUE_STRING -> {
                return f.textNode(p.getText());
            }
            case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> {
                return f.rawValueNode(new RawValue(p.getText()));
            }
            case VALUE_TRUE, VALUE_FALSE -> {
                return f.booleanNode(t == JsonToken.VALUE_TRUE);
            }
            case VALUE_NULL -> {
                return f.nullNode();
            }
            default -> throw new IOException("unexpected " + t);
        }
    }

    private void removeOurs(ObjectNode hooks, String stageName) {
        JsonNode list = hooks.get(stageName);
        if (!(list instanceof ArrayNode a)) {
            return;
        }
        for (Iterator<JsonNode> it = a.elements(); it.hasNext(); ) {
            JsonNode e = it.next();
            String path = e.path("path").asText(null);
            if (e.isObject() && (HookExecutable.isOurs(path, e.path("args"))
                    || launcher.equals(path) && "hook".equals(e.path("args").path(1).asText(null)))) {
                it.remove();
            }
        }
        if (a.isEmpty()) {
            hooks.remove(stageName);
        }
    }

    private void ours(ObjectNode hooks, HookStage st) throws HookException {
        String stageName = st.specName();
        JsonNode existing = hooks.get(stageName);
        if (existing != null && !existing.isArray() && !existing.isNull()) {
            throw new HookException(Config.FILE + ": field 'hooks." + stageName + "' is not an array");
        }
        ArrayNode list = existing instanceof ArrayNode a ? a : hooks.putArray(stageName);
        ObjectNode e = list.addObject();
        e.put("path", launcher);
        ArrayNode args = e.putArray("args");
        HookExecutable.args(launcher, st).forEach(args::add);
        if (!env.isEmpty()) {
            ArrayNode en = e.putArray("env");
            env.forEach(en::add);
        }
        if (timeout != null) {
            e.put("timeout", timeout);
        }
    }
}
