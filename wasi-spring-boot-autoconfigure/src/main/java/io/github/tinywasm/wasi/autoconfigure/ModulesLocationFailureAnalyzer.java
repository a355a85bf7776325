package io.github.tinywasm.wasi.autoconfigure;

import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;

/** Reports a {@link ModulesLocationException} as Spring Boot reports a configuration error: what, where, what to do. */
class ModulesLocationFailureAnalyzer extends AbstractFailureAnalyzer<ModulesLocationException> {

    @Override
    protected FailureAnalysis analyze(Throwable rootFailure, ModulesLocationException cause) {
        StringBuilder description = new StringBuilder("The modules location cannot be used:\n\n");
        description.append("    Property: tinywasm.wasi.modules-dir\n");
        description.append("    Value: \"").append(cause.location()).append("\"\n");
        if (cause.path() != null) {
            description.append("    Folder: ").append(cause.path()).append('\n');
        }
        description.append("    Reason: it ").append(cause.reason());
        return new FailureAnalysis(description.toString(), cause.action(), cause);
    }
}
