#!/usr/bin/env bash
# Installs cgbpf on this machine and checks it against the running kernel:
#   1. a JDK (17 or newer) and Maven from apt, only if missing
#   2. builds the project (mvn package, tests skipped: `mvn -B verify` runs them)
#   3. installs /usr/local/lib/cgbpf/cgbpf.jar and the launcher /usr/local/bin/cgbpf
#   4. self-check: runs every example scenario on the kernel and on the engine and compares
#      both with the expected output (examples/scenarios/*.out, recorded on a kernel)
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
java_bin=$(dirname "$(readlink -f "$(command -v javac)")")/java

echo "== building"
mvn -B -q -DskipTests package

echo "== installing /usr/local/lib/cgbpf/cgbpf.jar and /usr/local/bin/cgbpf"
install -D -m 0644 hook/target/cgbpf.jar /usr/local/lib/cgbpf/cgbpf.jar
launcher=$(mktemp)
cat >"$launcher" <<LAUNCHER
#!/bin/sh
# cgbpf launcher, written by install.sh
exec "$java_bin" \${CGBPF_JAVA_OPTS:-} -jar /usr/local/lib/cgbpf/cgbpf.jar "\$@"
LAUNCHER
install -m 0755 "$launcher" /usr/local/bin/cgbpf
rm -f "$launcher"

echo "== self-check: example scenarios on the kernel and the engine"
/usr/local/bin/cgbpf --version
failed=0
for scenario in examples/scenarios/*.jsonl; do
    expected=${scenario%.jsonl}.out
    for backend in kernel engine; do
        if /usr/local/bin/cgbpf script --backend "$backend" "$scenario" | diff -u "$expected" - >/dev/null; then
            echo "ok    $backend  $scenario"
        else
            echo "FAIL  $backend  $scenario (cgbpf script --backend $backend $scenario | diff $expected -)"
            failed=1
        fi
    done
done
if ((failed)); then
    echo "install.sh: cgbpf is installed, but the self-check failed (see above)" >&2
    exit 1
fi
echo "cgbpf is installed: try 'cgbpf help'"
