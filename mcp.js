// msw-session/mcp: durable MCP tasks on the session store.
//
// `SessionTaskStore` implements the MCP SDK 1.x experimental `TaskStore` as a
// drop-in for its `InMemoryTaskStore` (the same methods, error messages,
// status rules, ttl rules, pollInterval default, pages of 10 and sessionId
// scoping), with each task a session of the package (lib/task-sessions.js,
// the mapping it shares with the 2026-07-28 tasks extension of
// lib/tasks-extension.js): its file in `.msw/sessions/` holds the task and
// its stored result, a second process sees it, a task whose server died while
// `working` is reported `failed` at once (never for a live server), and a
// task's status follows its session.
"use strict";

const { CancellationError } = require("./index.js");
const { DEFAULT_TTL, EXTENSION_KIND, TaskSessions, expiry, isTerminal, toolErrorResult } = require("./lib/task-sessions.js");
const { SessionTasks } = require("./lib/tasks-extension.js");
const { trackRequest } = require("./lib/track-request.js");

/** `InMemoryTaskStore`'s page size of `listTasks`. */
const PAGE_SIZE = 10;
/** `InMemoryTaskStore`'s default `pollInterval`, in ms. */
const DEFAULT_POLL_INTERVAL = 1000;

/**
 * Whether a task is visible to the MCP session `sessionId` (the in-memory
 * store's rule: a task bound to one session is hidden from another).
 * @param {any} record
 * @param {string | undefined} sessionId
 */
const visibleTo = (record, sessionId) =>
  sessionId === undefined || record.sessionId === undefined || record.sessionId === sessionId;

/**
 * Checks a ttl option: a number of ms (0 or more) or null.
 * @param {string} name
 * @param {unknown} value
 */
function checkTtlOption(name, value) {
  if (value !== null && !(typeof value === "number" && value >= 0)) {
    throw Object.assign(new TypeError(`options.${name} must be a number of ms (0 or more) or null`), { code: "ERR_INVALID_ARG_TYPE" });
  }
}

class SessionTaskStore {
  /** @type {TaskSessions} */
  #tasks;
  /** @type {number | null} */
  #defaultTtl;
  /** @type {number | null} */
  #maxTtl;

  /**
   * @param {import("./mcp.js").SessionTaskStoreOptions} [options]
   */
  constructor(options = {}) {
    const { defaultTtl = DEFAULT_TTL, maxTtl = null } = options;
    checkTtlOption("defaultTtl", defaultTtl);
    checkTtlOption("maxTtl", maxTtl);
    this.#defaultTtl = defaultTtl;
    this.#maxTtl = maxTtl;
    // The 1.x store reads the tasks it wrote, never the extension's.
    this.#tasks = new TaskSessions(options, (record) => record.kind !== EXTENSION_KIND);
    // Tasks past their ttl whose server is gone have no timer left: remove them now.
    this.#tasks.all();
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
   * A task, unless it belongs to another MCP session than `sessionId`.
   * @param {unknown} taskId
   * @param {string | undefined} sessionId
   */
  #lookup(taskId, sessionId) {
    const found = this.#tasks.read(taskId);
    return found && visibleTo(found.record, sessionId) ? found : undefined;
  }

  /**
   * The task object of a stored state, as `getTask` returns it.
   * @param {string} taskId
   * @param {import("./lib/task-sessions.js").FoundTask} found
   */
  #task(taskId, found) {
    const { record } = found;
    const { status, statusMessage } = this.#tasks.status(found);
    /** @type {Record<string, unknown>} */
    const task = {
      taskId,
      status,
      ttl: record.ttl,
      createdAt: record.createdAt,
      lastUpdatedAt: record.lastUpdatedAt,
      pollInterval: record.pollInterval,
    };
    if (statusMessage !== undefined) task.statusMessage = statusMessage;
    return task;
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
    const taskId = this.#tasks.create(`mcp ${method}`, record).id;
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
    const current = this.#tasks.status(found).status;
    if (isTerminal(current)) {
      throw new Error(`Cannot store result for task ${taskId} in terminal status '${current}'. Task results can only be stored once.`);
    }
    if (!found.live) throw new Error(`Task ${taskId} is run by another process; only its server can change it`);
    found.record.result = result;
    this.#tasks.finish(taskId, found, status, undefined);
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
    const current = this.#tasks.status(found).status;
    if (isTerminal(current)) {
      throw new Error(
        `Cannot update task ${taskId} from terminal status '${current}' to '${status}'. Terminal states (completed, failed, cancelled) cannot transition to other states.`,
      );
    }
    if (!found.live) {
      // A task of another live process: only a cancel can be asked of it,
      // and its server is asked (the package's cross-process cancellation).
      if (status === "cancelled" && (await this.#tasks.cancelElsewhere(taskId, statusMessage))) return;
      throw new Error(`Task ${taskId} is run by another process; only its server can change it`);
    }
    if (isTerminal(status)) {
      this.#tasks.finish(taskId, found, status, statusMessage);
      return;
    }
    found.record.status = status;
    if (statusMessage) found.record.statusMessage = statusMessage;
    found.record.lastUpdatedAt = new Date().toISOString();
    // This task's file only: another task's state never makes this write fail.
    this.#tasks.save(taskId);
  }

  /**
   * @param {string} [cursor]
   * @param {string} [sessionId]
   * @returns {Promise<{ tasks: any[], nextCursor?: string }>}
   */
  async listTasks(cursor, sessionId) {
    const found = this.#tasks.all().filter((t) => visibleTo(t.found.record, sessionId));
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

  /** Every task, of every MCP session (for debugging, as the in-memory store's). */
  getAllTasks() {
    return this.#tasks.all().map((t) => this.#task(t.id, t.found));
  }

  /**
   * The session that runs a task of this process (its progress and token), if it still runs.
   * @param {string} taskId
   */
  sessionOf(taskId) {
    return this.#tasks.live(taskId);
  }

  /**
   * The cancellation token of a task of this process: cancelled by `tasks/cancel`.
   * @param {string} taskId
   */
  tokenOf(taskId) {
    return this.#tasks.live(taskId)?.cancellation.token;
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
    const tasks = this.#tasks;
    const session = /** @type {import("./index.js").Session} */ (tasks.live(taskId));
    const token = session.cancellation.token;
    const stop = trackRequest(extra, session, { manager: tasks.manager });
    const settle = async () => {
      try {
        /** @type {any} */
        let result;
        try {
          result = await work(session, token);
        } catch (error) {
          if (error instanceof CancellationError || token.isCancelled) {
            if (tasks.live(taskId)) tasks.manager.cancelSession(taskId, error instanceof Error ? error.message : String(error));
            tasks.settle(taskId);
            return;
          }
          await store.storeTaskResult(taskId, "failed", toolErrorResult(error));
          return;
        }
        if (token.isCancelled) tasks.settle(taskId);
        else await store.storeTaskResult(taskId, "completed", result);
      } catch {
        // The task ended meanwhile (cancelled, removed by its ttl) or the disk
        // refused: there is no one left to tell.
        tasks.abandon(taskId);
      } finally {
        stop();
      }
    };
    void settle();
    return { task };
  }

  /** Removes this store's tasks and stops their timers (the in-memory store's `cleanup`). */
  cleanup() {
    this.#tasks.cleanup();
  }

  /** Stops the timers and writes what is pending; the tasks stay on disk. */
  close() {
    this.#tasks.close();
  }
}

module.exports = { SessionTaskStore, SessionTasks, trackRequest };
