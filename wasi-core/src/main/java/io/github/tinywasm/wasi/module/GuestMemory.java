package io.github.tinywasm.wasi.module;

import com.dylibso.chicory.runtime.Instance;
import com.dylibso.chicory.runtime.Memory;
import io.github.tinywasm.wasi.WasiModuleException;
import io.github.tinywasm.wasi.WasiModuleException.Kind;

/**
 * Reads and writes of a guest's memory on behalf of a host function: every pointer/length pair is checked against the
 * memory first, and a bad one (or a module without memory) is an error of that module naming the function, never an
 * exception of Chicory's. Stateless.
 */
final class GuestMemory {

    private GuestMemory() {}

    /** The {@code len} bytes at {@code ptr} (both unsigned i32). */
    static byte[] read(String module, Instance inst, String function, String what, long ptr, long len) {
        long p = ptr & 0xFFFFFFFFL;
        long n = len & 0xFFFFFFFFL;
        Memory memory = inst.memory();
        if (memory == null) {
            if (n == 0) {
                return new byte[0];
            }
            throw new WasiModuleException(module, Kind.NO_MEMORY, String.format(
                    "%s: the module has no memory to read the %s from (ptr=%d, len=%d)", function, what, p, n));
        }
        check(module, memory, function, what, p, n);
        return memory.readBytes((int) p, (int) n);
    }

    /** Writes {@code len} bytes of {@code src} from {@code offset} at {@code ptr} (unsigned i32). */
    static void write(String module, Instance inst, String function, String what, long ptr, byte[] src, int offset,
            int len) {
        if (len == 0) {
            return;
        }
        long p = ptr & 0xFFFFFFFFL;
        Memory memory = inst.memory();
        if (memory == null) {
            throw new WasiModuleException(module, Kind.NO_MEMORY, String.format(
                    "%s: the module has no memory to write the %s to (ptr=%d, len=%d)", function, what, p, len));
        }
        check(module, memory, function, what, p, len);
        memory.write((int) p, src, offset, len);
    }

    private static void check(String module, Memory memory, String function, String what, long p, long n) {
        long size = (long) memory.pages() * Memory.PAGE_SIZE;
        if (p + n > size) {
            throw new WasiModuleException(module, Kind.MEMORY, String.format(
                    "%s: %s pointer/length (ptr=%d, len=%d) is outside the guest's memory of %d bytes",
                    function, what, p, n, size));
        }
    }
}
