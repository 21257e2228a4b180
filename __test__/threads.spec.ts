// createTimeoutToken: the package cancels from a Rust timer thread and delivers callbacks on the
// JS thread; the flag itself is shared memory, seen at once. Reasons match the reference.
import { describe, expect, it } from "vitest";
import { CancellationSource, createTimeoutToken } from "msw-session";
import { isReference, waitFor } from "./helpers";

/** A promise of the reason the token's first onCancelled callback receives. */
function cancelled(source: CancellationSource): Promise<string | undefined> {
  return new Promise((resolve) => {
    source.token.onCancelled(resolve);
  });
}

describe("createTimeoutToken", () => {
  it("returns an uncancelled CancellationSource", () => {
    const source = createTimeoutToken(60_000);
    expect(source).toBeInstanceOf(CancellationSource);
    expect(source.isCancelled).toBe(false);
    expect(source.token.reason).toBeUndefined();
    source.cancel("cleanup");
  });

  it("(a) cancels after the timeout; onCancelled hears `Timeout after 20ms`", async () => {
    const source = createTimeoutToken(20);
    const reason = await cancelled(source);
    expect(reason).toBe("Timeout after 20ms");
    expect(source.isCancelled).toBe(true);
    expect(source.token.isCancelled).toBe(true);
    expect(source.token.reason).toBe("Timeout after 20ms");
    expect(() => source.token.throwIfCancelled()).toThrow("Timeout after 20ms");
  });

  it("(c) prints the timeout as JavaScript does: `Timeout after 1.5ms`", async () => {
    const source = createTimeoutToken(1.5);
    expect(await cancelled(source)).toBe("Timeout after 1.5ms");
  });

  it("a zero timeout cancels too: `Timeout after 0ms`", async () => {
    const source = createTimeoutToken(0);
    expect(await cancelled(source)).toBe("Timeout after 0ms");
  });

  it("a timeout token's callback runs exactly once", async () => {
    // (with the package, a 0 ms timer may already have fired when onCancelled is called: then the
    // callback runs at once, like any onCancelled after cancellation — either way, once)
    const source = createTimeoutToken(0);
    const calls: Array<string | undefined> = [];
    source.token.onCancelled((reason) => calls.push(reason));
    await cancelled(source);
    const later = createTimeoutToken(30);
    await cancelled(later);
    expect(calls).toEqual(["Timeout after 0ms"]);
  });

  it("a manual cancel before the timeout wins; the timer changes nothing", async () => {
    const source = createTimeoutToken(100);
    const calls: Array<string | undefined> = [];
    source.token.onCancelled((reason) => calls.push(reason));
    source.cancel("manual");
    expect(calls).toEqual(["manual"]);
    // a longer timer's callback comes after the first timer would have fired
    await cancelled(createTimeoutToken(150));
    expect(source.token.reason).toBe("manual");
    expect(calls).toEqual(["manual"]);
  });

  it("several timeout tokens each cancel with their own reason", async () => {
    const sources = [30, 5, 15].map((ms) => createTimeoutToken(ms));
    const reasons = await Promise.all(sources.map(cancelled));
    expect(reasons).toEqual(["Timeout after 30ms", "Timeout after 5ms", "Timeout after 15ms"]);
  });

  it.skipIf(isReference)(
    "(b) the flag is shared memory: a synchronous busy loop sees the timer thread's cancel",
    async () => {
      const source = createTimeoutToken(5);
      const heard: Array<string | undefined> = [];
      source.token.onCancelled((reason) => heard.push(reason));
      // The JS thread never yields here, so only the timer thread can end this loop.
      while (!source.token.isCancelled) {
        // spin
      }
      expect(source.isCancelled).toBe(true);
      expect(source.token.reason).toBe("Timeout after 5ms");
      expect(() => source.token.throwIfCancelled()).toThrow("Timeout after 5ms");
      // registered once the token is cancelled: runs at once, like any onCancelled after cancellation
      const late: Array<string | undefined> = [];
      source.token.onCancelled((reason) => late.push(reason));
      expect(late).toEqual(["Timeout after 5ms"]);
      // the callback registered before is delivered on this thread, exactly once
      await waitFor(() => heard.length > 0);
      await cancelled(createTimeoutToken(20));
      expect(heard).toEqual(["Timeout after 5ms"]);
      expect(late).toEqual(["Timeout after 5ms"]);
    },
  );

  it.skipIf(isReference)("a busy loop on source.isCancelled ends as well", () => {
    const source = createTimeoutToken(5);
    while (!source.isCancelled) {
      // spin
    }
    expect(source.token.isCancelled).toBe(true);
  });
});
