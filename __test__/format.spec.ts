// Contract §1 "formatProgress": exact strings, numbers printed as JavaScript prints them.
import { describe, expect, it } from "vitest";
import { ProgressTracker, formatProgress, type ProgressState } from "msw-session";

function state(progress: number, currentStep?: string, operation = "index"): ProgressState {
  const s: ProgressState = {
    sessionId: "s",
    operation,
    status: "running",
    progress,
    startedAt: "2026-11-24T12:00:00.000Z",
    updatedAt: "2026-11-24T12:00:00.000Z",
  };
  if (currentStep !== undefined) s.currentStep = currentStep;
  return s;
}

describe("formatProgress", () => {
  it.each([
    [0, "[------------------------------] 0% index"],
    [10, "[###---------------------------] 10% index"],
    [100, "[##############################] 100% index"],
    // Math.round(p / 100 * 30) filled cells, halves rounded up
    [5, "[##----------------------------] 5% index"],
    [15, "[#####-------------------------] 15% index"],
    [45, "[##############----------------] 45% index"],
    [51.7, "[################--------------] 51.7% index"],
    [98.3, "[#############################-] 98.3% index"],
    [99.99, "[##############################] 99.99% index"],
    // the number exactly as JavaScript prints it
    [0.30000000000000004, "[------------------------------] 0.30000000000000004% index"],
    [1e-7, "[------------------------------] 1e-7% index"],
    [33.333333333333336, "[##########--------------------] 33.333333333333336% index"],
    [-0, "[------------------------------] 0% index"],
  ])("progress %s → %j", (progress, expected) => {
    expect(formatProgress(state(progress))).toBe(expected);
  });

  it('appends " - step" when there is a step', () => {
    expect(formatProgress(state(50, "parse notes"))).toBe("[###############---------------] 50% index - parse notes");
  });

  it("an empty step adds no suffix", () => {
    expect(formatProgress(state(50, ""))).toBe("[###############---------------] 50% index");
  });

  it("keeps non-ASCII text as is", () => {
    expect(formatProgress(state(20, "étape ✓ 🚀", "índice 索引"))).toBe(
      "[######------------------------] 20% índice 索引 - étape ✓ 🚀",
    );
  });

  it("formats a tracker's state", () => {
    const t = new ProgressTracker("s", "sync");
    t.start(3);
    t.completeStep("fetch");
    expect(formatProgress(t.getState())).toBe("[##########--------------------] 33% sync - fetch");
  });
});
