package io.github.tinywasm.wasi.autoconfigure;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.jspecify.annotations.Nullable;
import org.springframework.boot.context.properties.ConfigurationPropertiesBindHandlerAdvisor;
import org.springframework.boot.context.properties.bind.AbstractBindHandler;
import org.springframework.boot.context.properties.bind.BindContext;
import org.springframework.boot.context.properties.bind.BindHandler;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.validation.ValidationBindHandler;
import org.springframework.boot.context.properties.source.ConfigurationProperty;
import org.springframework.boot.context.properties.source.ConfigurationPropertyName;

/**
 * Adds {@link WasiPropertiesValidator} to the binding of {@code @ConfigurationProperties}, with the configuration
 * properties bound under {@code tinywasm.wasi} (their values as written and their origins). Spring Boot applies
 * advisors to every binding; the validator supports {@link WasiProperties} only, so other bindings are unaffected.
 * A failure is Boot's own {@code BindValidationException}, reported by its failure analyzer.
 */
final class WasiPropertiesBindHandlerAdvisor implements ConfigurationPropertiesBindHandlerAdvisor {

    static final ConfigurationPropertyName PREFIX = ConfigurationPropertyName.of("tinywasm.wasi");

    @Override
    public BindHandler apply(BindHandler bindHandler) {
        BoundProperties bound = new BoundProperties(bindHandler);
        return new ValidationBindHandler(bound, new WasiPropertiesValidator(bound::get));
    }

    /** Remembers the configuration properties bound under {@code tinywasm.wasi} during one binding. */
    private static final class BoundProperties extends AbstractBindHandler {

        private final Map<ConfigurationPropertyName, ConfigurationProperty> properties = new ConcurrentHashMap<>();

        BoundProperties(BindHandler parent) {
            super(parent);
        }

        @Override
        public @Nullable Object onSuccess(ConfigurationPropertyName name, Bindable<?> target, BindContext context,
                Object result) {
            ConfigurationProperty property = context.getConfigurationProperty();
            if (property != null && PREFIX.isAncestorOf(name)) {
                properties.put(name, property);
            }
            return super.onSuccess(name, target, context, result);
        }

        @Nullable ConfigurationProperty get(String relativeName) {
            ConfigurationPropertyName name = ConfigurationPropertyName.ofIfValid(PREFIX + "." + relativeName);
            return name != null ? properties.get(name) : null;
        }
    }
}
