// Issue: tests that control the clock. Fake timers installed *before* the package is imported
// (this file imports it only after `vi.useFakeTimers()`): detection happens at each call, not
// at import, so the package follows the fake clock all the same. Passes on the reference too.
import { expect, it, vi } from "vitest";
import { readSession, tempDirs } from "./helpers";

const tempDir = tempDirs();

vi.useFakeTimers();
vi.setSystemTime(new Date("2030-01-02T03:04:05.000Z"));
const { SessionManager, createTimeoutToken } = await import("msw-session");

it("follows a fake clock installed before the import, and the real one after useRealTimers", async () => {
  const token = createTimeoutToken(250).token;
  const base = tempDir();
  const manager = new SessionManager({ basePath: base });
  const session = manager.createSession("op", { n: 0 });
  expect(session.createdAt.toISOString()).toBe("2030-01-02T03:04:05.000Z");
  vi.advanceTimersByTime(249);
  expect(token.isCancelled).toBe(false);
  session.context.n = 1;
  session.progress.setProgress(50);
  vi.advanceTimersByTime(1);
  expect(token.isCancelled).toBe(true);
  // One persist interval (100 ms) after the update, it is on disk.
  vi.advanceTimersByTime(99);
  const file = readSession(base, session.id);
  expect([file.progress.progress, file.context.n, file.progress.updatedAt]).toEqual([50, 1, "2030-01-02T03:04:05.249Z"]);
  vi.useRealTimers();
  const before = Date.now();
  manager.completeSession(session.id);
  expect(Date.parse(readSession(base, session.id).updatedAt)).toBeGreaterThanOrEqual(before);
  manager.shutdown();
});
