package io.github.tinywasm.wasi;

/**
 * A module file that parses, links and compiles: what {@link WasiServer#validate(String)} found. Nothing of it was
 * instantiated or served.
 *
 * @param module the module's name
 * @param sha256 hex SHA-256 of the file's bytes
 * @param size the file's size in bytes
 * @param engine how it would run: "compiler", "interpreter", or why it would fall back
 * @param sameAsServing whether the bytes are those of the serving version
 */
public record ModuleValidation(String module, String sha256, long size, String engine, boolean sameAsServing) {}
