// A job registry like MSW's `JobManager`, on msw-session's public API only: jobs with MSW's
// shape (`status` queued/running/completed/failed, plus cancelled; `progress { step, total,
// message }`; `result`; `error`; timestamps) that outlive a restart, read `failed` once the
// process that ran them is gone (`kill -9` included), and can be cancelled from any process.
//
//   const jobs = new JobRegistry({ basePath: process.cwd() });
//   const job = jobs.create("msw_research", { topic });         // queued
//   runInBackground(job.id, jobs.token(job.id));                // update(id, { progress }), then
//   jobs.update(job.id, { status: "completed", result });       // ...or { status: "failed", error }
//   jobs.get(jobId)                                              // what msw_status answers
//
// Each job is a session of the package: its file in `.msw/sessions/` holds the job's type,
// params, result and error in its context; its tracker holds the status and the steps.
import { SessionManager, isSessionId, requestCancellation } from "msw-session";

/** Where a job keeps its own fields in its session's context. */
const JOB = "job";

/**
 * @typedef {"queued" | "running" | "completed" | "failed" | "cancelled"} JobStatus
 * @typedef {{ step: number, total: number, message?: string }} JobProgress
 * @typedef {{
 *   id: string, type: string, params: Record<string, unknown>, status: JobStatus,
 *   progress: JobProgress, result?: unknown, error?: string,
 *   createdAt: string, updatedAt: string, completedAt?: string
 * }} Job
 */

/**
 * A job as a session state and its owner's state give it.
 * @param {import("msw-session").SessionInspection} found
 * @returns {Job | undefined} `undefined` for a session that is not a job
 */
function jobOf({ state, ownerState }) {
  const job = /** @type {any} */ (state.context?.[JOB]);
  if (!job || typeof job !== "object") return undefined;
  const p = state.progress;
  /** @type {JobStatus} */
  let status;
  let error = job.error;
  if (state.status === "active") {
    if (ownerState === "crashed") {
      status = "failed";
      error = `the process that ran this job (pid ${state.owner?.pid ?? "unknown"}) exited while it was ${p.status === "pending" ? "queued" : "running"}`;
    } else status = p.status === "pending" ? "queued" : "running";
  } else status = state.status === "crashed" ? "failed" : state.status;
  if (status !== "completed" && error === undefined && p.error !== undefined) error = p.error;
  /** @type {Job} */
  const out = {
    id: state.id,
    type: job.type,
    params: job.params,
    status,
    progress: { step: p.completedSteps ?? 0, total: p.totalSteps ?? 0, ...(p.currentStep ? { message: p.currentStep } : {}) },
    createdAt: state.createdAt,
    updatedAt: state.updatedAt,
  };
  if (job.result !== undefined) out.result = job.result;
  if (error !== undefined) out.error = error;
  if (status !== "queued" && status !== "running") out.completedAt = state.updatedAt;
  return out;
}

export class JobRegistry {
  /** @type {SessionManager} */
  #manager;
  /** @type {{ basePath: string, trustFolder?: boolean }} */
  #where;

  /** @param {import("msw-session").SessionManagerOptions} [options] */
  constructor(options = {}) {
    const basePath = options.basePath ?? process.cwd();
    this.#manager = new SessionManager({ ...options, basePath });
    this.#where = { basePath, trustFolder: options.trustFolder };
  }

  /**
   * A new `queued` job of this process.
   * @param {string} type what the job does (`msw_research`)
   * @param {Record<string, unknown>} [params]
   * @returns {Job}
   */
  create(type, params = {}) {
    const session = this.#manager.createSession(type, { [JOB]: { type, params } });
    // However it is cancelled (cancel() here, requestCancellation from another process, the
    // CLI), a cancelled job keeps `cancelled` on disk and leaves memory.
    session.cancellation.token.onCancelled((reason) => this.#release(session.id, reason));
    return /** @type {Job} */ (this.get(session.id));
  }

  /**
   * The token of a job of this process: hand it to the job's work, which stops when it is cancelled.
   * @param {string} id
   */
  token(id) {
    return this.#live(id)?.cancellation.token;
  }

  /**
   * A job, of this process or another; `undefined` for an unknown or malformed id (never an
   * exception). One file read: a job whose process died reads `failed` at once.
   * @param {string} id
   * @returns {Job | undefined}
   */
  get(id) {
    const live = this.#live(id);
    if (live) {
      const progress = live.progress.getState();
      const status = progress.status === "pending" || progress.status === "running" ? "active" : progress.status;
      const state = /** @type {any} */ ({ id, status, progress, context: live.context, createdAt: live.createdAt.toISOString(), updatedAt: progress.updatedAt });
      return jobOf({ state, ownerState: "alive" });
    }
    const found = this.#manager.inspect(id);
    return found && jobOf(found);
  }

  /**
   * Changes a job of this process: `progress` (steps as they are), `result`, `error`, and
   * `status` (`running`, or a final one: `completed`, `failed`, `cancelled`). Returns the job,
   * or `undefined` when this process does not run it (unknown, finished, another process's).
   * @param {string} id
   * @param {{ status?: JobStatus, progress?: Partial<JobProgress>, result?: unknown, error?: string }} change
   * @returns {Job | undefined}
   */
  update(id, change) {
    const session = this.#live(id);
    if (!session) return undefined;
    const { status, progress, result, error } = change;
    const job = /** @type {any} */ (session.context[JOB]);
    if ((status === "running" || progress) && !session.progress.isRunning()) session.progress.start(progress?.total);
    if (progress) session.progress.setSteps(progress.step ?? session.progress.getState().completedSteps ?? 0, progress.total, progress.message);
    if (result !== undefined) job.result = result;
    if (error !== undefined) job.error = error;
    if (status === "completed") this.#manager.completeSession(id);
    else if (status === "failed") this.#manager.failSession(id, error ?? "failed");
    else if (status === "cancelled") this.cancel(id, error);
    else if (result !== undefined || error !== undefined) this.#manager.saveSession(id);
    return this.get(id);
  }

  /**
   * Every job in the folder (each file read once), oldest first; `type` and `status` filter.
   * @param {{ type?: string, status?: JobStatus }} [filter]
   * @returns {Job[]}
   */
  list(filter = {}) {
    const jobs = [];
    for (const found of this.#manager.listStates(filter.type === undefined ? {} : { operation: filter.type })) {
      const job = this.#live(found.state.id) ? this.get(found.state.id) : jobOf(found);
      if (job && (filter.status === undefined || job.status === filter.status)) jobs.push(job);
    }
    return jobs.sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : 0));
  }

  /**
   * Cancels a job: this process's at once; another live process's through the package's
   * cross-process cancellation (its token is cancelled within 250 ms). `false` when no one runs it.
   * @param {string} id
   * @param {string} [reason]
   */
  cancel(id, reason = "cancelled") {
    if (!isSessionId(id)) return false;
    if (this.#live(id)) return this.#manager.cancelSession(id, reason);
    return requestCancellation(id, reason, this.#where);
  }

  /**
   * Settles the jobs of dead processes (`failed` on disk), then removes finished jobs last
   * changed more than `olderThanMs` ago. Returns how many files were removed.
   * @param {{ olderThanMs: number }} options
   */
  cleanup({ olderThanMs }) {
    this.#manager.recoverCrashed({ fail: "the process that ran this job exited" });
    return this.#manager.cleanup({ olderThanMs });
  }

  /** Writes what is pending; the jobs stay on disk (a running one reads `failed` once this process is gone). */
  close() {
    this.#manager.shutdown();
  }

  /** @param {unknown} id */
  #live(id) {
    return isSessionId(id) ? this.#manager.getSession(id) : undefined;
  }

  /**
   * @param {string} id
   * @param {string | undefined} reason
   */
  #release(id, reason) {
    const session = this.#live(id);
    if (!session) return;
    try {
      if (session.progress.getState().status !== "cancelled") this.#manager.cancelSession(id, reason);
      this.#manager.releaseSession(id);
    } catch {
      // The disk refused: the session stays in memory, cancelled, and is written with the next save.
    }
  }
}
