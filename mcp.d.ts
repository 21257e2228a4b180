// msw-session/mcp: durable MCP tasks on the session store (see README, "Using it in an MCP server").
import type { CreateTaskOptions, CreateTaskRequestHandlerExtra, TaskStore } from "@modelcontextprotocol/sdk/experimental/tasks" with { "resolution-mode": "import" };
import type { CreateTaskResult, Request, RequestId, Result, ServerNotification, Task } from "@modelcontextprotocol/sdk/types.js" with { "resolution-mode": "import" };
import type { CancellationToken, Session, SessionManager, StoreOptions } from "./index.js";

/** Options of a {@link SessionTaskStore}. */
export interface SessionTaskStoreOptions {
  /** The folder that holds `.msw/` (default: `process.cwd()`). */
  basePath?: string;
  /** How long the disk may lag behind a progress update of a task's session, in ms (default 100). */
  persistIntervalMs?: number;
  /**
   * Use a sessions folder that another user owns or may write in (see {@link StoreOptions.trustFolder}:
   * that user can then replace, remove or plant task files). Default `false`: such a folder is
   * refused with `ERR_UNSAFE_FOLDER` by the constructor.
   */
  trustFolder?: boolean;
  /** Flush each task file to the device before a write counts as done (see {@link StoreOptions.fsync}; default `false`). */
  fsync?: boolean;
  /** The mode of new task files (see {@link StoreOptions.fileMode}; default `0o600`). */
  fileMode?: number;
  /**
   * The ttl, in ms, of a task created without one (`ttl` absent or `null`): it is removed that
   * long after it was created, and again after it ended (the in-memory store's rule). Default
   * 86,400,000 (one day), so that no task stays on disk forever; `null` keeps such a task, as
   * `InMemoryTaskStore` does.
   */
  defaultTtl?: number | null;
  /** The longest ttl a task gets, in ms, whatever the client asked (default `null`: no cap). */
  maxTtl?: number | null;
}

/**
 * The MCP SDK's `TaskStore` on the session store: a drop-in for `InMemoryTaskStore` (same
 * methods, error messages, status rules, ttl rules, `pollInterval` default of 1000 ms, pages of
 * 10, `sessionId` scoping) whose tasks and results live in `.msw/sessions/`, are seen by other
 * processes, and are reported `failed` at once when their server process died while working. A
 * task's status follows its session: cancelled by anything (`tasks/cancel` sent to this server or
 * to another on the folder, its token, {@link trackRequest}, `msw-session cancel`), it is
 * `cancelled`. A read of one task reads one file, whatever the folder holds.
 */
export declare class SessionTaskStore implements TaskStore {
  constructor(options?: SessionTaskStoreOptions);
  createTask(taskParams: CreateTaskOptions, requestId: RequestId, request: Request, sessionId?: string): Promise<Task>;
  getTask(taskId: string, sessionId?: string): Promise<Task | null>;
  storeTaskResult(taskId: string, status: "completed" | "failed", result: Result, sessionId?: string): Promise<void>;
  getTaskResult(taskId: string, sessionId?: string): Promise<Result>;
  updateTaskStatus(taskId: string, status: Task["status"], statusMessage?: string, sessionId?: string): Promise<void>;
  listTasks(cursor?: string, sessionId?: string): Promise<{ tasks: Task[]; nextCursor?: string }>;
  /** Every task of every MCP session, oldest first. */
  getAllTasks(): Task[];
  /** The session that runs a task of this process (report progress on it), while it runs. */
  sessionOf(taskId: string): Session | undefined;
  /** The token of a task of this process, cancelled by `tasks/cancel`: pass it to the tool's work. */
  tokenOf(taskId: string): CancellationToken | undefined;
  /**
   * A task tool's `createTask` handler in one call: creates the task (ttl as the client asked,
   * else `defaultTtl`), starts `work` with the task's session (report progress on it; it goes to
   * the client as `notifications/progress` when the request has a `progressToken`) and its token
   * (cancelled by `tasks/cancel` in this server or another on the folder, by `msw-session cancel`
   * and by every other cancel of the session), and returns the `CreateTaskResult` at once. When
   * `work` ends: what it returns is stored as the `completed` result; a `CancellationError` (or
   * any throw once the token is cancelled) makes the task `cancelled`; any other throw is stored
   * as a `failed` result (`isError: true`, the error's message as its text).
   *
   * ```js
   * server.experimental.tasks.registerToolTask("research", { inputSchema }, {
   *   createTask: (input, extra) => taskStore.run(extra, (session, token) => research(input, session, token)),
   *   getTask: (_input, extra) => extra.taskStore.getTask(extra.taskId),
   *   getTaskResult: (_input, extra) => extra.taskStore.getTaskResult(extra.taskId) as Promise<CallToolResult>,
   * });
   * ```
   */
  run(extra: CreateTaskRequestHandlerExtra, work: (session: Session, token: CancellationToken) => Result | Promise<Result>): Promise<CreateTaskResult>;
  /** Removes the tasks this store created and stops their ttl timers. */
  cleanup(): void;
  /** Stops the ttl timers and writes what is pending; the tasks stay on disk. */
  close(): void;
}

/** Options of {@link trackRequest}. */
export interface TrackRequestOptions {
  /** The least time between two progress notifications, in ms (default 100). */
  intervalMs?: number;
  /** The session's manager: a client's cancel then goes through `cancelSession` (written at once). */
  manager?: SessionManager;
}

/** What {@link trackRequest} needs of the SDK handler's `extra`. */
export interface RequestExtra {
  signal?: AbortSignal;
  _meta?: { progressToken?: string | number };
  sendNotification?: (notification: ServerNotification) => Promise<void>;
}

/**
 * Ties a plain tool call to a session: its progress goes to the client as
 * `notifications/progress` (when the request has a `progressToken`: `progress` is
 * `completedSteps` with `total` `totalSteps` when the tracker has a step total, else the
 * percentage with `total` 100; `message` is the current step; sent only when progress grew, at
 * most once per `intervalMs`, the latest state trailing), and the client's cancel
 * (`extra.signal`) cancels the session. Returns a function that stops both.
 */
export declare function trackRequest(extra: RequestExtra, session: Session, options?: TrackRequestOptions): () => void;
