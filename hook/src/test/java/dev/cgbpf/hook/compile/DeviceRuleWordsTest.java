package dev.cgbpf.hook.compile;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.cgbpf.hook.policy.BindRequest;
import dev.cgbpf.hook.policy.DeviceAllowlist;
import dev.cgbpf.hook.policy.DeviceRule;
import dev.cgbpf.hook.policy.DeviceRuleParser;
import dev.cgbpf.hook.policy.DeviceType;
import dev.cgbpf.hook.policy.DevicesEmulator;
import dev.cgbpf.hook.policy.FailurePolicy;
import dev.cgbpf.hook.policy.HostDevices;
import dev.cgbpf.hook.policy.NetworkPolicy;
import dev.cgbpf.hook.policy.Policy;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The words a device event's rule index stands for: the rules behind each merged exception
 * (carried through {@link DevicesEmulator}: the rules whose bits the exception still holds), the
 * rule behind a default, and the index the programs use for them.
 */
class DeviceRuleWordsTest {
    private static List<DeviceRule> parse(String text, String source) throws Exception {
        return new DeviceRuleParser(new HostDevices()).parse(text, source, 100);
    }

    private static List<String> words(Policy p) {
        return DenialRules.of(p).stream().map(r -> r.kind() + " " + r.rule() + " " + r.text()).toList();
    }

    private static Policy policy(DeviceAllowlist container, DeviceAllowlist host) {
        return new Policy(true, FailurePolicy.CLOSED, List.of(), container, host, NetworkPolicy.NONE, BindRequest.NONE,
                List.of());
    }

    @Test
    void anAllowByDefaultListNamesEachExceptionByTheRulesWhoseBitsItHolds() throws Exception {
        DevicesEmulator host = new DevicesEmulator(true);
        for (DeviceRule r : parse("deny c 1:5 rw; allow c 1:5 r; deny c 1:3 r; deny c 1:3 w; deny c 1:9 w; allow c 1:9 w;"
                + " deny /dev/full m", "policy.json")) {
            host.apply(r);
        }
        DeviceAllowlist list = host.result();
        assertEquals("c 1:3 rw, c 1:5 w, c 1:7 m", String.join(", ", list.exceptions().stream().map(e -> e.text()).toList()));
        int h = DenialRules.DEVICE_HOST;
        assertEquals(List.of(
                // two rules each added a bit
                "device " + h + " policy.json rule 3 (deny c 1:3 r); policy.json rule 4 (deny c 1:3 w)",
                // narrowed by rule 2: rule 1 still holds w
                "device " + (h | 1) + " policy.json rule 1 (deny c 1:5 rw)",
                // a path rule names its node; c 1:9 was taken back whole and is not named
                "device " + (h | 2) + " policy.json rule 7 /dev/full (deny c 1:7 m)"),
                words(policy(null, list)));
    }

    @Test
    void aDenyByDefaultListNamesItsDefaultOnly() throws Exception {
        List<DeviceRule> rules = new ArrayList<>(parse("allow c 1:5 rwm; deny a *:* rwm; allow c 1:3 rw",
                "annotation dev.cgbpf.devices"));
        DeviceAllowlist list = DevicesEmulator.merge(rules);
        assertEquals(List.of("device " + DenialRules.DEVICE_DEFAULT + " annotation dev.cgbpf.devices rule 2"
                + " (deny a *:* rwm): no later rule allows this access"), words(policy(list, null)));
        // no type a rule: the list starts deny-by-default
        DeviceAllowlist bare = DevicesEmulator.merge(parse("allow c 1:3 rw", "x"));
        assertEquals(List.of("device " + DenialRules.DEVICE_DEFAULT + " the container's device list: no rule allows this"
                + " access"), words(policy(bare, null)));
        // a type a allow rule resets the provenance of what came before
        DeviceAllowlist reset = DevicesEmulator.merge(parse("deny c 1:5 w; allow a *:* rwm; deny c 1:3 w", "y"));
        assertEquals(List.of("device 0 y rule 3 (deny c 1:3 w)"), words(policy(reset, null)));
    }

    @Test
    void aListBuiltByHandIsNamedByItsExceptionsAndLongListsAreCut() {
        List<dev.cgbpf.hook.policy.DeviceException> ex = new ArrayList<>();
        for (int i = 0; i < DenialRules.MAX_NAMED_DEVICE_RULES + 5; i++) {
            ex.add(new dev.cgbpf.hook.policy.DeviceException(DeviceType.BLOCK, 8, i, 2));
        }
        List<String> w = words(policy(new DeviceAllowlist(true, ex), null));
        assertEquals(DenialRules.MAX_NAMED_DEVICE_RULES, w.size());
        assertEquals("device 7 deny b 8:7 r", w.get(7));
    }

    @Test
    void anEventWhoseRuleHasNoWordsSaysWhichListAndException() {
        assertEquals("t  web-1  pid 7 (sh)  open c 1:5 w  denied by the host policy's device list, exception 1005"
                + " (counted from 0 in the merged list cgbpf policy explain shows)", human(DenialRules.DEVICE_HOST | 1005));
        assertEquals("t  web-1  pid 7 (sh)  open c 1:5 w  denied by the container's device list (its default)",
                human(DenialRules.DEVICE_DEFAULT));
    }

    private static String human(int rule) {
        return new dev.cgbpf.hook.events.LoggedEvent("t", "web-1", 1L, 7, 7, "sh", "device", rule, null, "open c 1:5 w",
                null, null, null, null, null, "c", 1L, 5L, "w", null).human();
    }
}
