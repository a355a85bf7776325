package io.github.tinywasm.wasi.deploy;

import io.github.tinywasm.wasi.WasiModuleException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

/** Naming, listing, reading and hashing of module files ({@code users.wasm} is module {@code users}). */
public final class ModuleFiles {

    /** File extension of modules in the modules folder. */
    public static final String EXTENSION = ".wasm";

    private ModuleFiles() {}

    /** {@code users} for {@code users.wasm}. */
    public static String moduleName(String fileName) {
        return isWasm(fileName) ? fileName.substring(0, fileName.length() - EXTENSION.length()) : fileName;
    }

    /**
     * Whether the name ends with exactly {@code .wasm}, in lower case: {@code m.WASM} is not a module file, so that two
     * files never name one module (on a case-sensitive file system {@code m.wasm} and {@code m.WASM} can both exist).
     */
    public static boolean isWasm(String fileName) {
        return fileName.endsWith(EXTENSION) && fileName.length() > EXTENSION.length();
    }

    /** The {@code *.wasm} regular files of {@code dir}, sorted. */
    public static List<Path> list(Path dir) {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(f -> isWasm(f.getFileName().toString()))
                    .filter(Files::isRegularFile)
                    .sorted()
                    .toList();
        } catch (IOException e) {
            throw new IllegalStateException("cannot list modules folder " + dir.toAbsolutePath() + ": " + e.getMessage(), e);
        }
    }

    /**
     * The bytes of module {@code name}'s file. The file is refused by its size before it is read, and the read
     * stops past {@code maxSize} bytes should the file grow meanwhile, so a huge file never reaches memory.
     *
     * @throws WasiModuleException of kind {@code TOO_LARGE} above {@code maxSize} bytes, of kind {@code IO} if the
     *     file cannot be read
     */
    public static byte[] read(String name, Path file, long maxSize) {
        try (InputStream in = Files.newInputStream(file)) {
            long size = Files.size(file);
            if (size > maxSize) {
                throw tooLarge(name, file + " is " + size + " bytes", maxSize);
            }
            byte[] bytes = in.readNBytes((int) Math.min(maxSize + 1, Integer.MAX_VALUE - 8));
            if (bytes.length > maxSize) {
                throw tooLarge(name, file + " grew past " + maxSize + " bytes while it was read, and is", maxSize);
            }
            return bytes;
        } catch (IOException e) {
            throw new WasiModuleException(name, WasiModuleException.Kind.IO, "cannot read " + file + ": " + e, e);
        }
    }

    private static WasiModuleException tooLarge(String name, String what, long maxSize) {
        return new WasiModuleException(name, WasiModuleException.Kind.TOO_LARGE,
                what + ", more than the maximum module size of " + maxSize + " bytes");
    }

    /** Lower-case hex SHA-256 of {@code bytes}. */
    public static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
