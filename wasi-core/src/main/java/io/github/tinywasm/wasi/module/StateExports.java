package io.github.tinywasm.wasi.module;

import org.jspecify.annotations.Nullable;
import com.dylibso.chicory.runtime.ExportFunction;
import com.dylibso.chicory.runtime.Memory;
import io.github.tinywasm.wasi.WasiModuleException;
import io.github.tinywasm.wasi.WasiModuleException.Kind;

/**
 * The optional state hand-off of one instance (additive ABI): {@code state_save() -> i64} returns
 * {@code ptr << 32 | len}, the state's bytes in its own memory; {@code state_load(ptr, len)} receives them in a buffer
 * the host took from its {@code malloc} and frees (with its {@code free}, if exported) once it returns. During a swap
 * the slot calls {@link #transfer} after the old version drained and before the new one's {@code init}.
 *
 * <p>Not thread-safe, like the instance: only the thread swapping the slot (its mailbox paused) calls it.
 */
final class StateExports {

    private static final long MASK = 0xFFFFFFFFL;

    private final WasmModule module;
    private final @Nullable ExportFunction save;
    private final @Nullable ExportFunction load;

    StateExports(WasmModule module, @Nullable ExportFunction save, @Nullable ExportFunction load) {
        this.module = module;
        this.save = save;
        this.load = load;
    }

    boolean saves() {
        return save != null;
    }

    boolean loads() {
        return load != null;
    }

    /**
     * Carries the state of {@code from} into {@code to}, when {@code from} exports {@code state_save} and {@code to}
     * exports {@code state_load}.
     *
     * @return the bytes carried, or -1 when either side does not take part
     * @throws WasiModuleException if either export trapped, or the state could not be read or placed
     */
    static int transfer(WasmModule from, WasmModule to) {
        StateExports out = from.state();
        StateExports in = to.state();
        if (!out.saves() || !in.loads()) {
            return -1;
        }
        byte[] state = out.save();
        in.load(state);
        return state.length;
    }

    private byte[] save() {
        long packed = module.call("state_save", java.util.Objects.requireNonNull(save, "saves() checked by transfer"))[0];
        long ptr = packed >>> 32;
        long len = packed & MASK;
        Memory memory = module.memory();
        if (len == 0) {
            return new byte[0];
        }
        if (memory == null || ptr + len > (long) memory.pages() * Memory.PAGE_SIZE) {
            throw new WasiModuleException(module.name(), Kind.MEMORY, "state_save returned " + len + " bytes at " + ptr
                    + ", outside its memory" + (memory == null ? " (it has none)" : " of " + (long) memory.pages() * Memory.PAGE_SIZE + " bytes"));
        }
        return memory.readBytes((int) ptr, (int) len);
    }

    private void load(byte[] state) {
        Memory memory = module.memory();
        int ptr = 0;
        if (state.length > 0) {
            if (memory == null) {
                throw new WasiModuleException(module.name(), Kind.NO_MEMORY,
                        "cannot receive its state (" + state.length + " bytes): the module has no memory");
            }
            ExportFunction malloc = module.malloc();
            if (malloc == null) {
                throw new WasiModuleException(module.name(), Kind.NO_ALLOCATOR, "cannot receive its state ("
                        + state.length + " bytes): the module exports state_load but neither 'malloc' nor 'alloc'");
            }
            ptr = (int) module.call("malloc", malloc, state.length)[0];
            if (ptr == 0 || (ptr & MASK) + state.length > (long) memory.pages() * Memory.PAGE_SIZE) {
                throw new WasiModuleException(module.name(), Kind.NO_ALLOCATOR,
                        "malloc(" + state.length + ") returned " + (ptr & MASK) + ", not a usable buffer for its state");
            }
            memory.write(ptr, state);
        }
        module.call("state_load", java.util.Objects.requireNonNull(load, "loads() checked by transfer"), ptr, state.length);
        ExportFunction free = module.free();
        if (ptr != 0 && free != null) {
            module.call("free", free, ptr);
        }
    }
}
