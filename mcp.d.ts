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

/** Options of {@link SessionTasks}. */
export interface SessionTasksOptions {
  /** The folder that holds `.msw/` (default: `process.cwd()`). */
  basePath?: string;
  /** How long the disk may lag behind a progress update of a task's session, in ms (default 100). */
  persistIntervalMs?: number;
  /** Use a sessions folder that another user owns or may write in (see {@link StoreOptions.trustFolder}; default `false`). */
  trustFolder?: boolean;
  /** Flush each task file to the device before a write counts as done (see {@link StoreOptions.fsync}; default `false`). */
  fsync?: boolean;
  /** The mode of new task files (see {@link StoreOptions.fileMode}; default `0o600`). */
  fileMode?: number;
  /**
   * A task's `ttlMs`: it is removed that long after it was created (a task still running then is
   * cancelled first). A whole number of ms above 0, or `null` for unlimited. Default 86,400,000
   * (one day).
   */
  defaultTtlMs?: number | null;
  /** The longest `ttlMs` a task gets, in ms (default `null`: no cap). */
  maxTtlMs?: number | null;
  /** The `pollIntervalMs` every task suggests to its client, a whole number of ms above 0 (default 1000). */
  pollIntervalMs?: number;
  /**
   * The principal a task is bound to, from the transport's auth info (`ctx.http.authInfo`); a task
   * is seen only by requests of the same principal (or, created without auth info, only by
   * requests without). Default: `authInfo.clientId`, joined with `authInfo.extra.sub` when that is
   * a string; without a `clientId`, a SHA-256 digest of `authInfo.token`.
   */
  principal?: (authInfo: TaskAuthInfo) => string | undefined;
}

/** The transport's auth info, as the SDK v2 hands it to a handler (`ctx.http.authInfo`). */
export interface TaskAuthInfo {
  token?: string;
  clientId?: string;
  scopes?: string[];
  extra?: Record<string, unknown>;
  [key: string]: unknown;
}

/** A request a task's work makes of the client while it runs: an `inputRequests` entry. */
export interface TaskInputRequest {
  /** `"elicitation/create"`, `"sampling/createMessage"` or `"roots/list"`. */
  method: string;
  params?: Record<string, unknown>;
}

/** A tool result, as the SDK's `CallToolResult` (`content`, `structuredContent`, `isError`, ...). */
export type TaskToolResult = Record<string, unknown>;

/** What a tool's work gets besides its arguments. */
export interface TaskContext<Prepared = unknown> {
  /** The task id; `undefined` when the call is not a task (a plain call). */
  id: string | undefined;
  /**
   * The task's session: report progress on it (`session.progress.setProgress(40, "reading")`; the
   * current step is the task's `statusMessage`). A plain call gets a session too, removed when it ends;
   * its progress goes to the client as `notifications/progress` when the request has a `progressToken`
   * (see {@link trackRequest}).
   */
  session: Session;
  /** Cancelled by `tasks/cancel` (in this server or another on the folder), `msw-session cancel`, the ttl, or a plain call's client cancel. */
  token: CancellationToken;
  /** What the tool's `before` returned (stored with the task, so a task taken over after a restart gets it too). */
  prepared: Prepared | undefined;
  /** The transport's auth info of the request that created the task (`undefined` for a task taken over after a restart). */
  authInfo: TaskAuthInfo | undefined;
  /**
   * Asks the client for input while the task runs: the task is `input_required` with `request`
   * under `key` in its `inputRequests` (written to disk) until a `tasks/update` answers it; resolves
   * with the answer (an `ElicitResult`, ...). Keys are unique over the task's lifetime: asking again
   * with an answered key returns that answer at once (a task taken over after a restart runs its
   * tool again). Default key: `input-<n>` for the n-th call. Several may be outstanding at once.
   * In a plain call it rejects: input needs a task.
   */
  input(request: TaskInputRequest, key?: string): Promise<Record<string, unknown>>;
}

/** A tool's configuration: `McpServer#registerTool`'s, plus its task policy and `before`. */
export interface TaskToolConfig<Args = any, Prepared = unknown> {
  /**
   * `"never"`: always a plain call. `"optional"` (default): a task when the request declares the
   * extension, else a plain call. `"required"`: a task; a request without the extension gets
   * `-32021` with `requiredCapabilities`, and the work does not run.
   */
  task?: "never" | "optional" | "required";
  /**
   * Runs on the call itself, before any task exists: a result with `resultType: "input_required"`
   * (the SDK's `inputRequired(...)`) goes back to the client as it is (a multi round-trip request);
   * anything else is the work's `prepared` (JSON, stored with the task).
   */
  before?: (args: Args, ctx: any) => Prepared | Record<string, unknown> | Promise<Prepared | Record<string, unknown>>;
  /** The SDK's tool configuration: `title`, `description`, `inputSchema`, `annotations`, ... */
  [sdkOption: string]: unknown;
}

/** The part of a v2 `McpServer` that {@link SessionTasks.enable} uses. */
export interface TasksCapableServer {
  registerTool(name: string, config: any, callback: (...args: any[]) => any): unknown;
  server: {
    registerCapabilities(capabilities: Record<string, unknown>): void;
    setRequestHandler(method: string, schemas: any, handler: (...args: any[]) => any): void;
  };
}

/**
 * The MCP tasks extension (`io.modelcontextprotocol/tasks`, spec revision 2026-07-28) for servers
 * on the SDK v2 (`@modelcontextprotocol/server` ^2.4), on the session store. Make one per process;
 * call {@link SessionTasks.enable} on every `McpServer` (one per stdio connection, or per HTTP
 * request with `createMcpHandler`). Each task is a session: on disk before its `CreateTaskResult`
 * is sent, seen by a restarted server and by other processes on the folder, `failed` at once
 * (with a JSON-RPC error) when its server died while working, still `input_required` with its
 * requests when its server died while waiting for input. See the README, "Using it in an MCP server".
 */
export declare class SessionTasks {
  constructor(options?: SessionTasksOptions);
  /**
   * Registers a tool on every server {@link enable} is called on afterwards. The work gets its
   * arguments (as the SDK validated them) and a {@link TaskContext}; what it returns is the task's
   * `completed` result (`isError` results too); a thrown error with an integer `code` makes the task
   * `failed` with that JSON-RPC error; a `CancellationError` (or any throw once the token is
   * cancelled) makes it `cancelled`; any other throw is a `completed` result with `isError: true`.
   */
  registerTool<Args = any, Prepared = unknown>(
    name: string,
    config: TaskToolConfig<Args, Prepared>,
    handler: (args: Args, task: TaskContext<Prepared>) => TaskToolResult | Promise<TaskToolResult>,
  ): void;
  /**
   * Enables the extension on a v2 `McpServer`, before it is connected: advertises
   * `capabilities.extensions["io.modelcontextprotocol/tasks"]` as `{}`; answers `tasks/get`,
   * `tasks/update` and `tasks/cancel` (`-32021` for a request without the extension, `-32602` for a
   * task that does not exist or is not the caller's); registers the tools of {@link registerTool}.
   * Returns the server.
   * @throws Error when the SDK keeps its `tools/call` handler elsewhere than 2.4 does (see the README).
   */
  enable<S extends TasksCapableServer>(server: S): S;
  /**
   * Wraps a stdio transport (the SDK's `StdioServerTransport`) for `serveStdio(factory, { transport })`,
   * so that a `subscriptions/listen` for `taskIds` gets `notifications/tasks` (the SDK alone drops
   * them): `-32021` for a request without the extension; the acknowledgement names the task ids
   * honoured (those that exist and the caller may see); then each one's state at once, and again
   * after each change of its status or input requests made by this process, until the listen is
   * cancelled. Streamable HTTP has no such hook (see the README).
   */
  listen<T>(transport: T): T;
  /** Removes the tasks this object created and stops their ttl timers. */
  cleanup(): void;
  /** Stops the ttl timers and writes what is pending; the tasks stay on disk. */
  close(): void;
}
