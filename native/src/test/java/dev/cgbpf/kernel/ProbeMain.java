package dev.cgbpf.kernel;

/**
 * Prints what the availability probe and {@link KernelRequired} say in this process; the probe
 * test runs it in a child JVM with fewer privileges.
 */
public final class ProbeMain {
    private ProbeMain() {
    }

    public static void main(String[] args) {
        BpfAvailability a = BpfAvailability.probe();
        System.out.println("usable=" + a.usable());
        System.out.println("reason=" + a.reason());
        try {
            KernelRequired.check();
            System.out.println("gate=pass");
        } catch (org.opentest4j.TestAbortedException e) {
            System.out.println("gate=skip " + e.getMessage());
        } catch (AssertionError e) {
            System.out.println("gate=fail " + e.getMessage());
        }
    }
}
