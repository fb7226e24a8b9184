package dev.cgbpf.hook.cli;

import dev.cgbpf.hook.daemon.Daemon;
import dev.cgbpf.hook.events.DenialLog;
import dev.cgbpf.hook.events.LoggedEvent;
import dev.cgbpf.hook.spec.ContainerId;
import dev.cgbpf.hook.spec.SpecException;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * {@code cgbpf events [ID] [--follow] [--json]}: the denials the programs reported, past ones from
 * the daemon's denials log (its rotated half first), live ones from the daemon (the events
 * request of docs/daemon.md).
 */
final class EventsCommand implements Command {
    @Override
    public String name() {
        return "events";
    }

    @Override
    public String synopsis() {
        return "[ID] [--follow] [--json] [--log FILE] [--socket PATH]";
    }

    @Override
    public String summary() {
        return "the denials the programs reported: what, who, which rule";
    }

    @Override
    public String help() {
        return """
                Prints the denial events of container ID (an id or its unique start; without ID,
                every container's): from the daemon's denials log, and with --follow also the
                new ones as the daemon reads them, until interrupted. One line each:

                  web-1  pid 4242 (python3)  socket inet dgram udp  denied by dev.cgbpf.deny-sockets udp

                A container hammering a denied object is rate-limited in the log: a line says how
                many of its events were left out. The counters of `cgbpf status` stay exact.

                  --follow        after the log, the live events from the daemon
                  --json          the log's JSON lines as they are
                  --log FILE      the denials log (default $%s, else %s)
                  --socket PATH   the daemon's socket for --follow (default $%s, else %s)
                """.formatted(DaemonCommand.DENIALS_LOG_ENV, DenialLog.DEFAULT_PATH, DaemonCommand.SOCKET_ENV,
                Daemon.DEFAULT_SOCKET);
    }

    @Override
    public int run(Args args, Console console) throws CliException {
        boolean json = false;
        boolean follow = false;
        String logEnv = System.getenv(DaemonCommand.DENIALS_LOG_ENV);
        Path log = logEnv == null || logEnv.isEmpty() ? DenialLog.DEFAULT_PATH : Path.of(logEnv);
        String sockEnv = System.getenv(DaemonCommand.SOCKET_ENV);
        Path socket = sockEnv == null || sockEnv.isEmpty() ? Daemon.DEFAULT_SOCKET : Path.of(sockEnv);
        for (String o; (o = args.nextOption()) != null; ) {
            switch (o) {
                case "--json" -> {
                    args.noValue(o);
                    json = true;
                }
                case "--follow", "-f" -> {
                    args.noValue(o);
                    follow = true;
                }
                case "--log" -> log = Path.of(args.value(o));
                case "--socket" -> socket = Path.of(args.value(o));
                default -> throw args.unknownOption(o);
            }
        }
        List<String> ops = args.operands(1);
        String id;
        try {
            id = ops.isEmpty() ? null : ContainerId.validate(ops.get(0), "events");
        } catch (SpecException e) {
            throw CliException.usage(e.getMessage());
        }
        boolean any = Files.exists(log, LinkOption.NOFOLLOW_LINKS)
                || Files.exists(rotated(log), LinkOption.NOFOLLOW_LINKS);
        if (!any && !follow) {
            throw CliException.badInput("events: no denials log at " + log
                    + " (is the cgbpf daemon running with events? see cgbpf daemon --help)");
        }
        for (Path p : List.of(rotated(log), log)) {
            try (BufferedReader r = Files.newBufferedReader(p, StandardCharsets.UTF_8)) {
                for (String line; (line = r.readLine()) != null; ) {
                    print(line, id, json, console);
                }
            } catch (NoSuchFileException e) {
                // the rotated half is there only after the first rotation
            } catch (IOException e) {
                throw CliException.badInput("events: cannot read " + p + ": " + e.getMessage());
            }
        }
        console.out().flush();
        return follow ? follow(socket, id, json, console) : 0;
    }

    private static Path rotated(Path log) {
        return log.resolveSibling(log.getFileName() + ".1");
    }

    /** Prints a log line that is an event of {@code id} (or any, id null); other lines are skipped. */
    private static void print(String line, String id, boolean json, Console console) {
        Optional<LoggedEvent> e = LoggedEvent.parse(line);
        if (e.isEmpty() || (id != null && (e.get().container() == null || !e.get().container().startsWith(id)))) {
            return;
        }
        console.out().println(json ? line : e.get().human());
    }

    private static int follow(Path socket, String id, boolean json, Console console) throws CliException {
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(socket));
            ch.write(java.nio.ByteBuffer.wrap("cgbpf-hook 1 events\n".getBytes(StandardCharsets.US_ASCII)));
            ch.shutdownOutput();
            BufferedReader r = new BufferedReader(new InputStreamReader(Channels.newInputStream(ch),
                    StandardCharsets.UTF_8));
            for (String line; (line = r.readLine()) != null; ) {
                if (line.startsWith("event ")) {
                    print(line.substring(6), id, json, console);
                    console.out().flush();
                } else if (line.startsWith("error ")) {
                    throw CliException.badInput("events: " + line.substring(6));
                } else if (line.startsWith("refused")) {
                    throw CliException.badInput("events: the daemon says: " + line);
                } else if (line.startsWith("exit ")) {
                    return 0;
                }
            }
            throw CliException.badInput("events: the daemon at " + socket + " closed the connection");
        } catch (IOException e) {
            throw CliException.badInput("events: no cgbpf daemon answers at " + socket + " (" + e.getMessage() + ")");
        }
    }
}
