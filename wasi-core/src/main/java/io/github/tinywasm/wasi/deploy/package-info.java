/**
 * Getting module code in: the modules folder ({@code ModuleDirectoryWatcher}) and module files
 * ({@code ModuleFiles}: names, reading, hashing). Engine internals.
 */
package io.github.tinywasm.wasi.deploy;
