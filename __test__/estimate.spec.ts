// ProgressTracker#estimate: the measured rate and what it predicts. Package-only. Time between
// updates is driven by vitest's fake clock, which the tracker follows, so rates are exact.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ProgressTracker } from "msw-session";
import { isReference } from "./helpers";

/** `actual` equals `expected` within a relative tolerance of 1e-6. */
function expectClose(actual: number, expected: number): void {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(1e-6 * Math.max(Math.abs(expected), 1e-9));
}

function expectWellFormed(e: ReturnType<ProgressTracker["estimate"]>): asserts e is NonNullable<typeof e> {
  expect(e).toBeDefined();
  expect(Object.keys(e!).sort()).toEqual(["eta", "ratePerSec", "remainingMs", "unit"]);
  expect(Number.isFinite(e!.ratePerSec)).toBe(true);
  expect(e!.ratePerSec).toBeGreaterThan(0);
  expect(Number.isFinite(e!.remainingMs)).toBe(true);
  expect(e!.remainingMs).toBeGreaterThanOrEqual(0);
  expect(e!.eta).toBeInstanceOf(Date);
  expect(Number.isNaN(e!.eta.getTime())).toBe(false);
}

/** Lets `ms` of fake time pass. */
const sleep = (ms: number) => vi.advanceTimersByTime(ms);

describe.skipIf(isReference)("ProgressTracker#estimate", () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(new Date("2030-01-01T00:00:00.000Z"));
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("is undefined for a new tracker and right after start()", () => {
    const tracker = new ProgressTracker("s", "op");
    expect(tracker.estimate()).toBeUndefined();
    tracker.start(10);
    expect(tracker.estimate()).toBeUndefined();
  });

  it("after steps with time between them: a rate in steps per second and the time left at it", () => {
    const tracker = new ProgressTracker("s", "op");
    tracker.start(10);
    for (let i = 0; i < 3; i++) {
      sleep(5);
      tracker.completeStep(`step ${i}`);
    }
    const e = tracker.estimate();
    expectWellFormed(e);
    expect(e.unit).toBe("steps");
    // Three steps in 15 ms of the test's clock: 200 steps a second, 7 left take 35 ms.
    expect(e.ratePerSec).toBe(200);
    expectClose(e.remainingMs, 35);
    expect(e.eta.getTime()).toBe(Date.now() + e.remainingMs);
  });

  it("when every step is done, nothing remains", () => {
    const tracker = new ProgressTracker("s", "op");
    tracker.start(2);
    sleep(5);
    tracker.completeStep();
    sleep(5);
    tracker.completeStep();
    const e = tracker.estimate();
    expectWellFormed(e);
    expect(e.unit).toBe("steps");
    expect(e.remainingMs).toBe(0);
  });

  it("without a step total, setProgress gives a rate in percent per second", () => {
    const tracker = new ProgressTracker("s", "op");
    tracker.setProgress(10);
    sleep(5);
    tracker.setProgress(30, "halfway");
    const e = tracker.estimate();
    expectWellFormed(e);
    expect(e.unit).toBe("percent");
    // 20 percent in 5 ms: 4,000 percent a second, 70 left take 17.5 ms.
    expectClose(e.ratePerSec, 4000);
    expectClose(e.remainingMs, 17.5);
  });

  it("start() without a total, then setProgress: percent too", () => {
    const tracker = new ProgressTracker("s", "op");
    tracker.start();
    tracker.setProgress(20);
    sleep(5);
    tracker.setProgress(45);
    sleep(5);
    tracker.setProgress(60);
    const e = tracker.estimate();
    expectWellFormed(e);
    expect(e.unit).toBe("percent");
    expectClose(e.remainingMs, ((100 - 60) / e.ratePerSec) * 1000);
  });

  it("getState() has no new fields and is not changed by estimate()", () => {
    const tracker = new ProgressTracker("s", "op");
    tracker.start(4);
    sleep(5);
    tracker.completeStep("a");
    sleep(5);
    tracker.completeStep("b");
    const before = tracker.getState();
    expect(tracker.estimate()).toBeDefined();
    const after = tracker.getState();
    expect(after).toEqual(before);
    expect(Object.keys(after).sort()).toEqual(
      ["completedSteps", "currentStep", "operation", "progress", "sessionId", "startedAt", "status", "totalSteps", "updatedAt"].sort(),
    );
    expect(after).not.toHaveProperty("eta");

    const percent = new ProgressTracker("p", "op");
    percent.setProgress(10);
    sleep(5);
    percent.setProgress(20);
    expect(percent.estimate()).toBeDefined();
    // setProgress without a step sets currentStep to undefined, as the reference's does.
    expect(Object.keys(percent.getState()).sort()).toEqual(
      ["currentStep", "operation", "progress", "sessionId", "startedAt", "status", "updatedAt"].sort(),
    );
  });
});
