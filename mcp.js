// msw-session/mcp: durable MCP tasks on the session store.
//
// `SessionTaskStore` implements the MCP SDK's experimental `TaskStore` as a
// drop-in for its `InMemoryTaskStore` (the same methods, error messages,
// status rules, ttl rules, pollInterval default, pages of 10 and sessionId
// scoping), with each task a session of the package: its file in
// `.msw/sessions/` (written atomically) holds the task and its stored result,
// a second process sees it, a task whose server died while `working` is
// reported `failed` at once (owner locks, never for a live server), and
// cancelling a task cancels its session's token.
//
// Built on the package's public API only: no logic here that the core
// decides (ids, files, liveness, cancellation).
"use strict";

const { SessionManager, SessionStateStore, requestCancellation } = require("./index.js");

/** Where a task keeps its MCP fields in its session's context. */
const TASK = "mcpTask";
/** `InMemoryTaskStore`'s page size of `listTasks`. */
const PAGE_SIZE = 10;
/** `InMemoryTaskStore`'s default `pollInterval`, in ms. */
const DEFAULT_POLL_INTERVAL = 1000;

/** @param {string} status */
const isTerminal = (status) => status === "completed" || status === "failed" || status === "cancelled";

/**
 * The task of a session state, or undefined when the session is not a task.
 * @param {any} state a session state (file or live session)
 */
function taskRecord(state) {
  const record = state?.context?.[TASK];
  return record && typeof record === "object" ? record : undefined;
}

/**
 * Whether a task is visible to the MCP session `sessionId` (the in-memory
 * store's rule: a task bound to one session is hidden from another).
 * @param {any} record
 * @param {string | undefined} sessionId
 */
const visibleTo = (record, sessionId) =>
  sessionId === undefined || record.sessionId === undefined || record.sessionId === sessionId;

/**
 * When a task with `ttl` (ms; null or 0: unlimited) set now is removed.
 * @param {number | null} ttl
 */
const expiry = (ttl) => (ttl ? Date.now() + ttl : undefined);

/**
 * `fn`, called at most once, on first use.
 * @template T
 * @param {() => T} fn
 * @returns {() => T}
 */
function once(fn) {
  /** @type {{ value: T } | undefined} */
  let done;
  return () => (done ??= { value: fn() }).value;
}

class SessionTaskStore {
  /** @type {SessionManager} */
  #manager;
  /** @type {SessionStateStore} */
  #store;
  /** @type {string} */
  #basePath;
  /** @type {boolean | undefined} the `trustFolder` option, for requestCancellation */
  #trustFolder;
  /** @type {Map<string, ReturnType<typeof setTimeout>>} ttl timers, by task id */
  #timers = new Map();
  /** @type {Set<string>} the tasks this store created */
  #mine = new Set();

  /**
   * @param {{ basePath?: string, persistIntervalMs?: number, trustFolder?: boolean }} [options]
   */
  constructor(options = {}) {
    const { basePath = process.cwd(), persistIntervalMs, trustFolder } = options;
    this.#basePath = basePath;
    this.#trustFolder = trustFolder;
    this.#manager = new SessionManager(persistIntervalMs === undefined ? { basePath, trustFolder } : { basePath, persistIntervalMs, trustFolder });
    this.#store = new SessionStateStore(basePath, { trustFolder });
  }

  /** The live session of a task of this process, if it still runs. */
  #live(taskId) {
    return this.#manager.getSession(taskId);
  }

  /**
   * The stored state of a task (live or on disk), `undefined` when there is
   * none or its ttl has passed (then its file is removed, as the in-memory
   * store forgets it).
   */
  #read(taskId) {
    if (typeof taskId !== "string") return undefined;
    const live = this.#live(taskId);
    let state;
    try {
      state = live ? { context: live.context, status: "active", progress: live.progress.getState() } : this.#store.load(taskId);
    } catch {
      return undefined; // not a session id: no such task
    }
    const record = taskRecord(state);
    if (!record) return undefined;
    if (record.expiresAt != null && Date.now() >= record.expiresAt) {
      this.#forget(taskId);
      return undefined;
    }
    return { state, record, live };
  }

  /** `#read`, unless the task belongs to another MCP session than `sessionId`. */
  #lookup(taskId, sessionId) {
    const found = this.#read(taskId);
    return found && visibleTo(found.record, sessionId) ? found : undefined;
  }

  /**
   * The task object of a stored state, as `getTask` returns it. `crashed`
   * gives the ids of sessions left by a dead process: asked only for a
   * working task of another process, so a page of tasks shares one scan.
   */
  #task(taskId, found, crashed = once(() => this.#crashedIds())) {
    const { state, record, live } = found;
    /** @type {Record<string, unknown>} */
    const task = {
      taskId,
      status: record.status,
      ttl: record.ttl,
      createdAt: record.createdAt,
      lastUpdatedAt: record.lastUpdatedAt,
      pollInterval: record.pollInterval,
    };
    if (record.statusMessage !== undefined) task.statusMessage = record.statusMessage;
    // A session finished or cancelled by the package (a cancel request from
    // another process, say) tells the task's status.
    if (!isTerminal(record.status) && (state.status === "cancelled" || state.status === "completed" || state.status === "failed")) {
      task.status = state.status;
    }
    if (!isTerminal(/** @type {string} */ (task.status))) {
      if (!live && crashed().has(taskId)) {
        task.status = "failed";
        task.statusMessage = `The server process that ran this task (pid ${state.owner?.pid ?? "unknown"}) exited while the task was ${record.status}.`;
      } else if (record.statusMessage === undefined && state.progress?.currentStep) {
        // A working task's message follows its session's current step.
        task.statusMessage = state.progress.currentStep;
      }
    }
    return task;
  }

  /** The ids of the sessions in the folder whose process is gone (one crash scan). */
  #crashedIds() {
    return new Set(this.#store.findCrashedSessions().map((s) => s.id));
  }

  /** Removes a task: its timer, its session (finished quietly) and its file. */
  #forget(taskId) {
    this.#clearTimer(taskId);
    if (this.#live(taskId)) this.#manager.completeSession(taskId);
    this.#store.remove(taskId);
    this.#mine.delete(taskId);
  }

  #clearTimer(taskId) {
    const timer = this.#timers.get(taskId);
    if (timer !== undefined) clearTimeout(timer);
    this.#timers.delete(taskId);
  }

  /** Arms a task's ttl timer: it is removed at its record's `expiresAt` (see `expiry`). */
  #armTtl(taskId, record) {
    this.#clearTimer(taskId);
    if (record.expiresAt == null) return;
    this.#timers.set(
      taskId,
      setTimeout(() => {
        this.#timers.delete(taskId);
        this.#forget(taskId);
      }, record.expiresAt - Date.now()),
    );
  }

  /** Writes the live tasks' records (their sessions' contexts, read anew) now. */
  #save() {
    this.#manager.saveAllSessions();
  }

  /**
   * Creates a task: a session whose context holds the task.
   * @returns {Promise<any>}
   */
  async createTask(taskParams, requestId, request, sessionId) {
    const ttl = taskParams?.ttl ?? null;
    const createdAt = new Date().toISOString();
    const record = {
      status: "working",
      ttl,
      createdAt,
      lastUpdatedAt: createdAt,
      pollInterval: taskParams?.pollInterval ?? DEFAULT_POLL_INTERVAL,
      requestId,
      request,
      sessionId,
      // Set before the session exists, so that the file createSession writes has it.
      expiresAt: expiry(ttl),
    };
    const method = typeof request?.method === "string" ? request.method : "task";
    const session = this.#manager.createSession(`mcp ${method}`, { [TASK]: record });
    session.progress.start();
    const taskId = session.id;
    this.#mine.add(taskId);
    this.#armTtl(taskId, record);
    return { taskId, status: record.status, ttl, createdAt, lastUpdatedAt: createdAt, pollInterval: record.pollInterval };
  }

  /** @returns {Promise<any>} */
  async getTask(taskId, sessionId) {
    const found = this.#lookup(taskId, sessionId);
    return found ? this.#task(taskId, found) : null;
  }

  async storeTaskResult(taskId, status, result, sessionId) {
    const found = this.#lookup(taskId, sessionId);
    if (!found) throw new Error(`Task with ID ${taskId} not found`);
    const current = this.#task(taskId, found).status;
    if (isTerminal(/** @type {string} */ (current))) {
      throw new Error(`Cannot store result for task ${taskId} in terminal status '${current}'. Task results can only be stored once.`);
    }
    this.#finish(taskId, found, status, undefined, result);
  }

  async getTaskResult(taskId, sessionId) {
    const found = this.#lookup(taskId, sessionId);
    if (!found) throw new Error(`Task with ID ${taskId} not found`);
    if (!found.record.result) throw new Error(`Task ${taskId} has no result stored`);
    return found.record.result;
  }

  async updateTaskStatus(taskId, status, statusMessage, sessionId) {
    const found = this.#lookup(taskId, sessionId);
    if (!found) throw new Error(`Task with ID ${taskId} not found`);
    const current = this.#task(taskId, found).status;
    if (isTerminal(/** @type {string} */ (current))) {
      throw new Error(
        `Cannot update task ${taskId} from terminal status '${current}' to '${status}'. Terminal states (completed, failed, cancelled) cannot transition to other states.`,
      );
    }
    if (!found.live) {
      // A task of another live process: only a cancel can be asked of it.
      if (status === "cancelled" && requestCancellation(taskId, statusMessage, { basePath: this.#basePath, trustFolder: this.#trustFolder })) return;
      throw new Error(`Task ${taskId} is run by another process; only its server can change it`);
    }
    if (isTerminal(status)) {
      this.#finish(taskId, found, status, statusMessage, undefined);
      return;
    }
    found.record.status = status;
    if (statusMessage) found.record.statusMessage = statusMessage;
    found.record.lastUpdatedAt = new Date().toISOString();
    this.#save();
  }

  /** Puts a live task in a terminal status, with its result if any, and ends its session. */
  #finish(taskId, found, status, statusMessage, result) {
    const { record, live } = found;
    if (!live) throw new Error(`Task ${taskId} is run by another process; only its server can change it`);
    record.status = status;
    if (statusMessage) record.statusMessage = statusMessage;
    if (result !== undefined) record.result = result;
    record.lastUpdatedAt = new Date().toISOString();
    // The ttl restarts when the task ends (the in-memory store's rule).
    record.expiresAt = expiry(record.ttl);
    this.#armTtl(taskId, record);
    // A cancelled task's session stays cancelled (and in the manager until `close`).
    if (status === "cancelled") this.#manager.cancelSession(taskId, statusMessage ?? "cancelled");
    else if (status === "failed") this.#manager.failSession(taskId, statusMessage ?? "the task failed");
    else this.#manager.completeSession(taskId);
  }

  /** @returns {Promise<{ tasks: any[], nextCursor?: string }>} */
  async listTasks(cursor, sessionId) {
    const found = this.#allTasks().filter((t) => visibleTo(t.found.record, sessionId));
    const ids = found.map((t) => t.id);
    let start = 0;
    if (cursor) {
      const at = ids.indexOf(cursor);
      if (at < 0) throw new Error(`Invalid cursor: ${cursor}`);
      start = at + 1;
    }
    const page = found.slice(start, start + PAGE_SIZE);
    const crashed = once(() => this.#crashedIds());
    const tasks = page.map((t) => this.#task(t.id, t.found, crashed));
    const nextCursor = start + PAGE_SIZE < ids.length ? ids[start + page.length - 1] : undefined;
    return { tasks, nextCursor };
  }

  /** Every task in the folder, each read once, oldest first. */
  #allTasks() {
    const all = [];
    for (const id of this.#store.listSessions()) {
      const found = this.#read(id);
      if (found) all.push({ id, found });
    }
    const at = (/** @type {any} */ t) => t.found.record.createdAt;
    return all.sort((a, b) => (at(a) < at(b) ? -1 : at(a) > at(b) ? 1 : 0));
  }

  /** Every task, of every MCP session (for debugging, as the in-memory store's). */
  getAllTasks() {
    const crashed = once(() => this.#crashedIds());
    return this.#allTasks().map((t) => this.#task(t.id, t.found, crashed));
  }

  /** The session that runs a task of this process (its progress and token), if it still runs. */
  sessionOf(taskId) {
    return this.#live(taskId);
  }

  /** The cancellation token of a task of this process: cancelled by `tasks/cancel`. */
  tokenOf(taskId) {
    return this.#live(taskId)?.cancellation.token;
  }

  /** Removes this store's tasks and stops their timers (the in-memory store's `cleanup`). */
  cleanup() {
    for (const id of [...this.#mine]) this.#forget(id);
    for (const id of [...this.#timers.keys()]) this.#clearTimer(id);
  }

  /** Stops the timers and writes what is pending; the tasks stay on disk. */
  close() {
    for (const id of [...this.#timers.keys()]) this.#clearTimer(id);
    this.#manager.shutdown();
  }
}

/** The default least time between two progress notifications of one request, in ms. */
const PROGRESS_INTERVAL_MS = 100;

/**
 * Ties a plain MCP tool call to a session: the session's progress goes to the
 * client as `notifications/progress` when the request carries a
 * `progressToken`, and the client's cancel (`extra.signal`) cancels the
 * session. Returns a function that stops both (call it when the tool ends).
 *
 * Mapping: `progress` is `completedSteps` when the tracker has a step total
 * (`total` is then `totalSteps`), else the percentage (`total` 100);
 * `message` is the current step. A notification is sent only when `progress`
 * grew (MCP requires it to increase), at most once per `intervalMs`, the
 * latest state trailing; a finished tracker's state is sent at once.
 *
 * @param {any} extra the SDK handler's `extra` (`_meta.progressToken`, `signal`, `sendNotification`)
 * @param {import("./index.js").Session} session
 * @param {{ intervalMs?: number, manager?: import("./index.js").SessionManager }} [options]
 *   `manager`: the session's manager, so that a cancel is written at once (`cancelSession`)
 * @returns {() => void}
 */
function trackRequest(extra, session, options = {}) {
  const { intervalMs = PROGRESS_INTERVAL_MS, manager } = options;
  const progressToken = extra?._meta?.progressToken;
  let stopProgress = () => {};
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;
  if (progressToken !== undefined && typeof extra.sendNotification === "function") {
    let lastProgress = -Infinity;
    let lastSentAt = -Infinity;
    /** @type {any} */
    let pending;
    const send = (/** @type {any} */ state) => {
      const steps = state.totalSteps !== undefined;
      const progress = steps ? (state.completedSteps ?? 0) : state.progress;
      if (!(progress > lastProgress)) return;
      lastProgress = progress;
      lastSentAt = Date.now();
      /** @type {Record<string, unknown>} */
      const params = { progressToken, progress, total: steps ? state.totalSteps : 100 };
      if (state.currentStep) params.message = state.currentStep;
      Promise.resolve(extra.sendNotification({ method: "notifications/progress", params })).catch(() => {});
    };
    const flush = () => {
      timer = undefined;
      if (pending !== undefined) send(pending);
      pending = undefined;
    };
    stopProgress = session.progress.onProgress((state) => {
      pending = state;
      const finished = state.status !== "running" && state.status !== "pending";
      const wait = lastSentAt + intervalMs - Date.now();
      if (finished || wait <= 0) {
        if (timer !== undefined) clearTimeout(timer);
        flush();
      } else if (timer === undefined) {
        timer = setTimeout(flush, wait);
      }
    });
  }
  /** @type {AbortSignal | undefined} */
  const signal = extra?.signal;
  const onAbort = () => {
    const reason = typeof signal?.reason === "string" ? signal.reason : "cancelled by the client";
    if (manager && manager.getSession(session.id)) manager.cancelSession(session.id, reason);
    else {
      session.cancellation.cancel(reason);
      session.progress.cancel(reason);
    }
  };
  if (signal) {
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
  }
  return () => {
    stopProgress();
    if (timer !== undefined) clearTimeout(timer);
    signal?.removeEventListener("abort", onAbort);
  };
}

module.exports = { SessionTaskStore, trackRequest };
