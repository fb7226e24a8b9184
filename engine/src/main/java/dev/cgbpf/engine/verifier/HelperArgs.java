package dev.cgbpf.engine.verifier;

/**
 * How many argument registers (R1..Rn) each helper's prototype reads, for the helpers the
 * engine's program types may call, as Linux 6.18 counts them for its live-register analysis.
 * Measured from the kernel's "Live regs before insn" table of {@code call ID; r0 = 0; exit};
 * LivenessDifferentialTest (native/) keeps it and the kernel in step.
 */
final class HelperArgs {
    private static final String TABLE = "1:2 2:4 3:2 5:0 6:2 7:0 8:0 12:3 14:0 15:0 16:2 17:0 22:2 25:5 26:4 35:0 37:2 42:0 46:1 " +
            "47:1 49:5 53:4 55:4 57:5 59:2 64:3 68:5 70:4 79:1 80:0 81:2 83:2 84:5 85:5 86:1 87:3 88:2 " +
            "89:2 93:1 94:1 95:1 96:1 97:1 98:1 99:5 105:4 106:4 107:4 108:2 109:1 112:3 113:3 114:3 " +
            "115:3 117:1 118:0 120:4 122:1 123:1 125:0 128:1 129:2 130:4 131:3 132:2 133:2 134:2 136:1 " +
            "137:1 138:1 139:1 140:1 141:4 142:4 143:4 144:3 148:3 149:5 153:2 154:1 156:4 157:2 158:0 " +
            "160:0 164:4 165:5 169:3 170:2 171:3 172:1 175:1 176:2 177:4 178:1 180:5 181:4 182:3 186:0 " +
            "187:1 191:5 194:2 195:3 196:1 197:4 198:4 199:2 200:2 201:5 202:5 203:3 208:0 209:4 210:4 " +
            "211:2 ";
    private static final byte[] COUNT = new byte[256];

    static {
        java.util.Arrays.fill(COUNT, (byte) -1);
        for (String entry : TABLE.trim().split(" ")) {
            int colon = entry.indexOf(':');
            COUNT[Integer.parseInt(entry.substring(0, colon))] = Byte.parseByte(entry.substring(colon + 1));
        }
    }

    private HelperArgs() {
    }

    /** The number of arguments of helper {@code id}, or -1 when the table does not know it. */
    static int count(int id) {
        return id > 0 && id < COUNT.length ? COUNT[id] : -1;
    }
}
