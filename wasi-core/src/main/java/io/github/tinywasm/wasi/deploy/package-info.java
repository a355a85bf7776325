/**
 * Getting module code in: the modules folder ({@code ModuleDirectoryWatcher}), module files ({@code ModuleFiles}:
 * names, reading, hashing) and, for development, building modules from their sources on change
 * ({@code GuestBuilds}, which deploys into the modules folder for the watcher to swap). {@code GuestBuilds}, its
 * configuration and its status are API; the rest is engine internals.
 */
@NullMarked
package io.github.tinywasm.wasi.deploy;

import org.jspecify.annotations.NullMarked;
