package dev.cgbpf.hook.metrics;

import dev.cgbpf.hook.daemon.Daemon;
import dev.cgbpf.hook.events.EventService;
import dev.cgbpf.hook.oci.AttachRecord;
import dev.cgbpf.hook.oci.ContainerStatus;

import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.core.metrics.Info;
import io.prometheus.metrics.exporter.httpserver.HTTPServer;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;

/**
 * The daemon's Prometheus metrics (text exposition on {@code http://ADDR:PORT/metrics}), made
 * with the io.prometheus client, on a registry of their own:
 * <ul>
 * <li>{@code cgbpf_denials_total{container,kind}}: the programs' own counters, read from each
 *     container's pinned counter map by the scrape itself, so exact whatever the
 *     ring buffer or the log's rate limit dropped; kind is the counter's reason (device,
 *     bind_address, bind_port, socket, address_traffic). Reported by callback from the current
 *     records only, so a removed container's series go away with it;</li>
 * <li>{@code cgbpf_containers}: the records of attached containers;</li>
 * <li>{@code cgbpf_hook_duration_seconds{stage}}: a histogram of the daemon's stage runs;</li>
 * <li>{@code cgbpf_events_total}, {@code cgbpf_events_dropped_total} (the ring buffer was full:
 *     the programs count it), {@code cgbpf_events_suppressed_total} (the log's rate limit);</li>
 * <li>{@code cgbpf_build_info{version}}.</li>
 * </ul>
 * The container metrics come from the event reader's record index: a daemon started with
 * {@code --no-events} serves only the stage histogram and the build info.
 */
public final class DaemonMetrics {
    private static final long SCRAPE_REFRESH_MILLIS = 1000;

    private DaemonMetrics() {
    }

    /** Registers the metrics and serves them until the JVM exits (the server's threads are daemons). */
    public static HTTPServer serve(Daemon daemon, InetSocketAddress at, String version) throws IOException {
        PrometheusRegistry registry = new PrometheusRegistry();
        register(registry, daemon, version);
        return HTTPServer.builder().inetAddress(at.getAddress()).port(at.getPort()).registry(registry)
                .buildAndStart();
    }

    static void register(PrometheusRegistry registry, Daemon daemon, String version) {
        Histogram stages = Histogram.builder().name("cgbpf_hook_duration_seconds")
                .help("Time the daemon took to run a hook stage").labelNames("stage")
                .classicOnly().classicUpperBounds(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
                .register(registry);
        daemon.timeStages((stage, seconds) -> stages.labelValues(stage).observe(seconds));
        Info.builder().name("cgbpf_build_info").help("The cgbpf version").labelNames("version").register(registry)
                .setLabelValues(version);
        EventService ev = daemon.events();
        if (ev == null) {
            return;
        }
        CounterWithCallback.builder().name("cgbpf_denials_total")
                .help("Denials counted by the programs of each container, by reason").labelNames("container", "kind")
                .callback(cb -> {
                    // read now: the counters are exact only if the scrape reads them itself
                    for (ContainerStatus c : fresh(ev, 0)) {
                        for (Map.Entry<String, Long> d : c.denials().entrySet()) {
                            cb.call(d.getValue(), c.record().id(), d.getKey());
                        }
                    }
                }).register(registry);
        GaugeWithCallback.builder().name("cgbpf_containers").help("Containers with cgbpf programs attached")
                .callback(cb -> cb.call(fresh(ev, SCRAPE_REFRESH_MILLIS).stream()
                        .filter(c -> AttachRecord.ATTACHED.equals(c.record().status())).count()))
                .register(registry);
        CounterWithCallback.builder().name("cgbpf_events_total").help("Denial events read from the ring buffer")
                .callback(cb -> cb.call(ev.eventsRead())).register(registry);
        CounterWithCallback.builder().name("cgbpf_events_dropped_total")
                .help("Denial events lost because the ring buffer was full (counted by the programs)")
                .callback(cb -> cb.call(ev.eventsDropped())).register(registry);
        CounterWithCallback.builder().name("cgbpf_events_suppressed_total")
                .help("Denial events left out of the log by its per-container rate limit")
                .callback(cb -> cb.call(ev.eventsSuppressed())).register(registry);
    }

    /** The records and counters, re-read when the last read is older than {@code maxAgeMillis}. */
    private static List<ContainerStatus> fresh(EventService ev, long maxAgeMillis) {
        ev.index().refreshIfOlder(System.currentTimeMillis(), maxAgeMillis);
        return ev.index().statuses();
    }
}
