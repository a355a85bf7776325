package io.github.tinywasm.wasi.http;

import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Which routes (target module names) a middleware applies to: tinywasm/wasi's {@code Rule}, parsed and matched exactly
 * as the original does.
 *
 * <ul>
 * <li>{@code *}, empty or blank: every route ({@code all}).
 * <li>{@code users,auth}: only those ({@code only}).
 * <li>{@code -auth}: every route but {@code auth} ({@code all}, {@code except}).
 * <li>{@code users,-admin}: every route but {@code admin}: a {@code -x} part sets {@code all}, and {@code only} is then
 *     ignored, as the original ignores it.
 * </ul>
 *
 * @param all whether the rule applies to every route not in {@code except}
 * @param only the routes it applies to when not {@code all}
 * @param except the routes it does not apply to when {@code all}
 */
public record HttpRule(boolean all, List<String> only, List<String> except) {

    /** Every route: {@code *}. */
    public static final HttpRule ALL = new HttpRule(true, List.of(), List.of());

    public HttpRule {
        only = List.copyOf(only);
        except = List.copyOf(except);
    }

    /**
     * Parses a rule (the content of {@code rule.txt}, or {@code tinywasm.wasi.http.middleware.<name>}) as the original's
     * {@code parseRule}: trimmed; {@code *} or empty is every route; otherwise comma-separated parts, each trimmed,
     * empty ones skipped, {@code -x} excluding x (and making the rule apply to every other route), any other part
     * naming a route. Never fails.
     */
    public static HttpRule parse(@Nullable String content) {
        String rule = content == null ? "" : content.strip();
        if (rule.equals("*") || rule.isEmpty()) {
            return ALL;
        }
        boolean all = false;
        List<String> only = new ArrayList<>();
        List<String> except = new ArrayList<>();
        for (String part : rule.split(",", -1)) {
            String p = part.strip();
            if (p.isEmpty()) {
                continue;
            }
            if (p.startsWith("-")) {
                all = true;
                except.add(p.substring(1));
            } else {
                only.add(p);
            }
        }
        return new HttpRule(all, only, except);
    }

    /** Whether the rule applies to requests for module {@code route} (the original's {@code Matches}). */
    public boolean matches(String route) {
        if (all) {
            return !except.contains(route);
        }
        return only.contains(route);
    }

    /**
     * The rule in the original's grammar, as it acts: {@code *}, {@code -a,-b} or {@code a,b} (the ignored
     * {@code only} part of a rule such as {@code users,-admin} is left out).
     */
    public String text() {
        if (all) {
            return except.isEmpty() ? "*" : "-" + String.join(",-", except);
        }
        return String.join(",", only);
    }
}
