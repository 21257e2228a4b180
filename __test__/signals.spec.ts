// CancellationToken#signal (an AbortSignal for fetch, streams, timers) and
// CancellationSource.linked / dispose. Package-only: the reference module has neither.
// Observed (and asserted): within one thread everything here is synchronous — `cancel` aborts
// the signal, and a linked source is cancelled, before it returns.
import { setTimeout as sleep } from "node:timers/promises";
import v8 from "node:v8";
import vm from "node:vm";
import { describe, expect, it } from "vitest";
import { CancellationError, CancellationSource, CancellationToken, createTimeoutToken } from "msw-session";
import { expectError, isReference } from "./helpers";

/** Resolves when the signal aborts (at once when it already has). */
function aborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
}

/** Resolves with the reason of the token's cancellation. */
function cancelled(token: CancellationToken): Promise<string | undefined> {
  return new Promise((resolve) => token.onCancelled(resolve));
}

describe.skipIf(isReference)("CancellationToken#signal", () => {
  it("is an AbortSignal, the same object on every read, not aborted before the cancel", () => {
    const source = new CancellationSource();
    const signal = source.token.signal;
    expect(signal).toBeInstanceOf(AbortSignal);
    expect(source.token.signal).toBe(signal);
    expect(signal.aborted).toBe(false);
    expect(signal.reason).toBeUndefined();
    source.cancel("cleanup");
  });

  it("aborts on cancel with a CancellationError carrying the reason; the abort event fires once", () => {
    const source = new CancellationSource();
    const signal = source.token.signal;
    const events: Event[] = [];
    signal.addEventListener("abort", (event) => events.push(event));
    let onabort = 0;
    signal.onabort = () => onabort++;

    source.cancel("why");
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toBeInstanceOf(CancellationError);
    expect(signal.reason).toBeInstanceOf(Error);
    expect(signal.reason.reason).toBe("why");
    expect(signal.reason.message).toBe("why");
    expect(signal.reason.name).toBe("CancellationError");
    expect(events).toHaveLength(1);
    expect(events[0].type).toBe("abort");
    expect(onabort).toBe(1);
    expect(() => signal.throwIfAborted()).toThrow(CancellationError);

    // later cancels change nothing
    source.cancel("again");
    source.token._cancel("and again");
    expect(events).toHaveLength(1);
    expect(onabort).toBe(1);
    expect(signal.reason.reason).toBe("why");
    expect(source.token.signal).toBe(signal);
  });

  it("a cancel without a reason aborts with the default CancellationError message", () => {
    const token = new CancellationToken();
    const signal = token.signal;
    token._cancel();
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toBeInstanceOf(CancellationError);
    expect(signal.reason.reason).toBeUndefined();
    expect(signal.reason.message).toBe("Operation was cancelled");
  });

  it("read for the first time on an already cancelled token, it is already aborted (synchronously)", () => {
    const source = new CancellationSource();
    source.cancel("before");
    const signal = source.token.signal;
    // observed: aborted on the very read, without an await
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toBeInstanceOf(CancellationError);
    expect(signal.reason.reason).toBe("before");
    expect(source.token.signal).toBe(signal);
  });

  it("a timeout token's signal aborts when the timer fires", async () => {
    const source = createTimeoutToken(10);
    const signal = source.token.signal;
    await aborted(signal);
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toBeInstanceOf(CancellationError);
    expect(signal.reason.reason).toBe("Timeout after 10ms");
    expect(source.isCancelled).toBe(true);
  });

  it("works with AbortSignal.any", () => {
    const source = new CancellationSource();
    const other = new AbortController();
    const any = AbortSignal.any([source.token.signal, other.signal]);
    expect(any.aborted).toBe(false);
    source.cancel("through any");
    expect(any.aborted).toBe(true);
    expect(any.reason).toBe(source.token.signal.reason);
    expect(any.reason.reason).toBe("through any");
  });

  it("stops a signal-taking API (timers/promises) with an AbortError whose cause is the CancellationError", async () => {
    const source = new CancellationSource();
    const pending = sleep(600_000, "never", { signal: source.token.signal });
    source.cancel("stop waiting");
    const error = await pending.then(
      () => undefined,
      (err: unknown) => err as Error & { cause?: unknown },
    );
    expect(error).toBeDefined();
    expect(error!.name).toBe("AbortError");
    expect(error!.cause).toBeInstanceOf(CancellationError);
    expect((error!.cause as CancellationError).reason).toBe("stop waiting");
  });
});

type Parent = CancellationToken | CancellationSource | AbortSignal;

/** A parent of each kind, with the function that cancels it with a reason. */
const parentKinds: Array<[string, () => { parent: Parent; cancel: (reason: string) => void; isCancelled: () => boolean }]> = [
  [
    "a CancellationToken",
    () => {
      const source = new CancellationSource();
      return { parent: source.token, cancel: (r) => source.cancel(r), isCancelled: () => source.isCancelled };
    },
  ],
  [
    "a CancellationSource",
    () => {
      const source = new CancellationSource();
      return { parent: source, cancel: (r) => source.cancel(r), isCancelled: () => source.isCancelled };
    },
  ],
  [
    "an AbortSignal",
    () => {
      const controller = new AbortController();
      return {
        parent: controller.signal,
        cancel: (r) => controller.abort(new Error(r)),
        isCancelled: () => controller.signal.aborted,
      };
    },
  ],
];

describe.skipIf(isReference)("CancellationSource.linked", () => {
  it.each(parentKinds)("with %s as parent: cancelled when the parent is, with its reason", (_label, make) => {
    const { parent, cancel } = make();
    const linked = CancellationSource.linked(parent);
    expect(linked).toBeInstanceOf(CancellationSource);
    expect(linked.isCancelled).toBe(false);
    const heard: Array<string | undefined> = [];
    linked.token.onCancelled((reason) => heard.push(reason));

    cancel("parent said stop");
    expect(linked.isCancelled).toBe(true);
    expect(linked.token.reason).toBe("parent said stop");
    expect(heard).toEqual(["parent said stop"]);
    linked.dispose();
  });

  it.each(parentKinds)("with %s already cancelled: cancelled at once", (_label, make) => {
    const { parent, cancel } = make();
    cancel("already");
    const linked = CancellationSource.linked(parent);
    expect(linked.isCancelled).toBe(true);
    expect(linked.token.reason).toBe("already");
    linked.dispose();
  });

  it.each(parentKinds)("cancelling the linked source never cancels %s", (_label, make) => {
    const { parent, isCancelled } = make();
    const linked = CancellationSource.linked(parent);
    linked.cancel("child only");
    expect(linked.token.reason).toBe("child only");
    expect(isCancelled()).toBe(false);
    linked.dispose();
  });

  it("with several parents of every kind: the first parent cancelled gives its reason", () => {
    const a = new CancellationSource();
    const b = new CancellationSource();
    const controller = new AbortController();
    const linked = CancellationSource.linked(a.token, b, controller.signal);
    const heard: Array<string | undefined> = [];
    linked.token.onCancelled((reason) => heard.push(reason));

    b.cancel("b first");
    a.cancel("a second");
    controller.abort("c third");
    expect(linked.token.reason).toBe("b first");
    expect(heard).toEqual(["b first"]);
    linked.cancel("too late");
    expect(linked.token.reason).toBe("b first");
    expect(a.token.reason).toBe("a second");
    linked.dispose();
  });

  it("with no parents: a plain source", () => {
    const linked = CancellationSource.linked();
    expect(linked.isCancelled).toBe(false);
    linked.cancel("own");
    expect(linked.token.reason).toBe("own");
  });

  it("a linked token's signal aborts too, and a chain of links passes the reason on", () => {
    const root = new CancellationSource();
    const middle = CancellationSource.linked(root);
    const leaf = CancellationSource.linked(middle.token.signal);
    const signal = leaf.token.signal;
    root.cancel("from the root");
    expect(middle.token.reason).toBe("from the root");
    expect(leaf.token.reason).toBe("from the root");
    expect(signal.aborted).toBe(true);
    expect(signal.reason.reason).toBe("from the root");
  });

  // What an AbortController's reason becomes, whether it aborts before or after linking.
  const abortReasons: Array<[string, string, (c: AbortController) => void]> = [
    ["new Error('boom')", "boom", (c) => c.abort(new Error("boom"))],
    ["the string 'x'", "x", (c) => c.abort("x")],
    ["no argument (a DOMException)", "This operation was aborted", (c) => c.abort()],
    ["a CancellationError('ce')", "ce", (c) => c.abort(new CancellationError("ce"))],
    ["the number 7", "7", (c) => c.abort(7)],
  ];

  it.each(abortReasons)("an AbortController aborted with %s after linking gives reason %j", (_label, expected, abort) => {
    const controller = new AbortController();
    const linked = CancellationSource.linked(controller.signal);
    abort(controller);
    expect(linked.isCancelled).toBe(true);
    expect(linked.token.reason).toBe(expected);
    linked.dispose();
  });

  it.each(abortReasons)("an AbortController aborted with %s before linking gives reason %j at once", (_label, expected, abort) => {
    const controller = new AbortController();
    abort(controller);
    const linked = CancellationSource.linked(controller.signal);
    expect(linked.isCancelled).toBe(true);
    expect(linked.token.reason).toBe(expected);
    linked.dispose();
  });

  it.each(parentKinds)("dispose() releases the link: %s cancelled afterwards leaves the child uncancelled", (_label, make) => {
    const { parent, cancel } = make();
    const linked = CancellationSource.linked(parent);
    const heard: Array<string | undefined> = [];
    linked.token.onCancelled((reason) => heard.push(reason));
    linked.dispose();
    cancel("after dispose");
    expect(linked.isCancelled).toBe(false);
    expect(linked.token.reason).toBeUndefined();
    expect(heard).toEqual([]);
    // the disposed source still works on its own
    linked.cancel("own");
    expect(heard).toEqual(["own"]);
  });

  it("dispose() releases every link of a source with several parents", () => {
    const source = new CancellationSource();
    const controller = new AbortController();
    const linked = CancellationSource.linked(source.token, controller.signal);
    linked.dispose();
    source.cancel("late");
    controller.abort();
    expect(linked.isCancelled).toBe(false);
  });

  it("dispose() keeps the token's state: a cancelled linked source stays cancelled", () => {
    const parent = new CancellationSource();
    const linked = CancellationSource.linked(parent);
    parent.cancel("kept");
    linked.dispose();
    expect(linked.isCancelled).toBe(true);
    expect(linked.token.reason).toBe("kept");
    linked.dispose(); // twice is harmless
    expect(linked.token.reason).toBe("kept");
  });

  it("dispose() on a createTimeoutToken source stops its timer", async () => {
    const disposed = createTimeoutToken(30);
    const heard: Array<string | undefined> = [];
    disposed.token.onCancelled((reason) => heard.push(reason));
    disposed.dispose();
    // a longer timer's callback comes after the disposed timer would have fired
    // (the witness is kept in a variable: see "is not lost to garbage collection" below)
    const witness = createTimeoutToken(120);
    expect(await cancelled(witness.token)).toBe("Timeout after 120ms");
    expect(disposed.isCancelled).toBe(false);
    expect(disposed.token.reason).toBeUndefined();
    expect(heard).toEqual([]);
  });

  it("a timeout source as a parent cancels the linked source when it fires", async () => {
    const timeout = createTimeoutToken(15);
    const linked = CancellationSource.linked(timeout);
    expect(await cancelled(linked.token)).toBe("Timeout after 15ms");
    linked.dispose();
  });

  it.each([
    ["an object", [{}]],
    ["a number", [42]],
    ["a string", ["x"]],
    ["null", [null]],
    ["a bad parent after a good one", [new CancellationSource(), {}]],
  ])("refuses %s as a parent with TypeError ERR_INVALID_ARG_TYPE", (_label, parents) => {
    expectError(() => CancellationSource.linked(...(parents as Parent[])), {
      type: TypeError,
      code: "ERR_INVALID_ARG_TYPE",
    });
  });
});

/** `gc()`, made available at run time (vitest's worker is not started with --expose-gc). */
function collectGarbage(): () => void {
  v8.setFlagsFromString("--expose-gc");
  return vm.runInNewContext("gc") as () => void;
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Forces collections, a turn of the event loop after each (finalizers run on a later turn),
 * until an object nothing references has been finalized; false if it never was in 50 rounds.
 */
async function collectedWithFinalizers(gc: () => void): Promise<boolean> {
  let finalized = false;
  const registry = new FinalizationRegistry(() => (finalized = true));
  registry.register({}, "witness");
  for (let round = 0; round < 50 && !finalized; round++) {
    gc();
    await nextTurn();
  }
  return finalized;
}

// A callback registered with onCancelled must run when the token is cancelled even when the
// caller keeps no reference to the token or its source — the natural
// `await new Promise((r) => createTimeoutToken(ms).token.onCancelled(r))`. A collection is
// forced so that the outcome does not depend on when V8 happens to collect.
describe.skipIf(isReference)("a token's callbacks are not lost to garbage collection", () => {
  it("an unreferenced timeout token still calls its onCancelled callback when the timer fires", async () => {
    const gc = collectGarbage();
    const calls: Array<string | undefined> = [];
    createTimeoutToken(100).token.onCancelled((reason) => calls.push(reason));
    // the control: the same, with the source kept in a variable
    const kept = createTimeoutToken(100);
    const keptCalls: Array<string | undefined> = [];
    kept.token.onCancelled((reason) => keptCalls.push(reason));
    await nextTurn();
    gc();
    const witness = createTimeoutToken(250);
    await cancelled(witness.token);
    await nextTurn();
    expect(keptCalls).toEqual(["Timeout after 100ms"]);
    expect(calls).toEqual(["Timeout after 100ms"]);
  });

  it("an unreferenced timeout token's signal still fires its abort listener", async () => {
    const gc = collectGarbage();
    const calls: string[] = [];
    createTimeoutToken(100).token.signal.addEventListener("abort", (event) => calls.push(event.type));
    await nextTurn();
    gc();
    const witness = createTimeoutToken(250);
    await cancelled(witness.token);
    await nextTurn();
    expect(calls).toEqual(["abort"]);
  });

  it("an unreferenced linked source still calls its onCancelled callback when its parent is cancelled", async () => {
    const gc = collectGarbage();
    const parent = new CancellationSource();
    const calls: Array<string | undefined> = [];
    CancellationSource.linked(parent).token.onCancelled((reason) => calls.push(reason));
    await nextTurn();
    // Collect until the finalizer of an unreferenced witness has run: a collection with its
    // finalizers has then certainly happened, and the link must have survived it.
    expect(await collectedWithFinalizers(gc)).toBe(true);
    parent.cancel("from the parent");
    await nextTurn();
    expect(calls).toEqual(["from the parent"]);
  });
});
