package dev.cgbpf.hook.script;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A literal loopback address (127.0.0.0/8 or ::1): scenarios only ever touch the loopback
 * network. Host names are refused rather than resolved.
 */
public record LoopbackAddress(InetAddress address) {

    private static final Pattern IPV4 = Pattern.compile("(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})");

    public static LoopbackAddress parse(String text) throws MalformedLineException {
        InetAddress a = literal(text);
        if (a == null) {
            throw new MalformedLineException("'" + text + "' is not an IPv4 or IPv6 address literal");
        }
        if (!a.isLoopbackAddress()) {
            throw new MalformedLineException("address " + text + " is not a loopback address (127.0.0.0/8, ::1)");
        }
        return new LoopbackAddress(a);
    }

    private static InetAddress literal(String text) {
        try {
            Matcher m = IPV4.matcher(text);
            if (m.matches()) {
                byte[] b = new byte[4];
                for (int i = 0; i < 4; i++) {
                    int v = Integer.parseInt(m.group(i + 1));
                    if (v > 255) {
                        return null;
                    }
                    b[i] = (byte) v;
                }
                return InetAddress.getByAddress(b);
            }
            // only colon forms go to getByName: it parses literals without a DNS query
            if (text.indexOf(':') >= 0 && text.matches("[0-9A-Fa-f:.]+")) {
                InetAddress a = InetAddress.getByName(text);
                // an IPv4-mapped form comes back as IPv4; the format names ::1 only
                return a instanceof Inet6Address ? a : null;
            }
        } catch (UnknownHostException e) {
            return null;
        }
        return null;
    }

    @Override
    public String toString() {
        return address.getHostAddress();
    }
}
