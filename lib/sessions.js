// @ts-check
/**
 * Sessions: `SessionManager` and the session objects it hands out,
 * `getSessionManager`, `attachSession` and `requestCancellation`,
 * `isSessionId` and `liveCounts`. The sessions' state, their persistence and the registry of
 * this process are the core's; a manager keeps the session objects.
 */
"use strict";

const { native } = require("./loader.js");
const { synced, fakeTimersInstalled } = require("./clock.js");
const { checkFunction, checkNumber, checkObject, checkOptionalString, checkString, stringify } = require("./errors.js");
const { kWrap } = require("./internal.js");
const { sourceOf } = require("./tokens.js");
const { ProgressTracker, ProgressListeners, stateListener } = require("./trackers.js");
const { storeOptions, trustOf, crashedStates, inspection, inspections, stateFilter, checkOlderThan } = require("./store.js");

/**
 * A session object with its fields in the reference's order, filled in by
 * `fillSession` once the core has made the session.
 * @param {string} operation
 * @param {Record<string, unknown>} context
 * @returns {import("../index.js").Session}
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
 * @param {import("../index.js").Session} session
 * @param {import("../binding.js").NativeSession | import("../binding.js").SessionParts} handle
 * @param {SessionManager} [owner] the manager that made it; its tracker holds it
 * @returns {import("../index.js").Session}
 */
function fillSession(session, handle, owner) {
  session.id = handle.id;
  session.progress = new ProgressTracker(/** @type {any} */ (kWrap), /** @type {any} */ (handle.tracker), owner);
  session.cancellation = sourceOf(handle.token);
  session.createdAt = new Date(handle.createdAtMs);
  return session;
}

/**
 * The function the core calls to read a session's context anew. What it
 * throws, the core keeps with that read's error, as its `cause`.
 * @param {import("../index.js").Session} session
 * @returns {() => string | undefined}
 */
function contextReader(session) {
  return () => JSON.stringify(session.context);
}

/** Tracks live sessions and persists them. */
class SessionManager {
  /** @type {import("../binding.js").NativeManager} */
  #native;
  /** @type {Map<string, import("../index.js").Session>} the session objects, by id */
  #sessions = new Map();
  /** @type {ProgressListeners} */
  #listeners;
  /** @type {ReturnType<typeof setInterval> | undefined} auto-save on a test's fake timers */
  #fakeAutoSave;
  /** Whether the first manager has made a normal exit write what the managers have not written yet. */
  static #flushesAtExit = false;

  /** @param {import("../index.js").SessionManagerOptions} [options] */
  constructor(options = {}) {
    checkObject(options, "options");
    // Absent options take the core's defaults.
    const { basePath = process.cwd(), autoSaveIntervalMs, persistIntervalMs } = options;
    checkString(basePath, "options.basePath");
    if (autoSaveIntervalMs !== undefined) checkNumber(autoSaveIntervalMs, "options.autoSaveIntervalMs");
    if (persistIntervalMs !== undefined) checkNumber(persistIntervalMs, "options.persistIntervalMs");
    this.#native = new native.NativeManager(basePath, autoSaveIntervalMs, persistIntervalMs, storeOptions(options));
    this.#listeners = new ProgressListeners(this.#native, stateListener);
    if (!SessionManager.#flushesAtExit) {
      SessionManager.#flushesAtExit = true;
      process.on("exit", () => native.flushAll());
    }
  }

  startAutoSave() {
    if (this.#fakeAutoSave !== undefined) return;
    if (fakeTimersInstalled()) {
      // On the test's fake clock, as the reference's `setInterval` is.
      if (this.#native.autoSaving) return;
      this.#fakeAutoSave = setInterval(() => {
        synced(this.#native).autoSaveTick();
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
   * @returns {import("../index.js").Session}
   */
  createSession(operation, context = {}) {
    checkString(operation, "operation");
    checkObject(context, "context");
    const json = stringify(context, "context");
    const session = newSession(operation, context);
    return this.#adopt(
      session,
      synced(this.#native).createSession(operation, json, contextReader(session)),
    );
  }

  /**
   * @param {import("../index.js").Session} session
   * @param {import("../binding.js").NativeSession | import("../binding.js").SessionParts} handle
   */
  #adopt(session, handle) {
    fillSession(session, handle, this);
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
    checkString(id, "id");
    checkOptionalString(reason, "reason");
    return synced(this.#native).cancelSession(id, reason);
  }

  /** @param {string} id */
  completeSession(id) {
    checkString(id, "id");
    return this.#forgetIf(id, synced(this.#native).completeSession(id));
  }

  /**
   * @param {string} id
   * @param {string} error
   */
  failSession(id, error) {
    checkString(id, "id");
    checkString(error, "error");
    return this.#forgetIf(id, synced(this.#native).failSession(id, error));
  }

  /**
   * Forgets a finished session (completed, failed or cancelled) and keeps
   * its file as it is; `false` for an unknown id or one still running.
   * @param {string} id
   * @returns {boolean}
   */
  releaseSession(id) {
    checkString(id, "id");
    return this.#forgetIf(id, synced(this.#native).releaseSession(id));
  }

  /**
   * Writes one live session now; `false` for an unknown id.
   * @param {string} id
   * @returns {boolean}
   */
  saveSession(id) {
    checkString(id, "id");
    return synced(this.#native).saveSession(id);
  }

  /**
   * One session of this manager's folder with its owner's state;
   * `undefined` when there is none, or when `id` is not a session id.
   * @param {unknown} id
   * @returns {import("../index.js").SessionInspection | undefined}
   */
  inspect(id) {
    if (typeof id !== "string") return undefined;
    return inspection(synced(this.#native).inspect(id));
  }

  /**
   * Every session of this manager's folder (filtered) with its owner's state.
   * @param {{ operation?: string, status?: import("../index.js").SessionState["status"] }} [filter]
   * @returns {import("../index.js").SessionInspection[]}
   */
  listStates(filter = {}) {
    const { operation, status } = stateFilter(filter);
    return inspections(synced(this.#native).listStates(operation, status));
  }

  /**
   * Marks every crashed session of this manager's folder failed on disk.
   * @param {{ fail: string }} options
   * @returns {string[]}
   */
  recoverCrashed(options) {
    checkObject(options, "options");
    checkString(options.fail, "options.fail");
    return synced(this.#native).recoverCrashed(options.fail);
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
   * @param {(state: import("../index.js").ProgressState) => void} callback
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

  /** @returns {import("../index.js").SessionState[]} */
  findCrashedSessions() {
    return crashedStates(synced(this.#native).scanCrashed());
  }

  /**
   * @param {import("../index.js").SessionState} crashedState
   * @returns {import("../index.js").Session | undefined}
   */
  resumeSession(crashedState) {
    checkObject(crashedState, "crashedState");
    const json = stringify(crashedState, "crashedState");
    const session = newSession(crashedState.operation, crashedState.context);
    const handle = synced(this.#native).resumeSession(json, contextReader(session));
    return handle == null ? undefined : this.#adopt(session, handle);
  }

  /**
   * `cleanup(maxAgeDays?)` or `cleanup({ olderThanMs })`.
   * @param {number | { olderThanMs: number }} [maxAge]
   * @returns {number}
   */
  cleanup(maxAge) {
    if (typeof maxAge === "object" && maxAge !== null) {
      return synced(this.#native).cleanupOlderThanMs(checkOlderThan(maxAge));
    }
    if (maxAge !== undefined) checkNumber(maxAge, "maxAgeDays");
    return synced(this.#native).cleanup(maxAge);
  }

  saveAllSessions() {
    synced(this.#native).saveAll();
  }

  flush() {
    synced(this.#native).flush();
  }

  shutdown() {
    this.stopAutoSave();
    synced(this.#native).shutdown();
  }
}

/**
 * A handle, in any thread of this process, on a live session that a manager
 * of this process created below `basePath`; `undefined` when there is none.
 * @param {string} id
 * @param {{ basePath?: string, trustFolder?: boolean }} [options]
 * @returns {import("../index.js").Session | undefined}
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
  checkString(id, "id");
  checkOptionalString(reason, "reason");
  return synced(native).requestCancellation(basePathOf(options), id, reason, { trustFolder: trustOf(options) });
}

/** @type {SessionManager | undefined} */
let globalManager;

/** The shared manager of this thread, created on first use. */
function getSessionManager() {
  if (!globalManager) globalManager = new SessionManager();
  return globalManager;
}

/**
 * Whether `id` is a session id the store accepts (a plain file name);
 * `false` for a non-string.
 * @param {unknown} id
 * @returns {boolean}
 */
function isSessionId(id) {
  return typeof id === "string" && native.isSessionId(id);
}

/**
 * What this process holds per session, now (a diagnostic; see index.d.ts).
 * @returns {import("../index.js").LiveCounts}
 */
function liveCounts() {
  return native.liveCounts();
}

module.exports = {
  SessionManager,
  getSessionManager,
  attachSession,
  requestCancellation,
  liveCounts,
  isSessionId,
};
