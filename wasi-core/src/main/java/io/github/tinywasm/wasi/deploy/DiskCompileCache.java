package io.github.tinywasm.wasi.deploy;

import org.jspecify.annotations.Nullable;
import com.dylibso.chicory.compiler.Cache;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.atomic.LongAdder;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The disk tier of the compile cache: what Chicory's compiler produced for a module (a jar of generated classes), one
 * file per module version under {@code <dir>/chicory-<version>-<options>/<xx>/<key>.bin}, so a restart or another
 * process loading the same bytes with the same engine options skips the compiler.
 *
 * <p>Safe with several processes sharing the folder: an entry is written to a temporary file in {@code <dir>/.tmp}
 * and moved into place atomically, so a reader sees a whole entry or none; two writers of one entry write the same
 * bytes. Each entry starts with a header (magic, length, SHA-256 of the content): a damaged or truncated entry is
 * detected, logged, deleted and counted, and the compiler's new output replaces it. The entries are bounded by
 * {@code maxBytes}: after a write, the least recently used entries (by modification time, touched on each hit) are
 * deleted until they fit; nothing else in the folder is counted or deleted, except temporary files in {@code .tmp}
 * older than an hour (left by a process that died while writing). Thread-safe: no state but counters.
 */
public final class DiskCompileCache {

    private static final Logger log = LoggerFactory.getLogger(DiskCompileCache.class);
    private static final byte[] MAGIC = {'T', 'W', 'C', '1'};
    private static final int HEADER = MAGIC.length + 8 + 32;
    private static final String SUFFIX = ".bin";
    /** Age past which a temporary file is taken for one a dead writer left. */
    private static final java.time.Duration STALE_TEMPORARY = java.time.Duration.ofHours(1);
    private static final Pattern ENTRY_NAME = Pattern.compile("[A-Za-z0-9_-]+\\.bin");

    /** The version of Chicory's compiler on the class path: part of every entry's folder. */
    public static final String CHICORY_VERSION = chicoryVersion();

    private final Path dir;
    private final long maxBytes;
    private final LongAdder hits = new LongAdder();
    private final LongAdder writes = new LongAdder();
    private final LongAdder corrupt = new LongAdder();
    private final LongAdder evictions = new LongAdder();

    public DiskCompileCache(Path dir, long maxBytes) {
        this.dir = dir.toAbsolutePath().normalize();
        this.maxBytes = maxBytes;
    }

    public Path dir() {
        return dir;
    }

    /**
     * A cache for one compilation with the engine options {@code options} (e.g. {@code compiler-fail}): give it to
     * {@code MachineFactoryCompiler.builder(module).withCache(...)}; afterwards {@link Session#hit()} says whether the
     * compiler was skipped. Disk errors never fail a compilation: they are logged and the entry is treated as missing.
     */
    public Session session(String module, String options) {
        return new Session(module, dir.resolve("chicory-" + CHICORY_VERSION + "-" + options));
    }

    /** One compilation's view of the disk tier. Confined to the thread compiling. */
    public final class Session implements Cache {
        private final String module;
        private final Path folder;
        private boolean hit;

        private Session(String module, Path folder) {
            this.module = module;
            this.folder = folder;
        }

        /** Whether the compiled code was read from disk (the compiler did not run). */
        public boolean hit() {
            return hit;
        }

        @Override
        public byte @Nullable [] get(String key) {
            Path file = file(key);
            byte[] stored;
            try {
                stored = Files.readAllBytes(file);
            } catch (NoSuchFileException e) {
                return null;
            } catch (IOException e) {
                log.warn("[{}] cannot read compile cache entry {}: {}; compiling", module, file, e.toString());
                return null;
            }
            byte[] content = unwrap(stored);
            if (content == null) {
                corrupt.increment();
                log.warn("[{}] compile cache entry {} is damaged ({} bytes); ignoring it, compiling and rewriting it",
                        module, file, stored.length);
                try {
                    Files.deleteIfExists(file);
                } catch (IOException e) {
                    log.warn("[{}] cannot delete damaged compile cache entry {}: {}", module, file, e.toString());
                }
                return null;
            }
            try {
                Files.setLastModifiedTime(file, FileTime.fromMillis(System.currentTimeMillis())); // recently used
            } catch (IOException e) {
                // another process evicted it meanwhile: we have its bytes
            }
            hit = true;
            hits.increment();
            return content;
        }

        @Override
        public void putIfAbsent(String key, byte[] data) {
            Path file = file(key);
            Path tmp = dir.resolve(".tmp").resolve(UUID.randomUUID() + ".tmp");
            try {
                Files.createDirectories(tmp.getParent());
                Files.createDirectories(file.getParent());
                Files.write(tmp, wrap(data));
                try {
                    Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                } catch (AtomicMoveNotSupportedException e) {
                    Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
                }
                writes.increment();
            } catch (IOException | UncheckedIOException e) {
                log.warn("[{}] cannot write compile cache entry {}: {}; the module is compiled again next time", module,
                        file, e.toString());
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // nothing more to do
                }
                return;
            }
            evict();
        }

        private Path file(String key) {
            // Chicory's key is "sha-256:<base64>": map base64 to file-name characters one to one
            String name = key.replace("sha-256:", "").replace('+', '-').replace('/', '_').replace("=", "");
            name = name.replaceAll("[^A-Za-z0-9_-]", "_");
            String prefix = name.length() >= 2 ? name.substring(0, 2) : "__";
            return folder.resolve(prefix).resolve(name + SUFFIX);
        }
    }

    /**
     * Deletes the least recently used entries until the entries hold at most {@code maxBytes}. Only the cache's own
     * entries count and go ({@code chicory-*}{@code /<xx>/<key>.bin}): the folder may be shared with other files.
     */
    private void evict() {
        removeStaleTemporaryFiles();
        List<Path> files = new ArrayList<>();
        try (DirectoryStream<Path> folders = Files.newDirectoryStream(dir, "chicory-*")) {
            for (Path folder : folders) {
                if (!Files.isDirectory(folder, LinkOption.NOFOLLOW_LINKS)) {
                    continue;
                }
                try (Stream<Path> all = Files.walk(folder, 2)) {
                    all.filter(DiskCompileCache::isEntry).forEach(files::add);
                }
            }
        } catch (IOException | UncheckedIOException e) {
            return; // a concurrent eviction removed a folder under the walk: the next write tries again
        }
        record Sized(Path path, long size, long modified) {}
        List<Sized> entries = new ArrayList<>();
        long total = 0;
        for (Path f : files) {
            try {
                Sized s = new Sized(f, Files.size(f), Files.getLastModifiedTime(f).toMillis());
                entries.add(s);
                total += s.size();
            } catch (IOException e) {
                // gone meanwhile
            }
        }
        if (total <= maxBytes) {
            return;
        }
        entries.sort(Comparator.comparingLong(Sized::modified));
        for (Sized s : entries) {
            if (total <= maxBytes) {
                break;
            }
            try {
                if (Files.deleteIfExists(s.path())) {
                    evictions.increment();
                }
            } catch (IOException e) {
                log.debug("cannot evict compile cache entry {}: {}", s.path(), e.toString());
            }
            total -= s.size();
        }
    }

    /**
     * Deletes temporary files older than {@link #STALE_TEMPORARY}: left by a process that died while writing an entry
     * (a live writer renames its file within seconds), they would stay for ever, outside the bound.
     */
    private void removeStaleTemporaryFiles() {
        long before = System.currentTimeMillis() - STALE_TEMPORARY.toMillis();
        try (DirectoryStream<Path> tmp = Files.newDirectoryStream(dir.resolve(".tmp"), "*.tmp")) {
            for (Path f : tmp) {
                try {
                    if (Files.getLastModifiedTime(f, LinkOption.NOFOLLOW_LINKS).toMillis() < before) {
                        Files.deleteIfExists(f);
                    }
                } catch (IOException e) {
                    // renamed or deleted meanwhile
                }
            }
        } catch (IOException | UncheckedIOException e) {
            // no temporary folder (yet), or it cannot be listed: the next write tries again
        }
    }

    /** Whether {@code p} (under a {@code chicory-*} folder) is an entry as {@link Session} names them. */
    private static boolean isEntry(Path p) {
        Path parent = p.getParent();
        return parent != null && parent.getFileName().toString().length() == 2
                && ENTRY_NAME.matcher(p.getFileName().toString()).matches()
                && Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS);
    }

    private static byte[] wrap(byte[] content) {
        ByteBuffer out = ByteBuffer.allocate(HEADER + content.length);
        out.put(MAGIC).putLong(content.length).put(sha256(content)).put(content);
        return out.array();
    }

    /** The content of a stored entry, or {@code null} if it is damaged. */
    private static byte @Nullable [] unwrap(byte[] stored) {
        if (stored.length < HEADER || !Arrays.equals(stored, 0, MAGIC.length, MAGIC, 0, MAGIC.length)) {
            return null;
        }
        ByteBuffer in = ByteBuffer.wrap(stored);
        in.position(MAGIC.length);
        long length = in.getLong();
        if (length != stored.length - HEADER) {
            return null;
        }
        byte[] digest = new byte[32];
        in.get(digest);
        byte[] content = Arrays.copyOfRange(stored, HEADER, stored.length);
        return Arrays.equals(digest, sha256(content)) ? content : null;
    }

    private static byte[] sha256(byte[] bytes) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(bytes);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String chicoryVersion() {
        try (InputStream in = Cache.class.getResourceAsStream("/META-INF/maven/com.dylibso.chicory/compiler/pom.properties")) {
            if (in != null) {
                Properties p = new Properties();
                p.load(in);
                String v = p.getProperty("version");
                if (v != null && !v.isBlank()) {
                    return v.replaceAll("[^A-Za-z0-9._-]", "_");
                }
            }
        } catch (IOException e) {
            // fall through
        }
        String v = Cache.class.getPackage().getImplementationVersion();
        return v != null ? v.replaceAll("[^A-Za-z0-9._-]", "_") : "unknown";
    }

    long hits() {
        return hits.sum();
    }

    long writes() {
        return writes.sum();
    }

    long corrupt() {
        return corrupt.sum();
    }

    long evictions() {
        return evictions.sum();
    }
}
