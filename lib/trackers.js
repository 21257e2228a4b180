// @ts-check
/**
 * Progress: `ProgressTracker`, the progress listeners of a tracker or a
 * manager, the state objects built from the core's positional values (the
 * layouts are in src/protocol.rs), and `formatProgress`.
 */
"use strict";

const { native } = require("./loader.js");
const { synced } = require("./clock.js");
const { checkFunction, checkNumber, checkObject, checkOptionalString, checkString, invalidArgType } = require("./errors.js");
const { kWrap, remover, callEach } = require("./internal.js");
const { types } = require("node:util");

/** The statuses by the index the core passes (the layouts are in src/protocol.rs). */
const STATUSES = /** @type {readonly import("../index.js").ProgressStatus[]} */ (native.statusNames());

/**
 * Builds a state object from the core's positional values (`state_args` in
 * src/protocol.rs): the six keys every state has, then the optional keys that
 * `shape` lists, in its order, `undefined` ones included — the keys and order
 * of the reference's object.
 * @returns {import("../index.js").ProgressState}
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
  const state = /** @type {import("../index.js").ProgressState} */ ({
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
 * @param {Map<number, (state: import("../index.js").ProgressState) => void>} listeners
 * @returns {(...args: any[]) => void}
 */
function stateListener(listeners) {
  // @ts-ignore -- the core passes exactly the parameters of buildState
  return (a, b, c, d, e, f, g, h, i, j, k) => callEach(listeners, buildState(a, b, c, d, e, f, g, h, i, j, k));
}

/**
 * A tracker's native listener: it builds the state once and hands it to
 * each of `listeners`. The core passes only the fields an update can change
 * (`changing_args` in src/protocol.rs), the rest of buildState's parameters;
 * the others never change and come from here.
 * @param {Map<number, (state: import("../index.js").ProgressState) => void>} listeners
 * @param {string} sessionId
 * @param {string} operation
 * @param {string} startedAt
 * @returns {(...args: any[]) => void}
 */
function trackerListener(listeners, sessionId, operation, startedAt) {
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
}

/**
 * The progress listeners of one wrapper (a tracker, a manager). The wrapper
 * owns them; the core holds one dispatcher per wrapper, weakly, registered
 * while the list is not empty (see src/js_function.rs for why).
 */
class ProgressListeners {
  /** @type {Map<number, (state: import("../index.js").ProgressState) => void>} */
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
   * @param {(listeners: Map<number, (state: import("../index.js").ProgressState) => void>) => (...args: any[]) => void} makeDispatch
   */
  constructor(nativeHandle, makeDispatch) {
    this.#native = nativeHandle;
    this.#makeDispatch = () => makeDispatch(this.listeners);
  }

  /**
   * @param {(state: import("../index.js").ProgressState) => void} callback
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
  /** @type {import("../binding.js").NativeTracker} */
  #native;
  /** @type {ProgressListeners | undefined} made on the first `onProgress` */
  #listeners;
  /**
   * The manager of a session's tracker, held so that the manager (its
   * `onProgress` listeners, its session objects) lives while the session's
   * tracker is in use, as the reference's tracker held it through its
   * listener; a loop that names only the session keeps it all.
   * @type {object | undefined}
   */
  #owner;

  /**
   * @param {string} sessionId
   * @param {string} operation
   * @param {object} [owner] internal: the manager of a session's tracker
   */
  constructor(sessionId, operation, owner) {
    if (sessionId === /** @type {any} */ (kWrap)) {
      this.#native = /** @type {any} */ (operation);
      this.#owner = owner;
    } else {
      checkString(sessionId, "sessionId");
      checkString(operation, "operation");
      this.#native = new (synced(native.NativeTracker))(sessionId, operation);
    }
  }

  /** @returns {ProgressListeners} */
  #makeListeners() {
    return new ProgressListeners(this.#native, (listeners) => {
      // The fields an update cannot change come once from here.
      const { sessionId, operation, startedAt } = this.getState();
      return trackerListener(listeners, sessionId, operation, startedAt);
    });
  }

  /**
   * @param {(state: import("../index.js").ProgressState) => void} callback
   * @returns {() => void}
   */
  onProgress(callback) {
    checkFunction(callback, "callback");
    return (this.#listeners ??= this.#makeListeners()).add(callback);
  }

  /** @param {number} [totalSteps] */
  start(totalSteps) {
    if (totalSteps !== undefined) checkNumber(totalSteps, "totalSteps");
    synced(this.#native).start(totalSteps);
  }

  /**
   * The hot path: a function of the addon rather than a method of the
   * tracker's handle, which borrows the tracker more cheaply (see
   * `set_tracker_progress` in src/tracker.rs).
   * @param {number} progress
   * @param {string} [currentStep]
   */
  setProgress(progress, currentStep) {
    checkNumber(progress, "progress");
    checkOptionalString(currentStep, "currentStep");
    synced(native).setTrackerProgress(this.#native, progress, currentStep);
  }

  /** @param {string} [stepName] */
  completeStep(stepName) {
    checkOptionalString(stepName, "stepName");
    synced(this.#native).completeStep(stepName);
  }

  /**
   * Sets the steps as they are: `done` of `totalSteps` (kept when omitted),
   * the current step (cleared when omitted).
   * @param {number} done
   * @param {number} [totalSteps]
   * @param {string} [step]
   */
  setSteps(done, totalSteps, step) {
    checkNumber(done, "done");
    if (totalSteps !== undefined) checkNumber(totalSteps, "totalSteps");
    checkOptionalString(step, "step");
    synced(this.#native).setSteps(done, totalSteps, step);
  }

  complete() {
    synced(this.#native).complete();
  }

  /** @param {string} error */
  fail(error) {
    checkString(error, "error");
    synced(this.#native).fail(error);
  }

  /** @param {string} [reason] */
  cancel(reason) {
    checkOptionalString(reason, "reason");
    synced(this.#native).cancel(reason);
  }

  /** @param {Date} eta */
  setEta(eta) {
    if (!types.isDate(eta)) throw invalidArgType("eta", "an instance of Date", eta);
    synced(this.#native).setEta(eta.getTime());
  }

  /** @returns {import("../index.js").ProgressState} */
  getState() {
    return /** @type {any} */ (this.#native.state(buildState));
  }

  isRunning() {
    return this.#native.isRunning();
  }

  /** @returns {import("../index.js").ProgressEstimate | undefined} */
  estimate() {
    const e = synced(this.#native).estimate(); // `estimate_tuple` in src/protocol.rs
    if (e == null) return undefined;
    return { ratePerSec: e[0], remainingMs: e[1], eta: new Date(e[2]), unit: e[3] === 1 ? "steps" : "percent" };
  }
}

/**
 * Formats a state for display. Kept in JavaScript: it reads three fields of
 * a JavaScript object, which costs more to hand to Rust than to format here.
 * @param {import("../index.js").ProgressState} state
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

module.exports = {
  ProgressTracker,
  ProgressListeners,
  formatProgress,
  // The readers of the positional layouts (src/protocol.rs), for the managers and __test__/protocol.spec.ts.
  buildState,
  stateListener,
  trackerListener,
};
