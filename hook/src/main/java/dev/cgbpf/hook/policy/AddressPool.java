package dev.cgbpf.hook.policy;

import dev.cgbpf.hook.spec.Printable;

import java.math.BigInteger;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The addresses the host policy lets containers take as their bind address
 * ({@code network.bindAddressPool}): CIDR blocks of IPv4 and IPv6 addresses. A container's
 * {@code dev.cgbpf.bind-ip} must lie in the pool, and {@code auto} takes the first free address
 * of it.
 *
 * <p>Two rules keep the host's own addresses out of containers' hands: 127.0.0.1 and ::1, the
 * addresses host services listen on, are in the pool only when a block names exactly that
 * address ({@code 127.0.0.1/32}); in an IPv4 block of four or more addresses the first and
 * the last address (network and broadcast, 127.255.255.255 for 127.0.0.0/8) are never handed out,
 * nor the first address of an IPv6 block wider than /127 (the subnet-router anycast address).
 *
 * @param blocks the CIDR blocks, in the order written
 */
public record AddressPool(List<Block> blocks) {
    /** Most blocks a pool may have. */
    public static final int MAX_BLOCKS = 256;
    /** The pool of a host policy without the key: loopback IPv4 only (the host's external addresses never). */
    public static final AddressPool DEFAULT = new AddressPool(List.of(Block.LOOPBACK4));
    /** How many candidates {@link #firstFree} looks at before it gives up. */
    static final int MAX_CANDIDATES = 1 << 20;

    public AddressPool {
        blocks = List.copyOf(blocks);
    }

    /**
     * One CIDR block.
     *
     * @param base the block's first address (host bits zero)
     * @param prefix the prefix length
     */
    public record Block(InetAddress base, int prefix) {
        static final Block LOOPBACK4 = new Block(v4(127, 0, 0, 0), 8);

        int bits() {
            return base instanceof Inet4Address ? 32 : 128;
        }

        boolean contains(InetAddress a) {
            if (a.getClass() != base.getClass()) {
                return false;
            }
            int host = bits() - prefix;
            return number(a).shiftRight(host).equals(number(base).shiftRight(host));
        }

        /** Whether {@code a} (inside this block) may be handed out by it. */
        boolean hands(InetAddress a) {
            if (a.isLoopbackAddress() && isHostLoopback(a) && prefix != bits()) {
                return false;
            }
            BigInteger n = number(a);
            BigInteger first = number(base);
            if (base instanceof Inet4Address && prefix <= 30) {
                BigInteger last = first.add(BigInteger.ONE.shiftLeft(bits() - prefix)).subtract(BigInteger.ONE);
                return !n.equals(first) && !n.equals(last);
            }
            // IPv6: the all-zero host part is the subnet-router anycast address (RFC 4291 2.6.1)
            return base instanceof Inet4Address || prefix >= 127 || !n.equals(first);
        }

        @Override
        public String toString() {
            return base.getHostAddress() + "/" + prefix;
        }
    }

    private static boolean isHostLoopback(InetAddress a) {
        byte[] b = a.getAddress();
        if (b.length == 4) {
            return b[0] == 127 && b[1] == 0 && b[2] == 0 && b[3] == 1;
        }
        for (int i = 0; i < 15; i++) {
            if (b[i] != 0) {
                return false;
            }
        }
        return b[15] == 1;
    }

    /** Whether a container may take {@code a}. */
    public boolean contains(InetAddress a) {
        for (Block b : blocks) {
            if (b.contains(a) && b.hands(a)) {
                return true;
            }
        }
        return false;
    }

    /**
     * The first address of the pool's first IPv4 block (then IPv6) that the pool hands out,
     * {@code taken} does not hold and {@code usable} accepts (an address of this machine).
     */
    public Optional<InetAddress> firstFree(Set<InetAddress> taken, java.util.function.Predicate<InetAddress> usable) {
        int looked = 0;
        for (boolean wantV4 : new boolean[] {true, false}) {
            for (Block b : blocks) {
                if ((b.base instanceof Inet4Address) != wantV4) {
                    continue;
                }
                BigInteger size = BigInteger.ONE.shiftLeft(b.bits() - b.prefix);
                BigInteger first = number(b.base);
                for (BigInteger i = BigInteger.ZERO; i.compareTo(size) < 0 && looked < MAX_CANDIDATES;
                     i = i.add(BigInteger.ONE), looked++) {
                    InetAddress a = address(first.add(i), b.bits());
                    if (b.hands(a) && !taken.contains(a) && usable.test(a)) {
                        return Optional.of(a);
                    }
                }
            }
        }
        return Optional.empty();
    }

    /** Parses the policy's list of blocks ({@code "127.77.0.0/24"}, {@code "fd00::/64"}, a single address). */
    public static AddressPool parse(List<String> texts, String where) throws PolicyException {
        if (texts.size() > MAX_BLOCKS) {
            throw new PolicyException(where + ": more than " + MAX_BLOCKS + " blocks");
        }
        List<Block> out = new ArrayList<>();
        for (int i = 0; i < texts.size(); i++) {
            out.add(block(texts.get(i), where + "[" + i + "]"));
        }
        return new AddressPool(out);
    }

    static Block block(String text, String where) throws PolicyException {
        if (text == null) {
            throw new PolicyException(where + ": null, expected an address block such as 127.77.0.0/24");
        }
        int slash = text.indexOf('/');
        InetAddress a = BindAddresses.literal(slash < 0 ? text.strip() : text.substring(0, slash).strip(), where);
        int bits = a instanceof Inet4Address ? 32 : 128;
        int prefix = bits;
        if (slash >= 0) {
            String p = text.substring(slash + 1).strip();
            if (p.isEmpty() || p.length() > 3 || !p.chars().allMatch(c -> c >= '0' && c <= '9')
                    || Integer.parseInt(p) > bits) {
                throw new PolicyException(where + ": " + Printable.quote(text) + " has no prefix length 0.." + bits);
            }
            prefix = Integer.parseInt(p);
        }
        BigInteger n = number(a);
        if (!n.shiftRight(bits - prefix).shiftLeft(bits - prefix).equals(n)) {
            throw new PolicyException(where + ": " + Printable.quote(text) + " has host bits set after the prefix");
        }
        return new Block(a, prefix);
    }

    static BigInteger number(InetAddress a) {
        return new BigInteger(1, a.getAddress());
    }

    static InetAddress address(BigInteger n, int bits) {
        byte[] raw = n.toByteArray();
        byte[] out = new byte[bits / 8];
        int copy = Math.min(raw.length, out.length);
        System.arraycopy(raw, raw.length - copy, out, out.length - copy, copy);
        try {
            return InetAddress.getByAddress(out);
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    private static InetAddress v4(int a, int b, int c, int d) {
        return address(BigInteger.valueOf(((long) a << 24) | (b << 16) | (c << 8) | d), 32);
    }

    @Override
    public String toString() {
        return blocks.toString();
    }
}
