package dev.cgbpf.hook.oci;

import dev.cgbpf.engine.backend.AttachType;

import java.util.Map;

/**
 * The attach type of each program name the compilers give (config/README.md lists them). A
 * cleanup that finds a pinned program but no complete record (a hook killed while attaching)
 * still knows from the name where the program was attached.
 */
final class ProgramNames {
    static final Map<String, AttachType> ATTACH_TYPES = Map.ofEntries(
            Map.entry("cgbpf_dev", AttachType.CGROUP_DEVICE),
            Map.entry("cgbpf_dev_host", AttachType.CGROUP_DEVICE),
            Map.entry("cgbpf_sock", AttachType.CGROUP_INET_SOCK_CREATE),
            Map.entry("cgbpf_bind4", AttachType.CGROUP_INET4_BIND),
            Map.entry("cgbpf_bind6", AttachType.CGROUP_INET6_BIND),
            Map.entry("cgbpf_conn4", AttachType.CGROUP_INET4_CONNECT),
            Map.entry("cgbpf_conn6", AttachType.CGROUP_INET6_CONNECT),
            Map.entry("cgbpf_send4", AttachType.CGROUP_UDP4_SENDMSG),
            Map.entry("cgbpf_send6", AttachType.CGROUP_UDP6_SENDMSG),
            Map.entry("cgbpf_in", AttachType.CGROUP_INET_INGRESS),
            Map.entry("cgbpf_out", AttachType.CGROUP_INET_EGRESS));

    private ProgramNames() {
    }
}
