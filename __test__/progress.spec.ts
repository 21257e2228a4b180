// Contract §1 "Progress": ProgressTracker state, transitions and listeners, as the reference behaves,
// and the package's fixes D8 (a listener can be removed) and D9 (completeStep stays within 100%).
// Refused arguments (D9's NaN and wrong types among them) are in errors.spec.ts.
import { describe, expect, it } from "vitest";
import { ProgressTracker, type ProgressState } from "msw-session";
import { ISO_TIMESTAMP, isReference } from "./helpers";

function tracker(): ProgressTracker {
  return new ProgressTracker("s-1", "index vault");
}

describe("ProgressTracker state", () => {
  it("starts pending at 0% with ISO timestamps and nothing else", () => {
    const before = Date.now();
    const state = tracker().getState();
    const after = Date.now();
    expect(state).toEqual({
      sessionId: "s-1",
      operation: "index vault",
      status: "pending",
      progress: 0,
      startedAt: expect.stringMatching(ISO_TIMESTAMP),
      updatedAt: expect.stringMatching(ISO_TIMESTAMP),
    });
    const startedAt = Date.parse(state.startedAt);
    expect(startedAt).toBeGreaterThanOrEqual(before);
    expect(startedAt).toBeLessThanOrEqual(after);
  });

  it("optional keys are absent until set, and set to undefined stay there, as in the reference", () => {
    const t = tracker();
    const initial = t.getState();
    for (const key of ["currentStep", "totalSteps", "completedSteps", "error", "eta"]) {
      expect(key in initial, key).toBe(false);
    }
    t.start();
    expect("totalSteps" in t.getState()).toBe(true);
    expect(t.getState().totalSteps).toBeUndefined();
    t.setProgress(5, "step");
    t.setProgress(5);
    expect("currentStep" in t.getState()).toBe(true);
    expect(t.getState().currentStep).toBeUndefined();
    t.completeStep();
    expect("currentStep" in t.getState()).toBe(true);
    expect(t.getState().currentStep).toBeUndefined();
    // The order of the reference's object spread: each key where it was first set.
    expect(Object.keys(t.getState())).toEqual([
      "sessionId",
      "operation",
      "status",
      "progress",
      "startedAt",
      "updatedAt",
      "totalSteps",
      "completedSteps",
      "currentStep",
    ]);
    expect(JSON.stringify(t.getState())).not.toContain("currentStep");
  });

  it("isRunning is true only while running", () => {
    const t = tracker();
    expect(t.isRunning()).toBe(false);
    t.start();
    expect(t.isRunning()).toBe(true);
    t.complete();
    expect(t.isRunning()).toBe(false);
  });

  it("start(total) sets running, totalSteps and completedSteps 0", () => {
    const t = tracker();
    t.start(3);
    expect(t.getState()).toMatchObject({ status: "running", totalSteps: 3, completedSteps: 0, progress: 0 });
  });

  it("start() without a total leaves totalSteps unset", () => {
    const t = tracker();
    t.start();
    const state = t.getState();
    expect(state.status).toBe("running");
    expect(state.totalSteps).toBeUndefined();
    expect(state.completedSteps).toBe(0);
  });

  it("start keeps the progress already reached (a resumed operation)", () => {
    const t = tracker();
    t.setProgress(40, "halfway");
    t.start(5);
    expect(t.getState()).toMatchObject({ progress: 40, currentStep: "halfway", completedSteps: 0 });
  });

  it("setProgress sets the percentage (fractions kept) and the step", () => {
    const t = tracker();
    t.start();
    t.setProgress(42.5, "parsing");
    expect(t.getState()).toMatchObject({ progress: 42.5, currentStep: "parsing" });
    t.setProgress(0.30000000000000004, "tiny");
    expect(t.getState().progress).toBe(0.30000000000000004);
  });

  it("setProgress without a step clears currentStep", () => {
    const t = tracker();
    t.setProgress(10, "one");
    t.setProgress(20);
    expect(t.getState().currentStep).toBeUndefined();
    expect(t.getState().progress).toBe(20);
  });

  it.each([
    [150, 100],
    [100.0001, 100],
    [-5, 0],
    [-0.001, 0],
    [Infinity, 100],
    [-Infinity, 0],
  ])("setProgress(%s) is clamped to %s", (input, expected) => {
    const t = tracker();
    t.setProgress(input);
    expect(t.getState().progress).toBe(expected);
  });

  it("completeStep counts steps and sets Math.round(done / total * 100)", () => {
    const t = tracker();
    t.start(3);
    t.completeStep("read");
    expect(t.getState()).toMatchObject({ completedSteps: 1, progress: 33, currentStep: "read" });
    t.completeStep("parse");
    expect(t.getState()).toMatchObject({ completedSteps: 2, progress: 67, currentStep: "parse" });
    t.completeStep();
    expect(t.getState()).toMatchObject({ completedSteps: 3, progress: 100 });
    expect(t.getState().currentStep).toBeUndefined();
  });

  it.skipIf(isReference)("D9: completeStep never reports more than 100%", () => {
    const t = new ProgressTracker("s", "op");
    t.start(2);
    t.completeStep("a");
    t.completeStep("b");
    t.completeStep("c");
    expect(t.getState()).toMatchObject({ progress: 100, completedSteps: 3, currentStep: "c" });
    t.completeStep();
    expect(t.getState()).toMatchObject({ progress: 100, completedSteps: 4 });
  });

  it("completeStep without a total counts each step as the whole (100%)", () => {
    const t = tracker();
    t.completeStep("only");
    expect(t.getState()).toMatchObject({ completedSteps: 1, progress: 100, currentStep: "only" });
    const zero = tracker();
    zero.start(0);
    zero.completeStep();
    expect(zero.getState()).toMatchObject({ completedSteps: 1, progress: 100 });
  });

  it("complete sets completed and 100%", () => {
    const t = tracker();
    t.start(4);
    t.setProgress(30, "step");
    t.complete();
    expect(t.getState()).toMatchObject({ status: "completed", progress: 100, currentStep: "step" });
  });

  it("fail sets failed with the message and keeps the progress", () => {
    const t = tracker();
    t.start();
    t.setProgress(30);
    t.fail("disk full");
    expect(t.getState()).toMatchObject({ status: "failed", error: "disk full", progress: 30 });
    expect(t.isRunning()).toBe(false);
  });

  it('cancel sets cancelled with the reason, "Cancelled by user" by default', () => {
    const withReason = tracker();
    withReason.cancel("user quit");
    expect(withReason.getState()).toMatchObject({ status: "cancelled", error: "user quit" });
    const without = tracker();
    without.cancel();
    expect(without.getState()).toMatchObject({ status: "cancelled", error: "Cancelled by user" });
    const empty = tracker();
    empty.cancel("");
    expect(empty.getState().error).toBe("Cancelled by user");
  });

  it("the status follows the last call (no state machine)", () => {
    const t = tracker();
    t.complete();
    t.fail("late failure");
    expect(t.getState()).toMatchObject({ status: "failed", progress: 100, error: "late failure" });
  });

  it("setEta stores the date as an ISO string", () => {
    const t = tracker();
    const eta = new Date("2030-01-02T03:04:05.678Z");
    t.setEta(eta);
    expect(t.getState().eta).toBe("2030-01-02T03:04:05.678Z");
  });

  it("every change refreshes updatedAt, never startedAt", () => {
    const t = tracker();
    const { startedAt } = t.getState();
    const before = Date.now();
    t.setProgress(1);
    const state = t.getState();
    expect(state.startedAt).toBe(startedAt);
    expect(state.updatedAt).toMatch(ISO_TIMESTAMP);
    expect(Date.parse(state.updatedAt)).toBeGreaterThanOrEqual(before);
  });

  it("getState returns a copy", () => {
    const t = tracker();
    const a = t.getState();
    const b = t.getState();
    expect(a).not.toBe(b);
    expect(a).toEqual(b);
    a.progress = 99;
    a.status = "failed";
    expect(t.getState()).toMatchObject({ progress: 0, status: "pending" });
  });
});

describe("ProgressTracker listeners", () => {
  it("run synchronously, in registration order, once per change, with the new state", () => {
    const t = tracker();
    const calls: string[] = [];
    const seen: ProgressState[] = [];
    t.onProgress((state) => {
      calls.push(`a:${state.status}:${state.progress}`);
      seen.push({ ...state });
    });
    t.onProgress((state) => calls.push(`b:${state.status}:${state.progress}`));
    t.start(2);
    expect(calls).toEqual(["a:running:0", "b:running:0"]);
    t.setProgress(25, "x");
    t.completeStep();
    t.setEta(new Date(0));
    t.complete();
    t.fail("e");
    t.cancel();
    expect(calls).toEqual([
      "a:running:0",
      "b:running:0",
      "a:running:25",
      "b:running:25",
      "a:running:50",
      "b:running:50",
      "a:running:50",
      "b:running:50",
      "a:completed:100",
      "b:completed:100",
      "a:failed:100",
      "b:failed:100",
      "a:cancelled:100",
      "b:cancelled:100",
    ]);
    expect(seen[seen.length - 1]).toEqual(t.getState());
    expect(seen[1]).toMatchObject({ sessionId: "s-1", operation: "index vault", currentStep: "x" });
  });

  it("a throwing listener affects neither the others nor the change", () => {
    const t = tracker();
    const calls: number[] = [];
    t.onProgress(() => calls.push(1));
    t.onProgress(() => {
      throw new Error("listener bug");
    });
    t.onProgress((state) => calls.push(state.progress));
    expect(() => t.setProgress(60)).not.toThrow();
    expect(calls).toEqual([1, 60]);
    expect(t.getState().progress).toBe(60);
  });

  it("trackers are independent", () => {
    const a = new ProgressTracker("a", "op a");
    const b = new ProgressTracker("b", "op b");
    const heard: string[] = [];
    b.onProgress((state) => heard.push(state.sessionId));
    a.setProgress(50);
    expect(b.getState().progress).toBe(0);
    expect(heard).toEqual([]);
  });
});

describe.skipIf(isReference)("D8: onProgress returns a function that removes the listener", () => {
  it("D8: the returned function removes that listener, and a second call is harmless", () => {
    const t = new ProgressTracker("s", "op");
    const heard: string[] = [];
    const removeA = t.onProgress((s) => heard.push(`a${s.progress}`));
    t.onProgress((s) => heard.push(`b${s.progress}`));
    t.setProgress(10);
    removeA();
    removeA();
    t.setProgress(20);
    expect(heard).toEqual(["a10", "b10", "b20"]);
  });

  it("D8: a listener may remove itself while being called", () => {
    const t = new ProgressTracker("s", "op");
    const heard: number[] = [];
    const remove = t.onProgress((s) => {
      heard.push(s.progress);
      remove();
    });
    t.onProgress((s) => heard.push(-s.progress));
    t.setProgress(10);
    t.setProgress(20);
    expect(heard).toEqual([10, -10, -20]);
  });
});
