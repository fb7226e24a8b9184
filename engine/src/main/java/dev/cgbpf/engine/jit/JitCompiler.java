package dev.cgbpf.engine.jit;

import static org.objectweb.asm.Opcodes.ACC_FINAL;
import static org.objectweb.asm.Opcodes.ACC_PUBLIC;
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
     * @param bytecodeLength bytes of the run method's code
     * @param classBytes bytes of the class file
     * @param compileNanos time spent writing and defining the class
     */
    public record Compiled(JitCode code, int bytecodeLength, int classBytes, long compileNanos) implements Result {
    }

    /** @param reason why the program stays with the interpreter, in one line */
    public record NotCompiled(String reason) implements Result {
    }

    public static Result compile(Program program, Interpreter interp) {
        long start = System.nanoTime();
        ProgramEmitter emitter = new ProgramEmitter(program, interp);
        String why = emitter.plan();
        if (why != null) {
            return new NotCompiled(why);
        }
        ClassWriter cw = new ClassWriter(ClassWriter.COMPUTE_FRAMES) {
            @Override
            protected String getCommonSuperClass(String a, String b) {
                // the frames merge only our own types with themselves; anything else is an Object
                return a.equals(b) ? a : "java/lang/Object";
            }
        };
        String name = "dev/cgbpf/engine/jit/BpfProg";
        cw.visit(V17, ACC_PUBLIC | ACC_FINAL | ACC_SUPER, name, null, "java/lang/Object",
                new String[] {"dev/cgbpf/engine/jit/JitCode"});
        MethodVisitor init = cw.visitMethod(ACC_PUBLIC, "<init>", "()V", null, null);
        init.visitCode();
        init.visitVarInsn(ALOAD, 0);
        init.visitMethodInsn(INVOKESPECIAL, "java/lang/Object", "<init>", "()V", false);
        init.visitInsn(RETURN);
        init.visitMaxs(0, 0);
        init.visitEnd();
        MethodVisitor run = cw.visitMethod(ACC_PUBLIC | ACC_FINAL, "run", "(L" + ProgramEmitter.MACHINE + ";JL"
                + ProgramEmitter.INTERP + ";)J", null, null);
        Label end;
        byte[] bytes;
        try {
            end = emitter.emitRun(run);
            cw.visitEnd();
            bytes = cw.toByteArray();
        } catch (RuntimeException e) {
            // ASM's own limits (a method over 64 KiB, too many constants)
            return new NotCompiled("the class writer refused it: " + e.getMessage());
        }
        int length = end.getOffset();
        if (length > HUGE_METHOD_LIMIT) {
            return new NotCompiled(length + " bytes of bytecode, more than HotSpot compiles (" + HUGE_METHOD_LIMIT + ")");
        }
        try {
            MethodHandles.Lookup hidden = MethodHandles.lookup().defineHiddenClass(bytes, true);
            JitCode code = (JitCode) hidden.findConstructor(hidden.lookupClass(), MethodType.methodType(void.class))
                    .invoke();
            return new Compiled(code, length, bytes.length, System.nanoTime() - start);
        } catch (Throwable t) {
            // a VerifyError here is a compiler bug; the program still runs, on the interpreter
            return new NotCompiled("the JVM refused the class: " + t);
        }
    }
}
