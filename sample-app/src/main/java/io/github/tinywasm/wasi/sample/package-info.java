/**
 * The sample application: guest modules from {@code modules/} behind a small page, with the one controller and the one
 * event listener an application adds to the starter.
 */
@NullMarked
package io.github.tinywasm.wasi.sample;

import org.jspecify.annotations.NullMarked;
