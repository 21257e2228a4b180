// The fake-timer checks of the consumer project, shared by its CommonJS and ESM jest tests
// (fake-timers.test.cjs, fake-timers.test.mjs): each passes the package as it loaded it and
// jest's globals. The package follows the clock the test set, as the reference module (plain
// JavaScript) does.
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");

module.exports = function fakeTimerChecks(M, { afterEach, beforeEach, expect, jest, test }) {
  const { ProgressTracker, SessionManager, SessionStateStore, createTimeoutToken } = M;
  const T0 = new Date("2030-01-02T03:04:05.000Z");
  const read = (basePath, id) => JSON.parse(fs.readFileSync(path.join(basePath, ".msw", "sessions", `${id}.json`), "utf8"));
  const tempDir = () => fs.mkdtempSync(path.join(os.tmpdir(), "msw-session-jest-"));

  beforeEach(() => {
    jest.useFakeTimers();
    jest.setSystemTime(T0);
  });
  afterEach(() => {
    jest.useRealTimers();
  });

  test("timestamps come from the clock the test set", () => {
    const tracker = new ProgressTracker("s", "op");
    expect(tracker.getState().startedAt).toBe(T0.toISOString());
    jest.advanceTimersByTime(1500);
    tracker.setProgress(10);
    expect(tracker.getState().updatedAt).toBe("2030-01-02T03:04:06.500Z");
  });

  test("a timeout token is cancelled by advanceTimersByTime(ms), not one millisecond before", () => {
    const source = createTimeoutToken(1000);
    jest.advanceTimersByTime(999);
    expect(source.token.isCancelled).toBe(false);
    jest.advanceTimersByTime(1);
    expect(source.token.isCancelled).toBe(true);
    const other = createTimeoutToken(60_000);
    jest.runAllTimers();
    expect(other.token.isCancelled).toBe(true);
  });

  test("auto-save and the background writer run on the fake clock", () => {
    const basePath = tempDir();
    const manager = new SessionManager({ basePath, autoSaveIntervalMs: 5000, persistIntervalMs: 100 });
    try {
      const session = manager.createSession("op", { cursor: 0 });
      expect(session.createdAt.toISOString()).toBe(T0.toISOString());
      session.progress.start(4);
      session.context.cursor = 1;
      session.progress.completeStep("one");
      jest.advanceTimersByTime(100);
      expect(read(basePath, session.id).progress.completedSteps).toBe(1);
      expect(read(basePath, session.id).context.cursor).toBe(1);
      manager.startAutoSave();
      session.context.cursor = 2;
      jest.advanceTimersByTime(5000);
      expect(read(basePath, session.id).context.cursor).toBe(2);
    } finally {
      manager.shutdown();
      fs.rmSync(basePath, { recursive: true, force: true });
    }
  });

  test("a session without an owner is crashed once the fake clock moved 61 s on", () => {
    const basePath = tempDir();
    try {
      const store = new SessionStateStore(basePath);
      const id = "0c6e9e2a-3b1d-4f5e-9a8b-7c6d5e4f3a2b";
      const at = T0.toISOString();
      store.save({
        id,
        operation: "index",
        status: "active",
        progress: { sessionId: id, operation: "index", status: "running", progress: 40, startedAt: at, updatedAt: at },
        context: {},
        createdAt: at,
        updatedAt: at,
      });
      jest.setSystemTime(T0.getTime() + 59_000);
      expect(store.findCrashedSessions()).toEqual([]);
      jest.setSystemTime(T0.getTime() + 61_000);
      expect(store.findCrashedSessions().map((s) => s.id)).toEqual([id]);
    } finally {
      fs.rmSync(basePath, { recursive: true, force: true });
    }
  });
};
