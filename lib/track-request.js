// @ts-check
// trackRequest: a plain MCP tool call tied to a session (its progress as
// `notifications/progress`, the client's cancel as the session's), for the
// SDK 1.x handler's `extra` and, in that shape, the SDK v2's request context
// (lib/tasks-extension.js).
"use strict";

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
 * @param {import("../index.js").Session} session
 * @param {{ intervalMs?: number, manager?: import("../index.js").SessionManager }} [options]
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

module.exports = { trackRequest };
