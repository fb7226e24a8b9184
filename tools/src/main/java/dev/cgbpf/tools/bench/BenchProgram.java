package dev.cgbpf.tools.bench;

import dev.cgbpf.engine.isa.Program;
import java.util.function.IntFunction;

/**
 * A benchmark program: a socket_filter program the kernel verifier accepts.
 *
 * @param name short name for the table, e.g. {@code mixed_1000}
 * @param mix what the instructions do, for the table
 * @param usesMap whether it reads the benchmark's array map (whose fd {@link #build} gets)
 * @param build the program, given the fd of the map in the backend it is built for (-1 if none)
 */
public record BenchProgram(String name, String mix, boolean usesMap, IntFunction<Program> build) {
}
