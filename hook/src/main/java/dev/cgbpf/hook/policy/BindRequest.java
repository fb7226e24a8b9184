package dev.cgbpf.hook.policy;

/**
 * How a container's bind address is to be had from the host: the addresses the container named
 * (already checked against the pool), or {@code auto}: the first free address of the pool,
 * picked by the hook when it starts the container. Two running containers hold the same address
 * only when the host policy says so ({@code network.shareBindAddresses}).
 *
 * @param auto whether the hook picks the address
 * @param pool where addresses come from
 * @param shared whether an address already held by another running container may be taken
 */
public record BindRequest(boolean auto, AddressPool pool, boolean shared) {
    /** No bind address asked for. */
    public static final BindRequest NONE = new BindRequest(false, AddressPool.DEFAULT, false);
}
