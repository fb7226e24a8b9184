package dev.cgbpf.hook.policy;

/** The type of a device cgroup rule: {@code a} (all), {@code b} (block), {@code c} (char). */
public enum DeviceType {
    ALL('a'),
    BLOCK('b'),
    CHAR('c');

    private final char letter;

    DeviceType(char letter) {
        this.letter = letter;
    }

    public char letter() {
        return letter;
    }


    public static DeviceType of(String s) {
        return switch (s) {
            case "a" -> ALL;
            case "b" -> BLOCK;
            case "c" -> CHAR;
            default -> null;
        };
    }
}
