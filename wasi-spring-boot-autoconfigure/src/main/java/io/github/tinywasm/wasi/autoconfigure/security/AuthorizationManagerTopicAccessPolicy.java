package io.github.tinywasm.wasi.autoconfigure.security;

import io.github.tinywasm.wasi.autoconfigure.websocket.TopicAccessPolicy;
import io.github.tinywasm.wasi.autoconfigure.websocket.TopicAccessRequest;
import java.security.Principal;
import org.springframework.security.authentication.AnonymousAuthenticationToken;
import org.springframework.security.authorization.AuthorizationManager;
import org.springframework.security.authorization.AuthorizationResult;
import org.springframework.security.core.Authentication;
import org.springframework.security.core.authority.AuthorityUtils;

/**
 * A {@link TopicAccessPolicy} that asks a Spring Security {@link AuthorizationManager}: the handshake's principal
 * (the {@link Authentication} Spring Security put on the request, on Spring MVC and WebFlux alike) is authorised
 * for the {@link TopicAccessRequest}. A handshake without one is anonymous. Thread-safe if the manager is.
 */
public class AuthorizationManagerTopicAccessPolicy implements TopicAccessPolicy {

    private static final Authentication ANONYMOUS = new AnonymousAuthenticationToken("tinywasm-wasi", "anonymousUser",
            AuthorityUtils.createAuthorityList("ROLE_ANONYMOUS"));

    private final AuthorizationManager<TopicAccessRequest> manager;

    public AuthorizationManagerTopicAccessPolicy(AuthorizationManager<TopicAccessRequest> manager) {
        this.manager = manager;
    }

    @Override
    public boolean allows(TopicAccessRequest request) {
        Principal principal = request.principal();
        Authentication authentication = principal instanceof Authentication a ? a : ANONYMOUS;
        AuthorizationResult result = manager.authorize(() -> authentication, request);
        return result != null && result.isGranted();
    }
}
