// @ts-check
/**
 * Cancellation: `CancellationToken` (the read side), `CancellationSource`
 * (the write side), linked and timeout sources. The state and the timers
 * are the core's; a token's flag is read from memory the core shares.
 */
"use strict";

const { native } = require("./loader.js");
const { synced } = require("./clock.js");
const { checkFunction, checkNumber, checkOptionalString, invalidArgType, CancellationError } = require("./errors.js");
const { kWrap, remover, noop, callIsolated, callEach } = require("./internal.js");

/**
 * A cancellation reason from whatever an `AbortSignal` was aborted with.
 * @param {unknown} reason
 * @returns {string | undefined}
 */
function reasonOf(reason) {
  if (reason === undefined || reason === null) return undefined;
  if (reason instanceof CancellationError) return reason.reason;
  if (typeof reason === "string") return reason;
  if (reason instanceof Error) return reason.message || reason.name;
  return String(reason);
}

/** @type {(token: CancellationToken) => import("../binding.js").NativeToken} */
let nativeOf;
/** @type {(token: CancellationToken, callback: (reason?: string) => void) => () => void} */
let addCallback;
/** @type {(token: CancellationToken) => void} */
let markTimed;
/** @type {(token: CancellationToken) => void} */
let holdUntilFired;
/** @type {(token: CancellationToken) => void} */
let release;

/**
 * The read side of cancellation.
 *
 * Callbacks live in `#pending`, owned by this object; the core holds only
 * `#dispatch`, weakly, so a callback that closes over its token (the usual
 * case) makes no cycle through a native reference (see src/js_function.rs).
 */
class CancellationToken {
  /** @type {import("../binding.js").NativeToken} */
  #native;
  /** @type {Int32Array} memory shared with the core: 1 once cancelled */
  #flag;
  /** @type {AbortSignal | undefined} */
  #signal;
  /** @type {Map<number, (reason?: string) => void> | undefined} callbacks not run yet (made on first use) */
  #pending;
  #nextKey = 0;
  /** a timer cancels this token: its callbacks are held until they run */
  #timed = false;
  /** @type {((reason?: string) => void) | undefined} the one callback the core holds */
  #dispatch;

  /**
   * Tokens with callbacks that must outlive every JavaScript reference to
   * them until they fire: timeout tokens (the reference's `setTimeout` held
   * them) and children of a parent that has just fired. Only a token with
   * callbacks waiting is here, and it leaves when they have run or when its
   * source is disposed.
   * @type {Set<CancellationToken>}
   */
  static #keepUntilFired = new Set();

  static {
    nativeOf = (token) => token.#native;
    addCallback = (token, callback) => token.#add(callback);
    markTimed = (token) => {
      token.#timed = true;
    };
    holdUntilFired = (token) => {
      if (token.#pending !== undefined && token.#pending.size > 0) CancellationToken.#keepUntilFired.add(token);
    };
    release = (token) => {
      CancellationToken.#keepUntilFired.delete(token);
    };
  }

  /**
   * Runs `callback` at the cancellation, or at once when already cancelled.
   * @param {(reason?: string) => void} callback
   * @returns {() => void} removes it
   */
  #add(callback) {
    if (this.#flag[0] !== 0) {
      callIsolated(callback, this.reason);
      return noop;
    }
    const key = ++this.#nextKey;
    // In the map before the core hears of it: a cancellation racing in from
    // another thread dispatches synchronously from `onCancelled`.
    const pending = (this.#pending ??= new Map());
    pending.set(key, callback);
    if (this.#timed) CancellationToken.#keepUntilFired.add(this);
    if (this.#dispatch === undefined) {
      this.#dispatch = (reason) => this.#fire(reason);
      this.#native.onCancelled(this.#dispatch);
    }
    return remover(() => pending.delete(key));
  }

  /** @param {string | undefined} reason */
  #fire(reason) {
    const pending = this.#pending;
    this.#pending = undefined;
    if (pending !== undefined) callEach(pending, reason);
    CancellationToken.#keepUntilFired.delete(this);
  }

  constructor() {
    const handle = arguments[0] === kWrap ? arguments[1] : new native.NativeToken();
    this.#native = handle;
    this.#flag = handle.flag();
  }

  get isCancelled() {
    return this.#flag[0] !== 0;
  }

  get reason() {
    return this.#flag[0] !== 0 ? (this.#native.reason ?? undefined) : undefined;
  }

  /**
   * An `AbortSignal` aborted with a `CancellationError` when the token is
   * cancelled; the same object on every read.
   * @returns {AbortSignal}
   */
  get signal() {
    if (this.#signal === undefined) {
      const controller = new AbortController();
      this.#signal = controller.signal;
      this.#add((reason) => controller.abort(new CancellationError(reason)));
    }
    return this.#signal;
  }

  /**
   * @param {(reason?: string) => void} callback
   * @returns {() => void}
   */
  onCancelled(callback) {
    checkFunction(callback, "callback");
    return this.#add(callback);
  }

  throwIfCancelled() {
    if (this.#flag[0] !== 0) throw new CancellationError(this.reason);
  }

  /** @param {string} [reason] */
  _cancel(reason) {
    checkOptionalString(reason, "reason");
    this.#native.cancel(reason);
  }
}

/** The write side of cancellation. */
class CancellationSource {
  /** @type {CancellationToken} */
  #token;
  /** @type {Array<() => void>} removes the listeners on parent AbortSignals */
  #unlinks = [];

  /**
   * A source cancelled when any parent is (at once if one already is), with
   * that parent's reason. Cancelling it never cancels a parent.
   * @param {...(CancellationToken | CancellationSource | AbortSignal)} parents
   * @returns {CancellationSource}
   */
  static linked(...parents) {
    const source = new CancellationSource();
    const child = nativeOf(source.#token);
    parents.forEach((parent, i) => {
      if (parent instanceof CancellationSource) parent = parent.token;
      if (parent instanceof CancellationToken) {
        child.link(nativeOf(parent));
        // The parent keeps this source alive while both may fire, and hands
        // it over, when it fires, until the source's own callbacks have run
        // (they may be posted after the parent's, from a timer thread).
        const token = source.#token;
        source.#unlinks.push(addCallback(parent, () => holdUntilFired(token)));
      } else if (parent instanceof AbortSignal) {
        const signal = parent;
        if (signal.aborted) {
          source.cancel(reasonOf(signal.reason));
          return;
        }
        const onAbort = () => source.cancel(reasonOf(signal.reason));
        signal.addEventListener("abort", onAbort, { once: true });
        source.#unlinks.push(() => signal.removeEventListener("abort", onAbort));
      } else {
        source.dispose();
        throw invalidArgType(
          `parents[${i}]`,
          "a CancellationToken, a CancellationSource or an AbortSignal",
          parent,
        );
      }
    });
    return source;
  }

  /** Releases the links to parents and the timer of a timeout source. */
  dispose() {
    for (const unlink of this.#unlinks.splice(0)) unlink();
    release(this.#token);
    nativeOf(this.#token).dispose();
  }

  constructor() {
    // @ts-ignore -- internal construction around an existing token
    this.#token = arguments[0] === kWrap ? arguments[1] : new CancellationToken();
  }

  get token() {
    return this.#token;
  }

  /** @param {string} [reason] */
  cancel(reason) {
    this.#token._cancel(reason);
  }

  get isCancelled() {
    return this.#token.isCancelled;
  }
}

/**
 * @param {import("../binding.js").NativeToken} handle
 * @returns {CancellationSource}
 */
function sourceOf(handle) {
  // @ts-ignore -- internal construction
  return new CancellationSource(kWrap, new CancellationToken(kWrap, handle));
}

/**
 * @param {number} timeoutMs
 * @returns {CancellationSource}
 */
function createTimeoutToken(timeoutMs) {
  checkNumber(timeoutMs, "timeoutMs");
  const source = sourceOf(synced(native.NativeToken).withTimeout(timeoutMs, `Timeout after ${timeoutMs}ms`));
  // As the reference's pending `setTimeout` did, the timer keeps the token's
  // callbacks alive until it fires (an infinite one never does).
  if (timeoutMs !== Infinity) markTimed(source.token);
  return source;
}

module.exports = { CancellationToken, CancellationSource, sourceOf, createTimeoutToken };
