// @ts-check
/**
 * Persistence: `SessionStateStore` (session files in
 * `<basePath>/.msw/sessions/`), and the store options and crash scans a
 * manager shares with it. Files, locks and the JSON checks are the core's.
 */
"use strict";

const { native } = require("./loader.js");
const { synced } = require("./clock.js");
const { checkNumber, checkObject, checkString, invalidArgType, stringify } = require("./errors.js");

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

  /** @param {number} [maxAgeDays] */
  cleanup(maxAgeDays) {
    if (maxAgeDays !== undefined) checkNumber(maxAgeDays, "maxAgeDays");
    return synced(this.#native).cleanup(maxAgeDays);
  }
}

module.exports = { SessionStateStore, storeOptions, trustOf, crashedStates };
