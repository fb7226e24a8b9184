package dev.cgbpf.engine.jit;

import static org.objectweb.asm.Opcodes.ALOAD;
import static org.objectweb.asm.Opcodes.ASTORE;
import static org.objectweb.asm.Opcodes.ILOAD;
import static org.objectweb.asm.Opcodes.ISTORE;
import static org.objectweb.asm.Opcodes.LLOAD;
import static org.objectweb.asm.Opcodes.LSTORE;

import java.util.ArrayList;
import java.util.List;
import org.objectweb.asm.MethodVisitor;

/**
 * The locals a part of a cut program hands to the part it calls, as parameters after r0-r10 and
 * the entry instruction: what the caller already looked up or holds (the context, its direct-read
 * table and image, the running frame, the context-read flags and cached values, the promoted frame
 * slots), so that the cut costs a call and not a second prologue with the slots written back to
 * the frame and read again.
 */
final class CarriedLocals {
    /** A JVM method has at most 255 slots of parameters, {@code this} included. */
    static final int MAX_PARAM_SLOTS = 255;

    private final List<Integer> locals = new ArrayList<>();
    private final List<String> types = new ArrayList<>();
    private int slots;

    /** Adds a local of the given descriptor ({@code J}, {@code I} or a reference type). */
    void add(int local, String type) {
        locals.add(local);
        types.add(type);
        slots += type.equals("J") ? 2 : 1;
    }

    /** The parameter slots the carried locals take. */
    int slots() {
        return slots;
    }

    /** The parameter descriptors, in order. */
    String descriptor() {
        return String.join("", types);
    }

    /** Pushes each carried local (the caller's side of the call). */
    void push(MethodVisitor mv) {
        for (int i = 0; i < locals.size(); i++) {
            mv.visitVarInsn(op(types.get(i), false), locals.get(i));
        }
    }

    /**
     * The callee's side: the parameters from local {@code first} on are copied to the locals they
     * came from, all read before any is written (the two ranges overlap).
     */
    void receive(MethodVisitor mv, int first) {
        int at = first;
        for (String t : types) {
            mv.visitVarInsn(op(t, false), at);
            at += t.equals("J") ? 2 : 1;
        }
        for (int i = locals.size() - 1; i >= 0; i--) {
            mv.visitVarInsn(op(types.get(i), true), locals.get(i));
        }
    }

    private static int op(String type, boolean store) {
        return switch (type) {
            case "J" -> store ? LSTORE : LLOAD;
            case "I" -> store ? ISTORE : ILOAD;
            default -> store ? ASTORE : ALOAD;
        };
    }
}
