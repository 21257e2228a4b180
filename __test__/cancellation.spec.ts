// Contract §1 "Cancellation": tokens, sources and CancellationError, as the reference behaves.
// Timeout tokens (which cancel from a timer) are in threads.spec.ts; the package's fix D8
// (a callback can be removed) is at the end.
import { describe, expect, it } from "vitest";
import { CancellationError, CancellationSource, CancellationToken } from "msw-session";
import { isReference } from "./helpers";

describe("CancellationToken", () => {
  it("a new token is not cancelled and has no reason", () => {
    const token = new CancellationToken();
    expect(token.isCancelled).toBe(false);
    expect(token.reason).toBeUndefined();
    expect(() => token.throwIfCancelled()).not.toThrow();
  });

  it("works standalone: _cancel cancels it with the reason", () => {
    const token = new CancellationToken();
    const heard: Array<string | undefined> = [];
    token.onCancelled((reason) => heard.push(reason));
    token._cancel("standalone");
    expect(token.isCancelled).toBe(true);
    expect(token.reason).toBe("standalone");
    expect(heard).toEqual(["standalone"]);
  });

  it("throwIfCancelled throws a CancellationError carrying the reason", () => {
    const source = new CancellationSource();
    source.cancel("user pressed stop");
    let thrown: unknown;
    try {
      source.token.throwIfCancelled();
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(CancellationError);
    expect(thrown).toBeInstanceOf(Error);
    expect((thrown as Error).name).toBe("CancellationError");
    expect((thrown as Error).message).toBe("user pressed stop");
  });

  it('throwIfCancelled without a reason says "Operation was cancelled"', () => {
    const source = new CancellationSource();
    source.cancel();
    expect(() => source.token.throwIfCancelled()).toThrow(new CancellationError());
    expect(() => source.token.throwIfCancelled()).toThrow("Operation was cancelled");
  });
});

describe("CancellationSource", () => {
  it("token is the same object on every read", () => {
    const source = new CancellationSource();
    expect(source.token).toBeInstanceOf(CancellationToken);
    expect(source.token).toBe(source.token);
  });

  it("cancel sets isCancelled on the source and the token, with the reason", () => {
    const source = new CancellationSource();
    expect(source.isCancelled).toBe(false);
    source.cancel("stop");
    expect(source.isCancelled).toBe(true);
    expect(source.token.isCancelled).toBe(true);
    expect(source.token.reason).toBe("stop");
  });

  it("cancel without a reason leaves the reason undefined", () => {
    const source = new CancellationSource();
    const heard: Array<string | undefined> = [];
    source.token.onCancelled((reason) => heard.push(reason));
    source.cancel();
    expect(source.isCancelled).toBe(true);
    expect(source.token.reason).toBeUndefined();
    expect(heard).toEqual([undefined]);
  });

  it("callbacks run once, synchronously, in registration order, with the first reason", () => {
    const source = new CancellationSource();
    const calls: string[] = [];
    source.token.onCancelled((reason) => calls.push(`a:${reason}`));
    source.token.onCancelled((reason) => calls.push(`b:${reason}`));
    source.token.onCancelled((reason) => calls.push(`c:${reason}`));
    source.cancel("first");
    expect(calls).toEqual(["a:first", "b:first", "c:first"]);
    source.cancel("second");
    source.token._cancel("third");
    expect(calls).toEqual(["a:first", "b:first", "c:first"]);
  });

  it("the same callback registered twice runs twice", () => {
    const source = new CancellationSource();
    let runs = 0;
    const cb = () => runs++;
    source.token.onCancelled(cb);
    source.token.onCancelled(cb);
    source.cancel();
    expect(runs).toBe(2);
  });

  it("a later cancel changes nothing: the first reason stays", () => {
    const source = new CancellationSource();
    source.cancel("first");
    source.cancel("second");
    source.cancel();
    expect(source.token.reason).toBe("first");
  });

  it("onCancelled after cancellation runs the callback at once with the reason", () => {
    const source = new CancellationSource();
    source.cancel("done already");
    const heard: Array<string | undefined> = [];
    source.token.onCancelled((reason) => heard.push(reason));
    expect(heard).toEqual(["done already"]);
    source.cancel("again");
    expect(heard).toEqual(["done already"]);
  });

  it("a throwing callback stops neither the other callbacks nor the cancel", () => {
    const source = new CancellationSource();
    const calls: string[] = [];
    source.token.onCancelled(() => calls.push("before"));
    source.token.onCancelled(() => {
      throw new Error("listener bug");
    });
    source.token.onCancelled(() => calls.push("after"));
    expect(() => source.cancel("stop")).not.toThrow();
    expect(calls).toEqual(["before", "after"]);
    expect(source.isCancelled).toBe(true);
    expect(source.token.reason).toBe("stop");
  });

  it("each source has its own token", () => {
    const a = new CancellationSource();
    const b = new CancellationSource();
    a.cancel("a only");
    expect(a.token).not.toBe(b.token);
    expect(b.isCancelled).toBe(false);
    expect(b.token.reason).toBeUndefined();
  });
});

describe("CancellationError", () => {
  it("is an Error named CancellationError with the reason as message", () => {
    const err = new CancellationError("why");
    expect(err).toBeInstanceOf(Error);
    expect(err).toBeInstanceOf(CancellationError);
    expect(err.name).toBe("CancellationError");
    expect(err.message).toBe("why");
    expect(typeof err.stack).toBe("string");
  });

  it('without a reason (or an empty one) says "Operation was cancelled"', () => {
    expect(new CancellationError().message).toBe("Operation was cancelled");
    expect(new CancellationError("").message).toBe("Operation was cancelled");
  });

  it("can be subclassed", () => {
    class TimeoutCancelled extends CancellationError {}
    const err = new TimeoutCancelled("slow");
    expect(err).toBeInstanceOf(CancellationError);
    expect(err.message).toBe("slow");
  });

  it.skipIf(isReference)("carries the reason as `reason` (package addition)", () => {
    expect(new CancellationError("why").reason).toBe("why");
    expect(new CancellationError().reason).toBeUndefined();
    const source = new CancellationSource();
    source.cancel("from token");
    try {
      source.token.throwIfCancelled();
      expect.unreachable();
    } catch (err) {
      expect((err as CancellationError).reason).toBe("from token");
    }
  });
});

describe.skipIf(isReference)("D8: onCancelled returns a function that removes the callback", () => {
  it("D8: the returned function removes that callback, and a second call is harmless", () => {
    const source = new CancellationSource();
    const calls: string[] = [];
    source.token.onCancelled(() => calls.push("a"));
    const removeB = source.token.onCancelled(() => calls.push("b"));
    source.token.onCancelled(() => calls.push("c"));
    expect(typeof removeB).toBe("function");
    removeB();
    removeB();
    source.cancel("stop");
    expect(calls).toEqual(["a", "c"]);
  });

  it("D8: the remover of a callback that already ran is harmless", () => {
    const source = new CancellationSource();
    source.cancel("done");
    let runs = 0;
    const remove = source.token.onCancelled(() => runs++);
    expect(runs).toBe(1);
    expect(typeof remove).toBe("function");
    expect(() => remove()).not.toThrow();
  });

  it("D8: removing one of two registrations of the same callback keeps the other", () => {
    const source = new CancellationSource();
    let runs = 0;
    const cb = () => runs++;
    const first = source.token.onCancelled(cb);
    source.token.onCancelled(cb);
    first();
    source.cancel();
    expect(runs).toBe(1);
  });
});
