package io.github.tinywasm.wasi;

/** How Chicory executes a module's code. */
public enum Engine {
    /**
     * Compile the module to JVM bytecode once per module version (30-40x faster than the interpreter). A
     * module the compiler cannot handle falls back to the interpreter, with a warning naming the module.
     */
    COMPILER,
    /** Interpret the module's code: no class generation, slower, useful for debugging. */
    INTERPRETER
}
