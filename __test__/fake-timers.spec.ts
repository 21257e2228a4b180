// Issue: tests that control the clock. Under vitest's fake timers the package follows the
// clock the test set, as the reference (plain JavaScript) does: timestamps, timeout tokens,
// auto-save, the background writer and staleness. Every test here passes on the reference
// too (`MSW_IMPL=reference`) except those marked package-only, which check what the
// reference does not have (owners, estimates).
import fs from "node:fs";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  ProgressTracker,
  SessionManager,
  SessionStateStore,
  createTimeoutToken,
} from "msw-session";
import { isReference, makeState, quietPeriod, readSession, sessionFile, tempDirs, waitFor } from "./helpers";

const tempDir = tempDirs();
const T0 = new Date("2030-01-02T03:04:05.000Z");

afterEach(() => {
  vi.useRealTimers();
});

describe("with vitest's fake timers installed after the import", () => {
  it("timestamps come from the clock the test set", () => {
    vi.useFakeTimers();
    vi.setSystemTime(T0);
    const tracker = new ProgressTracker("s", "op");
    expect(tracker.getState().startedAt).toBe(T0.toISOString());
    vi.advanceTimersByTime(1500);
    tracker.setProgress(10);
    expect(tracker.getState().updatedAt).toBe("2030-01-02T03:04:06.500Z");

    const base = tempDir();
    const manager = new SessionManager({ basePath: base });
    vi.setSystemTime(new Date("2031-05-06T07:08:09.010Z"));
    const session = manager.createSession("op", { n: 1 });
    expect(session.createdAt.toISOString()).toBe("2031-05-06T07:08:09.010Z");
    vi.advanceTimersByTime(2000);
    session.progress.start(4);
    manager.saveAllSessions();
    const file = readSession(base, session.id);
    expect(file.createdAt).toBe("2031-05-06T07:08:09.010Z");
    expect(file.updatedAt).toBe("2031-05-06T07:08:11.010Z");
    expect(file.progress.startedAt).toBe("2031-05-06T07:08:09.010Z");
    expect(file.progress.updatedAt).toBe("2031-05-06T07:08:11.010Z");
    manager.shutdown();
  });

  it.skipIf(isReference)("package-only: the owner's since and the times behind estimate() follow it too", () => {
    vi.useFakeTimers();
    vi.setSystemTime(T0);
    const base = tempDir();
    const manager = new SessionManager({ basePath: base });
    const session = manager.createSession("op");
    manager.saveAllSessions();
    expect(readSession(base, session.id).owner.since).toBe(T0.toISOString());
    session.progress.start(10);
    vi.advanceTimersByTime(1000);
    session.progress.completeStep("one");
    const estimate = session.progress.estimate()!;
    // One step in one second of fake time: nine steps left take nine seconds.
    expect(estimate).toEqual({ ratePerSec: 1, remainingMs: 9000, eta: new Date(T0.getTime() + 10_000), unit: "steps" });
    manager.shutdown();
  });

  it("crashedAt is the fake time of the scan", () => {
    vi.useFakeTimers();
    vi.setSystemTime(T0);
    const base = tempDir();
    const store = new SessionStateStore(base);
    store.save(makeState("7d3f3a4e-1f2b-4c5d-8e9f-0a1b2c3d4e5f", { updatedAt: T0.toISOString() }));
    vi.setSystemTime(T0.getTime() + 61_000);
    const [crashed] = store.findCrashedSessions();
    expect(crashed.crashedAt).toBe(new Date(T0.getTime() + 61_000).toISOString());
  });

  it("staleness is judged against the clock the test set", () => {
    vi.useFakeTimers();
    vi.setSystemTime(T0);
    const base = tempDir();
    const store = new SessionStateStore(base);
    // A file without an owner, as the reference writes it, last written at T0.
    const id = "0c6e9e2a-3b1d-4f5e-9a8b-7c6d5e4f3a2b";
    store.save(makeState(id, { updatedAt: T0.toISOString() }));
    vi.setSystemTime(T0.getTime() + 59_000);
    expect(store.findCrashedSessions().map((s) => s.id)).toEqual([]);
    expect(new SessionManager({ basePath: base }).findCrashedSessions()).toEqual([]);
    vi.setSystemTime(T0.getTime() + 61_000);
    expect(store.findCrashedSessions().map((s) => s.id)).toEqual([id]);
    expect(new SessionManager({ basePath: base }).findCrashedSessions().map((s) => s.id)).toEqual([id]);
    // Finished sessions older than the fake "now" by more than the days given are cleaned up.
    const done = "5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d";
    store.save(makeState(done, { status: "completed", updatedAt: T0.toISOString() }));
    vi.setSystemTime(T0.getTime() + 6 * 86_400_000);
    expect(store.cleanup(7)).toBe(0);
    vi.setSystemTime(T0.getTime() + 8 * 86_400_000);
    expect(store.cleanup(7)).toBe(1);
  });

  it("a timeout token is cancelled by advanceTimersByTime(ms), not one millisecond before", () => {
    vi.useFakeTimers();
    const source = createTimeoutToken(1000);
    const seen: string[] = [];
    source.token.onCancelled((reason) => seen.push(String(reason)));
    vi.advanceTimersByTime(999);
    expect(source.token.isCancelled).toBe(false);
    vi.advanceTimersByTime(1);
    expect(source.token.isCancelled).toBe(true);
    expect(seen).toEqual(["Timeout after 1000ms"]);
  });

  it("a timeout token is cancelled by runAllTimers and by runOnlyPendingTimers", () => {
    vi.useFakeTimers();
    const first = createTimeoutToken(60_000);
    vi.runAllTimers();
    expect(first.token.isCancelled).toBe(true);
    const second = createTimeoutToken(5);
    vi.runOnlyPendingTimers();
    expect(second.token.isCancelled).toBe(true);
  });

  it("real time passing does not cancel a timeout token while the clock is fake", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"] });
    const source = createTimeoutToken(1);
    // Real time passes (a real setImmediate loop, which is not faked here).
    const realStart = performance.now();
    await new Promise<void>((resolve) => {
      const spin = () => (performance.now() - realStart > 30 ? resolve() : setImmediate(spin));
      spin();
    });
    expect(source.token.isCancelled).toBe(false);
    vi.advanceTimersByTime(1);
    expect(source.token.isCancelled).toBe(true);
  });

  it("startAutoSave ticks with the fake clock and saves in-place context changes", () => {
    vi.useFakeTimers();
    const base = tempDir();
    const manager = new SessionManager({ basePath: base, autoSaveIntervalMs: 5000 });
    const session = manager.createSession("op", { cursor: 0 });
    manager.startAutoSave();
    session.context.cursor = 42;
    vi.advanceTimersByTime(4999);
    expect(readSession(base, session.id).context.cursor).toBe(0);
    vi.advanceTimersByTime(1);
    expect(readSession(base, session.id).context.cursor).toBe(42);
    session.context.cursor = 43;
    vi.advanceTimersByTime(5000);
    expect(readSession(base, session.id).context.cursor).toBe(43);
    manager.stopAutoSave();
    session.context.cursor = 44;
    vi.advanceTimersByTime(10_000);
    expect(readSession(base, session.id).context.cursor).toBe(43);
    manager.shutdown();
  });

  it("advancing by persistIntervalMs puts a progress update on disk before advanceTimersByTime returns", () => {
    vi.useFakeTimers();
    const base = tempDir();
    const manager = new SessionManager({ basePath: base, persistIntervalMs: 100 });
    const session = manager.createSession("op", { cursor: 0 });
    session.progress.start(10);
    session.context.cursor = 1;
    session.progress.completeStep("one");
    vi.advanceTimersByTime(100);
    const file = readSession(base, session.id);
    expect(file.progress.completedSteps).toBe(1);
    expect(file.context.cursor).toBe(1);
    session.context.cursor = 2;
    session.progress.completeStep("two");
    vi.runAllTimers();
    expect(readSession(base, session.id).progress.completedSteps).toBe(2);
    expect(readSession(base, session.id).context.cursor).toBe(2);
    manager.shutdown();
  });

  it("after useRealTimers everything follows real time again", async () => {
    vi.useFakeTimers();
    vi.setSystemTime(T0);
    const base = tempDir();
    const manager = new SessionManager({ basePath: base, persistIntervalMs: 100 });
    const session = manager.createSession("op");
    session.progress.start(10);
    session.progress.completeStep("under the fake clock");
    // The fake clock goes away with a background write still due on it.
    vi.useRealTimers();
    const before = Date.now();
    session.progress.completeStep("under the real clock");
    expect(Date.parse(session.progress.getState().updatedAt)).toBeGreaterThanOrEqual(before);
    await waitFor(() => readSession(base, session.id).progress.completedSteps === 2);
    const source = createTimeoutToken(5);
    await waitFor(() => source.token.isCancelled);
    manager.shutdown();
  });
});

describe.skipIf(isReference)("package-only: with real timers", () => {
  it("a timeout cancels a token while the JavaScript thread is busy in a loop", () => {
    const source = createTimeoutToken(5);
    const deadline = Date.now() + 15_000; // a hang guard, not a threshold
    while (!source.token.isCancelled && Date.now() < deadline) {
      // busy: the event loop never runs, yet the timer thread cancels
    }
    expect(source.token.isCancelled).toBe(true);
  });

  it("a fake clock that is not installed any more leaves nothing behind: no write waits for it", async () => {
    vi.useFakeTimers();
    const base = tempDir();
    const manager = new SessionManager({ basePath: base, persistIntervalMs: 50 });
    const session = manager.createSession("op");
    session.progress.start(2);
    vi.useRealTimers();
    await quietPeriod(0);
    session.progress.completeStep("one");
    await waitFor(() => fs.existsSync(sessionFile(base, session.id)) && readSession(base, session.id).progress.completedSteps === 1);
    manager.shutdown();
  });
});
