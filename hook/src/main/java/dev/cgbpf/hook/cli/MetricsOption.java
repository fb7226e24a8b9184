package dev.cgbpf.hook.cli;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;

/** {@code --metrics ADDR:PORT}: a numeric address (IPv6 in brackets) and a port. */
final class MetricsOption {
    private MetricsOption() {
    }

    static InetSocketAddress parse(String v) throws CliException {
        int colon = v.lastIndexOf(':');
        if (colon <= 0 || colon == v.length() - 1) {
            throw CliException.usage("daemon: --metrics: '" + v + "' is not ADDR:PORT (e.g. 127.0.0.1:9464)");
        }
        String host = v.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        if (!host.matches("[0-9a-fA-F:.]+")) {
            throw CliException.usage("daemon: --metrics: '" + host + "' is not a numeric address");
        }
        int port;
        try {
            port = Integer.parseInt(v.substring(colon + 1));
        } catch (NumberFormatException e) {
            port = -1;
        }
        if (port < 1 || port > 65535) {
            throw CliException.usage("daemon: --metrics: '" + v.substring(colon + 1) + "' is not a port (1-65535)");
        }
        try {
            return new InetSocketAddress(InetAddress.getByName(host), port);
        } catch (UnknownHostException e) {
            throw CliException.usage("daemon: --metrics: '" + host + "' is not an address");
        }
    }

    static String format(InetSocketAddress a) {
        String h = a.getAddress().getHostAddress();
        return (h.indexOf(':') >= 0 ? "[" + h + "]" : h) + ":" + a.getPort();
    }
}
