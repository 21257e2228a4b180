// msw-session/mcp: durable MCP tasks on the session store (see README, "Using it in an MCP server").
import type { CreateTaskOptions, TaskStore } from "@modelcontextprotocol/sdk/experimental/tasks" with { "resolution-mode": "import" };
import type { Request, RequestId, Result, ServerNotification, Task } from "@modelcontextprotocol/sdk/types.js" with { "resolution-mode": "import" };
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
}

/**
 * The MCP SDK's `TaskStore` on the session store: a drop-in for `InMemoryTaskStore` (same
 * methods, error messages, status rules, ttl rules, `pollInterval` default of 1000 ms, pages of
 * 10, `sessionId` scoping) whose tasks and results live in `.msw/sessions/`, are seen by other
 * processes, and are reported `failed` at once when their server process died while working.
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
