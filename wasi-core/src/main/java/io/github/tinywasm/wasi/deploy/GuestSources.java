package io.github.tinywasm.wasi.deploy;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The files of a module's source folder that are its sources: everything in it except what builds and editors
 * write there, so that a build's own output never starts another build and an editor's swap file is no change.
 *
 * <p>Left out, anywhere in the folder: {@code target/} (cargo), {@code node_modules/} (npm), {@code Cargo.lock}
 * (cargo writes it on the first build), hidden files and folders (a leading {@code .}: {@code .git/}, editors'
 * swap and lock files) except {@code .cargo/}, and editor leftovers ({@code *~}, {@code *.swp}, {@code *.swx},
 * vim's {@code 4913} probe).
 *
 * <p>Threads: stateless; safe from any thread.
 */
final class GuestSources {

    /** Module names the server accepts (as {@code WasiServer} checks them). */
    private static final Pattern MODULE_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");
    private static final Set<String> IGNORED = Set.of("target", "node_modules", "Cargo.lock", "4913");

    private GuestSources() {}

    /**
     * Whether a folder of this name in the sources folder is a module's source folder: a name the server accepts
     * for a module, and not one left out ({@code target/} of a Cargo workspace whose root is the sources folder,
     * say).
     */
    static boolean isModuleFolderName(String name) {
        return MODULE_NAME.matcher(name).matches() && !ignored(name);
    }

    /** The module source folders in {@code sourcesDir}, by module name, sorted. */
    static TreeMap<String, Path> moduleFolders(Path sourcesDir) {
        TreeMap<String, Path> folders = new TreeMap<>();
        try (Stream<Path> list = Files.list(sourcesDir)) {
            list.filter(Files::isDirectory)
                    .filter(d -> isModuleFolderName(d.getFileName().toString()))
                    .forEach(d -> folders.put(d.getFileName().toString(), d));
        } catch (IOException e) {
            throw new IllegalStateException("cannot list the guest sources folder " + sourcesDir.toAbsolutePath() + ": " + e, e);
        }
        return folders;
    }

    /** Whether a file or folder of this name is left out of the sources (see the class comment). */
    static boolean ignored(String name) {
        return IGNORED.contains(name)
                || (name.startsWith(".") && !name.equals(".cargo"))
                || name.endsWith("~") || name.endsWith(".swp") || name.endsWith(".swx");
    }

    /** Whether {@code relative}, a path inside a module's folder, is left out (any of its parts is). */
    static boolean ignored(Path relative) {
        for (Path part : relative) {
            if (ignored(part.toString())) {
                return true;
            }
        }
        return false;
    }

    /** {@code folder} and every folder under it that is not left out: the folders to watch. */
    static List<Path> directories(Path folder) {
        List<Path> dirs = new ArrayList<>();
        walk(folder, new Tolerant() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) {
                if (!dir.equals(folder) && ignored(dir.getFileName().toString())) {
                    return FileVisitResult.SKIP_SUBTREE;
                }
                dirs.add(dir);
                return FileVisitResult.CONTINUE;
            }
        });
        return dirs;
    }

    /**
     * A cheap summary of the sources (relative path, size and modification time of each file): differs when a
     * file was added, removed or written, and costs no reading.
     */
    static String fingerprint(Path folder) {
        StringBuilder s = new StringBuilder();
        for (Path f : files(folder)) {
            try {
                BasicFileAttributes a = Files.readAttributes(f, BasicFileAttributes.class);
                s.append(folder.relativize(f)).append('\0').append(a.size()).append('\0')
                        .append(a.lastModifiedTime().toMillis()).append('\n');
            } catch (IOException e) {
                s.append(folder.relativize(f)).append("\0gone\n");
            }
        }
        return s.toString();
    }

    /**
     * The SHA-256 of the sources' relative paths and contents: the same after a save that changed nothing (or a
     * {@code touch}), so that such a save builds nothing. {@code ""} for a folder that does not exist.
     */
    static String contentDigest(Path folder) {
        if (!Files.isDirectory(folder)) {
            return "";
        }
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        byte[] buf = new byte[8192];
        for (Path f : files(folder)) {
            sha.update(folder.relativize(f).toString().getBytes(StandardCharsets.UTF_8));
            sha.update((byte) 0);
            try (InputStream in = Files.newInputStream(f)) {
                int n;
                while ((n = in.read(buf)) >= 0) {
                    sha.update(buf, 0, n);
                }
            } catch (IOException e) {
                sha.update("\0unreadable".getBytes(StandardCharsets.UTF_8));
            }
            sha.update((byte) 0);
        }
        return HexFormat.of().formatHex(sha.digest());
    }

    /** The source files of {@code folder}, sorted. */
    static List<Path> files(Path folder) {
        List<Path> files = new ArrayList<>();
        walk(folder, new Tolerant() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) {
                return !dir.equals(folder) && ignored(dir.getFileName().toString())
                        ? FileVisitResult.SKIP_SUBTREE : FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                if (attrs.isRegularFile() && !ignored(file.getFileName().toString())) {
                    files.add(file);
                }
                return FileVisitResult.CONTINUE;
            }
        });
        files.sort(null);
        return files;
    }

    /** A visitor that passes over a file deleted while walking (an editor's temporary file, say). */
    private abstract static class Tolerant extends SimpleFileVisitor<Path> {
        @Override
        public FileVisitResult visitFileFailed(Path file, IOException e) {
            return FileVisitResult.CONTINUE;
        }
    }

    private static void walk(Path folder, Tolerant visitor) {
        try {
            Files.walkFileTree(folder, visitor);
        } catch (NoSuchFileException e) {
            // the folder is gone: no sources
        } catch (IOException e) {
            throw new IllegalStateException("cannot read the guest sources in " + folder.toAbsolutePath() + ": " + e, e);
        }
    }
}
