package dev.cgbpf.kernel;

import static org.junit.jupiter.api.Assertions.fail;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * The gate for tests that need the host kernel's bpf(2). Use either
 * <pre>
 *   &#64;BeforeAll static void kernel() { KernelRequired.check(); }
 * </pre>
 * or {@code @ExtendWith(KernelRequired.class)} on the test class.
 *
 * <p>When bpf(2) is unusable ({@link BpfAvailability#probe()} says why), the tests FAIL if the
 * environment variable {@code CGBPF_REQUIRE_KERNEL=1} is set (CI sets it, so a broken CI host
 * cannot pass by skipping) and are skipped with the reason otherwise.
 */
public final class KernelRequired implements BeforeAllCallback {
    public static final String ENV = "CGBPF_REQUIRE_KERNEL";

    public static void check() {
        BpfAvailability a = KernelBackend.availability();
        if (a.usable()) {
            return;
        }
        if (required()) {
            fail("bpf(2) is required (" + ENV + "=1) but unusable: " + a.reason());
        }
        Assumptions.abort("bpf(2) unusable, kernel test skipped: " + a.reason());
    }

    /** True when the environment demands kernel tests ({@code CGBPF_REQUIRE_KERNEL=1}). */
    public static boolean required() {
        return "1".equals(System.getenv(ENV));
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        check();
    }
}
