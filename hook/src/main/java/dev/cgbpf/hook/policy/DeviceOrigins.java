package dev.cgbpf.hook.policy;

import java.util.List;

/**
 * Where the parts of a merged device list came from ({@link DevicesEmulator}): for each exception,
 * in the list's order, the rules whose access bits it still holds (a rule that was narrowed
 * later is named as long as one of its bits survives; one that lost all its bits is not); and
 * the rule of type {@code a} that set the list's default, or null when nothing did (a container
 * list starts deny-by-default, the host's ceiling allow-by-default). Used to name the rule a
 * denial event reports ({@link dev.cgbpf.hook.compile.DenialRules}); never part of a decision.
 */
public record DeviceOrigins(List<List<DeviceRule>> exceptions, DeviceRule defaultRule) {
    public DeviceOrigins {
        exceptions = List.copyOf(exceptions);
    }
}
