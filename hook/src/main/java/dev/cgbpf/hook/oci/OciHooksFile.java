package dev.cgbpf.hook.oci;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cgbpf.hook.policy.AppliesTo;

/**
 * The oci-hooks(5) file (format version 1.0.0) that podman and CRI-O read from their hooks
 * directory (e.g. /usr/share/containers/oci/hooks.d/). One file per stage, because the file's
 * {@code hook.args} are the same for every stage it lists and cgbpf takes the stage as an
 * argument. With {@code appliesTo: annotated} the hook is registered only for containers with a
 * {@code dev.cgbpf.*} annotation ({@code when.annotations}), so other containers do not pay for a
 * hook at all; with {@code all}, always. The hook is the C client {@code cgbpf-hook} or the
 * launcher, whichever {@code launcher} names ({@link HookExecutable}).
 */
public final class OciHooksFile {
    /** The annotation-key pattern of {@code when.annotations}: any key in cgbpf's namespace. */
    public static final String ANNOTATION_KEY_PATTERN = "^dev\\.cgbpf\\.";
    private static final ObjectMapper OUT = JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT).build();

    private OciHooksFile() {
    }

    public static String render(String launcher, HookStage stage, AppliesTo appliesTo) {
        ObjectNode doc = OUT.createObjectNode();
        doc.put("version", "1.0.0");
        ObjectNode hook = doc.putObject("hook");
        hook.put("path", launcher);
        HookExecutable.args(launcher, stage).forEach(hook.putArray("args")::add);
        ObjectNode when = doc.putObject("when");
        if (appliesTo == AppliesTo.ALL) {
            when.put("always", true);
        } else {
            when.putObject("annotations").put(ANNOTATION_KEY_PATTERN, ".*");
        }
        doc.putArray("stages").add(stage.specName());
        try {
            return OUT.writeValueAsString(doc) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
