/** Spring Boot auto-configuration of tinywasm-wasi: properties, life cycle, event bridge. */
@NullMarked
package io.github.tinywasm.wasi.autoconfigure;

import org.jspecify.annotations.NullMarked;
