package dev.cgbpf.hook.runtimes;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Whether each container engine installed here would run cgbpf: a runtime that does not know of
 * cgbpf runs a container with {@code dev.cgbpf.*} settings unprotected and says nothing, so
 * {@code cgbpf doctor} lists it. Read from the engines' own configuration:
 * <ul>
 *   <li>podman and CRI-O: an oci-hooks(5) file in a hooks directory whose hook is cgbpf's
 *       (the client {@code cgbpf-hook} or {@code cgbpf hook}), for an attach stage and poststop;</li>
 *   <li>Docker: a {@code runtimes} entry of daemon.json whose path is {@code cgbpf-runtime};</li>
 *   <li>containerd: a runtime whose {@code BinaryName} is {@code cgbpf-runtime} in config.toml,
 *       and whether {@code pod_annotations} lets {@code dev.cgbpf.*} through (CRI, Kubernetes).</li>
 * </ul>
 *
 * @param hooksDirs podman's and CRI-O's hooks directories
 * @param dockerConfig Docker's daemon.json
 * @param containerdConfig containerd's config.toml
 * @param installed whether a command is installed (on PATH)
 */
public record Registrations(List<Path> hooksDirs, Path dockerConfig, Path containerdConfig,
                            Predicate<String> installed) {
    public static final String SHIM = "cgbpf-runtime";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern BINARY_NAME = Pattern.compile("(?m)^\\s*BinaryName\\s*=\\s*[\"']([^\"']*)[\"']");
    private static final Pattern POD_ANNOTATIONS = Pattern.compile("(?m)^\\s*pod_annotations\\s*=\\s*\\[([^\\]]*)]");

    /** One engine: installed or not, cgbpf registered or not, and what was found. */
    public record Engine(String name, boolean installed, boolean registered, String detail) {
    }

    /** The places of a Debian host. */
    public static Registrations host() {
        return new Registrations(List.of(Path.of("/etc/containers/oci/hooks.d"),
                Path.of("/usr/share/containers/oci/hooks.d")), Path.of("/etc/docker/daemon.json"),
                Path.of("/etc/containerd/config.toml"), Registrations::onPath);
    }

    static boolean onPath(String command) {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/sbin:/usr/bin:/sbin:/bin").split(":")) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, command))) {
                return true;
            }
        }
        return false;
    }

    /** The engines, in a fixed order; those not installed too (registered false, detail says so). */
    public List<Engine> check() {
        List<Engine> out = new ArrayList<>();
        String hooks = hooksDirStages();
        for (String[] e : new String[][] {{"podman", "podman"}, {"cri-o", "crio"}}) {
            out.add(hooks.startsWith("registered")
                    ? new Engine(e[0], installed.test(e[1]), true, hooks.substring("registered: ".length()))
                    : new Engine(e[0], installed.test(e[1]), false, hooks));
        }
        out.add(docker());
        out.add(containerd());
        return out.stream().map(e -> e.installed() ? e : new Engine(e.name(), false, e.registered(),
                "not installed" + (e.registered() ? "; " + e.detail() : ""))).toList();
    }

    /** "registered: ..." when the hooks directories have cgbpf for an attach stage and poststop. */
    private String hooksDirStages() {
        TreeSet<String> stages = new TreeSet<>();
        List<String> where = new ArrayList<>();
        for (Path dir : hooksDirs) {
            if (!Files.isDirectory(dir)) {
                continue;
            }
            try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "*.json")) {
                List<Path> sorted = new ArrayList<>();
                files.forEach(sorted::add);
                sorted.sort(null);
                for (Path f : sorted) {
                    JsonNode doc = JSON.readTree(f.toFile());
                    String path = doc.path("hook").path("path").asText("");
                    JsonNode args = doc.path("hook").path("args");
                    boolean ours = path.endsWith("/cgbpf-hook") || "cgbpf".equals(args.path(0).asText())
                            && "hook".equals(args.path(1).asText());
                    if (ours) {
                        doc.path("stages").forEach(s -> stages.add(s.asText()));
                        where.add(f.toString());
                    }
                }
            } catch (IOException e) {
                return "cannot read " + dir + ": " + e.getMessage().lines().findFirst().orElse("");
            }
        }
        boolean attach = stages.contains("createRuntime") || stages.contains("prestart");
        if (attach && stages.contains("poststop")) {
            return "registered: cgbpf hook " + String.join(", ", stages) + " in " + String.join(", ", where);
        }
        return "NOT registered: no cgbpf hook for " + (attach ? "poststop" : "createRuntime") + " in "
                + hooksDirs.stream().map(Path::toString).reduce((a, b) -> a + " or " + b).orElse("no directory")
                + " (cgbpf hook oci-config); dev.cgbpf.* annotations would be ignored";
    }

    private Engine docker() {
        boolean inst = installed.test("dockerd");
        if (!Files.exists(dockerConfig)) {
            return new Engine("docker", inst, false, "NOT registered: no " + dockerConfig + " (a runtimes entry for "
                    + SHIM + "); dev.cgbpf.* settings would be ignored");
        }
        try {
            JsonNode doc = JSON.readTree(dockerConfig.toFile());
            List<String> names = new ArrayList<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = doc.path("runtimes").fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> r = it.next();
                if (r.getValue().path("path").asText("").endsWith(SHIM)) {
                    names.add(r.getKey());
                }
            }
            if (names.isEmpty()) {
                return new Engine("docker", inst, false, "NOT registered: no runtime of " + dockerConfig + " runs "
                        + SHIM + "; dev.cgbpf.* settings would be ignored");
            }
            boolean dflt = names.contains(doc.path("default-runtime").asText(""));
            return new Engine("docker", inst, true, "runtime " + String.join(", ", names) + " in " + dockerConfig
                    + (dflt ? " (the default runtime)" : " (docker run --runtime " + names.get(0) + ")"));
        } catch (IOException e) {
            return new Engine("docker", inst, false, "cannot read " + dockerConfig + ": "
                    + e.getMessage().lines().findFirst().orElse(""));
        }
    }

    private Engine containerd() {
        boolean inst = installed.test("containerd");
        String text;
        try {
            text = Files.exists(containerdConfig) ? Files.readString(containerdConfig) : "";
        } catch (IOException e) {
            return new Engine("containerd", inst, false, "cannot read " + containerdConfig + ": " + e.getMessage());
        }
        boolean shim = false;
        for (Matcher m = BINARY_NAME.matcher(text); m.find(); ) {
            shim |= m.group(1).endsWith(SHIM);
        }
        boolean pods = false;
        for (Matcher m = POD_ANNOTATIONS.matcher(text); m.find(); ) {
            pods |= m.group(1).contains("dev.cgbpf.");
        }
        if (!shim) {
            return new Engine("containerd", inst, false, "NOT registered: no BinaryName = \"..." + SHIM + "\" in "
                    + containerdConfig + "; only `ctr run --runc-binary " + SHIM + "` is protected");
        }
        return new Engine("containerd", inst, true, "BinaryName " + SHIM + " in " + containerdConfig
                + (pods ? ", pod_annotations pass dev.cgbpf.*" : "; pod_annotations do not pass dev.cgbpf.*:"
                + " Kubernetes pods' settings would not reach it"));
    }
}
