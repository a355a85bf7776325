package io.github.tinywasm.wasi.module;

import com.dylibso.chicory.runtime.GlobalInstance;
import com.dylibso.chicory.runtime.Instance;
import com.dylibso.chicory.wasm.WasmModule;
import com.dylibso.chicory.wasm.types.Export;
import com.dylibso.chicory.wasm.types.ExportSection;
import com.dylibso.chicory.wasm.types.ExternalType;
import com.dylibso.chicory.wasm.types.MutabilityType;
import com.dylibso.chicory.wasm.types.NameCustomSection;
import com.dylibso.chicory.wasm.types.ValType;
import org.jspecify.annotations.Nullable;

/**
 * The shadow-stack pointer of an LLVM-built guest (C, Rust, TinyGo): a mutable i32 global that functions move down
 * on entry and back on return. A trapped call never returns, so the frames it had pushed would stay allocated; after
 * enough traps the stack runs out and every call fails with an out-of-bounds access. Between two top-level calls the
 * pointer always has the same value (the stack is empty), so after a failed call it is put back to that value.
 *
 * <p>Only a global known to be the stack pointer is touched: one the name section calls {@code __stack_pointer},
 * or, in a stripped module, global 0 when the module exports the linker's {@code __heap_base} or
 * {@code __data_end} (wasm-ld's layout, where global 0 is the stack pointer). Other guests' globals are their own
 * state (AssemblyScript's runtime, hand-written WAT) and are never rolled back.
 *
 * <p>Confined to the thread calling into the instance, like the instance.
 */
final class ShadowStack {

    /** A module without a known shadow stack: nothing to reset. */
    static final ShadowStack NONE = new ShadowStack(null, 0);

    private static final String NAME = "__stack_pointer";

    private final @Nullable GlobalInstance pointer;
    private final long base;

    private ShadowStack(@Nullable GlobalInstance pointer, long base) {
        this.pointer = pointer;
        this.base = base;
    }

    /**
     * The stack pointer of {@code instance}, read now as its value between calls; call after start-up
     * ({@code _start}/{@code _initialize}) has returned.
     */
    static ShadowStack of(WasmModule parsed, Instance instance) {
        int index = index(parsed);
        if (index < 0 || index >= instance.globalCount()) {
            return NONE;
        }
        GlobalInstance g = instance.global(index);
        if (!ValType.I32.equals(g.getType()) || g.getMutabilityType() != MutabilityType.Var) {
            return NONE;
        }
        return new ShadowStack(g, g.getValue());
    }

    private static int index(WasmModule parsed) {
        NameCustomSection names = parsed.nameSection();
        int count = parsed.globalSection().globalCount();
        if (names != null) {
            for (int i = 0; i < count; i++) {
                if (NAME.equals(names.nameOfGlobal(i))) {
                    return i;
                }
            }
        }
        ExportSection exports = parsed.exportSection();
        for (int i = 0; i < exports.exportCount(); i++) {
            Export e = exports.getExport(i);
            if (e.exportType() == ExternalType.GLOBAL && ("__heap_base".equals(e.name()) || "__data_end".equals(e.name()))) {
                return count > 0 ? 0 : -1;
            }
        }
        return -1;
    }

    /** After a failed call: frees what the call left on the stack. */
    void reset() {
        if (pointer != null) {
            pointer.setValue(base);
        }
    }
}
