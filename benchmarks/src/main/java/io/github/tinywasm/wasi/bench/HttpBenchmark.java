package io.github.tinywasm.wasi.bench;

import io.github.tinywasm.wasi.WasiConfig;
import io.github.tinywasm.wasi.http.GuestHttpRequest;
import io.github.tinywasm.wasi.http.GuestHttpResponse;
import io.github.tinywasm.wasi.http.Header;
import io.github.tinywasm.wasi.http.PipelineStep;
import io.github.tinywasm.wasi.module.WasmModule;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * Requests per second and p99 latency of a small GET through {@code /m/{name}} into the C guest {@code http_users}
 * (compatible mode: {@code handle} replies {@code users: GET /m/users/1}, 22 bytes) on Spring MVC (Tomcat), with 1 and
 * 16 concurrent keep-alive clients on loopback, next to, in the same run:
 * <ul>
 *   <li><b>direct</b>: the same guest's handler called in a loop on one thread ({@link WasmModule#serveHttp}: the
 *       request placed with malloc, {@code handle}, the reply read, free), the ceiling for the guest work;
 *   <li><b>plain</b>: a Spring MVC controller ({@link PlainController}) returning the same bytes, the framework floor;
 *   <li><b>plain async</b>: the same controller answering with a {@code CompletableFuture} completed on another thread:
 *       Spring MVC's asynchronous round trip alone, which {@code /m} pays too (no servlet thread waits for a guest);
 *   <li><b>pool 2</b>: the same module with {@code http.pool-size=2}.
 * </ul>
 * Each client is one thread with one connection, sending the next request when the previous response is read; the
 * latency is from writing the request to reading the last byte. Rounds alternate the targets; medians are reported.
 */
final class HttpBenchmark {

    private static final int ROUNDS = 5;
    private static final int[] CLIENTS = {1, 16};

    private HttpBenchmark() {}

    record Figure(double perSecond, double p99Millis) {}

    static void run() throws Exception {
        byte[] guest = GuestFiles.read("http_users");
        Path modules = Files.createTempDirectory("http-bench-modules");
        Files.write(modules.resolve("users.wasm"), guest);
        Files.write(modules.resolve("pooled.wasm"), guest);
        ConfigurableApplicationContext app = new SpringApplicationBuilder(HttpBenchApplication.class)
                .properties("server.port=0", "tinywasm.wasi.modules-dir=" + modules, "tinywasm.wasi.watch=false",
                        "spring.main.banner-mode=off", "logging.level.root=warn",
                        "server.tomcat.max-keep-alive-requests=-1", // Tomcat closes a connection after 100 otherwise
                        "tinywasm.wasi.modules.pooled.http.pool-size=2")
                .run();
        try {
            int port = Objects.requireNonNull(((WebServerApplicationContext) app).getWebServer(), "web server").getPort();
            System.out.println();
            System.out.println("== HTTP: GET of 22 bytes from the C guest 'http_users' (compatible mode) on Spring MVC (Tomcat), "
                    + "keep-alive clients on loopback; median of " + ROUNDS + " rounds");
            System.out.printf("%-38s %8s %12s %10s%n", "target", "clients", "requests/s", "p99 ms");
            Figure direct = direct(guest);
            System.out.printf("%-38s %8d %12.0f %10.3f%n", "direct handle call (ceiling)", 1, direct.perSecond(),
                    direct.p99Millis());
            for (int clients : CLIENTS) {
                int perClient = clients == 1 ? 20_000 : 6_000;
                // warm-up: JIT, connections, the guest's compiled code
                String[] paths = {"/m/users/1", "/m/pooled/1", "/plain/users/1", "/plain-async/users/1"};
                for (String path : paths) {
                    load(port, path, clients, perClient / 2);
                }
                double[][] rate = new double[paths.length][ROUNDS];
                double[][] p99 = new double[paths.length][ROUNDS];
                for (int r = 0; r < ROUNDS; r++) {
                    for (int t = 0; t < paths.length; t++) {
                        Figure f = load(port, paths[t], clients, perClient);
                        rate[t][r] = f.perSecond();
                        p99[t][r] = f.p99Millis();
                    }
                }
                String[] labels = {"/m/users (guest)", "/m/pooled (guest, pool-size 2)", "/plain/users (controller)",
                    "/plain-async/users (async controller)"};
                for (int t = 0; t < paths.length; t++) {
                    System.out.printf("%-38s %8d %12.0f %10.3f%n", labels[t], clients, Benchmarks.median(rate[t]),
                            Benchmarks.median(p99[t]));
                }
                double guestRate = Benchmarks.median(rate[0]);
                System.out.printf("   %d client(s): /m ÷ plain %.2f (per round: %s); /m ÷ plain async %.2f; "
                                + "pool 2 ÷ pool 1 %.2f (per round: %s)%s%n",
                        clients, guestRate / Benchmarks.median(rate[2]), Benchmarks.ratios(rate[0], rate[2]),
                        guestRate / Benchmarks.median(rate[3]),
                        Benchmarks.median(rate[1]) / guestRate, Benchmarks.ratios(rate[1], rate[0]),
                        clients == 1 ? String.format("; /m ÷ direct %.3f", guestRate / direct.perSecond()) : "");
            }
        } finally {
            app.close();
        }
    }

    /** The guest's handler called directly on one thread: what a request costs inside the guest. */
    static Figure direct(byte[] guest) {
        try (WasmModule module = WasmModule.standalone("users", guest, WasiConfig.defaults())) {
            GuestHttpRequest request = new GuestHttpRequest("GET", "/m/users/1", "/m/users/1",
                    List.of(new Header("Host", "localhost")), new byte[0]);
            int n = 200_000;
            for (int i = 0; i < n; i++) {
                call(module, request);
            }
            double[] rates = new double[ROUNDS];
            long[] latencies = new long[n];
            for (int r = 0; r < ROUNDS; r++) {
                long t0 = System.nanoTime();
                for (int i = 0; i < n; i++) {
                    long s = System.nanoTime();
                    call(module, request);
                    latencies[i] = System.nanoTime() - s;
                }
                rates[r] = n / ((System.nanoTime() - t0) / 1e9);
            }
            Arrays.sort(latencies);
            return new Figure(Benchmarks.median(rates), latencies[(int) (n * 0.99)] / 1e6);
        }
    }

    private static void call(WasmModule module, GuestHttpRequest request) {
        PipelineStep step = module.serveHttp(request, false, 1 << 20, e -> { throw e; });
        GuestHttpResponse response = Objects.requireNonNull(step.response(), "response"); // a target always has one
        if (response.status() != 200) {
            throw new IllegalStateException("unexpected " + response);
        }
    }

    /** {@code clients} connections, each sending {@code perClient} requests for {@code path} one after the other. */
    static Figure load(int port, String path, int clients, int perClient) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        try {
            List<Future<long[]>> runs = new ArrayList<>();
            long t0 = System.nanoTime();
            for (int c = 0; c < clients; c++) {
                runs.add(pool.submit((Callable<long[]>) () -> client(port, path, perClient)));
            }
            long[] all = new long[clients * perClient];
            int at = 0;
            for (Future<long[]> f : runs) {
                long[] l = f.get();
                System.arraycopy(l, 0, all, at, l.length);
                at += l.length;
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            Arrays.sort(all);
            return new Figure(all.length / seconds, all[(int) (all.length * 0.99)] / 1e6);
        } finally {
            pool.shutdownNow();
        }
    }

    /** One keep-alive connection: the latency of each request, in nanoseconds. */
    private static long[] client(int port, String path, int requests) throws IOException {
        byte[] request = ("GET " + path + " HTTP/1.1\r\nHost: localhost\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
        long[] latencies = new long[requests];
        try (Socket socket = new Socket("localhost", port)) {
            socket.setTcpNoDelay(true);
            OutputStream out = socket.getOutputStream();
            InputStream in = new BufferedInputStream(socket.getInputStream(), 8192);
            for (int i = 0; i < requests; i++) {
                long t0 = System.nanoTime();
                out.write(request);
                out.flush();
                readResponse(in);
                latencies[i] = System.nanoTime() - t0;
            }
        }
        return latencies;
    }

    /** Reads one response (Content-Length or chunked); fails on anything but 200. */
    private static void readResponse(InputStream in) throws IOException {
        String status = line(in);
        if (!status.startsWith("HTTP/1.1 200")) {
            throw new IOException("unexpected response: " + status);
        }
        long length = -1;
        boolean chunked = false;
        for (String header; !(header = line(in)).isEmpty(); ) {
            int colon = header.indexOf(':');
            String name = header.substring(0, colon).trim();
            if (name.equalsIgnoreCase("Content-Length")) {
                length = Long.parseLong(header.substring(colon + 1).trim());
            } else if (name.equalsIgnoreCase("Transfer-Encoding")) {
                chunked = header.toLowerCase().contains("chunked");
            }
        }
        if (chunked) {
            for (long n; (n = Long.parseLong(line(in).split(";")[0].trim(), 16)) > 0; ) {
                skip(in, n);
                line(in);
            }
            line(in);
        } else if (length > 0) {
            skip(in, length);
        }
    }

    private static void skip(InputStream in, long n) throws IOException {
        while (n > 0) {
            long s = in.skip(n);
            if (s <= 0) {
                if (in.read() < 0) {
                    throw new IOException("connection closed");
                }
                s = 1;
            }
            n -= s;
        }
    }

    private static String line(InputStream in) throws IOException {
        StringBuilder b = new StringBuilder();
        for (int c; (c = in.read()) != '\n'; ) {
            if (c < 0) {
                throw new IOException("connection closed");
            }
            if (c != '\r') {
                b.append((char) c);
            }
        }
        return b.toString();
    }
}
