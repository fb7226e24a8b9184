#!/usr/bin/env bash
# Installs cgbpf on this machine and checks it against the running kernel:
#   1. from apt, only what is missing: a JDK (17 or newer), Maven, runc, crun, bpftool,
#      busybox-static, python3, gcc and libc6-dev (the runtimes, and what `mvn -B verify` needs:
#      the tests build small static probe programs); with CGBPF_TEST_ENGINES=1 also podman,
#      containerd and docker.io, which the runtime tests start privately
#   2. builds the project (mvn package, tests skipped: `mvn -B verify` runs them)
#   3. installs /usr/local/lib/cgbpf/cgbpf.jar, the launcher /usr/local/bin/cgbpf, the hook's C
#      client /usr/local/bin/cgbpf-hook (built by mvn package into native/target/cgbpf-hook), the
#      runtime shim /usr/local/bin/cgbpf-runtime (for Docker and containerd: docs/runtimes.md), and the
#      developer tools (benchmarks, verifier fuzzer): cgbpf-tools.jar and /usr/local/bin/cgbpf-tools
#   4. the OCI hook: host policy, oci-hooks(5) files (naming cgbpf-hook), class-data-sharing archive
#   5. the cgbpf daemon (docs/daemon.md): where systemd is PID 1, the unit config/cgbpf.service
#      installed, enabled and (re)started; elsewhere `cgbpf daemon --detach`. A daemon of an
#      earlier installation is stopped before its jar is replaced.
#   6. self-check: runs every example scenario on the kernel and on the engine and compares
#      both with the expected output (examples/scenarios/*.out, recorded on a kernel), then
#      prints `cgbpf doctor`
# Safe to run again: each step replaces what the previous run installed.
set -euo pipefail

cd "$(dirname "$(readlink -f "$0")")"

if [[ $(id -u) -ne 0 ]]; then
    echo "install.sh: run as root (sudo ./install.sh): it installs packages and loads BPF programs" >&2
    exit 1
fi

# A javac whose major version is 17 or newer, if there is one on PATH.
jdk_ok() {
    command -v javac >/dev/null 2>&1 || return 1
    local v
    v=$(javac -version 2>&1 | sed -n 's/^javac \([0-9]*\).*/\1/p')
    [[ -n $v && $v -ge 17 ]]
}

missing=()
jdk_ok || missing+=(openjdk-17-jdk-headless)
command -v mvn >/dev/null 2>&1 || missing+=(maven)
# the OCI runtimes cgbpf hooks into, and what its tests use: bpftool to look at the kernel,
# a static busybox for test containers, python3 inside them to report where sockets went, gcc and
# the static libc for the probe programs the kernel tests build
for pkg in runc crun bpftool busybox-static python3 gcc libc6-dev; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
# the container engines the runtime tests start privately (RuntimesEndToEndTest, docs/runtimes.md):
# only on request, since a machine's engines are its owner's choice (docker.io's package starts
# dockerd where systemd runs, and dockerd writes iptables rules)
if [[ ${CGBPF_TEST_ENGINES:-0} == 1 ]]; then
    for pkg in podman containerd docker.io; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
    done
fi
if ((${#missing[@]})); then
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "install.sh: please install ${missing[*]} (no apt-get on this machine)" >&2
        exit 1
    fi
    echo "== installing ${missing[*]}"
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
fi
if ! jdk_ok; then
    # apt installed JDK 17, but an older JDK may still come first on PATH
    javac17=$(ls -d /usr/lib/jvm/java-17-openjdk-*/bin 2>/dev/null | head -n1 || true)
    [[ -n $javac17 ]] && export PATH="$javac17:$PATH"
    jdk_ok || { echo "install.sh: no JDK 17 or newer found" >&2; exit 1; }
fi
jdk_bin=$(dirname "$(readlink -f "$(command -v javac)")")
java_bin=$jdk_bin/java

echo "== building"
mvn -B -q -DskipTests package

# The daemon (docs/daemon.md). A daemon of an earlier installation reads classes from the jar
# about to be replaced: stop it first. It holds nothing a container needs (programs pinned,
# records on disk); while it is down, cgbpf-hook runs the JVM hook itself.
systemd_pid1() { [[ -d /run/systemd/system && $(cat /proc/1/comm 2>/dev/null) == systemd ]]; }
daemon_pid_file=/run/cgbpf/cgbpf-daemon.pid
if systemd_pid1 && systemctl is-active --quiet cgbpf.service 2>/dev/null; then
    echo "== stopping cgbpf.service for the upgrade"
    systemctl stop cgbpf.service
fi
if [[ -s $daemon_pid_file ]]; then
    old_pid=$(cat "$daemon_pid_file")
    if [[ $old_pid =~ ^[0-9]+$ ]] && tr '\0' ' ' 2>/dev/null <"/proc/$old_pid/cmdline" | grep -q 'cgbpf.* daemon'; then
        echo "== stopping the cgbpf daemon (pid $old_pid) for the upgrade"
        kill -TERM "$old_pid"
        # requests in flight finish first, at most the daemon's 60 s deadline
        for _ in $(seq 1 700); do kill -0 "$old_pid" 2>/dev/null || break; sleep 0.1; done
    fi
fi

echo "== installing /usr/local/lib/cgbpf/cgbpf.jar and /usr/local/bin/cgbpf"
install -D -m 0644 hook/target/cgbpf.jar /usr/local/lib/cgbpf/cgbpf.jar
# JNA's native half, unpacked once, here: otherwise every JVM that calls bpf(2) writes it to
# ~/.cache/JNA and loads it from there, and without the daemon a hook stage is a JVM per
# container start (docs/perf.md, "the JVM hook")
case $(uname -m) in
    x86_64) jna_dir=linux-x86-64 ;;
    aarch64) jna_dir=linux-aarch64 ;;
    riscv64) jna_dir=linux-riscv64 ;;
    *) jna_dir= ;;
esac
jna_opts=
jna_tmp=$(mktemp -d)
if [[ -n $jna_dir ]] && (cd "$jna_tmp" && "$jdk_bin/jar" xf /usr/local/lib/cgbpf/cgbpf.jar "com/sun/jna/$jna_dir/libjnidispatch.so") \
    && [[ -s $jna_tmp/com/sun/jna/$jna_dir/libjnidispatch.so ]]; then
    install -m 0644 "$jna_tmp/com/sun/jna/$jna_dir/libjnidispatch.so" /usr/local/lib/cgbpf/libjnidispatch.so
    jna_opts="-Djna.boot.library.path=/usr/local/lib/cgbpf -Djna.nounpack=true"
else
    rm -f /usr/local/lib/cgbpf/libjnidispatch.so
    echo "install.sh: JNA has no native library for $(uname -m) in the jar's usual place; it unpacks its own at every start" >&2
fi
rm -rf "$jna_tmp"
launcher=$(mktemp)
# The launcher. A hook stage is a JVM that lives a few hundred milliseconds: C1 alone compiles
# what little gets hot, and the serial collector starts no GC threads (docs/perf.md, "the JVM
# hook"); every other command, the daemon above all, keeps the JVM's defaults.
# The daemon's JVM options (a small heap, C1 only, a capped code cache: docs/daemon.md) are the
# unit's; the launcher gives them to every 'cgbpf daemon', however it is started (systemd, --detach,
# by hand, a benchmark), so what runs is what was measured.
daemon_java_opts=$(sed -n 's/^Environment="CGBPF_JAVA_OPTS=\(.*\)"$/\1/p' config/cgbpf.service)
[[ -n $daemon_java_opts ]] || { echo "install.sh: config/cgbpf.service has no CGBPF_JAVA_OPTS line" >&2; exit 1; }
write_launcher() {  # write_launcher EXTRA_JVM_OPTIONS
    cat >"$launcher" <<LAUNCHER
#!/bin/sh
# cgbpf launcher, written by install.sh
case "\${1:-}" in
    hook) stage_opts="-XX:TieredStopAtLevel=1 -XX:+UseSerialGC" ;;
    daemon) stage_opts="$daemon_java_opts"; MALLOC_ARENA_MAX=\${MALLOC_ARENA_MAX:-2}; export MALLOC_ARENA_MAX ;;
    *) stage_opts= ;;
esac
exec "$java_bin" $1 $jna_opts \$stage_opts \${CGBPF_JAVA_OPTS:-} -jar /usr/local/lib/cgbpf/cgbpf.jar "\$@"
LAUNCHER
}
write_launcher ""
install -m 0755 "$launcher" /usr/local/bin/cgbpf
rm -f "$launcher"
# the hook the runtimes run: asks the resident daemon (cgbpf daemon), and without one runs
# /usr/local/bin/cgbpf hook STAGE itself (docs/hook.md, "cgbpf-hook")
echo "== installing /usr/local/bin/cgbpf-hook"
install -m 0755 native/target/cgbpf-hook /usr/local/bin/cgbpf-hook
# the OCI runtime shim for Docker and containerd (docs/runtimes.md): registered by the admin there
echo "== installing /usr/local/bin/cgbpf-runtime"
install -m 0755 native/target/cgbpf-runtime /usr/local/bin/cgbpf-runtime

echo "== installing the developer tools: /usr/local/lib/cgbpf/cgbpf-tools.jar and /usr/local/bin/cgbpf-tools"
install -D -m 0644 tools/target/cgbpf-tools.jar /usr/local/lib/cgbpf/cgbpf-tools.jar
launcher=$(mktemp)
cat >"$launcher" <<LAUNCHER
#!/bin/sh
# cgbpf-tools launcher (benchmarks, verifier fuzzer), written by install.sh
exec "$java_bin" $jna_opts \${CGBPF_JAVA_OPTS:-} -jar /usr/local/lib/cgbpf/cgbpf-tools.jar "\$@"
LAUNCHER
install -m 0755 "$launcher" /usr/local/bin/cgbpf-tools
rm -f "$launcher"

# ==== BEGIN cgbpf OCI hook (docs/hook.md) ==========================================
# 1. the default host policy, only if the host has none (an edited policy is never replaced)
# 2. the oci-hooks(5) files for podman / CRI-O, naming the C client cgbpf-hook, with a
#    when-condition that follows the policy's appliesTo (annotated containers only, unless the
#    policy applies to all)
# 3. a JVM class-data-sharing archive, dumped at the exit of one representative hook run (a real
#    createRuntime + poststop on a scratch cgroup), and a launcher that maps it: a hook is one
#    short JVM per container start, and most of its time is class loading
echo "== installing the OCI hook"
if [[ ! -e /etc/cgbpf/policy.json ]]; then
    install -D -m 0644 config/policy.json /etc/cgbpf/policy.json
    echo "installed /etc/cgbpf/policy.json"
fi
hooks_dir=/usr/share/containers/oci/hooks.d
install -d -m 0755 "$hooks_dir"
/usr/local/bin/cgbpf hook oci-config --stage createRuntime --path /usr/local/bin/cgbpf-hook >"$hooks_dir/cgbpf-hooks.json"
/usr/local/bin/cgbpf hook oci-config --stage poststop --path /usr/local/bin/cgbpf-hook >"$hooks_dir/cgbpf-hooks-poststop.json"
chmod 0644 "$hooks_dir/cgbpf-hooks.json" "$hooks_dir/cgbpf-hooks-poststop.json"
echo "wrote $hooks_dir/cgbpf-hooks.json and cgbpf-hooks-poststop.json"

jsa=/usr/local/lib/cgbpf/cgbpf.jsa
rm -f "$jsa"
cds_tmp=$(mktemp -d)
cds_id="cgbpf-cds-$$"
v2=$(findmnt -n -t cgroup2 -o TARGET | head -n1)
cds_cleanup() {
    if [[ -n ${cds_pid:-} ]]; then
        kill "$cds_pid" 2>/dev/null || true
        wait "$cds_pid" 2>/dev/null || true
    fi
    if [[ -n $v2 && -d $v2/$cds_id ]]; then
        rmdir "$v2/$cds_id" 2>/dev/null || true
    fi
    rm -rf "$cds_tmp"
}
if [[ -n $v2 ]] && mkdir "$v2/$cds_id"; then
    sleep 300 &
    cds_pid=$!
    echo "$cds_pid" >"$v2/$cds_id/cgroup.procs"
    mkdir -p "$cds_tmp/bundle"
    cat >"$cds_tmp/bundle/config.json" <<CONFIG
{"ociVersion": "1.0.2",
 "annotations": {"dev.cgbpf.devices": "deny c 1:5 w", "dev.cgbpf.bind-ip": "auto"},
 "linux": {"cgroupsPath": "/$cds_id", "resources": {"devices": [{"allow": false, "access": "rwm"}]}}}
CONFIG
    state() { printf '{"ociVersion":"1.0.2","id":"%s","status":"%s",%s"bundle":"%s"}' \
        "$cds_id" "$1" "$2" "$cds_tmp/bundle"; }
    export CGBPF_RUN_DIR="$cds_tmp/run" CGBPF_PIN_DIR="/sys/fs/bpf/$cds_id" CGBPF_LOG_FILE=- \
        CGBPF_POLICY=/etc/cgbpf/policy.json
    # A static archive of the classes a container's stages load, createRuntime's and poststop's
    # (the lists of both runs, merged), plus the method-handle forms the lists name: a dynamic
    # archive would hold one run's classes only. poststop undoes a container once its cgroup has
    # no process left: stop the stand-in first.
    jar=/usr/local/lib/cgbpf/cgbpf.jar
    if state creating "\"pid\":$cds_pid," |
        "$java_bin" -XX:DumpLoadedClassList="$cds_tmp/create.lst" $jna_opts -jar $jar hook createRuntime \
        && { kill "$cds_pid"; wait "$cds_pid" 2>/dev/null; cds_pid=; true; } \
        && state stopped "" | "$java_bin" -XX:DumpLoadedClassList="$cds_tmp/poststop.lst" $jna_opts -jar $jar hook poststop \
        && "$java_bin" -XX:DumpLoadedClassList="$cds_tmp/version.lst" -jar $jar --version >/dev/null \
        && cat "$cds_tmp/create.lst" "$cds_tmp/poststop.lst" "$cds_tmp/version.lst" | grep -v '^#' \
            | awk '!seen[$0]++' >"$cds_tmp/classes.lst" \
        && "$java_bin" -Xshare:dump -XX:SharedClassListFile="$cds_tmp/classes.lst" -XX:SharedArchiveFile="$jsa" \
            $jna_opts -cp $jar >"$cds_tmp/dump.log" 2>&1; then
        chmod 0644 "$jsa"
        echo "wrote the class-data-sharing archive $jsa"
    else
        echo "install.sh: the representative hook run or the archive dump failed; no CDS archive (the hook works, starts slower)" >&2
        [[ -s $cds_tmp/dump.log ]] && tail -n 3 "$cds_tmp/dump.log" >&2
        rm -f "$jsa"
    fi
    unset CGBPF_RUN_DIR CGBPF_PIN_DIR CGBPF_LOG_FILE CGBPF_POLICY
    # the host's event ring the representative run pinned in its own pin root goes with it
    rm -f "/sys/fs/bpf/$cds_id/cgbpf_events"
    rmdir "/sys/fs/bpf/$cds_id" 2>/dev/null || true
fi
cds_cleanup
if [[ -s $jsa ]]; then
    launcher=$(mktemp)
    write_launcher "-XX:SharedArchiveFile=$jsa -Xshare:auto"
    install -m 0755 "$launcher" /usr/local/bin/cgbpf
    rm -f "$launcher"
fi
echo "the OCI hook is installed: 'cgbpf hook install --bundle DIR' for runc/crun bundles; docs/hook.md"
# ==== END cgbpf OCI hook =====================================================================

# ==== BEGIN cgbpf daemon (docs/daemon.md) ==========================================
# The resident JVM that runs the hook's stages for the cgbpf-hook client. Its launcher options
# (a small heap, C1 only, a capped code cache: ~62 MB resident) are the unit's, which the
# launcher written above gives every `cgbpf daemon`.
# The daemon is optional: without it the hook runs as one JVM per stage; a failure to start it
# is a warning.
echo "== starting the cgbpf daemon"
if systemd_pid1; then
    install -D -m 0644 config/cgbpf.service /etc/systemd/system/cgbpf.service
    systemctl daemon-reload
    systemctl enable --quiet cgbpf.service
    if systemctl restart cgbpf.service; then
        echo "installed, enabled and started cgbpf.service"
    else
        echo "install.sh: cgbpf.service did not start (journalctl -u cgbpf); the hook works without it" >&2
    fi
elif /usr/local/bin/cgbpf daemon --detach; then
    echo "PID 1 is not systemd: the daemon was started with 'cgbpf daemon --detach' and is not started"
    echo "again at boot; have your init run: cgbpf daemon --detach"
else
    echo "install.sh: the cgbpf daemon did not start (see above, /var/log/cgbpf/daemon.log); the hook works without it" >&2
fi
# ==== END cgbpf daemon =======================================================================

echo "== self-check: example scenarios on the kernel and the engine"
/usr/local/bin/cgbpf --version
failed=0
for scenario in examples/scenarios/*.jsonl; do
    expected=${scenario%.jsonl}.out
    for backend in kernel engine; do
        # the .out's first line names the kernel build that recorded it
        if /usr/local/bin/cgbpf script --backend "$backend" "$scenario" | diff -u <(tail -n +2 "$expected") - >/dev/null; then
            echo "ok    $backend  $scenario"
        else
            echo "FAIL  $backend  $scenario (cgbpf script --backend $backend $scenario | diff <(tail -n +2 $expected) -)"
            failed=1
        fi
    done
done
if ((failed)); then
    echo "install.sh: cgbpf is installed, but the self-check failed (see above)" >&2
    exit 1
fi
/usr/local/bin/cgbpf doctor
echo "cgbpf is installed: try 'cgbpf help'"
