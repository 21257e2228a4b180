// The ESM entry: the same objects as `require("msw-session")`, so ESM and
// CommonJS code in one process share classes, tokens and the global manager.
import session from "./index.js";

export const {
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
} = session;
