// @ts-check
/**
 * What the modules of the JavaScript layer share and users never see: the
 * marker of internal construction and the ways callbacks are called.
 */
"use strict";

/** Marks internal construction around an existing native handle. */
const kWrap = Symbol("msw-session.wrap");

/**
 * Wraps a removal into a function that runs it at most once.
 * @param {() => unknown} remove
 * @returns {() => void}
 */
function remover(remove) {
  let removed = false;
  return () => {
    if (!removed) {
      removed = true;
      remove();
    }
  };
}

const noop = () => {};

/**
 * Calls `callback(value)`; a throw is isolated (the reference ignores
 * callback errors).
 * @template T
 * @param {(value: T) => void} callback
 * @param {T} value
 */
function callIsolated(callback, value) {
  try {
    callback(value);
  } catch {
    // Ignored, as in the reference.
  }
}

/**
 * Calls every callback of `callbacks` with `value`, in registration order,
 * each isolated.
 * @template T
 * @param {Map<number, (value: T) => void>} callbacks
 * @param {T} value
 */
function callEach(callbacks, value) {
  for (const callback of callbacks.values()) callIsolated(callback, value);
}

module.exports = { kWrap, remover, noop, callIsolated, callEach };
