// @ts-check
/**
 * Persistence: `SessionStateStore` (session files in
 * `<basePath>/.msw/sessions/`), and the store options and crash scans a
 * manager shares with it. Files, locks and the JSON checks are the core's.
 */
"use strict";

const { native } = require("./loader.js");
const { synced } = require("./clock.js");
const { checkNumber, checkObject, checkOptionalString, checkString, invalidArgType, stringify } = require("./errors.js");

/**
 * The store options, type-checked, as the native constructors and functions
 * take them (one object, whose layout the binding's `NativeStoreOptions`
 * defines); absent ones take the core's defaults.
 * @param {import("../index.js").StoreOptions} options
 * @returns {import("../binding.js").NativeStoreOptions}
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
 * @param {import("../binding.js").NativeCrashScan} scan
 * @returns {import("../index.js").SessionState[]}
 */
function crashedStates(scan) {
  const states = [];
  for (let batch = scan.next(); batch !== null; batch = scan.next()) {
    const parsed = JSON.parse(batch);
    for (let i = 0; i < parsed.length; i++) states.push(parsed[i]);
  }
  return states;
}

/**
 * A native inspection as the API gives it: the state parsed, and the
 * owner's state.
 * @param {import("../binding.js").NativeInspection | null} found
 * @returns {import("../index.js").SessionInspection | undefined}
 */
function inspection(found) {
  return found == null ? undefined : { state: JSON.parse(found.stateJson), ownerState: found.ownerState };
}

/**
 * A native listing as the API gives it: one `JSON.parse` for every state,
 * each beside its owner's state.
 * @param {import("../binding.js").NativeStateList} list
 * @returns {import("../index.js").SessionInspection[]}
 */
function inspections(list) {
  const states = JSON.parse(list.statesJson);
  const owners = list.ownerStates;
  const found = new Array(states.length);
  for (let i = 0; i < states.length; i++) found[i] = { state: states[i], ownerState: owners[i] };
  return found;
}

/**
 * The filter of `listStates`, type-checked (the status's value is the core's check).
 * @param {unknown} filter
 * @returns {{ operation: string | undefined, status: any }}
 */
function stateFilter(filter) {
  checkObject(filter, "filter");
  const { operation, status } = /** @type {{ operation?: unknown, status?: unknown }} */ (filter);
  checkOptionalString(operation, "filter.operation");
  checkOptionalString(status, "filter.status");
  return { operation, status };
}

/**
 * The `olderThanMs` of `cleanup({ olderThanMs })`, type-checked.
 * @param {{ olderThanMs?: unknown }} options
 * @returns {number}
 */
function checkOlderThan(options) {
  if (Array.isArray(options)) checkObject(options, "options");
  const { olderThanMs } = options;
  checkNumber(olderThanMs, "options.olderThanMs");
  return olderThanMs;
}

/**
 * The `staleMs` option of a store's query, type-checked (absent: the core's default).
 * @param {{ staleMs?: unknown }} options
 * @returns {number | undefined}
 */
function staleOf(options) {
  const { staleMs } = options;
  if (staleMs !== undefined) checkNumber(staleMs, "options.staleMs");
  return staleMs;
}

/** Session files in `<basePath>/.msw/sessions/`. */
class SessionStateStore {
  /** @type {import("../binding.js").NativeStore} */
  #native;

  /**
   * @param {string} [basePath]
   * @param {import("../index.js").StoreOptions} [options]
   */
  constructor(basePath = process.cwd(), options = {}) {
    checkString(basePath, "basePath");
    checkObject(options, "options");
    this.#native = new native.NativeStore(basePath, storeOptions(options));
  }

  /** The sessions folder, `<basePath>/.msw/sessions` (the core spells its name). */
  get dir() {
    return this.#native.dir;
  }

  /** @returns {string[]} */
  corruptFiles() {
    return this.#native.corruptFiles();
  }

  /** @param {import("../index.js").SessionState} state */
  save(state) {
    checkObject(state, "state");
    this.#native.save(stringify(state, "state"));
  }

  /**
   * @param {string} sessionId
   * @returns {import("../index.js").SessionState | undefined}
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
   * @returns {import("../index.js").SessionState[]}
   */
  findCrashedSessions(staleThresholdMs) {
    if (staleThresholdMs !== undefined) checkNumber(staleThresholdMs, "staleThresholdMs");
    return crashedStates(synced(this.#native).scanCrashed(staleThresholdMs));
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

  /**
   * One session with its owner's state; `undefined` when there is none, or
   * when `id` is not a session id (a non-string included).
   * @param {unknown} sessionId
   * @param {{ staleMs?: number }} [options]
   * @returns {import("../index.js").SessionInspection | undefined}
   */
  inspect(sessionId, options = {}) {
    checkObject(options, "options");
    const staleMs = staleOf(options);
    if (typeof sessionId !== "string") return undefined;
    return inspection(synced(this.#native).inspect(sessionId, staleMs));
  }

  /**
   * Every session (filtered) with its owner's state, each file read once.
   * @param {{ operation?: string, status?: import("../index.js").SessionState["status"], staleMs?: number }} [filter]
   * @returns {import("../index.js").SessionInspection[]}
   */
  listStates(filter = {}) {
    const { operation, status } = stateFilter(filter);
    const staleMs = staleOf(filter);
    return inspections(synced(this.#native).listStates(operation, status, staleMs));
  }

  /**
   * Marks every crashed session failed on disk with `fail` as its error;
   * returns their ids.
   * @param {{ fail: string, staleMs?: number }} options
   * @returns {string[]}
   */
  recoverCrashed(options) {
    checkObject(options, "options");
    checkString(options.fail, "options.fail");
    return synced(this.#native).failCrashed(options.fail, staleOf(options));
  }
}

module.exports = {
  SessionStateStore,
  storeOptions,
  trustOf,
  crashedStates,
  inspection,
  inspections,
  stateFilter,
  checkOlderThan,
};
