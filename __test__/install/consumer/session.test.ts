// Run by vitest in a project that installed msw-session: `vitest run --pool threads` and
// `--pool forks`. The package is imported as ESM, as such a project does.
import fs from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { isMainThread } from "node:worker_threads";
import { afterEach, expect, test } from "vitest";

import { CancellationError, SessionManager, formatProgress, type SessionState } from "msw-session";

const dirs: string[] = [];
const managers: SessionManager[] = [];
afterEach(() => {
  for (const manager of managers.splice(0)) manager.shutdown();
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "msw-session-consumer-"));
  dirs.push(dir);
  return dir;
}

test("runs in the pool asked for", () => {
  const pool = process.env.EXPECTED_POOL;
  if (pool === "threads") expect(isMainThread).toBe(false);
  if (pool === "forks") expect(isMainThread).toBe(true);
});

test("a session: steps, file on disk, cancellation", () => {
  const basePath = tempDir();
  const manager = new SessionManager({ basePath });
  managers.push(manager);

  const session = manager.createSession("index", { cursor: 0 });
  session.progress.start(4);
  session.progress.completeStep("parse");
  session.context.cursor = 1;
  manager.flush();

  const file = path.join(basePath, ".msw", "sessions", `${session.id}.json`);
  expect(fs.existsSync(file)).toBe(true);
  const saved = JSON.parse(fs.readFileSync(file, "utf8")) as SessionState;
  expect(saved).toMatchObject({ id: session.id, operation: "index", status: "active" });
  expect(saved.progress).toMatchObject({
    status: "running",
    progress: 25,
    currentStep: "parse",
    totalSteps: 4,
    completedSteps: 1,
  });
  expect(formatProgress(saved.progress)).toBe("[########----------------------] 25% index - parse");

  expect(manager.cancelSession(session.id, "stopped")).toBe(true);
  expect(session.cancellation.token.isCancelled).toBe(true);
  expect(() => session.cancellation.token.throwIfCancelled()).toThrow(CancellationError);
  expect(() => session.cancellation.token.throwIfCancelled()).toThrow("stopped");
  manager.flush();
  const cancelled = JSON.parse(fs.readFileSync(file, "utf8")) as SessionState;
  expect(cancelled.status).toBe("cancelled");
  expect(cancelled.progress.status).toBe("cancelled");
});

test("import and require give the same objects", () => {
  const required = createRequire(import.meta.url)("msw-session");
  expect(required.SessionManager).toBe(SessionManager);
  expect(required.CancellationError).toBe(CancellationError);
});
