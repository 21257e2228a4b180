// @ts-check
// The task-on-session mapping of msw-session/mcp, shared by both flavours of
// MCP tasks: the SDK 1.x `TaskStore` (`SessionTaskStore`, mcp.js) and the
// 2026-07-28 tasks extension on the SDK v2 (lib/tasks-extension.js).
//
// A task is a session of the package whose context holds the task's record
// under `mcpTask`: the record is written with the session's file (atomically,
// in `.msw/sessions/`), so a task is durable once its session exists, seen by
// every process on the folder, and its status follows its session. Each
// flavour keeps its own wire names; this module decides what both share:
// - which record a session holds, and which flavour it belongs to (`kind`);
// - when a task is past its ttl (then it is removed, file and session);
// - the status a stored task has: the record's, else the session's when the
//   package ended it (cancelled from another process, `msw-session cancel`,
//   a failed tracker), else `failed` when its server process died while it
//   was not finished (owner locks: never while that server lives);
// - ending a task (its status, message, ttl restarted) and its session;
// - cancelling a task here, or asking the server that runs it.
//
// Built on the package's public API only: ids, files, liveness and
// cancellation are decided by the core.
"use strict";

const { SessionManager, SessionStateStore, isSessionId, requestCancellation } = require("../index.js");

/** Where a task keeps its record in its session's context. */
const TASK = "mcpTask";
/** The ttl of a task created without one, in ms: one day, so that no task stays on disk forever. */
const DEFAULT_TTL = 24 * 60 * 60 * 1000;
/** How long a cancel sent to another server's task waits for that server to say cancelled, in ms. */
const CANCEL_ACK_MS = 2000;
/** The `kind` of a task record of the 2026-07-28 tasks extension (a 1.x record has none). */
const EXTENSION_KIND = "io.modelcontextprotocol/tasks";
/** A task's statuses that end it. */
const TERMINAL = ["completed", "failed", "cancelled"];

/** @param {unknown} status */
const isTerminal = (status) => TERMINAL.includes(/** @type {string} */ (status));

/** @param {number} ms */
const delay = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The task record of a session state, or undefined when the session is not a task.
 * @param {any} state a session state (file or live session)
 */
function taskRecord(state) {
  const record = state?.context?.[TASK];
  return record && typeof record === "object" ? record : undefined;
}

/**
 * A live session's state as a file would hold it: the stored status its
 * tracker and token give.
 * @param {import("../index.js").Session} live
 */
function liveState(live) {
  const progress = live.progress.getState();
  const status = live.cancellation.isCancelled || progress.status === "cancelled" ? "cancelled" : progress.status === "completed" || progress.status === "failed" ? progress.status : "active";
  return { context: live.context, status, progress };
}

/**
 * The message of a task whose server process died before the task ended.
 * @param {any} state the task's stored session state
 * @param {string} status the status the task had
 */
const diedMessage = (state, status) => `The server process that ran this task (pid ${state.owner?.pid ?? "unknown"}) exited while the task was ${status}.`;

/**
 * @typedef {object} FoundTask
 * @property {any} state the session state (live or stored)
 * @property {any} record the task record in its context
 * @property {string} ownerState `alive`, `crashed`, … (see `SessionInspection`)
 * @property {import("../index.js").Session | undefined} live the session, when this process runs it
 */

/**
 * @typedef {object} TaskStatus
 * @property {string} status the task's status now
 * @property {string | undefined} statusMessage
 * @property {boolean} died whether it is `failed` because its server process died
 */

class TaskSessions {
  /** @type {SessionManager} */
  manager;
  /** @type {SessionStateStore} */
  #store;
  /** @type {string} */
  #basePath;
  /** @type {boolean | undefined} */
  #trustFolder;
  /** @type {(record: any) => boolean} which records belong to this flavour */
  #owns;
  /** @type {boolean} whether a task's ttl runs from its creation (the extension's rule) or restarts when it ends (1.x's) */
  #ttlFromCreation;
  /** @type {(taskId: string) => void} told after a task's record changed here (written, or ended) */
  #onChange;
  /** @type {Map<string, ReturnType<typeof setTimeout>>} ttl timers, by task id */
  #timers = new Map();
  /** @type {Set<string>} the tasks created here */
  #mine = new Set();

  /**
   * @param {{ basePath?: string, persistIntervalMs?: number, trustFolder?: boolean, fsync?: boolean, fileMode?: number }} options
   * @param {(record: any) => boolean} owns which task records this flavour reads
   * @param {{ ttlFromCreation?: boolean, onChange?: (taskId: string) => void }} [rules]
   */
  constructor(options, owns, rules = {}) {
    const { basePath = process.cwd(), persistIntervalMs, trustFolder, fsync, fileMode } = options;
    this.#basePath = basePath;
    this.#trustFolder = trustFolder;
    this.#owns = owns;
    this.#ttlFromCreation = rules.ttlFromCreation === true;
    this.#onChange = rules.onChange ?? (() => {});
    /** @type {import("../index.js").StoreOptions} */
    const storeOptions = {};
    if (trustFolder !== undefined) storeOptions.trustFolder = trustFolder;
    if (fsync !== undefined) storeOptions.fsync = fsync;
    if (fileMode !== undefined) storeOptions.fileMode = fileMode;
    this.manager = new SessionManager(persistIntervalMs === undefined ? { basePath, ...storeOptions } : { basePath, persistIntervalMs, ...storeOptions });
    this.#store = new SessionStateStore(basePath, storeOptions);
  }

  /**
   * The live session of a task of this process, if it still runs.
   * @param {string} taskId
   */
  live(taskId) {
    return this.manager.getSession(taskId);
  }

  /**
   * Creates a task: a session named `operation` whose context holds `record`,
   * started, on disk when this returns. Whatever cancels the session (on this
   * thread at once, from elsewhere when the event loop next turns), the task follows.
   * @param {string} operation
   * @param {any} record with `expiresAt` already set
   * @returns {import("../index.js").Session}
   */
  create(operation, record) {
    const session = this.manager.createSession(operation, { [TASK]: record });
    session.progress.start();
    const taskId = session.id;
    this.#mine.add(taskId);
    this.#armTtl(taskId, record);
    this.#follow(session);
    return session;
  }

  /**
   * Takes over a task whose server process died: the session is resumed in
   * this process (the same id, its record as stored), running again.
   * @param {FoundTask} found
   * @returns {import("../index.js").Session | undefined} undefined when another process took it first
   */
  adopt(found) {
    const session = this.manager.resumeSession(found.state);
    if (!session) return undefined;
    this.#mine.add(session.id);
    this.#armTtl(session.id, taskRecord(session));
    this.#follow(session);
    return session;
  }

  /** @param {import("../index.js").Session} session */
  #follow(session) {
    const taskId = session.id;
    session.cancellation.token.onCancelled(() => {
      try {
        this.settle(taskId);
      } catch {
        // The disk refused: the next read of the task settles it again.
      }
    });
  }

  /**
   * A task (live or on disk) with its owner's state; `undefined` when there is
   * none, for an id that is not a session id, for another flavour's task, or
   * when its ttl has passed (then it is removed). One file read (`inspect`),
   * whatever the folder holds.
   * @param {unknown} taskId
   * @returns {FoundTask | undefined}
   */
  read(taskId) {
    if (!isSessionId(taskId)) return undefined;
    this.settle(taskId);
    const live = this.live(taskId);
    if (live) return this.#found(taskId, liveState(live), "alive", live);
    const inspected = this.#store.inspect(taskId);
    return inspected && this.#found(taskId, inspected.state, inspected.ownerState, undefined);
  }

  /**
   * @param {string} taskId
   * @param {any} state
   * @param {string} ownerState
   * @param {import("../index.js").Session | undefined} live
   * @returns {FoundTask | undefined}
   */
  #found(taskId, state, ownerState, live) {
    const record = taskRecord(state);
    if (!record || !this.#owns(record)) return undefined;
    if (record.expiresAt != null && Date.now() >= record.expiresAt) {
      this.forget(taskId);
      return undefined;
    }
    return { state, record, ownerState, live };
  }

  /**
   * Every task of this flavour in the folder, each file read once (`listStates`), oldest first.
   * @returns {{ id: string, found: FoundTask }[]}
   */
  all() {
    /** @type {{ id: string, found: FoundTask }[]} */
    const all = [];
    for (const { state, ownerState } of this.#store.listStates()) {
      const id = state.id;
      const found = this.live(id) ? this.read(id) : this.#found(id, state, ownerState, undefined);
      if (found) all.push({ id, found });
    }
    const at = (/** @type {any} */ t) => t.found.record.createdAt;
    return all.sort((a, b) => (at(a) < at(b) ? -1 : at(a) > at(b) ? 1 : 0));
  }

  /**
   * The status a task has now (see the module's header), with its message.
   * @param {FoundTask} found
   * @returns {TaskStatus}
   */
  status(found) {
    const { state, record, ownerState } = found;
    let status = record.status;
    let statusMessage = record.statusMessage;
    if (!isTerminal(status) && (state.status === "cancelled" || state.status === "completed" || state.status === "failed")) {
      status = state.status;
      if (statusMessage === undefined && state.progress?.error) statusMessage = state.progress.error;
    }
    if (isTerminal(status)) return { status, statusMessage, died: false };
    if (ownerState === "crashed") return { status: "failed", statusMessage: diedMessage(state, status), died: true };
    // A working task's message follows its session's current step.
    if (statusMessage === undefined && state.progress?.currentStep) statusMessage = state.progress.currentStep;
    return { status, statusMessage, died: false };
  }

  /**
   * Records in a live task what ended its session outside the task (its token
   * or tracker cancelled, its tracker failed): the task takes that status, its
   * file says so, and the session is released.
   * @param {string} taskId
   */
  settle(taskId) {
    const live = this.live(taskId);
    const record = live && taskRecord(live);
    if (!live || !record || isTerminal(record.status)) return;
    const { status, progress } = liveState(live);
    if (status !== "cancelled" && status !== "failed") return;
    const reason = (status === "cancelled" ? live.cancellation.token.reason : undefined) ?? progress.error;
    this.end(taskId, record, status, reason);
    if (status === "cancelled" && progress.status !== "cancelled") this.manager.cancelSession(taskId, reason);
    else this.manager.saveSession(taskId);
    this.manager.releaseSession(taskId);
    this.#onChange(taskId);
  }

  /**
   * Puts a record in a terminal status; its ttl restarts from now (1.x's rule),
   * or still runs from its creation (the extension's).
   * @param {string} taskId
   * @param {any} record
   * @param {string} status
   * @param {string | undefined} statusMessage
   */
  end(taskId, record, status, statusMessage) {
    record.status = status;
    if (statusMessage) record.statusMessage = statusMessage;
    record.lastUpdatedAt = new Date().toISOString();
    if (!this.#ttlFromCreation) record.expiresAt = expiry(record.ttl);
    this.#armTtl(taskId, record);
  }

  /**
   * Ends a live task with `status` (its result or error already on the record)
   * and its session: `cancelled` stays in the file and the session leaves memory.
   * @param {string} taskId
   * @param {FoundTask} found
   * @param {string} status
   * @param {string | undefined} statusMessage
   */
  finish(taskId, found, status, statusMessage) {
    const { record, live } = found;
    if (!live) throw new Error(`Task ${taskId} is run by another process; only its server can change it`);
    this.end(taskId, record, status, statusMessage);
    if (status === "cancelled") {
      this.manager.cancelSession(taskId, statusMessage ?? "cancelled");
      this.manager.releaseSession(taskId);
    } else if (status === "failed") this.manager.failSession(taskId, statusMessage ?? "the task failed");
    else this.manager.completeSession(taskId);
    this.#onChange(taskId);
  }

  /**
   * Fails a task's session that is still running after its result could not
   * be stored (the disk refused, or the task ended meanwhile), so that it
   * never stays running; a second refusal of the disk leaves it to end with
   * the process.
   * @param {string} taskId
   */
  abandon(taskId) {
    if (!this.live(taskId)?.progress.isRunning()) return;
    try {
      this.manager.failSession(taskId, "the task's result could not be stored");
    } catch {
      // The disk refused again: the session ends with the process.
    }
  }

  /**
   * Writes a live task's record as it is now (this task's file only).
   * @param {string} taskId
   */
  save(taskId) {
    this.manager.saveSession(taskId);
    this.#onChange(taskId);
  }

  /**
   * Asks the server of a task run by another live process to cancel it, and
   * waits (at most `CANCEL_ACK_MS`) until that server has cancelled it; its
   * manager does so within 250 ms, without its event loop. False when no
   * live process runs it.
   * @param {string} taskId
   * @param {string | undefined} reason
   */
  async cancelElsewhere(taskId, reason) {
    if (!requestCancellation(taskId, reason, { basePath: this.#basePath, trustFolder: this.#trustFolder })) return false;
    const until = Date.now() + CANCEL_ACK_MS;
    for (;;) {
      const inspected = this.#store.inspect(taskId);
      if (!inspected || inspected.state.status !== "active" || inspected.ownerState !== "alive" || Date.now() >= until) return true;
      await delay(5);
    }
  }

  /**
   * Removes a task: its timer, its session (finished quietly) and its file.
   * @param {string} taskId
   */
  forget(taskId) {
    this.#clearTimer(taskId);
    if (this.live(taskId)) this.manager.completeSession(taskId);
    this.#store.remove(taskId);
    this.#mine.delete(taskId);
  }

  /** @param {string} taskId */
  #clearTimer(taskId) {
    const timer = this.#timers.get(taskId);
    if (timer !== undefined) clearTimeout(timer);
    this.#timers.delete(taskId);
  }

  /**
   * Arms a task's ttl timer: it is removed at its record's `expiresAt`.
   * @param {string} taskId
   * @param {any} record
   */
  #armTtl(taskId, record) {
    this.#clearTimer(taskId);
    if (record?.expiresAt == null) return;
    const timer = setTimeout(() => {
      this.#timers.delete(taskId);
      // A task still running when its ttl passes: its work is cancelled, then it is removed.
      const live = this.live(taskId);
      if (live?.progress.isRunning()) live.cancellation.cancel("the task's ttl passed");
      this.forget(taskId);
    }, Math.max(0, record.expiresAt - Date.now()));
    // A task's ttl never keeps the process alive (its file says when it expires).
    if (typeof timer === "object" && typeof timer.unref === "function") timer.unref();
    this.#timers.set(taskId, timer);
  }

  /** Removes the tasks created here and stops every timer. */
  cleanup() {
    for (const id of [...this.#mine]) this.forget(id);
    for (const id of [...this.#timers.keys()]) this.#clearTimer(id);
  }

  /** Stops the timers and writes what is pending; the tasks stay on disk. */
  close() {
    for (const id of [...this.#timers.keys()]) this.#clearTimer(id);
    this.manager.shutdown();
  }
}

/**
 * The tool result of a work's throw that is not a JSON-RPC error: `isError`,
 * the message as its text (what `McpServer` answers for a plain call too).
 * @param {unknown} error
 */
const toolErrorResult = (error) => ({ content: [{ type: "text", text: error instanceof Error ? error.message : String(error) }], isError: true });

/**
 * When a task with `ttl` (ms; null or 0: unlimited) set now is removed.
 * @param {number | null} ttl
 */
const expiry = (ttl) => (ttl ? Date.now() + ttl : undefined);

module.exports = { DEFAULT_TTL, EXTENSION_KIND, TaskSessions, expiry, isTerminal, toolErrorResult };
