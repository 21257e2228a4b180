// @ts-check
/**
 * The JavaScript face of msw-session: the entry, which re-exports the
 * modules of `lib/`, one per concept.
 *
 * | file | what |
 * |---|---|
 * | `lib/loader.js` | loads the addon (`binding.js`); the error, listing the platforms of `package.json`, when none loads |
 * | `lib/clock.js` | a test's fake clock, and `synced`, the one way to a native call that reads the time |
 * | `lib/errors.js` | argument type checks, their coded errors, `CancellationError` |
 * | `lib/internal.js` | the internal-construction marker, how callbacks are called |
 * | `lib/tokens.js` | `CancellationToken`, `CancellationSource`, `createTimeoutToken` |
 * | `lib/trackers.js` | `ProgressTracker`, progress listeners, state objects from the core's positional values, `formatProgress` |
 * | `lib/store.js` | `SessionStateStore` |
 * | `lib/sessions.js` | `SessionManager`, `getSessionManager`, `attachSession`, `requestCancellation`, `isSessionId`, `liveCounts` |
 *
 * These files hold only what must or should be JavaScript:
 * - argument *type* checks (`typeof`, `instanceof`), which cost a nanosecond
 *   here and a native call there; value checks (NaN, ranges, ids, state
 *   shape) are the core's;
 * - the `CancellationError` subclass of `Error`;
 * - object identity: `source.token`, `session.progress`, the session objects
 *   of a manager and their `context` are plain JavaScript objects made once;
 * - building state objects from the values the core passes, and
 *   `JSON.stringify`/`JSON.parse` at the boundary (the contract's context
 *   semantics are JavaScript's own);
 * - the hot-path read of the cancelled flag, from memory the core shares.
 *
 * Everything that decides behaviour — the state machine, persistence, timers
 * and threads — is in the Rust core (`crates/session-core`), reached through
 * the `Native*` classes of `binding.js`.
 */
"use strict";

const { CancellationError } = require("./lib/errors.js");
const { CancellationToken, CancellationSource, createTimeoutToken } = require("./lib/tokens.js");
const { ProgressTracker, formatProgress } = require("./lib/trackers.js");
const { SessionStateStore } = require("./lib/store.js");
const {
  SessionManager,
  getSessionManager,
  attachSession,
  requestCancellation,
  liveCounts,
  isSessionId,
} = require("./lib/sessions.js");

module.exports = {
  CancellationToken,
  CancellationSource,
  CancellationError,
  createTimeoutToken,
  ProgressTracker,
  formatProgress,
  SessionStateStore,
  SessionManager,
  getSessionManager,
  attachSession,
  requestCancellation,
  liveCounts,
  isSessionId,
};
