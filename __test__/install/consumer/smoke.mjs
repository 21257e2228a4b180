// The small check of the git and folder installs: the addon loads from ESM and works.
// Prints formatProgress of a session at 1 of 4 steps.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { SessionManager, formatProgress } from "msw-session";

const basePath = fs.mkdtempSync(path.join(os.tmpdir(), "msw-session-smoke-"));
try {
  const manager = new SessionManager({ basePath });
  const session = manager.createSession("smoke", { cursor: 0 });
  session.progress.start(4);
  session.progress.completeStep("one");
  console.log(formatProgress(session.progress.getState()));
  manager.completeSession(session.id);
  manager.shutdown();
} finally {
  fs.rmSync(basePath, { recursive: true, force: true });
}
