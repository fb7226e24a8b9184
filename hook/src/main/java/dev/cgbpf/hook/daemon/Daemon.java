package dev.cgbpf.hook.daemon;

import dev.cgbpf.hook.events.EventService;
import dev.cgbpf.hook.events.Subscribers;
import dev.cgbpf.hook.oci.AttachRecord;
import dev.cgbpf.hook.oci.ContainerStatus;
import dev.cgbpf.hook.oci.HookException;
import dev.cgbpf.hook.oci.HookLog;
import dev.cgbpf.hook.oci.HookSettings;
import dev.cgbpf.hook.oci.HookStage;
import dev.cgbpf.hook.oci.OciHook;
import dev.cgbpf.hook.oci.Secure;
import dev.cgbpf.hook.oci.RuntimeEdit;
import dev.cgbpf.hook.oci.StageRun;
import dev.cgbpf.hook.oci.UpdateDevices;
import dev.cgbpf.hook.spec.ContainerId;
import dev.cgbpf.hook.spec.SpecException;
import dev.cgbpf.hook.spec.Json;
import jdk.net.ExtendedSocketOptions;
import jdk.net.UnixDomainPrincipal;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.Semaphore;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@code cgbpf daemon}: a resident JVM that runs the OCI hook's stages for the small client the
 * runtime starts, so that a container start pays a socket round trip instead of a JVM start.
 * Each request runs exactly what {@code cgbpf hook STAGE} runs ({@link StageRun}), with the
 * settings of the request (falling back to the daemon's own environment), and answers with the
 * same exit status and the same lines; {@link Protocol} is the wire format.
 *
 * <p>Only uid 0 is served (SO_PEERCRED; the socket is also 0600 in a 0700 directory). The daemon
 * holds nothing a container needs: the programs are pinned and the records are on disk, so it can
 * be stopped, killed or upgraded at any time; at start it undoes the attaches a killed
 * predecessor left half done ({@link OciHook#recoverInterrupted}).
 *
 * <p>Concurrency: one thread per connection from a bounded pool, at most {@link Config#maxStages}
 * stages at once; the run directory's lock (in-process and fcntl) already serialises what must
 * be serial (bind address leases). Every request has a deadline: the client gets an answer by
 * then, and an attach that finishes after the client was told it failed is removed again.
 *
 * <p>Why one long class: the server's life (start-up checks, lock, socket, drain) and the state
 * machine of one connection ({@link Exchange}: read, accepted, the stage against its deadline,
 * answer) share the daemon's limits: the stage and state-size semaphores, the timer, the
 * deadline. Exchange is nested to use them directly; moving it out is possible once those limits
 * are an object of their own.
 */
public final class Daemon {
    public static final Path DEFAULT_SOCKET = Path.of("/run/cgbpf/cgbpf.sock");
    public static final Duration DEFAULT_DEADLINE = Duration.ofSeconds(60);
    public static final Duration DEFAULT_READ_TIMEOUT = Duration.ofSeconds(10);

    /**
     * @param socket the socket's path
     * @param pidFile where to write the daemon's pid once it serves, or null
     * @param deadline from a connection's accept to its answer
     * @param readTimeout for the request to arrive, complete
     * @param maxConnections connections served at once; more are answered "busy" (exit 2, nothing run)
     * @param maxStages stages run at once; the others wait (within their deadline)
     * @param maxState the longest state document taken, and the bytes of states held at once
     */
    public record Config(Path socket, Path pidFile, Duration deadline, Duration readTimeout, int maxConnections,
                         int maxStages, int maxState) {
        public static Config of(Path socket, Path pidFile) {
            long heapShare = Runtime.getRuntime().maxMemory() / 8;
            return new Config(socket, pidFile, DEFAULT_DEADLINE, DEFAULT_READ_TIMEOUT, 256,
                    Math.max(4, 2 * Runtime.getRuntime().availableProcessors()),
                    (int) Math.max(1 << 20, Math.min(Json.MAX_DOCUMENT_BYTES, heapShare)));
        }

        public Config withDeadline(Duration d) {
            return new Config(socket, pidFile, d, readTimeout.compareTo(d) < 0 ? readTimeout : d, maxConnections,
                    maxStages, maxState);
        }
    }

    /** A refusal to start: one line. */
    public static final class StartException extends Exception {
        public StartException(String message) {
            super(message, null, false, false);
        }
    }

    private final Config config;
    private final Map<String, String> ownEnv;
    private final DaemonLog log;
    private final String version;
    private final long startedNanos = System.nanoTime();
    private final AtomicLong served = new AtomicLong();
    private final AtomicInteger inFlight = new AtomicInteger();
    private final Semaphore stages;
    private final Semaphore stateBytes;
    private UserPrincipal root;
    private ServerSocketChannel server;
    private FileChannel lockChannel;
    private FileLock lock;
    private ThreadPoolExecutor connections;
    private ScheduledThreadPoolExecutor timer;
    private volatile boolean stopping;
    private boolean finished;
    private EventService.Options eventOptions;
    private volatile EventService events;
    private volatile StageTimer stageTimer = (stage, seconds) -> { };

    /** Told how long each hook stage took (the metrics' histogram). */
    public interface StageTimer {
        void observe(String stage, double seconds);
    }

    /** Read denial events while serving (before {@link #start}); null: none. */
    public void readEvents(EventService.Options o) {
        this.eventOptions = o;
    }

    /** The event reader once started; null when events are off or could not be had. */
    public EventService events() {
        return events;
    }

    public void timeStages(StageTimer t) {
        this.stageTimer = t;
    }

    /**
     * @param env the daemon's own environment: its CGBPF_* settings are what a request without them gets
     * @param version printed by the status request
     */
    public Daemon(Config config, Map<String, String> env, DaemonLog log, String version) {
        this.config = config;
        Map<String, String> own = new HashMap<>();
        for (String k : Protocol.ENV_KEYS) {
            if (env.get(k) != null) {
                own.put(k, env.get(k));
            }
        }
        this.ownEnv = Map.copyOf(own);
        this.log = log;
        this.version = version;
        this.stages = new Semaphore(config.maxStages(), true);
        this.stateBytes = new Semaphore(config.maxState(), true);
    }

    /** The checks a daemon must pass before it touches anything: root, and the host's namespaces. */
    public static void checkHost() throws StartException {
        Path self = Path.of("/proc/self");
        int euid;
        try {
            euid = (Integer) Files.getAttribute(self, "unix:uid");
        } catch (IOException | RuntimeException e) {
            throw new StartException("cannot tell this process's uid from " + self + ": " + e.getMessage());
        }
        if (euid != 0) {
            throw new StartException("the cgbpf daemon must run as root (this is uid " + euid + ")");
        }
        var ns = HostNamespaces.check(Path.of("/proc"));
        if (ns.isPresent()) {
            throw new StartException("the cgbpf daemon must run in the host's PID and mount namespaces: " + ns.get());
        }
    }

    /**
     * Everything before serving: the host checks, the socket's directory, the daemon lock, a
     * running daemon refused, a stale socket removed, the socket bound (0600), the half-done
     * attaches of a killed predecessor undone, the pid file written.
     */
    public void start() throws StartException {
        checkHost();
        HookSettings own;
        try {
            own = HookSettings.fromEnvironment(ownEnv);
            root = Files.getOwner(Path.of("/proc/self"));
        } catch (HookException | IOException e) {
            throw new StartException(e.getMessage());
        }
        Path socket = config.socket();
        Path dir = socket.toAbsolutePath().getParent();
        try {
            if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
                Secure.mkdirs(dir);
            } else if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
                throw new StartException(dir + " is not a directory (or is a symbolic link)");
            }
        } catch (IOException e) {
            throw new StartException("cannot make " + dir + ": " + e.getMessage());
        }
        takeLock(socket.resolveSibling(socket.getFileName() + ".lock"));
        boolean ok = false;
        try {
            removeStale(socket);
            try {
                server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
                server.bind(UnixDomainSocketAddress.of(socket), 128);
                Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-------"));
            } catch (IOException e) {
                throw new StartException("cannot listen on " + socket + ": " + e.getMessage());
            }
            recover(own);
            if (eventOptions != null) {
                try {
                    events = EventService.start(own, eventOptions, log::warn);
                } catch (HookException e) {
                    // the hook's work does not depend on the events: serve without them
                    log.warn("denial events off: " + e.getMessage());
                }
            }
            if (config.pidFile() != null) {
                writePidFile(config.pidFile());
            }
            connections = new ThreadPoolExecutor(0, config.maxConnections(), 30, TimeUnit.SECONDS,
                    new SynchronousQueue<>(), r -> thread(r, "cgbpf-daemon-conn"));
            timer = new ScheduledThreadPoolExecutor(1, r -> thread(r, "cgbpf-daemon-timer"));
            timer.setRemoveOnCancelPolicy(true);
            ok = true;
        } finally {
            if (!ok) {
                finish();
            }
        }
        log.info("cgbpf " + version + " (pid " + ProcessHandle.current().pid() + ") serves on " + socket
                + " (deadline " + config.deadline().toSeconds() + " s, " + config.maxStages() + " stages at once)");
    }

    private static Thread thread(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    private void takeLock(Path file) throws StartException {
        try {
            lockChannel = FileChannel.open(file, Set.of(StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    LinkOption.NOFOLLOW_LINKS), PosixFilePermissions.asFileAttribute(
                    PosixFilePermissions.fromString("rw-------")));
            try {
                lock = lockChannel.tryLock();
            } catch (OverlappingFileLockException e) {
                lock = null;
            }
        } catch (IOException e) {
            throw new StartException("cannot lock " + file + ": " + e.getMessage());
        }
        if (lock == null) {
            closeQuietly(lockChannel);
            lockChannel = null;
            throw new StartException("another cgbpf daemon is running or starting on " + config.socket()
                    + " (it holds " + file + ")");
        }
    }

    /** A daemon that answers: refuse. A socket nobody listens on: a killed daemon's, removed. */
    private void removeStale(Path socket) throws StartException {
        if (!Files.exists(socket, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try {
            int mode = (Integer) Files.getAttribute(socket, "unix:mode", LinkOption.NOFOLLOW_LINKS);
            if ((mode & 0170000) != 0140000) {
                throw new StartException(socket + " exists and is not a socket; not removing it");
            }
        } catch (IOException e) {
            throw new StartException("cannot look at " + socket + ": " + e.getMessage());
        }
        DaemonProbe.Result r = DaemonProbe.status(socket, Duration.ofSeconds(5));
        switch (r.state()) {
            case NO_SOCKET -> {
                return;
            }
            case STALE -> {
                try {
                    Files.deleteIfExists(socket);
                } catch (IOException e) {
                    throw new StartException("cannot remove the stale socket " + socket + ": " + e.getMessage());
                }
                log.info("removed the stale socket " + socket + " (its daemon is gone)");
            }
            case ANSWERS -> throw new StartException("another cgbpf daemon answers on " + socket + " (pid " + r.pid()
                    + ")");
            default -> throw new StartException(r.detail() + "; not taking it over");
        }
    }

    /** At start: the half-done attaches of a killed predecessor, in the daemon's own run directory. */
    private void recover(HookSettings own) {
        try {
            List<AttachRecord> undone = new OciHook(own, new HookLog(own.logFile())).recoverInterrupted();
            if (!undone.isEmpty()) {
                log.info("undid " + undone.size() + " half-done attach(es) left in " + own.runDir() + ": "
                        + String.join(", ", undone.stream().map(r -> r.id() + " (cgroup " + r.cgroup() + ")").toList()));
            }
        } catch (HookException | RuntimeException e) {
            log.warn("could not look for half-done attaches in " + own.runDir() + ": " + e.getMessage());
        }
    }

    private static void writePidFile(Path file) throws StartException {
        try {
            Path dir = file.toAbsolutePath().getParent();
            if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
                Secure.mkdirs(dir);
            }
            Path tmp = dir.resolve("." + file.getFileName() + "." + ProcessHandle.current().pid() + ".tmp");
            Files.deleteIfExists(tmp);
            Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            Files.writeString(tmp, ProcessHandle.current().pid() + "\n");
            try {
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            throw new StartException("cannot write the pid file " + file + ": " + e.getMessage());
        }
    }

    /** Accepts and serves connections until {@link #stop()}; then waits for the requests in flight and cleans up. */
    public void serve() {
        try {
            while (!stopping) {
                SocketChannel ch;
                try {
                    ch = server.accept();
                } catch (ClosedChannelException e) {
                    break;
                } catch (IOException e) {
                    log.warn("accept: " + e.getMessage());
                    sleepQuietly(10);
                    continue;
                }
                try {
                    connections.execute(() -> connection(ch));
                } catch (RejectedExecutionException e) {
                    busy(ch);
                }
            }
        } finally {
            drain();
            finish();
        }
    }

    /** Stops accepting; {@link #serve()} then finishes the requests in flight and returns. Safe from any thread. */
    public void stop() {
        stopping = true;
        closeQuietly(server);
    }

    /** Requests in flight now (for status and tests). */
    public int inFlight() {
        return inFlight.get();
    }

    private void drain() {
        if (connections == null) {
            return;
        }
        connections.shutdown();
        try {
            long wait = config.deadline().toMillis() + 5000;
            if (inFlight.get() > 0) {
                log.info("stopping: waiting for " + inFlight.get() + " request(s) in flight");
            }
            if (!connections.awaitTermination(wait, TimeUnit.MILLISECONDS)) {
                log.warn("stopping with " + inFlight.get() + " request(s) still running");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Removes the socket and the pid file (if still this daemon's), releases the lock, without
     * waiting for requests in flight: for a JVM that is going down anyway. Idempotent.
     */
    public void finishNow() {
        finish();
    }

    /** Removes the socket and the pid file (if still this daemon's), releases the lock. Idempotent. */
    private synchronized void finish() {
        if (finished) {
            return;
        }
        finished = true;
        closeQuietly(server);
        if (events != null) {
            events.close();
        }
        if (server != null) {
            try {
                Files.deleteIfExists(config.socket());
            } catch (IOException e) {
                log.warn("cannot remove " + config.socket() + ": " + e.getMessage());
            }
        }
        if (config.pidFile() != null && server != null) {
            try {
                String pid = Files.readString(config.pidFile()).strip();
                if (pid.equals(Long.toString(ProcessHandle.current().pid()))) {
                    Files.deleteIfExists(config.pidFile());
                }
            } catch (IOException e) {
                // not there, or not readable: nothing of ours to remove
            }
        }
        if (timer != null) {
            timer.shutdownNow();
        }
        if (lock != null) {
            try {
                lock.release();
            } catch (IOException e) {
                // closing the channel releases it too
            }
        }
        closeQuietly(lockChannel);
        if (server != null) {
            log.info("stopped; " + served.get() + " request(s) served");
        }
    }

    private void busy(SocketChannel ch) {
        try (ch) {
            writeAll(ch, Protocol.line(Protocol.ERROR, "cgbpf: daemon: busy: " + config.maxConnections()
                    + " connections already being served"), Protocol.line(Protocol.EXIT, "" + Protocol.MALFORMED));
        } catch (IOException e) {
            // the client went away
        }
        log.warn("refused a connection: " + config.maxConnections() + " connections already being served");
    }

    /** One connection: the peer checked, the request read, the stage run, the answer sent. */
    private void connection(SocketChannel ch) {
        long acceptedAt = System.nanoTime();
        inFlight.incrementAndGet();
        try (ch) {
            UnixDomainPrincipal peer;
            try {
                peer = ch.getOption(ExtendedSocketOptions.SO_PEERCRED);
            } catch (IOException | UnsupportedOperationException e) {
                log.warn("cannot tell who connected (SO_PEERCRED): " + e.getMessage() + "; refused");
                writeAll(ch, (Protocol.REFUSED + "\n").getBytes(StandardCharsets.US_ASCII));
                return;
            }
            if (!peer.user().equals(root)) {
                log.warn("refused a connection from user " + peer.user().getName() + ": only root may ask");
                writeAll(ch, (Protocol.REFUSED + "\n").getBytes(StandardCharsets.US_ASCII));
                ch.shutdownOutput();
                return;
            }
            new Exchange(ch, acceptedAt).run();
        } catch (IOException e) {
            // the client went away; whatever ran is logged and complete (or rolled back)
        } catch (RuntimeException | Error e) {
            log.warn("internal error serving a request: " + e);
        } finally {
            inFlight.decrementAndGet();
        }
    }

    /** The request and answer of one connection. */
    private final class Exchange {
        private static final int RUNNING = 0;
        private static final int COMMITTED = 1;
        private static final int DONE = 2;
        private static final int TIMED_OUT = 3;

        private final SocketChannel ch;
        private final long acceptedAt;
        private final AtomicInteger state = new AtomicInteger(RUNNING);
        private volatile boolean readTimedOut;
        private boolean closedForWriting;

        Exchange(SocketChannel ch, long acceptedAt) {
            this.ch = ch;
            this.acceptedAt = acceptedAt;
        }

        void run() throws IOException {
            RequestReader in = new RequestReader(ch, () -> readTimedOut);
            ScheduledFuture<?> readWatch = timer.schedule(() -> {
                readTimedOut = true;
                try {
                    ch.shutdownInput();
                } catch (IOException e) {
                    // closed already
                }
            }, config.readTimeout().toMillis(), TimeUnit.MILLISECONDS);
            RequestReader.Head head;
            byte[] stateJson = null;
            int held = 0;
            try {
                try {
                    head = in.readHead(config.maxState());
                } catch (RequestReader.Malformed e) {
                    malformed(in, e.getMessage(), 0);
                    return;
                }
                HookStage stage = null;
                boolean bundle = Protocol.BUNDLE.equals(head.stage());
                boolean update = Protocol.UPDATE.equals(head.stage());
                if (head.isStatus() || head.isEvents()) {
                    try {
                        in.expectEnd();
                    } catch (RequestReader.Malformed e) {
                        malformed(in, e.getMessage(), 0);
                        return;
                    }
                } else {
                    try {
                        stage = bundle || update ? null : HookStage.parse(head.stage());
                    } catch (HookException e) {
                        // what `cgbpf hook STAGE` says and exits with; nothing runs
                        answer(null, StageRun.errorLine(e), StageRun.FAILED, in, head.stateLength());
                        return;
                    }
                    long left = config.readTimeout().toNanos() - (System.nanoTime() - acceptedAt);
                    try {
                        if (!stateBytes.tryAcquire(head.stateLength(), Math.max(0, left), TimeUnit.NANOSECONDS)) {
                            answer(null, "cgbpf: daemon: too many large states in flight; try again",
                                    Protocol.MALFORMED, in, head.stateLength());
                            return;
                        }
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return;
                    }
                    held = head.stateLength();
                    try {
                        stateJson = in.readState(head.stateLength());
                    } catch (RequestReader.Malformed e) {
                        malformed(in, e.getMessage(), head.stateLength());
                        return;
                    }
                }
                readWatch.cancel(false);
                if (readTimedOut) {
                    malformed(in, "request: not complete in time", 0);
                    return;
                }
                try {
                    writeAll(ch, Protocol.line(Protocol.ACCEPTED, null));
                } catch (IOException e) {
                    log.warn(head.stage() + ": the client left before the request was accepted; nothing run");
                    return;
                }
                if (bundle) {
                    bundle(head.env(), new String(stateJson, StandardCharsets.UTF_8));
                } else if (update) {
                    update(head.env(), new String(stateJson, StandardCharsets.UTF_8));
                } else if (head.isEvents()) {
                    follow();
                } else if (stage == null) {
                    status(head.env());
                } else {
                    stage(stage, head.env(), stateJson);
                }
            } finally {
                readWatch.cancel(false);
                if (held > 0) {
                    stateBytes.release(held);
                }
                served.incrementAndGet();
            }
        }

        private void stage(HookStage stage, Map<String, String> requestEnv, byte[] stateJson) {
            long deadlineNanos = config.deadline().toNanos() - (System.nanoTime() - acceptedAt);
            ScheduledFuture<?> deadline = timer.schedule(() -> giveUp(stage), Math.max(0, deadlineNanos),
                    TimeUnit.NANOSECONDS);
            try {
                try {
                    if (!stages.tryAcquire(Math.max(0, deadlineNanos), TimeUnit.NANOSECONDS)) {
                        giveUp(stage);
                        return;
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    giveUp(stage);
                    return;
                }
                StageRun.Result r;
                try {
                    if (state.get() == TIMED_OUT) {
                        return;
                    }
                    Map<String, String> env = new HashMap<>(ownEnv);
                    env.putAll(requestEnv);
                    long t0 = System.nanoTime();
                    r = StageRun.run(stage, false, env, () -> stateJson,
                            () -> state.compareAndSet(RUNNING, COMMITTED));
                    stageTimer.observe(stage.specName(), (System.nanoTime() - t0) / 1e9);
                } catch (RuntimeException | Error e) {
                    r = new StageRun.Result(StageRun.FAILED, null, "cgbpf: hook " + stage.specName()
                            + ": internal error: " + e);
                } finally {
                    stages.release();
                }
                if (state.compareAndSet(RUNNING, DONE) || state.compareAndSet(COMMITTED, DONE)) {
                    deadline.cancel(false);
                    if (r.error() != null) {
                        log.warn(stage.specName() + ": " + r.error());
                    }
                    try {
                        answer(r.warning(), r.error(), r.status(), null, 0);
                    } catch (IOException e) {
                        log.warn(stage.specName() + ": the client left before the answer (exit " + r.status() + ")");
                    }
                } else {
                    log.warn(stage.specName() + " finished after its deadline (exit " + r.status()
                            + (r.error() == null ? "" : ": " + r.error()) + "); the client was told it failed");
                }
            } finally {
                deadline.cancel(false);
            }
        }

        /** The deadline passed before the stage was in place: the client is told it failed. */
        private void giveUp(HookStage stage) {
            if (!state.compareAndSet(RUNNING, TIMED_OUT)) {
                return;
            }
            String line = "cgbpf: hook " + stage.specName() + ": the cgbpf daemon did not finish the stage within its"
                    + " deadline of " + config.deadline().toSeconds() + " s";
            log.warn(line);
            try {
                answer(null, line, StageRun.FAILED, null, 0);
            } catch (IOException e) {
                // the client went away
            }
            closeQuietly(ch);
        }

        /**
         * {@code cgbpf update}: the body is {@code ID\nRULES}. Run here rather than in the caller's
         * JVM so that the daemon stays the one process changing its containers' programs (the
         * run directory's lock orders it with stages either way).
         */
        private void update(Map<String, String> requestEnv, String body) throws IOException {
            Map<String, String> env = new HashMap<>(ownEnv);
            env.putAll(requestEnv);
            int nl = body.indexOf('\n');
            String error;
            try {
                if (nl < 0) {
                    throw new HookException("the request's body is not 'ID' newline 'RULES'");
                }
                String id = ContainerId.validate(body.substring(0, nl), "update");
                HookSettings s = HookSettings.fromEnvironment(env);
                UpdateDevices.Outcome out = UpdateDevices.run(s, id, body.substring(nl + 1), new HookLog(s.logFile()));
                log.info("update " + id + ": " + out.summary());
                writeAll(ch, Protocol.line(Protocol.INFO, out.summary()));
                for (String w : out.warnings()) {
                    writeAll(ch, Protocol.line(Protocol.WARNING, "cgbpf: warning: " + w));
                }
                answer(null, null, 0, null, 0);
                return;
            } catch (HookException | SpecException e) {
                error = e.getMessage();
            } catch (RuntimeException e) {
                error = "internal error: " + e;
            }
            log.warn("update: " + error);
            answer(null, "cgbpf: update: " + error, StageRun.FAILED, null, 0);
        }

        /** The runtime shim's edit of a bundle: quick (one file), so neither a stage slot nor a deadline. */
        private void bundle(Map<String, String> requestEnv, String path) throws IOException {
            Map<String, String> env = new HashMap<>(ownEnv);
            env.putAll(requestEnv);
            RuntimeEdit.Result r;
            try {
                r = RuntimeEdit.run(env, requestEnv, path);
            } catch (RuntimeException | Error e) {
                r = new RuntimeEdit.Result(StageRun.FAILED, "cgbpf: runtime-edit: internal error: " + e);
            }
            if (r.status() != 0) {
                log.warn("bundle " + path + ": " + r.line());
            }
            answer(null, r.status() == 0 ? null : r.line(), r.status(), null, 0);
        }

        /** The events request: the daemon's denial lines as they are logged, until the client or the daemon goes. */
        private void follow() throws IOException {
            EventService ev = events;
            if (ev == null) {
                answer(null, "cgbpf: daemon: this daemon reads no denial events (see its log)", StageRun.FAILED, null, 0);
                return;
            }
            writeAll(ch, Protocol.line(Protocol.INFO, "events log=" + ev.logPath()));
            try (Subscribers.Subscription sub = ev.subscribers().subscribe()) {
                int idle = 0;
                while (!stopping) {
                    String line = sub.next(1000);
                    long lost = sub.takeLost();
                    if (lost > 0) {
                        writeAll(ch, Protocol.line(Protocol.INFO, "lost " + lost));
                    }
                    if (line != null) {
                        writeAll(ch, Protocol.line(Protocol.EVENT, line));
                        idle = 0;
                    } else if (++idle >= 10) {
                        // an idle follower learns here that its client is gone (the write fails)
                        writeAll(ch, Protocol.line(Protocol.INFO, "keepalive"));
                        idle = 0;
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            answer(null, null, 0, null, 0);
        }

        private void status(Map<String, String> requestEnv) throws IOException {
            Map<String, String> env = new HashMap<>(ownEnv);
            env.putAll(requestEnv);
            StringBuilder b = new StringBuilder();
            b.append(new String(Protocol.line(Protocol.INFO, "daemon pid=" + ProcessHandle.current().pid()
                    + " version=" + version + " uptime=" + (System.nanoTime() - startedNanos) / 1_000_000_000L + "s"
                    + " served=" + served.get() + " inflight=" + (inFlight.get() - 1) + " socket="
                    + config.socket()), StandardCharsets.UTF_8));
            String error = null;
            try {
                HookSettings s = HookSettings.fromEnvironment(env);
                for (ContainerStatus c : ContainerStatus.find(s, null)) {
                    AttachRecord r = c.record();
                    long on = c.attached().values().stream().filter(v -> v).count();
                    b.append(new String(Protocol.line(Protocol.INFO, "container " + r.id() + " " + r.status() + " "
                            + r.backend() + " cgroup=" + r.cgroup() + " programs=" + r.programs().size()
                            + " attached=" + on), StandardCharsets.UTF_8));
                }
            } catch (HookException e) {
                error = StageRun.errorLine(e);
            }
            writeAll(ch, b.toString().getBytes(StandardCharsets.UTF_8));
            answer(null, error, error == null ? 0 : StageRun.FAILED, null, 0);
        }

        private void malformed(RequestReader in, String message, int stateLength) throws IOException {
            log.warn("malformed request: " + message);
            answer(null, "cgbpf: daemon: " + message, Protocol.MALFORMED, in, stateLength);
        }

        /**
         * The closing lines. With {@code in} (an answer before the whole request was read) what is
         * left of the request is read and dropped first, so that closing does not reset the client's
         * connection before it read the answer.
         */
        private void answer(String warning, String error, int exit, RequestReader in, long leftToDrain)
                throws IOException {
            synchronized (this) {
                if (closedForWriting) {
                    return;
                }
                closedForWriting = true;
                if (warning != null) {
                    writeAll(ch, Protocol.line(Protocol.WARNING, warning));
                }
                if (error != null) {
                    writeAll(ch, Protocol.line(Protocol.ERROR, error));
                }
                writeAll(ch, Protocol.line(Protocol.EXIT, Integer.toString(exit)));
                ch.shutdownOutput();
            }
            if (in != null) {
                in.drain(Math.min(leftToDrain + Protocol.MAX_LINE, 1 << 20));
            }
        }
    }

    private static void writeAll(SocketChannel ch, byte[]... parts) throws IOException {
        for (byte[] p : parts) {
            ByteBuffer b = ByteBuffer.wrap(p);
            while (b.hasRemaining()) {
                ch.write(b);
            }
        }
    }

    private static void closeQuietly(AutoCloseable c) {
        if (c == null) {
            return;
        }
        try {
            c.close();
        } catch (Exception e) {
            // nothing more to do
        }
    }

    private static void sleepQuietly(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
