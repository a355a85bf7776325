package io.github.tinywasm.wasi.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** tinywasm/wasi's middleware_test.go, case for case: parseRule, Matches and applyPipeline. */
class HttpRuleTest {

    /** TestParseRule. */
    @Test
    void parsesAsTheOriginal() {
        assertThat(HttpRule.parse("*")).isEqualTo(new HttpRule(true, List.of(), List.of()));
        assertThat(HttpRule.parse("")).isEqualTo(new HttpRule(true, List.of(), List.of()));
        assertThat(HttpRule.parse("  ")).isEqualTo(new HttpRule(true, List.of(), List.of()));
        assertThat(HttpRule.parse("users,auth")).isEqualTo(new HttpRule(false, List.of("users", "auth"), List.of()));
        assertThat(HttpRule.parse("-auth")).isEqualTo(new HttpRule(true, List.of(), List.of("auth")));
        assertThat(HttpRule.parse("users,-admin")).isEqualTo(new HttpRule(true, List.of("users"), List.of("admin")));
    }

    @Test
    void trimsPartsAndSkipsEmptyOnesAsTheOriginal() {
        assertThat(HttpRule.parse(" users , ,auth,\n")).isEqualTo(new HttpRule(false, List.of("users", "auth"), List.of()));
        assertThat(HttpRule.parse("*\n")).isEqualTo(HttpRule.ALL); // a rule.txt with a final newline
        assertThat(HttpRule.parse(null)).isEqualTo(HttpRule.ALL);
    }

    /** TestMiddlewareModule_Matches. */
    @Test
    void matchesAsTheOriginal() {
        Map<String, Boolean> all = Map.of("any", true, "other", true);
        all.forEach((route, want) -> assertThat(new HttpRule(true, List.of(), List.of()).matches(route)).isEqualTo(want));
        Map<String, Boolean> only = Map.of("users", true, "auth", true, "other", false);
        only.forEach((route, want) -> assertThat(new HttpRule(false, List.of("users", "auth"), List.of()).matches(route))
                .as("only %s", route).isEqualTo(want));
        Map<String, Boolean> except = Map.of("users", true, "auth", false, "any", true);
        except.forEach((route, want) -> assertThat(new HttpRule(true, List.of(), List.of("auth")).matches(route))
                .as("except %s", route).isEqualTo(want));
    }

    @Test
    void onlyIsIgnoredOnceAnExceptionMakesTheRuleApplyToAll() {
        HttpRule rule = HttpRule.parse("users,-admin");
        assertThat(rule.matches("users")).isTrue();
        assertThat(rule.matches("billing")).isTrue(); // the original ignores "users" here
        assertThat(rule.matches("admin")).isFalse();
        assertThat(rule.text()).isEqualTo("-admin");
    }

    /** TestApplyPipeline: registration order kept, for routes "users" and "auth". */
    @Test
    void appliesThePipelineAsTheOriginal() {
        List<HttpMiddleware> mws = List.of(
                new HttpMiddleware("mw1", new HttpRule(true, List.of(), List.of()), 0),
                new HttpMiddleware("mw2", new HttpRule(false, List.of("users"), List.of()), 0),
                new HttpMiddleware("mw3", new HttpRule(true, List.of(), List.of("users")), 0));
        assertThat(HttpMiddleware.applicable("users", mws)).extracting(HttpMiddleware::module).containsExactly("mw1", "mw2");
        assertThat(HttpMiddleware.applicable("auth", mws)).extracting(HttpMiddleware::module).containsExactly("mw1", "mw3");
    }

    @Test
    void pipelineOrderIsTheConfiguredOrderThenTheModuleName() {
        List<HttpMiddleware> mws = new java.util.ArrayList<>(List.of(
                new HttpMiddleware("b", HttpRule.ALL, 0),
                new HttpMiddleware("z", HttpRule.ALL, -1),
                new HttpMiddleware("a", HttpRule.ALL, 0),
                new HttpMiddleware("c", HttpRule.ALL, 5)));
        mws.sort(HttpMiddleware.ORDER);
        assertThat(mws).extracting(HttpMiddleware::module).containsExactly("z", "a", "b", "c");
    }

    @Test
    void textShowsTheRuleAsItActs() {
        assertThat(HttpRule.parse("*").text()).isEqualTo("*");
        assertThat(HttpRule.parse(" users , auth ").text()).isEqualTo("users,auth");
        assertThat(HttpRule.parse("-a,-b").text()).isEqualTo("-a,-b");
    }

    @Test
    void moduleNameIsThePathSegmentAfterTheBaseAsTheOriginalCutsIt() {
        assertThat(GuestHttpDispatcher.moduleName("/m/users/42", "/m")).isEqualTo("users");
        assertThat(GuestHttpDispatcher.moduleName("/m/users", "/m")).isEqualTo("users");
        assertThat(GuestHttpDispatcher.moduleName("/m/", "/m")).isEmpty();
        assertThat(GuestHttpDispatcher.moduleName("/m", "/m/")).isEmpty();
        assertThat(GuestHttpDispatcher.moduleName("/m//users", "/m")).isEmpty();
        assertThat(GuestHttpDispatcher.moduleName("/api/users", "/m")).isNull();
        assertThat(GuestHttpDispatcher.moduleName("/mx/users", "/m")).isNull();
        assertThat(GuestHttpDispatcher.moduleName("/guests/v1/users/a", "/guests/v1")).isEqualTo("users");
    }
}
