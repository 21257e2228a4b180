/**
 * msw-session: cancellation tokens, progress tracking and crash-resilient
 * session state, implemented in Rust. A drop-in for MSW's `src/session/`:
 * `export * from "msw-session"`.
 *
 * Every error the package throws carries a stable `code` (see {@link ErrorCode}).
 *
 * @packageDocumentation
 */

/**
 * The `code` property of every error the package throws.
 *
 * - `ERR_INVALID_ARG_TYPE` (`TypeError`): an argument has the wrong type.
 * - `ERR_OUT_OF_RANGE` (`RangeError`): a number is NaN, negative or too large.
 * - `ERR_INVALID_SESSION_ID` (`TypeError`): a session id that is not a plain file name.
 * - `ERR_INVALID_SESSION_STATE` (`TypeError`): a malformed `SessionState` object.
 * - `ERR_CONTEXT_NOT_SERIALIZABLE` (`TypeError`): `JSON.stringify` refused a context
 *   (a cycle, a `BigInt`); the original error is the `cause`.
 * - `ERR_SESSION_IO` (`Error`): the disk refused; the message names the path and
 *   the OS reason, and `path` holds the path.
 * - `ERR_UNSAFE_FOLDER` (`Error`): a folder of the sessions folder (`.msw`,
 *   `.msw/sessions`, its `owners/` or `requests/`) is a symbolic link, or is
 *   owned by another user, or others may write in it; the message names the
 *   folder and what is wrong, and `path` holds it. Nothing was read from it
 *   or written to it. See {@link StoreOptions.trustFolder}.
 * - `ERR_INTERNAL` (`Error`): a bug in the package (a Rust panic or a poisoned lock),
 *   caught before it could crash the process.
 */
export type ErrorCode =
  | "ERR_INVALID_ARG_TYPE"
  | "ERR_OUT_OF_RANGE"
  | "ERR_INVALID_SESSION_ID"
  | "ERR_INVALID_SESSION_STATE"
  | "ERR_CONTEXT_NOT_SERIALIZABLE"
  | "ERR_SESSION_IO"
  | "ERR_UNSAFE_FOLDER"
  | "ERR_INTERNAL";

/**
 * The read side of cooperative cancellation: operations check it, or register
 * a callback, to learn that they should stop.
 *
 * `isCancelled` reads memory shared with the Rust core, so a cancel made on
 * any thread (a timer, another session handle) is seen at once, without a
 * call into native code.
 */
export declare class CancellationToken {
  /** A token that is not cancelled; only a `CancellationSource` (or `_cancel`) cancels it. */
  constructor();
  /** Whether cancellation has been requested. */
  get isCancelled(): boolean;
  /** The reason given to the first `cancel`, or `undefined`. */
  get reason(): string | undefined;
  /**
   * An `AbortSignal` (the same object on every read) aborted with a
   * {@link CancellationError} carrying the reason when the token is
   * cancelled — for `fetch`, streams and every API that takes a signal. A
   * cancellation made on another thread aborts it when this thread's event
   * loop next turns (`isCancelled` sees it at once).
   */
  get signal(): AbortSignal;
  /**
   * Registers `callback` to run once when the token is cancelled, with the
   * reason. Callbacks run in registration order; one that throws does not stop
   * the others. When the token is already cancelled the callback runs at once.
   *
   * @returns a function that removes the callback (calling it twice is harmless).
   * @throws TypeError `ERR_INVALID_ARG_TYPE` when `callback` is not a function.
   */
  onCancelled(callback: (reason?: string) => void): () => void;
  /**
   * Throws a {@link CancellationError} carrying the reason when cancelled.
   */
  throwIfCancelled(): void;
  /**
   * Cancels the token. Kept because the reference module exposes it; prefer
   * `CancellationSource#cancel`.
   *
   * @throws TypeError `ERR_INVALID_ARG_TYPE` when `reason` is neither a string nor undefined.
   */
  _cancel(reason?: string): void;
}

/**
 * The write side of cancellation: the controller holds the source and hands
 * `source.token` to the operation.
 */
export declare class CancellationSource {
  /** A source with a fresh, uncancelled token. */
  constructor();
  /**
   * A source cancelled when any parent is — at once if one already is — with
   * that parent's reason (an `AbortSignal`'s reason becomes a string: a
   * `CancellationError`'s reason, an `Error`'s message, or `String(reason)`).
   * Cancelling the new source never cancels a parent. Call `dispose()` when
   * done to release the links.
   *
   * @throws TypeError `ERR_INVALID_ARG_TYPE` for a parent of another kind.
   */
  static linked(...parents: Array<CancellationToken | CancellationSource | AbortSignal>): CancellationSource;
  /**
   * Releases this source's links to its parents and the timer of a
   * `createTimeoutToken` source. The token keeps its state.
   */
  dispose(): void;
  /** The token of this source; the same object on every read. */
  get token(): CancellationToken;
  /**
   * Requests cancellation. The first call wins: later calls change nothing.
   *
   * @throws TypeError `ERR_INVALID_ARG_TYPE` when `reason` is neither a string nor undefined.
   */
  cancel(reason?: string): void;
  /** Whether the token is cancelled. */
  get isCancelled(): boolean;
}

/**
 * Thrown by `throwIfCancelled`. `name` is `"CancellationError"`; the message is
 * the reason, or `"Operation was cancelled"` without one.
 */
export declare class CancellationError extends Error {
  constructor(reason?: string);
  /** The cancellation reason, or `undefined`. */
  readonly reason: string | undefined;
}

/**
 * Returns a source that cancels itself after `timeoutMs` milliseconds with the
 * reason `` `Timeout after ${timeoutMs}ms` ``. The timer runs on the package's
 * timer thread and does not keep Node's event loop alive; token callbacks are
 * delivered on the thread that created the source.
 *
 * @throws TypeError `ERR_INVALID_ARG_TYPE` when `timeoutMs` is not a number.
 * @throws RangeError `ERR_OUT_OF_RANGE` when it is NaN or negative.
 */
export declare function createTimeoutToken(timeoutMs: number): CancellationSource;

/** The life cycle of a tracked operation. */
export type ProgressStatus = "pending" | "running" | "completed" | "failed" | "cancelled";

/**
 * A snapshot of a tracker, with the reference's keys in the reference's order: an optional field
 * is absent until a change sets it, and one set to `undefined` (`totalSteps` after `start()`,
 * `currentStep` after a change without a step) is present with that value; keys come in the order
 * the tracker's changes first set them.
 */
export interface ProgressState {
  /** The session the tracker belongs to. */
  sessionId: string;
  /** What is being done. */
  operation: string;
  /** Where the operation is in its life cycle. */
  status: ProgressStatus;
  /** Percentage done, always within 0..100 (fractions are kept). */
  progress: number;
  /** The step being worked on, when one was named. */
  currentStep?: string;
  /** The number of steps announced by `start`. */
  totalSteps?: number;
  /** Steps completed so far. */
  completedSteps?: number;
  /** When the tracker was created (ISO 8601, as `Date#toISOString`). */
  startedAt: string;
  /** When the state last changed (ISO 8601). */
  updatedAt: string;
  /** The failure or cancellation message. */
  error?: string;
  /** Estimated time of completion (ISO 8601). */
  eta?: string;
}

/** A progress listener. */
export type ProgressCallback = (state: ProgressState) => void;

/**
 * Progress of one long-running operation. Each change notifies the listeners
 * synchronously, in registration order, once per change; a listener that
 * throws does not affect the others.
 */
export declare class ProgressTracker {
  /**
   * A tracker in status `pending` at 0 %.
   *
   * @throws TypeError `ERR_INVALID_ARG_TYPE` when an argument is not a string.
   */
  constructor(sessionId: string, operation: string);
  /**
   * Registers a listener for every change.
   *
   * @returns a function that removes the listener.
   * @throws TypeError `ERR_INVALID_ARG_TYPE` when `callback` is not a function.
   */
  onProgress(callback: ProgressCallback): () => void;
  /**
   * Sets status `running`, `completedSteps` to 0 and `totalSteps` to the argument.
   *
   * @throws TypeError `ERR_INVALID_ARG_TYPE` for a non-number; RangeError
   * `ERR_OUT_OF_RANGE` unless a whole number from 0 to 2^53 - 1.
   */
  start(totalSteps?: number): void;
  /**
   * Sets the percentage, clamped to 0..100, and the current step (cleared when omitted).
   *
   * @throws TypeError `ERR_INVALID_ARG_TYPE` for a non-number or a non-string step;
   * RangeError `ERR_OUT_OF_RANGE` for NaN.
   */
  setProgress(progress: number, currentStep?: string): void;
  /**
   * Counts one completed step and sets the percentage to
   * `Math.round(done / (total || done) * 100)`, never above 100.
   *
   * @throws TypeError `ERR_INVALID_ARG_TYPE` for a non-string step name.
   */
  completeStep(stepName?: string): void;
  /**
   * Sets the steps as they are: `completedSteps` to `done`, `totalSteps` to
   * `totalSteps` (kept as it is when omitted), the current step to `step`
   * (cleared when omitted), and the percentage as `completeStep` computes it
   * (`Math.round(done / (total || done) * 100)`, at most 100; 0 for 0 of 0).
   * The status is left as it is; `updatedAt` is set. For a job that reports
   * "step 3 of 5" rather than counting steps one by one. New in this package.
   *
   * @throws TypeError `ERR_INVALID_ARG_TYPE` for a non-number count or a
   * non-string step; RangeError `ERR_OUT_OF_RANGE` unless each count is a
   * whole number from 0 to 2^53 - 1.
   */
  setSteps(done: number, totalSteps?: number, step?: string): void;
  /** Sets status `completed` and progress 100. */
  complete(): void;
  /**
   * Sets status `failed` with the message.
   *
   * @throws TypeError `ERR_INVALID_ARG_TYPE` when `error` is not a string.
   */
  fail(error: string): void;
  /**
   * Sets status `cancelled` with the reason (default `"Cancelled by user"`).
   *
   * @throws TypeError `ERR_INVALID_ARG_TYPE` when `reason` is neither a string nor undefined.
   */
  cancel(reason?: string): void;
  /**
   * Sets the estimated time of completion.
   *
   * @throws TypeError `ERR_INVALID_ARG_TYPE` when `eta` is not a `Date`;
   * RangeError `ERR_OUT_OF_RANGE` for an invalid date.
   */
  setEta(eta: Date): void;
  /** A copy of the current state. */
  getState(): ProgressState;
  /** Whether the status is `running`. */
  isRunning(): boolean;
  /**
   * What the measured rate predicts: by steps when `start` gave a step total,
   * else by percent. The rate is smoothed over time (a plain average over the
   * first 10 s, then an exponentially weighted one with a 10 s time
   * constant), so bursts and pauses move it gradually. `undefined` until
   * progress has been seen twice. `getState()` is unchanged by it.
   */
  estimate(): ProgressEstimate | undefined;
}

/** What `ProgressTracker#estimate` returns. */
export interface ProgressEstimate {
  /** Steps per second (`unit: "steps"`) or percent per second (`unit: "percent"`). */
  ratePerSec: number;
  /** Time left at that rate, in ms. */
  remainingMs: number;
  /** The estimated time of completion. */
  eta: Date;
  /** What the rate counts. */
  unit: "steps" | "percent";
}

/**
 * Formats a state as a 30-character bar, the percentage as JavaScript prints
 * it, the operation and the step: `[###---…] 10% op - step`.
 *
 * @throws TypeError `ERR_INVALID_ARG_TYPE` when `state` is not an object with a
 * numeric `progress`.
 */
export declare function formatProgress(state: ProgressState): string;

/**
 * The state of a session as stored in `.msw/sessions/<id>.json`.
 *
 * `status` is `active` for a pending or running session; `cancelled` is new
 * in this package (the reference stored `completed` for every finished session).
 */
export interface SessionState {
  /** The session id, also the file name. */
  id: string;
  /** What the session does. */
  operation: string;
  /** The stored status. */
  status: "active" | "completed" | "failed" | "cancelled" | "crashed";
  /** The tracker's state. */
  progress: ProgressState;
  /** Operation-specific data for resumption, stored with `JSON.stringify` semantics. */
  context: Record<string, unknown>;
  /** When the session was created (ISO 8601). */
  createdAt: string;
  /** When the file was written (ISO 8601). */
  updatedAt: string;
  /** Set on copies returned by `findCrashedSessions` (ISO 8601). */
  crashedAt?: string;
  /**
   * The process that owns the live session (written by this package; absent
   * in files written by the reference module, which ignores it).
   */
  owner?: SessionOwner;
}

/** The owner of a live session, as recorded in its file. */
export interface SessionOwner {
  /** The owning process id. */
  pid: number;
  /** The host name of the owner's machine. */
  host: string;
  /** A random id of the owning process: unlike a pid, never reused. */
  instance: string;
  /** When the owner took the session (ISO 8601). */
  since: string;
}

/**
 * What can be said of a session's owner, judged from its file (the rule the
 * crash scan follows):
 * - `alive`: active, and its owner's lock is held (the owner is at work);
 * - `crashed`: active, and its owner is gone — at once when its lock shows
 *   it, or, where the owner cannot be checked, once the file is older than the
 *   stale threshold;
 * - `unknown`: active, its owner cannot be checked (another host, or a file
 *   without an owner record, as the reference writes), and the file is not yet
 *   older than the threshold;
 * - `finished`: not active (completed, failed or cancelled).
 */
export type OwnerState = "alive" | "crashed" | "unknown" | "finished";

/** A session as `inspect` and `listStates` find it. */
export interface SessionInspection {
  /**
   * The state as stored: an active session whose owner crashed says
   * `status: "active"` here, and `ownerState` says `"crashed"`.
   */
  state: SessionState;
  /** What can be said of its owner. */
  ownerState: OwnerState;
}

/** Which sessions `listStates` lists; an absent field admits any. */
export interface StateFilter {
  /** Only sessions of this operation. */
  operation?: string;
  /**
   * Only sessions with this stored status (`ownerState` is not a filter:
   * `status: "active"` lists alive, unknown and crashed ones).
   */
  status?: SessionState["status"];
}

/** How session files are written. */
export interface StoreOptions {
  /**
   * Flush every file, and its folder after the rename, to the device before a
   * write counts as done: survives power loss, at the cost of a device flush
   * per write (see the README for measured costs). Default `false`.
   */
  fsync?: boolean;
  /**
   * The mode of new session and lock files (default `0o600`); the folder gets
   * the same bits plus search wherever read is allowed (`0o700`). Must let
   * the owner read and write.
   */
  fileMode?: number;
  /**
   * Use the sessions folder even where it is unsafe. By default (`false`),
   * before anything is read or written, `.msw`, `.msw/sessions` and its
   * `owners/` and `requests/` folders (those that exist) must each be not
   * a symbolic link, owned by the current user, and not writable
   * by group or others beyond what `fileMode` gives (on Windows: owned by the
   * current user, and no entry of its access list lets Everyone,
   * Authenticated Users or Users write); one that is not is refused with
   * Error `ERR_UNSAFE_FOLDER`. `true` skips these checks.
   *
   * **Risk:** whoever else controls the folder can replace, remove or plant
   * session files: a planted `active` session would be offered to
   * `findCrashedSessions`/`resumeSession` as yours. Even with `true`, a
   * session file that another user owns is never reported as crashed,
   * resumed, loaded or cancelled: it is moved aside as a corrupt file is
   * (see `corruptFiles()`), never deleted.
   */
  trustFolder?: boolean;
}

/**
 * Session files in `<basePath>/.msw/sessions/`. Every id is checked: one that
 * is not a plain file name is refused with `ERR_INVALID_SESSION_ID`, except
 * by `inspect`, which answers `undefined` for it.
 */
export declare class SessionStateStore {
  /**
   * @param basePath the folder that holds `.msw/` (default `process.cwd()`).
   * @param options how files are written.
   * @throws TypeError `ERR_INVALID_ARG_TYPE` when `basePath` is not a string;
   * RangeError `ERR_OUT_OF_RANGE` for a `fileMode` that does not let the owner
   * read and write; Error `ERR_UNSAFE_FOLDER` for a folder another user
   * controls (see {@link StoreOptions.trustFolder}).
   */
  constructor(basePath?: string, options?: StoreOptions);
  /**
   * The sessions folder, `<basePath>/.msw/sessions` (an absolute path when
   * `basePath` is), with the platform's separators. It may not exist yet:
   * the first write makes it. New in this package.
   */
  readonly dir: string;
  /**
   * Files that could not be read as a session state. Such a file is never
   * deleted: the first read that fails moves it aside to
   * `<id>.json.corrupt` (`.corrupt.1`, … when taken) and this lists their paths.
   */
  corruptFiles(): string[];
  /**
   * Writes the state (pretty-printed JSON), creating the folder when needed.
   *
   * @throws TypeError `ERR_INVALID_SESSION_STATE` for a malformed state,
   * `ERR_INVALID_SESSION_ID` for a bad id; Error `ERR_SESSION_IO` when the disk refuses.
   */
  save(state: SessionState): void;
  /**
   * Reads a session file; `undefined` when it is missing or unreadable (an
   * unreadable file is moved aside; see `corruptFiles`).
   *
   * @throws TypeError `ERR_INVALID_SESSION_ID` for a bad id.
   */
  load(sessionId: string): SessionState | undefined;
  /**
   * Deletes a session file; `true` when one was deleted.
   *
   * @throws TypeError `ERR_INVALID_SESSION_ID` for a bad id.
   */
  remove(sessionId: string): boolean;
  /** The ids of all session files. */
  listSessions(): string[];
  /**
   * Active sessions whose owner is gone, as copies marked `status: "crashed"`
   * with `crashedAt`. A session whose owner on this machine has exited (or
   * was killed) is found at once; one whose owner is alive is never reported,
   * however long it has been quiet. Only where liveness cannot be checked —
   * an owner on another host, a file written by the reference module — a
   * session counts as crashed when not updated for longer than
   * `staleThresholdMs` (default 60000). A file that another user owns is
   * never reported: it is moved aside as a corrupt file is.
   *
   * @throws RangeError `ERR_OUT_OF_RANGE` for NaN or a negative threshold.
   */
  findCrashedSessions(staleThresholdMs?: number): SessionState[];
  /**
   * Removes finished sessions older than `maxAgeDays` (default 7).
   *
   * @returns how many files were removed.
   * @throws RangeError `ERR_OUT_OF_RANGE` for NaN or a negative age.
   */
  cleanup(maxAgeDays?: number): number;
  /**
   * Removes finished sessions (completed, failed, cancelled) last written
   * `olderThanMs` milliseconds ago or more (fractions allowed): retention
   * in the unit servers use. `0` removes every finished session, one that
   * finished in this very millisecond included (the days form, as the
   * reference's, keeps such a session: its age must exceed the limit).
   * New in this package.
   *
   * @returns how many files were removed.
   * @throws TypeError `ERR_INVALID_ARG_TYPE` when `olderThanMs` is not a number;
   * RangeError `ERR_OUT_OF_RANGE` for NaN or a negative age.
   */
  cleanup(options: { olderThanMs: number }): number;
  /**
   * One session with its owner's state, from one read of its file and at
   * most one probe of a lock: its cost does not grow with the number of
   * files in the folder. `undefined` when there is no such session (no file,
   * a file moved aside as unreadable) and for an id that is not a session id
   * (`"../x"`, `""`, a non-string): a lookup by an id a client sent needs no
   * `try`/`catch` (see {@link isSessionId}). New in this package.
   *
   * @param options.staleMs the threshold for owners that cannot be checked
   * (see {@link OwnerState}; default 60000, as `findCrashedSessions`).
   * @throws TypeError `ERR_INVALID_ARG_TYPE` for options of the wrong type;
   * RangeError `ERR_OUT_OF_RANGE` for a NaN or negative `staleMs`.
   */
  inspect(sessionId: string, options?: { staleMs?: number }): SessionInspection | undefined;
  /**
   * Every session the filter admits, with its owner's state, in the order of
   * the sorted file names: each file read once (a session whose owner is found
   * gone is read a second time, to tell a crash from a session its owner
   * finished just before it exited). Unreadable files are moved aside and left
   * out (see `corruptFiles`). New in this package.
   *
   * @param filter.staleMs as for {@link SessionStateStore.inspect}.
   * @throws TypeError `ERR_INVALID_ARG_TYPE` for a filter of the wrong type;
   * RangeError `ERR_OUT_OF_RANGE` for an unknown `status` or a NaN or negative `staleMs`.
   */
  listStates(filter?: StateFilter & { staleMs?: number }): SessionInspection[];
  /**
   * Settles a dead owner's sessions: marks every crashed session `failed` on
   * disk, with `fail` as its error, which makes it final (no longer reported
   * by `findCrashedSessions`, no longer resumable) and removable by `cleanup`.
   * Each is checked again and written under its claim, as `resumeSession`
   * takes it: of a recovery and a resume of one session exactly one acts.
   * New in this package.
   *
   * @param options.staleMs as for {@link SessionStateStore.inspect}.
   * @returns the ids of the sessions marked, sorted.
   * @throws TypeError `ERR_INVALID_ARG_TYPE` when `fail` is not a string;
   * Error `ERR_SESSION_IO` naming each session that could not be written
   * (the others are marked all the same).
   */
  recoverCrashed(options: { fail: string; staleMs?: number }): string[];
}

/** A live session: what `SessionManager#createSession` returns. */
export interface Session {
  /** A random UUID, also the file name. */
  id: string;
  /** What the session does. */
  operation: string;
  /** The session's tracker; every change is saved. */
  progress: ProgressTracker;
  /** The session's cancellation source. */
  cancellation: CancellationSource;
  /** The object passed to `createSession`; in-place changes are written by the next save. */
  context: Record<string, unknown>;
  /** When the session was created. */
  createdAt: Date;
}

/** Options of a `SessionManager`. */
export interface SessionManagerOptions extends StoreOptions {
  /** The folder that holds `.msw/` (default `process.cwd()`). */
  basePath?: string;
  /** How often `startAutoSave` saves every session, in ms (default 5000). */
  autoSaveIntervalMs?: number;
  /**
   * The longest the disk may lag behind a progress update, in ms (default
   * 100). Updates return without waiting for the disk; a background writer
   * writes each changed session's latest state. `0` writes every update
   * before it returns, as the reference does.
   */
  persistIntervalMs?: number;
}

/**
 * Tracks live sessions, persists them and finds crashed ones.
 */
export declare class SessionManager {
  /**
   * @throws TypeError `ERR_INVALID_ARG_TYPE` for options of the wrong type;
   * RangeError `ERR_OUT_OF_RANGE` for an interval that is not a positive number;
   * Error `ERR_UNSAFE_FOLDER` for a folder another user controls (see
   * {@link StoreOptions.trustFolder}).
   */
  constructor(options?: SessionManagerOptions);
  /**
   * Saves every session each `autoSaveIntervalMs`, on this thread, without
   * keeping the event loop alive. Calling it again changes nothing.
   */
  startAutoSave(): void;
  /** Stops auto-save. */
  stopAutoSave(): void;
  /**
   * Creates a session and writes its file.
   *
   * @throws TypeError `ERR_INVALID_ARG_TYPE`, `ERR_CONTEXT_NOT_SERIALIZABLE`;
   * Error `ERR_SESSION_IO`. A refused call leaves nothing behind.
   */
  createSession(operation: string, context?: Record<string, unknown>): Session;
  /** The session with that id (the object `createSession` returned), or `undefined`. */
  getSession(id: string): Session | undefined;
  /** Sessions whose tracker is running. */
  getActiveSessions(): Session[];
  /** All sessions of this manager, running or not. */
  getAllSessions(): Session[];
  /**
   * Cancels the token and the tracker and saves; the session stays in memory.
   *
   * @returns `false` for an unknown id.
   */
  cancelSession(id: string, reason?: string): boolean;
  /**
   * Completes the tracker, saves and forgets the session.
   *
   * @returns `false` for an unknown id.
   */
  completeSession(id: string): boolean;
  /**
   * Fails the tracker with `error`, saves and forgets the session.
   *
   * @returns `false` for an unknown id.
   */
  failSession(id: string, error: string): boolean;
  /**
   * Forgets a finished session — completed, failed or cancelled through its
   * tracker or `cancelSession` — and keeps its file as it is (written once
   * more only when it changed since the last write): how a long-lived
   * process lets go of a cancelled session without turning it `completed`,
   * as `completeSession` does after `cancelSession` (as the reference's does).
   * New in this package.
   *
   * @returns `false` for an unknown id, or a session still pending or
   * running (it stays live: finish it first).
   * @throws TypeError `ERR_INVALID_ARG_TYPE` when `id` is not a string;
   * Error `ERR_SESSION_IO` when the write failed (the session stays live).
   */
  releaseSession(id: string): boolean;
  /**
   * Writes one live session's file now, reading its context anew, without
   * writing any other (unlike `saveAllSessions`). New in this package.
   *
   * @returns `false` for an unknown id.
   * @throws TypeError `ERR_INVALID_ARG_TYPE`, `ERR_CONTEXT_NOT_SERIALIZABLE`;
   * Error `ERR_SESSION_IO` (the session stays due for the next write).
   */
  saveSession(id: string): boolean;
  /**
   * One session of this manager's folder — this process's or another's —
   * with its owner's state (see {@link SessionStateStore.inspect}; threshold
   * 60000 ms). `undefined` when there is none, and for an id that is not a
   * session id, a non-string included: never an exception. New in this package.
   */
  inspect(id: string): SessionInspection | undefined;
  /**
   * Every session of this manager's folder that the filter admits, with its
   * owner's state, each file read once (see {@link SessionStateStore.listStates}).
   * New in this package.
   *
   * @throws TypeError `ERR_INVALID_ARG_TYPE` for a filter of the wrong type;
   * RangeError `ERR_OUT_OF_RANGE` for an unknown `status`.
   */
  listStates(filter?: StateFilter): SessionInspection[];
  /**
   * Marks every crashed session of this manager's folder `failed` on disk
   * with `fail` as its error (see {@link SessionStateStore.recoverCrashed}).
   * New in this package.
   *
   * @returns the ids of the sessions marked, sorted.
   */
  recoverCrashed(options: { fail: string }): string[];
  /**
   * Registers a listener for every session's updates.
   *
   * @returns a function that removes the listener.
   */
  onProgress(callback: ProgressCallback): () => void;
  /** Crashed sessions in this manager's folder (see `SessionStateStore#findCrashedSessions`). */
  findCrashedSessions(): SessionState[];
  /** Files of this manager's folder moved aside as unreadable (see `SessionStateStore#corruptFiles`). */
  corruptFiles(): string[];
  /**
   * Takes over a crashed session: same id, operation and context; status
   * `running` with its progress, current step, step counts and start time.
   * The file is written at once with this process as its owner.
   *
   * Exclusive: when several processes (or managers) resume the same session
   * at the same moment, exactly one gets it; the others get `undefined`. So
   * does a call for a session whose owner is still alive, or that has
   * finished meanwhile, or whose file another user owns (that file is moved
   * aside as a corrupt file is, never used).
   *
   * @throws TypeError `ERR_INVALID_SESSION_STATE` for a malformed state.
   */
  resumeSession(crashedState: SessionState): Session | undefined;
  /**
   * Removes finished sessions older than `maxAgeDays` (default 7).
   *
   * @returns how many files were removed.
   */
  cleanup(maxAgeDays?: number): number;
  /**
   * Removes finished sessions last written `olderThanMs` ago or more; `0`
   * removes every finished one (see {@link SessionStateStore.cleanup}). New
   * in this package.
   *
   * @returns how many files were removed.
   */
  cleanup(options: { olderThanMs: number }): number;
  /**
   * Writes every session's file. Every session is attempted: one that cannot
   * be saved never stops the others, and stays due, so the next write of any
   * kind retries it.
   *
   * @throws the failing session's error (`ERR_CONTEXT_NOT_SERIALIZABLE`, with
   * the user's error as `cause`; `ERR_SESSION_IO`); when several failed, an
   * error with the first one's class and `code`, a message naming each
   * session, and `errors` (one per session, each with its `sessionId`).
   */
  saveAllSessions(): void;
  /**
   * Writes every update not written yet, and retries every session whose
   * write failed. Throws as {@link SessionManager.saveAllSessions} does,
   * including for a background write that failed since the last flush and has
   * not succeeded since.
   *
   * @throws Error `ERR_SESSION_IO` when the disk refused.
   */
  flush(): void;
  /** Stops auto-save and writes every session's file; throws as {@link SessionManager.saveAllSessions} does. */
  shutdown(): void;
}

/** The process-wide manager (in this thread), created on first use. */
export declare function getSessionManager(): SessionManager;

/**
 * A handle, in any thread of this process (a worker, say), on a live session
 * that a manager of this process created below `basePath` (default
 * `process.cwd()`); `undefined` when there is none. The handle shares the
 * session's state: its token (`isCancelled` sees a cancel from any thread at
 * once, even in a busy loop) and its tracker (updates made through it are
 * heard by every listener on its own thread and saved). Its `context` is a
 * copy, taken when attached: a worker changes the context by asking the
 * thread that owns it (for example with `postMessage`).
 *
 * @throws TypeError `ERR_INVALID_ARG_TYPE` for arguments of the wrong type;
 * Error `ERR_UNSAFE_FOLDER` for a folder another user controls (`trustFolder`:
 * see {@link StoreOptions.trustFolder}).
 */
export declare function attachSession(
  id: string,
  options?: { basePath?: string; trustFolder?: boolean },
): Session | undefined;

/**
 * Asks the owner of a session below `basePath` (default `process.cwd()`), in
 * any process on this machine, to cancel it: within 250 ms the owner's token
 * is cancelled with `reason`, its tracker too, and the file says so.
 *
 * @returns whether a live owner exists (`false`: nothing was asked).
 * A session file that another user owns is never cancelled (`false`; the
 * file is moved aside as a corrupt file is).
 *
 * @throws TypeError `ERR_INVALID_ARG_TYPE`, `ERR_INVALID_SESSION_ID`; Error
 * `ERR_UNSAFE_FOLDER` for a folder another user controls (`trustFolder`: see
 * {@link StoreOptions.trustFolder}).
 */
export declare function requestCancellation(
  id: string,
  reason?: string,
  options?: { basePath?: string; trustFolder?: boolean },
): boolean;

/**
 * Whether `id` is a session id the store accepts: a plain file name (not
 * `""`, `"."`, `".."`, nor one with a path separator). `false` for a
 * non-string. A lookup by any other id finds nothing; `inspect` answers
 * `undefined` for it, so this is for a caller that wants to tell a malformed
 * id from an unknown one. New in this package.
 */
export declare function isSessionId(id: unknown): id is string;

/** What {@link liveCounts} reports. */
export interface LiveCounts {
  /** Sessions the native core still holds: live in a manager, or finished but still referenced by a handle that has not been collected yet. */
  sessions: number;
  /** Sessions that {@link attachSession} can find (live ones). */
  attachable: number;
  /** Sessions with changes waiting for the background writer. */
  dirty: number;
  /** Managers alive in this process. */
  managers: number;
  /** JavaScript functions the native core holds (one dispatcher per object with listeners, one context reader per session). */
  callbacks: number;
  /** Native objects held by the package's JavaScript objects (a token's, a tracker's, an attached session's); each is freed while the garbage collector takes its object, with no event-loop turn needed. */
  handles: number;
}

/**
 * What this process holds per session, now: a diagnostic for leak tests and
 * health checks of long-lived servers. A session that finished (completed,
 * failed, or cancelled and then completed) and whose objects were collected
 * leaves every count where it was before it was created.
 */
export declare function liveCounts(): LiveCounts;
