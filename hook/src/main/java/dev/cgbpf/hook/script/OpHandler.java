package dev.cgbpf.hook.script;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cgbpf.engine.backend.BpfException;

/**
 * Runs one validated op on the scenario's backend and returns its result object. A
 * {@link BpfException} that escapes becomes the plain {@code {"op":..,"errno":..}} result.
 */
@FunctionalInterface
interface OpHandler {
    ObjectNode run(OpLine line, Scenario scenario) throws MalformedLineException, BpfException;
}
