package io.github.tinywasm.wasi.autoconfigure;

import io.github.tinywasm.wasi.WasiServer;
import org.springframework.context.ApplicationEvent;

/**
 * A module went back to its previous version: asked for ({@code POST /actuator/wasi/{name}/rollback},
 * {@link WasiServer#rollback}) or automatically, because the new version trapped or timed out
 * {@code tinywasm.wasi.deploy.max-traps} times within its {@code tinywasm.wasi.deploy.probation}. Published on the
 * thread that rolled back; the source is the {@link WasiServer}.
 */
public class WasiModuleRolledBackEvent extends ApplicationEvent {

    private final String module;
    private final boolean automatic;
    private final String fromSha256;
    private final String toSha256;
    private final String reason;

    public WasiModuleRolledBackEvent(WasiServer source, String module, boolean automatic, String fromSha256,
            String toSha256, String reason) {
        super(source);
        this.module = module;
        this.automatic = automatic;
        this.fromSha256 = fromSha256;
        this.toSha256 = toSha256;
        this.reason = reason;
    }

    /** The module's name. */
    public String getModule() {
        return module;
    }

    /** Whether its probation rolled it back (rather than an operator). */
    public boolean isAutomatic() {
        return automatic;
    }

    /** SHA-256 of the version rolled back from. */
    public String getFromSha256() {
        return fromSha256;
    }

    /** SHA-256 of the version serving again. */
    public String getToSha256() {
        return toSha256;
    }

    /** Why, in words (for an automatic rollback, the limit reached and the last error). */
    public String getReason() {
        return reason;
    }

    @Override
    public String toString() {
        return "WasiModuleRolledBackEvent[module=" + module + ", automatic=" + automatic + ", from=" + fromSha256
                + ", to=" + toSha256 + ", reason=" + reason + "]";
    }
}
