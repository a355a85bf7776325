package io.github.tinywasm.wasi.autoconfigure.build;

import io.github.tinywasm.wasi.WasiServer;
import io.github.tinywasm.wasi.autoconfigure.WasiAutoConfiguration;
import io.github.tinywasm.wasi.deploy.GuestBuilds;
import java.nio.file.Path;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;

/**
 * Auto-configuration of build on change (development mode): {@link GuestBuilds} from
 * {@link GuestBuildProperties}, deploying into the {@link WasiServer}'s modules folder, and its life cycle. Off
 * unless {@code tinywasm.wasi.build.enabled=true}; every bean backs off when the application defines its own.
 */
@AutoConfiguration(after = WasiAutoConfiguration.class)
@ConditionalOnBooleanProperty("tinywasm.wasi.build.enabled")
@ConditionalOnBean(WasiServer.class)
@EnableConfigurationProperties(GuestBuildProperties.class)
public final class GuestBuildAutoConfiguration {

    @Bean(destroyMethod = "close")
    @ConditionalOnMissingBean
    GuestBuilds guestBuilds(GuestBuildProperties properties, WasiServer server) {
        Path modules = server.config().modulesDir();
        if (modules == null) {
            throw new IllegalStateException("tinywasm.wasi.build.enabled=true needs a modules folder to deploy into"
                    + " (tinywasm.wasi.modules-dir), and the WasiServer has none");
        }
        return new GuestBuilds(properties.toConfig(modules));
    }

    @Bean
    @ConditionalOnMissingBean
    GuestBuildLifecycle guestBuildLifecycle(GuestBuilds builds, WasiServer server) {
        return new GuestBuildLifecycle(builds, server);
    }
}
