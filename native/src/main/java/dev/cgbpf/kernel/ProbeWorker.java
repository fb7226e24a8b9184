package dev.cgbpf.kernel;

import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.Errno;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The runner's side of one {@link ProbeWorkerMain} child: starts it with this JVM's class path,
 * sends requests and reads answers with a time limit, and ends it. Which cgroup the child is in
 * is the caller's business ({@link CgroupFs#moveProcess}).
 */
final class ProbeWorker implements AutoCloseable {
    /** Longest a single request may take; the slowest (connect) has its own 2 s limit inside. */
    static final long CALL_TIMEOUT_MS = 15_000;

    private final Process process;
    private final Writer requests;
    private final BlockingQueue<String> answers = new LinkedBlockingQueue<>();
    private final Path errLog;
    private final long pid;

    private ProbeWorker(Process process, Path errLog) throws BpfException {
        this.process = process;
        this.errLog = errLog;
        this.requests = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
        Thread reader = new Thread(this::pump, "cgbpf-probe-worker-" + process.pid());
        reader.setDaemon(true);
        reader.start();
        String ready = next(60_000, "start");
        if (!ready.startsWith("ready ")) {
            process.destroyForcibly();
            throw new BpfException(Errno.EIO, "probe worker said '" + ready + "' instead of ready" + errTail());
        }
        this.pid = Long.parseLong(ready.substring(6).strip());
    }

    /** Starts a worker; its stderr goes to {@code errLog} (shown when it fails). */
    static ProbeWorker start(Path errLog) throws BpfException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        // a small, quickly started JVM: it only makes a few syscalls per request
        cmd.addAll(List.of("-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-XX:-UsePerfData", "-Xmx48m",
                "-Xss512k", "-cp", System.getProperty("java.class.path"), ProbeWorkerMain.class.getName()));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(errLog.toFile());
        try {
            return new ProbeWorker(pb.start(), errLog);
        } catch (IOException e) {
            throw new BpfException(Errno.EIO, "cannot start the probe worker: " + e.getMessage());
        }
    }

    long pid() {
        return pid;
    }

    boolean isAlive() {
        return process.isAlive();
    }

    /**
     * Sends one request; returns the answer's values after {@code ok}. An {@code err N} answer is
     * an {@link ErrnoException} (the kernel said no); a dead or hung worker is EIO.
     */
    String[] call(String request) throws BpfException, ErrnoException {
        try {
            requests.write(request + "\n");
            requests.flush();
        } catch (IOException e) {
            throw new BpfException(Errno.EIO, "probe worker gone: " + e.getMessage() + errTail());
        }
        String answer = next(CALL_TIMEOUT_MS, request);
        String[] t = answer.split(" ");
        return switch (t[0]) {
            case "ok" -> java.util.Arrays.copyOfRange(t, 1, t.length);
            case "err" -> throw new ErrnoException(Integer.parseInt(t[1]), request.split(" ")[0]);
            default -> throw new BpfException(Errno.EIO, "probe worker failed on '" + request + "': " + answer);
        };
    }

    private String next(long timeoutMs, String what) throws BpfException {
        String line;
        try {
            line = answers.poll(timeoutMs, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
            throw new BpfException(Errno.EINTR, "interrupted while waiting for the probe worker");
        }
        if (line == null) {
            process.destroyForcibly();
            throw new BpfException(Errno.EIO, "probe worker did not answer '" + what + "' in " + timeoutMs + " ms"
                    + errTail());
        }
        if (line.equals(EOF)) {
            answers.offer(EOF);
            throw new BpfException(Errno.EIO, "probe worker exited" + errTail());
        }
        return line;
    }

    private static final String EOF = "\0eof";

    private void pump() {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(),
                StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                answers.offer(line);
            }
        } catch (IOException e) {
            // the process went away; the EOF marker below tells the caller
        }
        answers.offer(EOF);
    }

    private String errTail() {
        try {
            String err = Files.readString(errLog).strip();
            if (err.isEmpty()) {
                return "";
            }
            // the first lines say what happened (an exception and where), the rest is stack
            String[] lines = err.split("\n");
            return " (worker stderr: " + String.join(" | ", java.util.Arrays.asList(lines).subList(0,
                    Math.min(3, lines.length))).replace('\t', ' ') + ")";
        } catch (IOException e) {
            return "";
        }
    }

    /** Asks the worker to exit, then makes sure it has: the cgroup it was in can only go once it is gone. */
    @Override
    public void close() {
        try {
            requests.write("exit\n");
            requests.close();
        } catch (IOException e) {
            // already gone
        }
        try {
            if (!process.waitFor(2, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}
