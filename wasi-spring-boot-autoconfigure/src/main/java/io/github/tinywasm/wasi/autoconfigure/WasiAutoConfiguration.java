package io.github.tinywasm.wasi.autoconfigure;

import io.github.tinywasm.wasi.BusInterceptor;
import io.github.tinywasm.wasi.WasiListener;
import io.github.tinywasm.wasi.WasiServer;
import io.github.tinywasm.wasi.WebSocketBroadcaster;
import java.time.Duration;
import java.util.List;
import org.springframework.beans.factory.BeanFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.LazyInitializationExcludeFilter;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.context.properties.ConfigurationPropertiesBindHandlerAdvisor;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.ApplicationContext;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.Environment;
import tools.jackson.databind.json.JsonMapper;

/**
 * Auto-configuration of tinywasm-wasi: the {@link WasiServer} built from {@link WasiProperties}, its life
 * cycle, the {@link WasiPublisher}, the bridge to ApplicationEvents, and {@link WasiModuleRolledBackEvent}s
 * ({@link WasiDeployEvents}). Every bean backs off when the
 * application defines its own.
 *
 * <p>The life cycle and the event bridge are never lazily initialised, even with
 * {@code spring.main.lazy-initialization=true}: nothing would otherwise load the modules or turn their messages
 * into events until some bean asked for them.
 */
@AutoConfiguration(afterName = "org.springframework.boot.jackson.autoconfigure.JacksonAutoConfiguration")
@ConditionalOnBooleanProperty(name = "tinywasm.wasi.enabled", matchIfMissing = true)
@EnableConfigurationProperties(WasiProperties.class)
public final class WasiAutoConfiguration {

    @Bean
    static ConfigurationPropertiesBindHandlerAdvisor wasiPropertiesBindHandlerAdvisor() {
        return new WasiPropertiesBindHandlerAdvisor();
    }

    @Bean
    static LazyInitializationExcludeFilter wasiLazyInitializationExcludeFilter() {
        return LazyInitializationExcludeFilter.forBeanTypes(WasiServerLifecycle.class, WasiEventBridge.class);
    }

    @Bean
    @ConditionalOnMissingBean
    ModulesLocation wasiModulesLocation(WasiProperties properties) {
        return ModulesLocation.of(properties.modulesDir());
    }

    @Bean(destroyMethod = "close")
    @ConditionalOnMissingBean
    WasiServer wasiServer(WasiProperties properties, ModulesLocation location,
            ObjectProvider<WebSocketBroadcaster> broadcasters, ObjectProvider<WebSocketBroadcasterDecorator> decorators,
            ObjectProvider<BusInterceptor> interceptor, ObjectProvider<WasiListener> listeners) {
        // Every broadcaster bean hears every ws_broadcast: the WebSocket endpoint, and any of the application's own.
        List<WebSocketBroadcaster> all = broadcasters.orderedStream().toList();
        WebSocketBroadcaster target = switch (all.size()) {
            case 0 -> WebSocketBroadcaster.NONE;
            case 1 -> all.get(0);
            default -> (module, topic, payload) -> all.forEach(b -> b.broadcast(module, topic, payload));
        };
        if (!all.isEmpty()) {
            for (WebSocketBroadcasterDecorator decorator : decorators.orderedStream().toList()) {
                target = decorator.decorate(target);
            }
        }
        WasiServer server = new WasiServer(properties.toConfig(location.folder()), target,
                interceptor.getIfUnique(() -> BusInterceptor.NONE));
        listeners.orderedStream().forEach(server::addListener);
        return server;
    }

    @Bean
    @ConditionalOnMissingBean
    WasiServerLifecycle wasiServerLifecycle(WasiServer server, ObjectProvider<ModulesLocation> location,
            ApplicationContext resourceLoader, Environment environment) {
        Duration phaseTimeout = environment.getProperty("spring.lifecycle.timeout-per-shutdown-phase", Duration.class,
                Duration.ofSeconds(30));
        return new WasiServerLifecycle(server, location.getIfAvailable(), resourceLoader, phaseTimeout);
    }

    @Bean
    @ConditionalOnMissingBean
    WasiDeployEvents wasiDeployEvents(ApplicationEventPublisher publisher, BeanFactory beans) {
        return new WasiDeployEvents(publisher, beans);
    }

    @Bean
    @ConditionalOnMissingBean
    WasiPublisher wasiPublisher(WasiServer server, ObjectProvider<WasiPayloadConverter> converter) {
        return new WasiPublisher(server, converter.getIfUnique());
    }

    @Bean
    @ConditionalOnMissingBean
    @ConditionalOnBooleanProperty(name = "tinywasm.wasi.events.enabled", matchIfMissing = true)
    WasiEventBridge wasiEventBridge(WasiServer server, ApplicationEventPublisher publisher,
            ObjectProvider<WasiPayloadConverter> converter) {
        return new WasiEventBridge(server, publisher, converter.getIfUnique());
    }

    /** JSON payloads with the application's Jackson {@code JsonMapper}, when Jackson is present. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(JsonMapper.class)
    static final class JacksonPayloadConfiguration {

        @Bean
        @ConditionalOnMissingBean(WasiPayloadConverter.class)
        JacksonPayloadConverter wasiPayloadConverter(ObjectProvider<JsonMapper> mapper) {
            return new JacksonPayloadConverter(mapper.getIfUnique(JsonMapper::shared));
        }
    }
}
