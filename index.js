// @ts-check
/**
 * The JavaScript face of msw-session.
 *
 * This file holds only what must or should be JavaScript:
 * - argument *type* checks (`typeof`, `instanceof`), which cost a nanosecond
 *   here and a native call there; value checks (NaN, ranges, ids, state
 *   shape) are the core's;
 * - the `CancellationError` subclass of `Error`;
 * - object identity: `source.token`, `session.progress`, the session objects
 *   of a manager and their `context` are plain JavaScript objects made once;
 * - building state objects from the values the core passes, and
 *   `JSON.stringify`/`JSON.parse` at the boundary (the contract's context
 *   semantics are JavaScript's own);
 * - the hot-path read of the cancelled flag, from memory the core shares.
 *
 * Everything that decides behaviour — the state machine, persistence, timers
 * and threads — is in the Rust core (`crates/session-core`), reached through
 * the `Native*` classes of `binding.js`.
 */
"use strict";

const { types } = require("node:util");

/** @type {typeof import("./binding.js")} */
let native;
try {
  native = require("./binding.js");
} catch (cause) {
  throw new Error(loadFailure(), { cause });
}

/**
 * Why the native addon did not load, and what to do: the message of the
 * error thrown at import when no binary for this platform loads.
 * @returns {string}
 */
function loadFailure() {
  const { platform, arch } = process;
  const deno = typeof (/** @type {any} */ (globalThis).Deno) !== "undefined";
  return [
    `msw-session: no native addon loads for ${platform}-${arch}. It comes prebuilt in an optional ` +
      `dependency, msw-session-<platform> (linux-x64-gnu, linux-arm64-gnu, linux-x64-musl, ` +
      `linux-arm64-musl, darwin-x64, darwin-arm64, win32-x64-msvc). The usual causes:`,
    "- optional dependencies were left out (`npm install --omit=optional`, `--no-optional`, " +
      "or an `omit=optional` setting): install again without it;",
    "- npm older than 11.3 wrote a lock file on another platform that lacks this platform's " +
      "optional dependency (npm/cli#4828): update npm, delete package-lock.json and node_modules, " +
      "and install again;",
    "- node_modules was copied from a machine of another OS or architecture: install again here;",
    deno
      ? "- Deno: run with `--allow-ffi` (and `--allow-read`, `--allow-env`) so the addon may be loaded;"
      : "- under Deno, run with `--allow-ffi`;",
    "- no prebuilt binary exists for this platform: build one from source with Rust 1.89 or " +
      "newer (https://rustup.rs): `node node_modules/msw-session/scripts/build-from-source.js`.",
    "The loader's own errors are in `cause`.",
  ].join("\n");
}

/** Marks internal construction around an existing native handle. */
const kWrap = Symbol("msw-session.wrap");

// ---------------------------------------------------------------------------
// Errors

/**
 * @param {unknown} value
 * @returns {string}
 */
function describe(value) {
  if (value === null) return "null";
  if (value === undefined) return "undefined";
  if (typeof value === "function") return `function ${value.name || "<anonymous>"}`;
  if (typeof value === "object") {
    const name = value.constructor && value.constructor.name;
    return name ? `an instance of ${name}` : "an object";
  }
  let shown = typeof value === "string" ? JSON.stringify(value) : String(value);
  if (shown.length > 40) shown = `${shown.slice(0, 37)}...`;
  return `type ${typeof value} (${shown})`;
}

/**
 * @template {Error} E
 * @param {E} error
 * @param {string} code
 * @returns {E & { code: string }}
 */
function withCode(error, code) {
  return Object.assign(error, { code });
}

/**
 * @param {string} name
 * @param {string} expected
 * @param {unknown} value
 */
function invalidArgType(name, expected, value) {
  return withCode(
    new TypeError(`The "${name}" argument must be ${expected}. Received ${describe(value)}`),
    "ERR_INVALID_ARG_TYPE",
  );
}

/** @param {unknown} value @param {string} name @returns {asserts value is string} */
function checkString(value, name) {
  if (typeof value !== "string") throw invalidArgType(name, "of type string", value);
}

/** @param {unknown} value @param {string} name @returns {asserts value is string | undefined} */
function checkOptionalString(value, name) {
  if (value !== undefined && typeof value !== "string") {
    throw invalidArgType(name, "of type string or undefined", value);
  }
}

/** @param {unknown} value @param {string} name @returns {asserts value is number} */
function checkNumber(value, name) {
  if (typeof value !== "number") throw invalidArgType(name, "of type number", value);
}

/** @param {unknown} value @param {string} name @returns {asserts value is Function} */
function checkFunction(value, name) {
  if (typeof value !== "function") throw invalidArgType(name, "of type function", value);
}

/** @param {unknown} value @param {string} name @returns {asserts value is Record<string, unknown>} */
function checkObject(value, name) {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw invalidArgType(name, "an object", value);
  }
}

/**
 * `JSON.stringify(value)`, with a refusal turned into a coded `TypeError`.
 * @param {unknown} value
 * @param {string} name
 * @returns {string}
 */
function stringify(value, name) {
  try {
    return JSON.stringify(value);
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    const error = native.argumentNotSerializable(name, reason);
    Object.defineProperty(error, "cause", { value: cause, writable: true, configurable: true });
    throw error;
  }
}

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

/**
 * Token wrappers with callbacks that must outlive every JavaScript reference
 * to them until they fire: timeout tokens (the reference's `setTimeout` held
 * them) and children of a parent that has just fired. Only a wrapper with
 * callbacks waiting is here, and it leaves when they have run or when its
 * source is disposed.
 * @type {Set<CancellationToken>}
 */
const keepUntilFired = new Set();

// ---------------------------------------------------------------------------
// Cancellation


// ---------------------------------------------------------------------------
// Test clocks

/**
 * The longest delay a JavaScript timer holds (a longer one fires at once);
 * longer delays are scheduled in steps of it.
 */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Whether the last `syncClock` told the core about a fake clock. */
let testClockSet = false;

/**
 * Runs `run` after `ms` on the global `setTimeout` of the moment it was
 * called (a test's fake one), then on the fake time: the core hands its
 * one-shot timers here while fake timers are installed.
 * @param {() => void} run
 * @param {number} ms
 */
function onFakeTimers(run, ms) {
  if (ms > MAX_TIMER_MS) {
    setTimeout(() => onFakeTimers(run, ms - MAX_TIMER_MS), MAX_TIMER_MS);
    return;
  }
  setTimeout(() => {
    syncClock();
    run();
  }, ms);
}

/**
 * Tells the core about a test framework's fake clock before a call that
 * reads the time or schedules a timer. vitest's and jest's fake timers
 * (both `@sinonjs/fake-timers`) mark each global they replace with a
 * `clock` property: a fake `Date` gives the core its time, a fake
 * `setTimeout` runs the core's timers of this thread. Looked up at each
 * call, so installing or removing fake timers at any moment takes effect
 * at the next call; with neither installed it costs two property reads.
 */
function syncClock() {
  const fakeDate = /** @type {any} */ (Date).clock !== undefined;
  const fakeTimers = fakeTimersInstalled();
  if (fakeDate || fakeTimers) {
    native.useTestClock(fakeDate ? Date.now() : NaN, fakeTimers ? onFakeTimers : undefined);
    testClockSet = true;
  } else if (testClockSet) {
    native.useTestClock(NaN, undefined);
    testClockSet = false;
  }
}

/** Whether a test framework's fake `setTimeout` is installed now (see `syncClock`). */
function fakeTimersInstalled() {
  return /** @type {any} */ (setTimeout).clock !== undefined;
}

/** Thrown by `throwIfCancelled`. */
class CancellationError extends Error {
  /** @param {string} [reason] */
  constructor(reason) {
    if (typeof reason === "symbol") checkOptionalString(reason, "reason");
    super(reason || "Operation was cancelled");
    this.name = "CancellationError";
    /** @readonly @type {string | undefined} */
    this.reason = reason;
  }
}

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

/** @type {(token: CancellationToken) => import("./binding.js").NativeToken} */
let nativeOf;
/** @type {(token: CancellationToken, callback: (reason?: string) => void) => () => void} */
let addCallback;
/** @type {(token: CancellationToken) => void} */
let markTimed;
/** @type {(token: CancellationToken) => void} */
let holdUntilFired;

/**
 * The read side of cancellation.
 *
 * Callbacks live in `#pending`, owned by this object; the core holds only
 * `#dispatch`, weakly, so a callback that closes over its token (the usual
 * case) makes no cycle through a native reference (see src/js_function.rs).
 */
class CancellationToken {
  /** @type {import("./binding.js").NativeToken} */
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

  static {
    nativeOf = (token) => token.#native;
    addCallback = (token, callback) => token.#add(callback);
    markTimed = (token) => {
      token.#timed = true;
    };
    holdUntilFired = (token) => {
      if (token.#pending !== undefined && token.#pending.size > 0) keepUntilFired.add(token);
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
    if (this.#timed) keepUntilFired.add(this);
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
    keepUntilFired.delete(this);
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
    keepUntilFired.delete(this.#token);
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
 * @param {import("./binding.js").NativeToken} handle
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
  syncClock();
  checkNumber(timeoutMs, "timeoutMs");
  const source = sourceOf(native.NativeToken.withTimeout(timeoutMs, `Timeout after ${timeoutMs}ms`));
  // As the reference's pending `setTimeout` did, the timer keeps the token's
  // callbacks alive until it fires (an infinite one never does).
  if (timeoutMs !== Infinity) markTimed(source.token);
  return source;
}

// ---------------------------------------------------------------------------
// Progress

/** The statuses by the index the core passes (the layouts are in src/protocol.rs). */
const STATUSES = /** @type {readonly import("./index.js").ProgressStatus[]} */ (native.statusNames());

/**
 * Builds a state object from the core's positional values (`state_args` in
 * src/protocol.rs): the six keys every state has, then the optional keys that
 * `shape` lists, in its order, `undefined` ones included — the keys and order
 * of the reference's object.
 * @returns {import("./index.js").ProgressState}
 */
function buildState(
  /** @type {string} */ sessionId,
  /** @type {string} */ operation,
  /** @type {string} */ startedAt,
  /** @type {number} */ shape,
  /** @type {number} */ progress,
  /** @type {string} */ updatedAt,
  /** @type {string | undefined} */ currentStep,
  /** @type {number | undefined} */ totalSteps,
  /** @type {number | undefined} */ completedSteps,
  /** @type {string | undefined} */ error,
  /** @type {string | undefined} */ eta,
) {
  const state = /** @type {import("./index.js").ProgressState} */ ({
    sessionId,
    operation,
    status: STATUSES[shape & 7],
    progress,
    startedAt,
    updatedAt,
  });
  // 3 bits per optional key, the first lowest: its place among the last five
  // parameters, plus one (`OPTIONAL` in src/protocol.rs).
  for (let keys = shape >>> 3; keys !== 0; keys >>>= 3) {
    switch (keys & 7) {
      case 1:
        state.currentStep = currentStep;
        break;
      case 2:
        state.totalSteps = totalSteps;
        break;
      case 3:
        state.completedSteps = completedSteps;
        break;
      case 4:
        state.error = error;
        break;
      default:
        state.eta = eta;
    }
  }
  return state;
}

/**
 * A native listener that builds the state once and hands it to each of
 * `listeners` (the reference passes one object to all of them).
 * @param {Map<number, (state: import("./index.js").ProgressState) => void>} listeners
 * @returns {(...args: any[]) => void}
 */
function stateListener(listeners) {
  // @ts-ignore -- the core passes exactly the parameters of buildState
  return (a, b, c, d, e, f, g, h, i, j, k) => callEach(listeners, buildState(a, b, c, d, e, f, g, h, i, j, k));
}

/**
 * The progress listeners of one wrapper (a tracker, a manager). The wrapper
 * owns them; the core holds one dispatcher per wrapper, weakly, registered
 * while the list is not empty (see src/js_function.rs for why).
 */
class ProgressListeners {
  /** @type {Map<number, (state: import("./index.js").ProgressState) => void>} */
  listeners = new Map();
  #nextKey = 0;
  /** @type {((...args: any[]) => void) | undefined} kept alive here for the core */
  #dispatch;
  /** @type {number | undefined} the core's id of `#dispatch` */
  #id;
  /** @type {{ onProgress(listener: (...args: any[]) => void): number, removeListener(id: number): boolean }} */
  #native;
  /** @type {() => (...args: any[]) => void} */
  #makeDispatch;

  /**
   * @param {{ onProgress(listener: (...args: any[]) => void): number, removeListener(id: number): boolean }} nativeHandle
   * @param {(listeners: Map<number, (state: import("./index.js").ProgressState) => void>) => (...args: any[]) => void} makeDispatch
   */
  constructor(nativeHandle, makeDispatch) {
    this.#native = nativeHandle;
    this.#makeDispatch = () => makeDispatch(this.listeners);
  }

  /**
   * @param {(state: import("./index.js").ProgressState) => void} callback
   * @returns {() => void} removes it
   */
  add(callback) {
    const key = ++this.#nextKey;
    this.listeners.set(key, callback);
    if (this.#id === undefined) {
      this.#dispatch = this.#makeDispatch();
      this.#id = this.#native.onProgress(this.#dispatch);
    }
    return remover(() => {
      this.listeners.delete(key);
      if (this.listeners.size === 0 && this.#id !== undefined) {
        this.#native.removeListener(this.#id);
        this.#id = undefined;
        this.#dispatch = undefined;
      }
    });
  }
}

/** Progress of one operation. */
class ProgressTracker {
  /** @type {import("./binding.js").NativeTracker} */
  #native;
  /** @type {ProgressListeners | undefined} made on the first `onProgress` */
  #listeners;

  /**
   * @param {string} sessionId
   * @param {string} operation
   */
  constructor(sessionId, operation) {
    if (sessionId === /** @type {any} */ (kWrap)) {
      this.#native = /** @type {any} */ (operation);
    } else {
      checkString(sessionId, "sessionId");
      checkString(operation, "operation");
      syncClock();
      this.#native = new native.NativeTracker(sessionId, operation);
    }
  }

  /** @returns {ProgressListeners} */
  #makeListeners() {
    return new ProgressListeners(this.#native, (listeners) => {
      // The fields an update cannot change come once from here; the core
      // then passes only the others, the rest of buildState's parameters
      // (`changing_args` in src/protocol.rs).
      const { sessionId, operation, startedAt } = this.getState();
      return (
        /** @type {number} */ shape,
        /** @type {number} */ progress,
        /** @type {string} */ updatedAt,
        /** @type {string | undefined} */ currentStep,
        /** @type {number | undefined} */ totalSteps,
        /** @type {number | undefined} */ completedSteps,
        /** @type {string | undefined} */ error,
        /** @type {string | undefined} */ eta,
      ) =>
        callEach(
          listeners,
          buildState(sessionId, operation, startedAt, shape, progress, updatedAt, currentStep, totalSteps, completedSteps, error, eta),
        );
    });
  }

  /**
   * @param {(state: import("./index.js").ProgressState) => void} callback
   * @returns {() => void}
   */
  onProgress(callback) {
    checkFunction(callback, "callback");
    return (this.#listeners ??= this.#makeListeners()).add(callback);
  }

  /** @param {number} [totalSteps] */
  start(totalSteps) {
    syncClock();
    if (totalSteps !== undefined) checkNumber(totalSteps, "totalSteps");
    this.#native.start(totalSteps);
  }

  /**
   * @param {number} progress
   * @param {string} [currentStep]
   */
  setProgress(progress, currentStep) {
    syncClock();
    checkNumber(progress, "progress");
    checkOptionalString(currentStep, "currentStep");
    this.#native.setProgress(progress, currentStep);
  }

  /** @param {string} [stepName] */
  completeStep(stepName) {
    syncClock();
    checkOptionalString(stepName, "stepName");
    this.#native.completeStep(stepName);
  }

  complete() {
    syncClock();
    this.#native.complete();
  }

  /** @param {string} error */
  fail(error) {
    syncClock();
    checkString(error, "error");
    this.#native.fail(error);
  }

  /** @param {string} [reason] */
  cancel(reason) {
    syncClock();
    checkOptionalString(reason, "reason");
    this.#native.cancel(reason);
  }

  /** @param {Date} eta */
  setEta(eta) {
    syncClock();
    if (!types.isDate(eta)) throw invalidArgType("eta", "an instance of Date", eta);
    this.#native.setEta(eta.getTime());
  }

  /** @returns {import("./index.js").ProgressState} */
  getState() {
    return /** @type {any} */ (this.#native.state(buildState));
  }

  isRunning() {
    return this.#native.isRunning();
  }

  /** @returns {import("./index.js").ProgressEstimate | undefined} */
  estimate() {
    syncClock();
    const e = this.#native.estimate(); // `estimate_tuple` in src/protocol.rs
    if (e == null) return undefined;
    return { ratePerSec: e[0], remainingMs: e[1], eta: new Date(e[2]), unit: e[3] === 1 ? "steps" : "percent" };
  }
}

/**
 * Formats a state for display. Kept in JavaScript: it reads three fields of
 * a JavaScript object, which costs more to hand to Rust than to format here.
 * @param {import("./index.js").ProgressState} state
 * @returns {string}
 */
function formatProgress(state) {
  if (state === null || typeof state !== "object") checkObject(state, "state");
  const progress = state.progress;
  if (typeof progress !== "number") checkNumber(progress, "state.progress");
  const filled = Math.min(30, Math.max(0, Math.round((progress / 100) * 30))) || 0;
  if (typeof state.operation === "symbol") checkString(state.operation, "state.operation");
  if (typeof state.currentStep === "symbol") checkOptionalString(state.currentStep, "state.currentStep");
  const step = state.currentStep ? ` - ${state.currentStep}` : "";
  return `${BARS[filled]}${progress}% ${state.operation}${step}`;
}

/** `[` + 30 characters of `#` and `-` + `] `, for each number of `#`. */
const BARS = Array.from({ length: 31 }, (_, n) => `[${"#".repeat(n)}${"-".repeat(30 - n)}] `);

// ---------------------------------------------------------------------------
// Store

/**
 * The store options, type-checked, as the native constructors and functions
 * take them (one object, whose layout the binding's `NativeStoreOptions`
 * defines); absent ones take the core's defaults.
 * @param {import("./index.js").StoreOptions} options
 * @returns {import("./binding.js").NativeStoreOptions}
 */
function storeOptions(options) {
  const { fsync, fileMode, trustFolder } = options;
  if (fsync !== undefined && typeof fsync !== "boolean") throw invalidArgType("options.fsync", "of type boolean", fsync);
  if (fileMode !== undefined) checkNumber(fileMode, "options.fileMode");
  return { fsync, fileMode, trustFolder: trustOf(options) };
}

/**
 * The `trustFolder` option, type-checked (absent: the core's default, `false`).
 * @param {{ trustFolder?: boolean }} options
 * @returns {boolean | undefined}
 */
function trustOf(options) {
  const { trustFolder } = options;
  if (trustFolder !== undefined && typeof trustFolder !== "boolean") {
    throw invalidArgType("options.trustFolder", "of type boolean", trustFolder);
  }
  return trustFolder;
}

/**
 * The states a native crash scan reports, parsed batch by batch: while one
 * batch is parsed here, the scan's threads read the next.
 * @param {import("./binding.js").NativeCrashScan} scan
 * @returns {import("./index.js").SessionState[]}
 */
function crashedStates(scan) {
  const states = [];
  for (let batch = scan.next(); batch !== null; batch = scan.next()) {
    const parsed = JSON.parse(batch);
    for (let i = 0; i < parsed.length; i++) states.push(parsed[i]);
  }
  return states;
}

/** Session files in `<basePath>/.msw/sessions/`. */
class SessionStateStore {
  /** @type {import("./binding.js").NativeStore} */
  #native;

  /**
   * @param {string} [basePath]
   * @param {import("./index.js").StoreOptions} [options]
   */
  constructor(basePath = process.cwd(), options = {}) {
    checkString(basePath, "basePath");
    checkObject(options, "options");
    this.#native = new native.NativeStore(basePath, storeOptions(options));
  }

  /** @returns {string[]} */
  corruptFiles() {
    return this.#native.corruptFiles();
  }

  /** @param {import("./index.js").SessionState} state */
  save(state) {
    checkObject(state, "state");
    this.#native.save(stringify(state, "state"));
  }

  /**
   * @param {string} sessionId
   * @returns {import("./index.js").SessionState | undefined}
   */
  load(sessionId) {
    checkString(sessionId, "sessionId");
    const text = this.#native.load(sessionId);
    return text == null ? undefined : JSON.parse(text);
  }

  /** @param {string} sessionId */
  remove(sessionId) {
    checkString(sessionId, "sessionId");
    return this.#native.remove(sessionId);
  }

  listSessions() {
    return this.#native.list();
  }

  /**
   * @param {number} [staleThresholdMs]
   * @returns {import("./index.js").SessionState[]}
   */
  findCrashedSessions(staleThresholdMs) {
    syncClock();
    if (staleThresholdMs !== undefined) checkNumber(staleThresholdMs, "staleThresholdMs");
    return crashedStates(this.#native.scanCrashed(staleThresholdMs));
  }

  /** @param {number} [maxAgeDays] */
  cleanup(maxAgeDays) {
    syncClock();
    if (maxAgeDays !== undefined) checkNumber(maxAgeDays, "maxAgeDays");
    return this.#native.cleanup(maxAgeDays);
  }
}

// ---------------------------------------------------------------------------
// Manager

/**
 * A session object with its fields in the reference's order, filled in by
 * `fillSession` once the core has made the session.
 * @param {string} operation
 * @param {Record<string, unknown>} context
 * @returns {import("./index.js").Session}
 */
function newSession(operation, context) {
  return /** @type {any} */ ({
    id: "",
    operation,
    progress: undefined,
    cancellation: undefined,
    context,
    createdAt: undefined,
  });
}

/**
 * Fills a session object from the core's handle on the session.
 * @param {import("./index.js").Session} session
 * @param {import("./binding.js").NativeSession | import("./binding.js").SessionParts} handle
 * @returns {import("./index.js").Session}
 */
function fillSession(session, handle) {
  session.id = handle.id;
  session.progress = new ProgressTracker(/** @type {any} */ (kWrap), /** @type {any} */ (handle.tracker));
  session.cancellation = sourceOf(handle.token);
  session.createdAt = new Date(handle.createdAtMs);
  return session;
}

/**
 * The function the core calls to read a session's context anew. What it
 * throws, the core keeps with that read's error, as its `cause`.
 * @param {import("./index.js").Session} session
 * @returns {() => string | undefined}
 */
function contextReader(session) {
  return () => JSON.stringify(session.context);
}

let exitHookInstalled = false;

/** Makes a normal exit write what the managers have not written yet. */
function flushAtExit() {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", () => native.flushAll());
}

/** Tracks live sessions and persists them. */
class SessionManager {
  /** @type {import("./binding.js").NativeManager} */
  #native;
  /** @type {Map<string, import("./index.js").Session>} the session objects, by id */
  #sessions = new Map();
  /** @type {ProgressListeners} */
  #listeners;
  /** @type {ReturnType<typeof setInterval> | undefined} auto-save on a test's fake timers */
  #fakeAutoSave;

  /** @param {import("./index.js").SessionManagerOptions} [options] */
  constructor(options = {}) {
    checkObject(options, "options");
    // Absent options take the core's defaults.
    const { basePath = process.cwd(), autoSaveIntervalMs, persistIntervalMs } = options;
    checkString(basePath, "options.basePath");
    if (autoSaveIntervalMs !== undefined) checkNumber(autoSaveIntervalMs, "options.autoSaveIntervalMs");
    if (persistIntervalMs !== undefined) checkNumber(persistIntervalMs, "options.persistIntervalMs");
    this.#native = new native.NativeManager(basePath, autoSaveIntervalMs, persistIntervalMs, storeOptions(options));
    this.#listeners = new ProgressListeners(this.#native, stateListener);
    flushAtExit();
  }

  startAutoSave() {
    if (this.#fakeAutoSave !== undefined) return;
    if (fakeTimersInstalled()) {
      // On the test's fake clock, as the reference's `setInterval` is.
      if (this.#native.autoSaving) return;
      this.#fakeAutoSave = setInterval(() => {
        syncClock();
        this.#native.autoSaveTick();
      }, this.#native.autoSaveIntervalMs);
      return;
    }
    this.#native.startAutoSave();
  }

  stopAutoSave() {
    if (this.#fakeAutoSave !== undefined) {
      clearInterval(this.#fakeAutoSave);
      this.#fakeAutoSave = undefined;
    }
    this.#native.stopAutoSave();
  }

  /**
   * @param {string} operation
   * @param {Record<string, unknown>} [context]
   * @returns {import("./index.js").Session}
   */
  createSession(operation, context = {}) {
    syncClock();
    checkString(operation, "operation");
    checkObject(context, "context");
    const json = stringify(context, "context");
    const session = newSession(operation, context);
    return this.#adopt(
      session,
      this.#native.createSession(operation, json, contextReader(session)),
    );
  }

  /**
   * @param {import("./index.js").Session} session
   * @param {import("./binding.js").NativeSession | import("./binding.js").SessionParts} handle
   */
  #adopt(session, handle) {
    fillSession(session, handle);
    this.#sessions.set(session.id, session);
    return session;
  }

  /** @param {string} id */
  getSession(id) {
    checkString(id, "id");
    return this.#sessions.get(id);
  }

  getActiveSessions() {
    return Array.from(this.#sessions.values()).filter((s) => s.progress.isRunning());
  }

  getAllSessions() {
    return Array.from(this.#sessions.values());
  }

  /**
   * @param {string} id
   * @param {string} [reason]
   */
  cancelSession(id, reason) {
    syncClock();
    checkString(id, "id");
    checkOptionalString(reason, "reason");
    return this.#native.cancelSession(id, reason);
  }

  /** @param {string} id */
  completeSession(id) {
    syncClock();
    checkString(id, "id");
    return this.#forgetIf(id, this.#native.completeSession(id));
  }

  /**
   * @param {string} id
   * @param {string} error
   */
  failSession(id, error) {
    syncClock();
    checkString(id, "id");
    checkString(error, "error");
    return this.#forgetIf(id, this.#native.failSession(id, error));
  }

  /**
   * The core forgot the session: forget its object too.
   * @param {string} id
   * @param {boolean} forgotten
   */
  #forgetIf(id, forgotten) {
    if (forgotten) this.#sessions.delete(id);
    return forgotten;
  }

  /**
   * @param {(state: import("./index.js").ProgressState) => void} callback
   * @returns {() => void}
   */
  onProgress(callback) {
    checkFunction(callback, "callback");
    return this.#listeners.add(callback);
  }

  /** @returns {string[]} */
  corruptFiles() {
    return this.#native.corruptFiles();
  }

  /** @returns {import("./index.js").SessionState[]} */
  findCrashedSessions() {
    syncClock();
    return crashedStates(this.#native.scanCrashed());
  }

  /**
   * @param {import("./index.js").SessionState} crashedState
   * @returns {import("./index.js").Session | undefined}
   */
  resumeSession(crashedState) {
    syncClock();
    checkObject(crashedState, "crashedState");
    const json = stringify(crashedState, "crashedState");
    const session = newSession(crashedState.operation, crashedState.context);
    const handle = this.#native.resumeSession(json, contextReader(session));
    return handle == null ? undefined : this.#adopt(session, handle);
  }

  /** @param {number} [maxAgeDays] */
  cleanup(maxAgeDays) {
    syncClock();
    if (maxAgeDays !== undefined) checkNumber(maxAgeDays, "maxAgeDays");
    return this.#native.cleanup(maxAgeDays);
  }

  saveAllSessions() {
    syncClock();
    this.#native.saveAll();
  }

  flush() {
    syncClock();
    this.#native.flush();
  }

  shutdown() {
    syncClock();
    this.stopAutoSave();
    this.#native.shutdown();
  }
}

/**
 * A handle, in any thread of this process, on a live session that a manager
 * of this process created below `basePath`; `undefined` when there is none.
 * @param {string} id
 * @param {{ basePath?: string, trustFolder?: boolean }} [options]
 * @returns {import("./index.js").Session | undefined}
 */
function attachSession(id, options = {}) {
  checkString(id, "id");
  const handle = native.attachSession(basePathOf(options), id, { trustFolder: trustOf(options) });
  if (handle == null) return undefined;
  return fillSession(newSession(handle.operation, JSON.parse(handle.contextJson)), handle);
}

/**
 * The `basePath` of an options object (default `process.cwd()`), checked.
 * @param {{ basePath?: string }} options
 * @returns {string}
 */
function basePathOf(options) {
  checkObject(options, "options");
  const { basePath = process.cwd() } = options;
  checkString(basePath, "options.basePath");
  return basePath;
}

/**
 * Asks the owner of a session, in any process on this machine, to cancel it.
 * @param {string} id
 * @param {string} [reason]
 * @param {{ basePath?: string, trustFolder?: boolean }} [options]
 * @returns {boolean} whether a live owner exists
 */
function requestCancellation(id, reason, options = {}) {
  syncClock();
  checkString(id, "id");
  checkOptionalString(reason, "reason");
  return native.requestCancellation(basePathOf(options), id, reason, { trustFolder: trustOf(options) });
}

/** @type {SessionManager | undefined} */
let globalManager;

/** The shared manager of this thread, created on first use. */
function getSessionManager() {
  if (!globalManager) globalManager = new SessionManager();
  return globalManager;
}

/**
 * What this process holds per session, now (a diagnostic; see index.d.ts).
 * @returns {import("./index.js").LiveCounts}
 */
function liveCounts() {
  return native.liveCounts();
}

module.exports = {
  CancellationToken,
  CancellationSource,
  CancellationError,
  createTimeoutToken,
  ProgressTracker,
  formatProgress,
  SessionStateStore,
  SessionManager,
  getSessionManager,
  attachSession,
  requestCancellation,
  liveCounts,
};
