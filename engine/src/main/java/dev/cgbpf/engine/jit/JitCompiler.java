package dev.cgbpf.engine.jit;

import static org.objectweb.asm.Opcodes.ACC_FINAL;
import static org.objectweb.asm.Opcodes.ACC_PRIVATE;
import static org.objectweb.asm.Opcodes.ACC_PUBLIC;
import static org.objectweb.asm.Opcodes.ACC_STATIC;
import static org.objectweb.asm.Opcodes.ACC_SUPER;
import static org.objectweb.asm.Opcodes.ALOAD;
import static org.objectweb.asm.Opcodes.INVOKESPECIAL;
import static org.objectweb.asm.Opcodes.RETURN;
import static org.objectweb.asm.Opcodes.V17;

import dev.cgbpf.engine.interp.Interpreter;
import dev.cgbpf.engine.isa.Program;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import org.objectweb.asm.ClassWriter;
import org.objectweb.asm.Label;
import org.objectweb.asm.MethodVisitor;

/**
 * Compiles a verified program to a JVM hidden class implementing {@link JitCode} (one class per
 * program, defined through this package's lookup, not strongly reachable from its loader: the
 * class is unloaded once its {@link Compiled} is unreachable).
 */
public final class JitCompiler {
    /**
     * HotSpot compiles no method whose bytecode is longer than this (-XX:HugeMethodLimit, with
     * DontCompileHugeMethods on by default): such a method would stay in the bytecode interpreter,
     * slower than the engine's own, so the program is left to the engine's interpreter.
     */
    public static final int HUGE_METHOD_LIMIT = 8000;

    private JitCompiler() {
    }

    /** What compiling one program gave. */
    public sealed interface Result permits Compiled, NotCompiled {
    }

    /**
     * @param code the compiled program
     * @param bytecodeLength bytes of code of the class's methods (run and the parts it is cut into)
     * @param classBytes bytes of the class file
     * @param compileNanos time spent writing and defining the class
     * @param methods the methods the program was cut into (1: all of it in run)
     */
    public record Compiled(JitCode code, int bytecodeLength, int classBytes, long compileNanos, int methods)
            implements Result {
    }

    /** @param reason why the program stays with the interpreter, in one line */
    public record NotCompiled(String reason) implements Result {
    }

    /** The name every compiled class is defined under (hidden classes get a unique suffix). */
    static final String CLASS_NAME = "dev/cgbpf/engine/jit/BpfProg";

    /**
     * Bytecode per method above which a program is cut into parts. Every access the compiler
     * makes itself is bytecode C2 compiles whatever the method's size (frame slots in locals,
     * byte-array views invoked directly, which C2 force-inlines); what C2's inlining budget
     * (DesiredMethodLimit, 8,000 bytecodes, counting the method's own) still decides is whether
     * the runtime's and the helpers' methods are inlined at their call sites. Fewer, larger parts
     * save the calls between them, each passing r0-r10: measured (docs/perf.md), mixed_1000 ran
     * at 280-400 ns in 15 parts of 2,000 bytes and at 95-135 ns in 3 of 6,000; mixed_300 in one
     * method at 31 ns, against 49 ns in parts of 2,000. Below {@link #HUGE_METHOD_LIMIT} with room
     * for the cut being approximate.
     */
    static final int PART_TARGET = 6000;

    public static Result compile(Program program, Interpreter interp) {
        long start = System.nanoTime();
        int parts = 1;
        Written w = null;
        for (int attempt = 0; attempt < 5; attempt++) {
            // a fresh emitter each time: labels belong to the method they were written into
            ProgramEmitter emitter = new ProgramEmitter(program, interp);
            String why = emitter.plan();
            if (why != null) {
                return new NotCompiled(why);
            }
            int got = emitter.split(parts);
            try {
                w = write(emitter, got);
            } catch (RuntimeException e) {
                // ASM's own limits (a method over 64 KiB, too many constants, a method whose
                // stack map frames are too much work): smaller parts, while they can be cut
                if (emitter.counting() || got < parts || attempt == 4) {
                    return new NotCompiled("the class writer refused it: " + e.getMessage());
                }
                parts *= 2;
                continue;
            }
            if (w.longest <= PART_TARGET || got < parts || emitter.counting()) {
                break; // small enough, or no more places to cut
            }
            parts = Math.max(parts * 2, (w.total + PART_TARGET - 1) / PART_TARGET);
        }
        if (w.longest > HUGE_METHOD_LIMIT) {
            return new NotCompiled(w.longest + " bytes of bytecode in one method, more than HotSpot compiles ("
                    + HUGE_METHOD_LIMIT + ")");
        }
        try {
            MethodHandles.Lookup hidden = MethodHandles.lookup().defineHiddenClass(w.bytes, true);
            JitCode code = (JitCode) hidden.findConstructor(hidden.lookupClass(), MethodType.methodType(void.class))
                    .invoke();
            return new Compiled(code, w.total, w.bytes.length, System.nanoTime() - start, w.methods);
        } catch (Throwable t) {
            // a VerifyError here is a compiler bug; the program still runs, on the interpreter
            return new NotCompiled("the JVM refused the class: " + t);
        }
    }

    /** A class file and the bytecode length of its longest method and of all of them. */
    private record Written(byte[] bytes, int longest, int total, int methods) {
    }

    private static Written write(ProgramEmitter emitter, int parts) {
        ClassWriter cw = new ClassWriter(ClassWriter.COMPUTE_FRAMES) {
            @Override
            protected String getCommonSuperClass(String a, String b) {
                // the frames merge only our own types with themselves; anything else is an Object
                return a.equals(b) ? a : "java/lang/Object";
            }
        };
        cw.visit(V17, ACC_PUBLIC | ACC_FINAL | ACC_SUPER, CLASS_NAME, null, "java/lang/Object",
                new String[] {"dev/cgbpf/engine/jit/JitCode"});
        MethodVisitor init = cw.visitMethod(ACC_PUBLIC, "<init>", "()V", null, null);
        init.visitCode();
        init.visitVarInsn(ALOAD, 0);
        init.visitMethodInsn(INVOKESPECIAL, "java/lang/Object", "<init>", "()V", false);
        init.visitInsn(RETURN);
        init.visitMaxs(0, 0);
        init.visitEnd();
        Label[] ends = new Label[parts];
        for (int k = 0; k < parts; k++) {
            String desc = k == 0 ? "(L" + ProgramEmitter.MACHINE + ";JL" + ProgramEmitter.INTERP + ";)J"
                    : emitter.partDescriptor();
            MethodVisitor mv = cw.visitMethod(k == 0 ? ACC_PUBLIC | ACC_FINAL : ACC_PRIVATE | ACC_FINAL,
                    ProgramEmitter.partName(k), desc, null, null);
            ends[k] = emitter.emitPart(mv, k);
        }
        if (emitter.promoted().count() > 0) {
            emitter.emitSync(cw.visitMethod(ACC_PRIVATE | ACC_STATIC, ProgramEmitter.SYNC, emitter.syncDescriptor(),
                    null, null));
        }
        cw.visitEnd();
        byte[] bytes = cw.toByteArray();
        int longest = 0;
        int total = 0;
        for (Label end : ends) {
            longest = Math.max(longest, end.getOffset());
            total += end.getOffset();
        }
        return new Written(bytes, longest, total, parts);
    }
}
