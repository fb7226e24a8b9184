package dev.cgbpf.hook.cli;

import dev.cgbpf.hook.daemon.Daemon;
import dev.cgbpf.hook.events.DenialLog;
import dev.cgbpf.hook.events.EventService;
import dev.cgbpf.hook.metrics.DaemonMetrics;
import dev.cgbpf.hook.daemon.DaemonLog;
import dev.cgbpf.hook.daemon.Detach;

import java.io.FileOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** {@code cgbpf daemon}: the resident JVM that runs the hook's stages for the {@code cgbpf-hook} client. */
final class DaemonCommand implements Command {
    static final String SOCKET_ENV = "CGBPF_SOCKET";
    static final String DENIALS_LOG_ENV = "CGBPF_DENIALS_LOG";

    @Override
    public String name() {
        return "daemon";
    }

    @Override
    public String synopsis() {
        return "[--socket PATH] [--detach] [--pid-file FILE] [--log-file FILE] [--deadline SEC] [--read-timeout SEC]"
                + " [--denials-log FILE | --no-events] [--metrics ADDR:PORT]";
    }

    @Override
    public String summary() {
        return "serve the OCI hook's stages on a Unix socket (for the cgbpf-hook client)";
    }

    @Override
    public String help() {
        return """
                Runs the hook's stages for the small cgbpf-hook client the runtime starts, so that
                a container start pays a socket round trip instead of a JVM start. Each request
                runs exactly what `cgbpf hook STAGE` runs, with the request's CGBPF_* settings
                (missing ones from the daemon's own environment), and answers with the same exit
                status and message. Only root is served; the daemon must run as root in the host's
                PID and mount namespaces. docs/daemon.md has the protocol.

                  --socket PATH     the socket (default $%s, else %s; its directory
                                    is made 0700, the socket is 0600)
                  --detach          start in the background (a new session, stdin /dev/null,
                                    output to the log file) and return once it serves
                  --pid-file FILE   write the daemon's pid there (default with --detach:
                                    %s)
                  --log-file FILE   the daemon's log (default: stderr; with --detach
                                    %s)
                  --deadline SEC    answer every request within SEC seconds (default %d)
                  --read-timeout SEC  the request must have arrived, complete, within SEC
                                    seconds of the connection (default %d)
                  --denials-log FILE  where the denial events go, one JSON line each
                                    (default $CGBPF_DENIALS_LOG, else %s;
                                    rate-limited per container, rotated once at 16 MiB)
                  --no-events       read no denial events
                  --metrics ADDR:PORT  serve Prometheus metrics over HTTP there (off by
                                    default; a loopback address unless you mean otherwise)

                Stops cleanly on SIGTERM or SIGINT (requests in flight finish, the socket is
                removed). Nothing of a container depends on the daemon running: stopping,
                killing or upgrading it detaches nothing. A small heap is enough:
                CGBPF_JAVA_OPTS="-XX:+UseSerialGC -Xmx32m -XX:TieredStopAtLevel=1".
                """.formatted(SOCKET_ENV, Daemon.DEFAULT_SOCKET, Detach.DEFAULT_PID_FILE, Detach.DEFAULT_LOG_FILE,
                Daemon.DEFAULT_DEADLINE.toSeconds(), Daemon.DEFAULT_READ_TIMEOUT.toSeconds(), DenialLog.DEFAULT_PATH);
    }

    @Override
    public int run(Args args, Console console) throws CliException {
        String env = System.getenv(SOCKET_ENV);
        Path socket = env == null || env.isEmpty() ? Daemon.DEFAULT_SOCKET : Path.of(env);
        Path pidFile = null;
        Path logFile = null;
        boolean detach = false;
        Duration deadline = Daemon.DEFAULT_DEADLINE;
        Duration readTimeout = null;
        String logEnv = System.getenv(DENIALS_LOG_ENV);
        Path denialsLog = logEnv == null || logEnv.isEmpty() ? DenialLog.DEFAULT_PATH : Path.of(logEnv);
        boolean events = true;
        InetSocketAddress metrics = null;
        for (String o; (o = args.nextOption()) != null; ) {
            switch (o) {
                case "--denials-log" -> denialsLog = path(args.value(o), o);
                case "--no-events" -> {
                    args.noValue(o);
                    events = false;
                }
                case "--metrics" -> metrics = MetricsOption.parse(args.value(o));
                case "--socket" -> socket = path(args.value(o), o);
                case "--pid-file" -> pidFile = path(args.value(o), o);
                case "--log-file" -> logFile = path(args.value(o), o);
                case "--deadline" -> deadline = seconds(args.value(o), o);
                case "--read-timeout" -> readTimeout = seconds(args.value(o), o);
                case "--detach" -> {
                    args.noValue(o);
                    detach = true;
                }
                default -> throw args.unknownOption(o);
            }
        }
        args.operands(0);
        if (detach) {
            Path pid = pidFile == null ? Detach.DEFAULT_PID_FILE : pidFile;
            Path log = logFile == null ? Detach.DEFAULT_LOG_FILE : logFile;
            List<String> mainArgs = new ArrayList<>();
            mainArgs.add(name());
            mainArgs.addAll(args.original());
            List<String> childArgs = new ArrayList<>(List.of(name(), "--socket", socket.toString(), "--pid-file",
                    pid.toString(), "--log-file", log.toString(), "--deadline", Long.toString(deadline.toSeconds())));
            if (readTimeout != null) {
                childArgs.addAll(List.of("--read-timeout", Long.toString(readTimeout.toSeconds())));
            }
            childArgs.addAll(events ? List.of("--denials-log", denialsLog.toString()) : List.of("--no-events"));
            if (metrics != null) {
                childArgs.addAll(List.of("--metrics", MetricsOption.format(metrics)));
            }
            try {
                Daemon.checkHost();
                var running = dev.cgbpf.hook.daemon.DaemonProbe.status(socket, Duration.ofSeconds(5));
                if (running.answers()) {
                    throw new Daemon.StartException("another cgbpf daemon answers on " + socket + " (pid "
                            + running.pid() + ")");
                }
                Detach.Started s = Detach.start(mainArgs, childArgs, socket, pid, log);
                console.out().println("cgbpf daemon started: pid " + s.pid() + ", socket " + socket + ", log " + log);
                return 0;
            } catch (Daemon.StartException e) {
                throw new CliException("daemon: " + e.getMessage(), 1);
            }
        }
        return foreground(socket, pidFile, logFile, deadline, readTimeout,
                events ? EventService.Options.DEFAULT.withLogPath(denialsLog) : null, metrics);
    }

    private static int foreground(Path socket, Path pidFile, Path logFile, Duration deadline, Duration readTimeout,
                                  EventService.Options events, InetSocketAddress metrics) throws CliException {
        // the stages' own warnings go to the daemon's log through slf4j; their infos to the hook log only
        if (System.getProperty("org.slf4j.simpleLogger.defaultLogLevel") == null) {
            System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
        }
        PrintStream out = System.err;
        if (logFile != null) {
            try {
                Detach.openLog(logFile);
                out = new PrintStream(new FileOutputStream(logFile.toFile(), true), true, StandardCharsets.UTF_8);
            } catch (Daemon.StartException | IOException e) {
                throw new CliException("daemon: " + e.getMessage(), 1);
            }
            System.setErr(out);
        }
        Daemon.Config config = Daemon.Config.of(socket, pidFile).withDeadline(deadline);
        if (readTimeout != null) {
            config = new Daemon.Config(config.socket(), config.pidFile(), config.deadline(), readTimeout,
                    config.maxConnections(), config.maxStages(), config.maxState());
        }
        Daemon daemon = new Daemon(config, System.getenv(), new DaemonLog(out), Main.version());
        daemon.readEvents(events);
        try {
            daemon.start();
        } catch (Daemon.StartException e) {
            throw new CliException("daemon: " + e.getMessage(), 1);
        }
        if (metrics != null) {
            try {
                DaemonMetrics.serve(daemon, metrics, Main.version());
            } catch (IOException e) {
                daemon.stop();
                daemon.finishNow();
                throw new CliException("daemon: --metrics " + MetricsOption.format(metrics) + ": " + e.getMessage(), 1);
            }
        }
        Signals.onTermination(daemon::stop);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            daemon.stop();
            daemon.finishNow();
        }, "cgbpf-daemon-shutdown"));
        daemon.serve();
        return 0;
    }

    private static Path path(String v, String option) throws CliException {
        if (v.isEmpty() || v.indexOf('\0') >= 0) {
            throw CliException.usage("daemon: " + option + ": '" + v + "' is not a path");
        }
        return Path.of(v).toAbsolutePath().normalize();
    }

    private static Duration seconds(String v, String option) throws CliException {
        int s = Args.intValue(v, option);
        if (s <= 0) {
            throw CliException.usage("daemon: " + option + " must be a positive number of seconds");
        }
        return Duration.ofSeconds(s);
    }
}
