// ProgressTracker#estimate: the measured rate and what it predicts. Package-only. The short
// awaited timers only let time pass between updates, so that a rate can be measured; nothing
// asserts how long anything took.
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
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

describe.skipIf(isReference)("ProgressTracker#estimate", () => {
  it("is undefined for a new tracker and right after start()", () => {
    const tracker = new ProgressTracker("s", "op");
    expect(tracker.estimate()).toBeUndefined();
    tracker.start(10);
    expect(tracker.estimate()).toBeUndefined();
  });

  it("after steps with time between them: a rate in steps per second and the time left at it", async () => {
    const tracker = new ProgressTracker("s", "op");
    tracker.start(10);
    for (let i = 0; i < 3; i++) {
      await sleep(5);
      tracker.completeStep(`step ${i}`);
    }
    const e = tracker.estimate();
    expectWellFormed(e);
    expect(e.unit).toBe("steps");
    expectClose(e.remainingMs, ((10 - 3) / e.ratePerSec) * 1000);
  });

  it("when every step is done, nothing remains", async () => {
    const tracker = new ProgressTracker("s", "op");
    tracker.start(2);
    await sleep(5);
    tracker.completeStep();
    await sleep(5);
    tracker.completeStep();
    const e = tracker.estimate();
    expectWellFormed(e);
    expect(e.unit).toBe("steps");
    expect(e.remainingMs).toBe(0);
  });

  it("without a step total, setProgress gives a rate in percent per second", async () => {
    const tracker = new ProgressTracker("s", "op");
    tracker.setProgress(10);
    await sleep(5);
    tracker.setProgress(30, "halfway");
    const e = tracker.estimate();
    expectWellFormed(e);
    expect(e.unit).toBe("percent");
    expectClose(e.remainingMs, ((100 - 30) / e.ratePerSec) * 1000);
  });

  it("start() without a total, then setProgress: percent too", async () => {
    const tracker = new ProgressTracker("s", "op");
    tracker.start();
    tracker.setProgress(20);
    await sleep(5);
    tracker.setProgress(45);
    await sleep(5);
    tracker.setProgress(60);
    const e = tracker.estimate();
    expectWellFormed(e);
    expect(e.unit).toBe("percent");
    expectClose(e.remainingMs, ((100 - 60) / e.ratePerSec) * 1000);
  });

  it("getState() has no new fields and is not changed by estimate()", async () => {
    const tracker = new ProgressTracker("s", "op");
    tracker.start(4);
    await sleep(5);
    tracker.completeStep("a");
    await sleep(5);
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
    await sleep(5);
    percent.setProgress(20);
    expect(percent.estimate()).toBeDefined();
    expect(Object.keys(percent.getState()).sort()).toEqual(
      ["operation", "progress", "sessionId", "startedAt", "status", "updatedAt"].sort(),
    );
  });
});
