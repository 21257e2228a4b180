// msw-session/mcp: durable MCP tasks on the session store.
//
// `SessionTaskStore` implements the MCP SDK's experimental `TaskStore` as a
// drop-in for its `InMemoryTaskStore` (the same methods, error messages,
// status rules, ttl rules, pollInterval default, pages of 10 and sessionId
// scoping), with each task a session of the package: its file in
// `.msw/sessions/` (written atomically) holds the task and its stored result,
// a second process sees it, a task whose server died while `working` is
// reported `failed` at once (owner locks, never for a live server), and a
// task's status follows its session: cancelled by `tasks/cancel` (in this
// server or in another on the same folder), by its token, by `trackRequest`
// or by `msw-session cancel`, it is `cancelled`.
//
// Built on the package's public API only: no logic here that the core
// decides (ids, files, liveness, cancellation).
"use strict";

const { CancellationError, SessionManager, SessionStateStore, isSessionId, requestCancellation } = require("./index.js");

/** Where a task keeps its MCP fields in its session's context. */
const TASK = "mcpTask";
/** `InMemoryTaskStore`'s page size of `listTasks`. */
const PAGE_SIZE = 10;
/** `InMemoryTaskStore`'s default `pollInterval`, in ms. */
const DEFAULT_POLL_INTERVAL = 1000;
/** The ttl of a task created without one, in ms: one day. */
const DEFAULT_TTL = 24 * 60 * 60 * 1000;
/** How long a cancel sent to another server's task waits for that server to say cancelled, in ms. */
const CANCEL_ACK_MS = 2000;

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

/** @param {number} ms */
const delay = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A live session's state as a file would hold it: the stored status its
 * tracker and token give.
 * @param {import("./index.js").Session} live
 */
function liveState(live) {
  const progress = live.progress.getState();
  const status = live.cancellation.isCancelled || progress.status === "cancelled" ? "cancelled" : progress.status === "completed" || progress.status === "failed" ? progress.status : "active";
  return { context: live.context, status, progress };
}

/**
 * A text result for a failed tool task.
 * @param {unknown} error
 */
const errorResult = (error) => ({ content: [{ type: "text", text: error instanceof Error ? error.message : String(error) }], isError: true });

class SessionTaskStore {
  /** @type {SessionManager} */
  #manager;
  /** @type {SessionStateStore} */
  #store;
  /** @type {string} */
  #basePath;
  /** @type {boolean | undefined} the `trustFolder` option, for requestCancellation */
  #trustFolder;
  /** @type {number | null} */
  #defaultTtl;
  /** @type {number | null} */
  #maxTtl;
  /** @type {Map<string, ReturnType<typeof setTimeout>>} ttl timers, by task id */
  #timers = new Map();
  /** @type {Set<string>} the tasks this store created */
  #mine = new Set();

  /**
   * @param {import("./mcp.js").SessionTaskStoreOptions} [options]
   */
  constructor(options = {}) {
    const { basePath = process.cwd(), persistIntervalMs, trustFolder, fsync, fileMode, defaultTtl = DEFAULT_TTL, maxTtl = null } = options;
    for (const [name, value] of [["defaultTtl", defaultTtl], ["maxTtl", maxTtl]]) {
      if (value !== null && !(typeof value === "number" && value >= 0)) {
        throw Object.assign(new TypeError(`options.${name} must be a number of ms (0 or more) or null`), { code: "ERR_INVALID_ARG_TYPE" });
      }
    }
    this.#basePath = basePath;
    this.#trustFolder = trustFolder;
    this.#defaultTtl = defaultTtl;
    this.#maxTtl = maxTtl;
    /** @type {import("./index.js").StoreOptions} */
    const storeOptions = {};
    if (trustFolder !== undefined) storeOptions.trustFolder = trustFolder;
    if (fsync !== undefined) storeOptions.fsync = fsync;
    if (fileMode !== undefined) storeOptions.fileMode = fileMode;
    this.#manager = new SessionManager(persistIntervalMs === undefined ? { basePath, ...storeOptions } : { basePath, persistIntervalMs, ...storeOptions });
    this.#store = new SessionStateStore(basePath, storeOptions);
    // Tasks past their ttl whose server is gone have no timer left: remove them now.
    this.#allTasks();
  }

  /**
   * The live session of a task of this process, if it still runs.
   * @param {string} taskId
   */
  #live(taskId) {
    return this.#manager.getSession(taskId);
  }

  /**
   * The ttl a task gets: the requested one, else the default, at most `maxTtl`.
   * @param {number | null | undefined} requested
   */
  #ttl(requested) {
    const ttl = requested ?? this.#defaultTtl;
    return this.#maxTtl !== null && (!ttl || ttl > this.#maxTtl) ? this.#maxTtl : ttl;
  }

  /**
   * The stored state of a task (live or on disk) with its owner's state,
   * `undefined` when there is none, for an id that is not a session id, or
   * when its ttl has passed (then its file is removed, as the in-memory store
   * forgets it). One file read (`inspect`), whatever the folder holds.
   * @param {unknown} taskId
   */
  #read(taskId) {
    if (!isSessionId(taskId)) return undefined;
    this.#settle(taskId);
    const live = this.#live(taskId);
    if (live) return this.#found(taskId, liveState(live), "alive", live);
    const inspected = this.#store.inspect(taskId);
    return inspected && this.#found(taskId, inspected.state, inspected.ownerState, undefined);
  }

  /**
   * A task's state and record, or `undefined` when it is not a task or past its ttl.
   * @param {string} taskId
   * @param {any} state
   * @param {string} ownerState
   * @param {import("./index.js").Session | undefined} live
   */
  #found(taskId, state, ownerState, live) {
    const record = taskRecord(state);
    if (!record) return undefined;
    if (record.expiresAt != null && Date.now() >= record.expiresAt) {
      this.#forget(taskId);
      return undefined;
    }
    return { state, record, ownerState, live };
  }

  /**
   * `#read`, unless the task belongs to another MCP session than `sessionId`.
   * @param {unknown} taskId
   * @param {string | undefined} sessionId
   */
  #lookup(taskId, sessionId) {
    const found = this.#read(taskId);
    return found && visibleTo(found.record, sessionId) ? found : undefined;
  }

  /**
   * The task object of a stored state, as `getTask` returns it.
   * @param {string} taskId
   * @param {any} found
   */
  #task(taskId, found) {
    const { state, record, ownerState } = found;
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
    // another process, say) before its server recorded it tells the task's status.
    if (!isTerminal(record.status) && (state.status === "cancelled" || state.status === "completed" || state.status === "failed")) {
      task.status = state.status;
      if (record.statusMessage === undefined && state.progress?.error) task.statusMessage = state.progress.error;
    }
    if (!isTerminal(/** @type {string} */ (task.status))) {
      if (ownerState === "crashed") {
        task.status = "failed";
        task.statusMessage = `The server process that ran this task (pid ${state.owner?.pid ?? "unknown"}) exited while the task was ${record.status}.`;
      } else if (record.statusMessage === undefined && state.progress?.currentStep) {
        // A working task's message follows its session's current step.
        task.statusMessage = state.progress.currentStep;
      }
    }
    return task;
  }

  /**
   * Records in a live task what ended its session outside the store (its
   * token or tracker cancelled — by `trackRequest`, `msw-session cancel`,
   * a cancel from another server — or its tracker failed): the task takes
   * that status, its file says so, and the session is released.
   * @param {string} taskId
   */
  #settle(taskId) {
    const live = this.#live(taskId);
    const record = live && taskRecord(live);
    if (!live || !record || isTerminal(record.status)) return;
    const { status, progress } = liveState(live);
    if (status !== "cancelled" && status !== "failed") return;
    const reason = (status === "cancelled" ? live.cancellation.token.reason : undefined) ?? progress.error;
    this.#end(record, status, reason);
    this.#armTtl(taskId, record);
    if (status === "cancelled" && progress.status !== "cancelled") this.#manager.cancelSession(taskId, reason);
    else this.#manager.saveSession(taskId);
    this.#manager.releaseSession(taskId);
  }

  /**
   * Puts a record in a terminal status; its ttl restarts (the in-memory store's rule).
   * @param {any} record
   * @param {string} status
   * @param {string | undefined} statusMessage
   */
  #end(record, status, statusMessage) {
    record.status = status;
    if (statusMessage) record.statusMessage = statusMessage;
    record.lastUpdatedAt = new Date().toISOString();
    record.expiresAt = expiry(record.ttl);
  }

  /**
   * Removes a task: its timer, its session (finished quietly) and its file.
   * @param {string} taskId
   */
  #forget(taskId) {
    this.#clearTimer(taskId);
    if (this.#live(taskId)) this.#manager.completeSession(taskId);
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
   * Arms a task's ttl timer: it is removed at its record's `expiresAt` (see `expiry`).
   * @param {string} taskId
   * @param {any} record
   */
  #armTtl(taskId, record) {
    this.#clearTimer(taskId);
    if (record.expiresAt == null) return;
    const timer = setTimeout(() => {
      this.#timers.delete(taskId);
      this.#forget(taskId);
    }, record.expiresAt - Date.now());
    // A task's ttl never keeps the process alive (its file says when it expires).
    if (typeof timer === "object" && typeof timer.unref === "function") timer.unref();
    this.#timers.set(taskId, timer);
  }

  /**
   * Creates a task: a session whose context holds the task.
   * @param {any} taskParams
   * @param {any} requestId
   * @param {any} request
   * @param {string} [sessionId]
   * @returns {Promise<any>}
   */
  async createTask(taskParams, requestId, request, sessionId) {
    const ttl = this.#ttl(taskParams?.ttl);
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
    // Whatever cancels the session (on this thread at once, from elsewhere
    // when the event loop next turns), the task follows.
    session.cancellation.token.onCancelled(() => {
      try {
        this.#settle(taskId);
      } catch {
        // The disk refused: the next read of the task settles it again.
      }
    });
    return { taskId, status: record.status, ttl, createdAt, lastUpdatedAt: createdAt, pollInterval: record.pollInterval };
  }

  /**
   * @param {string} taskId
   * @param {string} [sessionId]
   * @returns {Promise<any>}
   */
  async getTask(taskId, sessionId) {
    const found = this.#lookup(taskId, sessionId);
    return found ? this.#task(taskId, found) : null;
  }

  /**
   * @param {string} taskId
   * @param {"completed" | "failed"} status
   * @param {any} result
   * @param {string} [sessionId]
   */
  async storeTaskResult(taskId, status, result, sessionId) {
    const found = this.#lookup(taskId, sessionId);
    if (!found) throw new Error(`Task with ID ${taskId} not found`);
    const current = this.#task(taskId, found).status;
    if (isTerminal(/** @type {string} */ (current))) {
      throw new Error(`Cannot store result for task ${taskId} in terminal status '${current}'. Task results can only be stored once.`);
    }
    this.#finish(taskId, found, status, undefined, result);
  }

  /**
   * @param {string} taskId
   * @param {string} [sessionId]
   */
  async getTaskResult(taskId, sessionId) {
    const found = this.#lookup(taskId, sessionId);
    if (!found) throw new Error(`Task with ID ${taskId} not found`);
    if (!found.record.result) throw new Error(`Task ${taskId} has no result stored`);
    return found.record.result;
  }

  /**
   * @param {string} taskId
   * @param {string} status
   * @param {string} [statusMessage]
   * @param {string} [sessionId]
   */
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
      // A task of another live process: only a cancel can be asked of it,
      // and its server is asked (the package's cross-process cancellation).
      if (status === "cancelled" && requestCancellation(taskId, statusMessage, { basePath: this.#basePath, trustFolder: this.#trustFolder })) {
        await this.#cancelSeen(taskId);
        return;
      }
      throw new Error(`Task ${taskId} is run by another process; only its server can change it`);
    }
    if (isTerminal(status)) {
      this.#finish(taskId, found, status, statusMessage, undefined);
      return;
    }
    found.record.status = status;
    if (statusMessage) found.record.statusMessage = statusMessage;
    found.record.lastUpdatedAt = new Date().toISOString();
    // This task's file only: another task's state never makes this write fail.
    this.#manager.saveSession(taskId);
  }

  /**
   * Waits (at most `CANCEL_ACK_MS`) until the server that runs a task has
   * cancelled it after a cancel request, so that `tasks/cancel` answers with
   * the cancelled task. Its manager does so within 250 ms, without its event loop.
   * @param {string} taskId
   */
  async #cancelSeen(taskId) {
    const until = Date.now() + CANCEL_ACK_MS;
    for (;;) {
      const inspected = this.#store.inspect(taskId);
      if (!inspected || inspected.state.status !== "active" || inspected.ownerState !== "alive" || Date.now() >= until) return;
      await delay(5);
    }
  }

  /**
   * Puts a live task in a terminal status, with its result if any, and ends its session.
   * @param {string} taskId
   * @param {any} found
   * @param {string} status
   * @param {string | undefined} statusMessage
   * @param {any} result
   */
  #finish(taskId, found, status, statusMessage, result) {
    const { record, live } = found;
    if (!live) throw new Error(`Task ${taskId} is run by another process; only its server can change it`);
    if (result !== undefined) record.result = result;
    this.#end(record, status, statusMessage);
    this.#armTtl(taskId, record);
    if (status === "cancelled") {
      // The file keeps `cancelled`; the session leaves memory.
      this.#manager.cancelSession(taskId, statusMessage ?? "cancelled");
      this.#manager.releaseSession(taskId);
    } else if (status === "failed") this.#manager.failSession(taskId, statusMessage ?? "the task failed");
    else this.#manager.completeSession(taskId);
  }

  /**
   * @param {string} [cursor]
   * @param {string} [sessionId]
   * @returns {Promise<{ tasks: any[], nextCursor?: string }>}
   */
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
    const tasks = page.map((t) => this.#task(t.id, t.found));
    const nextCursor = start + PAGE_SIZE < ids.length ? ids[start + page.length - 1] : undefined;
    return { tasks, nextCursor };
  }

  /** Every task in the folder, each file read once (`listStates`), oldest first. */
  #allTasks() {
    /** @type {{ id: string, found: any }[]} */
    const all = [];
    for (const { state, ownerState } of this.#store.listStates()) {
      const id = state.id;
      const found = this.#live(id) ? this.#read(id) : this.#found(id, state, ownerState, undefined);
      if (found) all.push({ id, found });
    }
    const at = (/** @type {any} */ t) => t.found.record.createdAt;
    return all.sort((a, b) => (at(a) < at(b) ? -1 : at(a) > at(b) ? 1 : 0));
  }

  /** Every task, of every MCP session (for debugging, as the in-memory store's). */
  getAllTasks() {
    return this.#allTasks().map((t) => this.#task(t.id, t.found));
  }

  /**
   * The session that runs a task of this process (its progress and token), if it still runs.
   * @param {string} taskId
   */
  sessionOf(taskId) {
    return this.#live(taskId);
  }

  /**
   * The cancellation token of a task of this process: cancelled by `tasks/cancel`.
   * @param {string} taskId
   */
  tokenOf(taskId) {
    return this.#live(taskId)?.cancellation.token;
  }

  /**
   * A task tool's `createTask` handler in one call: creates the task, runs
   * `work` with the task's session and token (its progress goes to the
   * client as `notifications/progress` when the request has a progressToken;
   * `tasks/cancel` and every other cancel of the session cancel the token),
   * stores what `work` returns as the `completed` result, a `CancellationError`
   * (or any throw once the token is cancelled) as `cancelled`, any other throw
   * as a `failed` result (`isError`, the message as its text), and returns the
   * `CreateTaskResult` at once.
   * @param {any} extra the SDK's `CreateTaskRequestHandlerExtra`
   * @param {(session: import("./index.js").Session, token: import("./index.js").CancellationToken) => any} work
   * @returns {Promise<{ task: any }>}
   */
  async run(extra, work) {
    const store = extra?.taskStore;
    if (!store || typeof store.createTask !== "function") {
      throw Object.assign(new TypeError("run(extra, work): extra.taskStore is missing (call it from a task tool's createTask handler)"), { code: "ERR_INVALID_ARG_TYPE" });
    }
    if (typeof work !== "function") throw Object.assign(new TypeError("run(extra, work): work must be a function"), { code: "ERR_INVALID_ARG_TYPE" });
    const task = await store.createTask({ ttl: extra.taskRequestedTtl ?? null });
    const { taskId } = task;
    const session = /** @type {import("./index.js").Session} */ (this.#live(taskId));
    const token = session.cancellation.token;
    const stop = trackRequest(extra, session, { manager: this.#manager });
    const settle = async () => {
      try {
        /** @type {any} */
        let result;
        try {
          result = await work(session, token);
        } catch (error) {
          if (error instanceof CancellationError || token.isCancelled) {
            if (this.#live(taskId)) this.#manager.cancelSession(taskId, error instanceof Error ? error.message : String(error));
            this.#settle(taskId);
            return;
          }
          await store.storeTaskResult(taskId, "failed", errorResult(error));
          return;
        }
        if (token.isCancelled) this.#settle(taskId);
        else await store.storeTaskResult(taskId, "completed", result);
      } catch {
        // The task ended meanwhile (cancelled, removed by its ttl) or the disk
        // refused: there is no one left to tell. Never leave its session running.
        if (this.#live(taskId) && session.progress.isRunning()) {
          try {
            this.#manager.failSession(taskId, "the task's result could not be stored");
          } catch {
            // The disk refused again: the session ends with the process.
          }
        }
      } finally {
        stop();
      }
    };
    void settle();
    return { task };
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
