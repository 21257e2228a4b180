// Contract §3 "Errors" and index.d.ts: every bad argument is refused with a coded TypeError or
// RangeError naming the argument, and a refused call changes nothing (D9: setProgress refuses NaN
// and wrong types). Package-only: the reference accepts anything. A folder the disk refuses
// (ERR_SESSION_IO) is in persistence.spec.ts "I/O faults"; ids that are not plain file names
// (D6) in store.spec.ts; a context that cannot be stored (D2) in manager.spec.ts.
import { describe, expect, it } from "vitest";
import {
  CancellationSource,
  CancellationToken,
  ProgressTracker,
  SessionManager,
  SessionStateStore,
  createTimeoutToken,
  formatProgress,
} from "msw-session";
import { expectError, isReference, makeState, sessionFiles, tempDirs } from "./helpers";

const tempDir = tempDirs();

const typeError = (message: string) => ({ type: TypeError, code: "ERR_INVALID_ARG_TYPE", message });
const rangeError = (message: string) => ({ type: RangeError, code: "ERR_OUT_OF_RANGE", message });

// Calls with arguments the typings forbid.
const loose = (value: unknown): any => value;

describe.skipIf(isReference)("cancellation arguments", () => {
  it.each([42, null, {}])("cancel(%j) is a TypeError naming `reason`, and cancels nothing", (reason) => {
    const source = new CancellationSource();
    expectError(() => source.cancel(loose(reason)), typeError("reason"));
    expect(source.isCancelled).toBe(false);
    expectError(() => source.token._cancel(loose(reason)), typeError("reason"));
    expect(source.token.isCancelled).toBe(false);
  });

  it.each(["not a function", undefined, {}])("onCancelled(%j) is a TypeError naming `callback`", (callback) => {
    const token = new CancellationToken();
    expectError(() => token.onCancelled(loose(callback)), typeError("callback"));
    token._cancel("now");
    expect(token.reason).toBe("now");
  });

  it.each(["5", undefined, null])("createTimeoutToken(%j) is a TypeError naming `timeoutMs`", (ms) => {
    expectError(() => createTimeoutToken(loose(ms)), typeError("timeoutMs"));
  });

  it.each([NaN, -1, -Infinity])("createTimeoutToken(%s) is a RangeError naming `timeoutMs`", (ms) => {
    expectError(() => createTimeoutToken(ms), rangeError("timeoutMs"));
  });
});

describe.skipIf(isReference)("ProgressTracker arguments", () => {
  const fresh = () => new ProgressTracker("s", "op");

  it("the constructor needs two strings", () => {
    expectError(() => new ProgressTracker(loose(1), "op"), typeError("sessionId"));
    expectError(() => new ProgressTracker("s", loose(undefined)), typeError("operation"));
  });

  it("onProgress needs a function", () => {
    expectError(() => fresh().onProgress(loose("nope")), typeError("callback"));
  });

  /** Runs `call` on a tracker with a listener and checks that it was refused without any change. */
  function refusedWithoutChange(call: (t: ProgressTracker) => void, expected: Parameters<typeof expectError>[1]) {
    const t = fresh();
    t.start(4);
    t.setProgress(25, "step");
    const before = t.getState();
    let heard = 0;
    t.onProgress(() => heard++);
    expectError(() => call(t), expected);
    expect(t.getState()).toEqual(before);
    expect(heard).toBe(0);
  }

  it.each(["3", null, true])("start(%j) is a TypeError naming `totalSteps`", (total) => {
    refusedWithoutChange((t) => t.start(loose(total)), typeError("totalSteps"));
  });

  it.each([-1, NaN, 1.5, Infinity, 2 ** 53])("start(%s) is a RangeError naming `totalSteps`", (total) => {
    refusedWithoutChange((t) => t.start(total), rangeError("totalSteps"));
  });

  it("start accepts 0 and 2^53 - 1", () => {
    const t = fresh();
    t.start(0);
    expect(t.getState().totalSteps).toBe(0);
    t.start(Number.MAX_SAFE_INTEGER);
    expect(t.getState().totalSteps).toBe(Number.MAX_SAFE_INTEGER);
  });

  it.each(["50", null, undefined])("D9: setProgress(%j) is a TypeError naming `progress` and changes nothing", (p) => {
    refusedWithoutChange((t) => t.setProgress(loose(p)), typeError("progress"));
  });

  it("D9: setProgress(NaN) is a RangeError naming `progress` and changes nothing", () => {
    refusedWithoutChange((t) => t.setProgress(NaN), rangeError("progress"));
    refusedWithoutChange((t) => t.setProgress(NaN, "x"), rangeError("progress"));
  });

  it.each([7, null, {}])("setProgress(10, %j) is a TypeError naming `currentStep`", (step) => {
    refusedWithoutChange((t) => t.setProgress(10, loose(step)), typeError("currentStep"));
  });

  it.each([7, null])("completeStep(%j) is a TypeError naming `stepName`", (step) => {
    refusedWithoutChange((t) => t.completeStep(loose(step)), typeError("stepName"));
  });

  it.each([undefined, 42, new Error("x")])("fail(%j) is a TypeError naming `error`", (error) => {
    refusedWithoutChange((t) => t.fail(loose(error)), typeError("error"));
  });

  it.each([42, null])("cancel(%j) is a TypeError naming `reason`", (reason) => {
    refusedWithoutChange((t) => t.cancel(loose(reason)), typeError("reason"));
  });

  it.each(["2030-01-01T00:00:00.000Z", 0, undefined])("setEta(%j) is a TypeError naming `eta`", (eta) => {
    refusedWithoutChange((t) => t.setEta(loose(eta)), typeError("eta"));
  });

  it("setEta(invalid Date) is a RangeError naming `eta`", () => {
    refusedWithoutChange((t) => t.setEta(new Date(NaN)), rangeError("eta"));
  });
});

describe.skipIf(isReference)("formatProgress arguments", () => {
  it.each([null, undefined, "50%", { operation: "op", progress: "50" }, { operation: "op" }])(
    "formatProgress(%j) is a TypeError",
    (state) => {
      expectError(() => formatProgress(loose(state)), { type: TypeError, code: "ERR_INVALID_ARG_TYPE" });
    },
  );
});

describe.skipIf(isReference)("SessionStateStore arguments", () => {
  it.each([42, null, {}])("new SessionStateStore(%j) is a TypeError naming `basePath`", (basePath) => {
    expectError(() => new SessionStateStore(loose(basePath)), typeError("basePath"));
  });

  it.each(["60000", true])("findCrashedSessions(%j) is a TypeError naming `staleThresholdMs`", (ms) => {
    const store = new SessionStateStore(tempDir());
    expectError(() => store.findCrashedSessions(loose(ms)), typeError("staleThresholdMs"));
  });

  it.each([NaN, -1])("findCrashedSessions(%s) is a RangeError naming `staleThresholdMs`", (ms) => {
    const store = new SessionStateStore(tempDir());
    expectError(() => store.findCrashedSessions(ms), rangeError("staleThresholdMs"));
  });

  it.each([NaN, -1])("cleanup(%s) is a RangeError naming `maxAgeDays` and removes nothing", (days) => {
    const base = tempDir();
    const store = new SessionStateStore(base);
    store.save(makeState("old", { status: "completed", updatedAt: "2000-01-01T00:00:00.000Z" }));
    expectError(() => store.cleanup(days), rangeError("maxAgeDays"));
    expect(store.listSessions()).toEqual(["old"]);
  });

  it('cleanup("7") is a TypeError naming `maxAgeDays`', () => {
    const store = new SessionStateStore(tempDir());
    expectError(() => store.cleanup(loose("7")), typeError("maxAgeDays"));
  });

  it.each([
    ["an empty object", {}],
    ["a number id", makeState("x", { id: 42 })],
    ["a missing operation", makeState("x", { operation: undefined })],
    ["a non-object progress", makeState("x", { progress: "40%" })],
    ["a null progress", makeState("x", { progress: null })],
    ["a non-object context", makeState("x", { context: "ctx" })],
    ["a null context", makeState("x", { context: null })],
  ])("save(%s) is a TypeError ERR_INVALID_SESSION_STATE and writes nothing", (_label, state) => {
    const base = tempDir();
    const store = new SessionStateStore(base);
    expectError(() => store.save(loose(state)), { type: TypeError, code: "ERR_INVALID_SESSION_STATE", message: /state/i });
    expect(sessionFiles(base)).toEqual([]);
  });

  it("save(null) and resumeSession(null) are TypeErrors and change nothing", () => {
    const base = tempDir();
    const codes = ["ERR_INVALID_SESSION_STATE", "ERR_INVALID_ARG_TYPE"];
    const store = new SessionStateStore(base);
    const manager = new SessionManager({ basePath: base, persistIntervalMs: 0 });
    for (const call of [() => store.save(loose(null)), () => manager.resumeSession(loose(null))]) {
      let thrown: unknown;
      try {
        call();
      } catch (err) {
        thrown = err;
      }
      expect(thrown).toBeInstanceOf(TypeError);
      expect(codes).toContain((thrown as { code?: string }).code);
    }
    expect(manager.getAllSessions()).toEqual([]);
    expect(sessionFiles(base)).toEqual([]);
  });

  it.each([42, null])("load/remove(%j) is a TypeError", (id) => {
    const store = new SessionStateStore(tempDir());
    expect(() => store.load(loose(id))).toThrow(TypeError);
    expect(() => store.remove(loose(id))).toThrow(TypeError);
  });
});

describe.skipIf(isReference)("SessionManager arguments", () => {
  it.each([0, -1, NaN, -Infinity])("autoSaveIntervalMs %s is a RangeError naming `autoSaveIntervalMs`", (ms) => {
    expectError(() => new SessionManager({ basePath: tempDir(), autoSaveIntervalMs: ms }), rangeError("autoSaveIntervalMs"));
  });

  it.each(["5000", true])("autoSaveIntervalMs %j is a TypeError naming `autoSaveIntervalMs`", (ms) => {
    expectError(
      () => new SessionManager({ basePath: tempDir(), autoSaveIntervalMs: loose(ms) }),
      typeError("autoSaveIntervalMs"),
    );
  });

  it("options of the wrong type are a TypeError", () => {
    expectError(() => new SessionManager(loose("opts")), { type: TypeError, code: "ERR_INVALID_ARG_TYPE" });
    expectError(() => new SessionManager({ basePath: loose(42) }), typeError("basePath"));
  });

  it.each([
    ["operation", 42, {}],
    ["operation", undefined, {}],
    ["context", "op", null],
    ["context", "op", "ctx"],
    ["context", "op", 7],
  ])("createSession with a bad %s is a TypeError naming it, and leaves nothing", (name, operation, context) => {
    const base = tempDir();
    const manager = new SessionManager({ basePath: base, persistIntervalMs: 0 });
    expectError(() => manager.createSession(loose(operation), loose(context)), typeError(name));
    expect(manager.getAllSessions()).toEqual([]);
    expect(sessionFiles(base)).toEqual([]);
  });

  it("createSession with a BigInt in the context is ERR_CONTEXT_NOT_SERIALIZABLE with the cause, and leaves nothing", () => {
    const base = tempDir();
    const manager = new SessionManager({ basePath: base, persistIntervalMs: 0 });
    const err = expectError(() => manager.createSession("op", { big: 1n }), {
      type: TypeError,
      code: "ERR_CONTEXT_NOT_SERIALIZABLE",
    });
    expect(err.cause).toBeInstanceOf(TypeError);
    expect(String((err.cause as Error).message)).toMatch(/BigInt/);
    // One text for the error, whether an argument or a live session's context was refused.
    expect(err.message).toBe(`The "context" argument cannot be stored as JSON: ${(err.cause as Error).message}`);
    const live = manager.createSession("op", {});
    (live.context as any).big = 1n;
    const atSave = expectError(() => manager.saveAllSessions(), { type: TypeError, code: "ERR_CONTEXT_NOT_SERIALIZABLE" });
    expect(atSave.message).toBe(`The context of session ${live.id} cannot be stored as JSON: ${(atSave.cause as Error).message}`);
    (live.context as any).big = 0;
    manager.completeSession(live.id);
    expect(sessionFiles(base)).toContain(`${live.id}.json`);
  });

  it.skipIf(isReference)("a save that fails for two sessions gives each its own cause (issue 20.4)", () => {
    const base = tempDir();
    const manager = new SessionManager({ basePath: base, persistIntervalMs: 0 });
    const circular = manager.createSession("op", {});
    const big = manager.createSession("op", {});
    (circular.context as any).self = circular.context;
    (big.context as any).n = 1n;
    const err = expectError(() => manager.saveAllSessions(), { type: TypeError, code: "ERR_CONTEXT_NOT_SERIALIZABLE" }) as any;
    expect(err.errors.map((e: any) => e.sessionId)).toEqual([circular.id, big.id]);
    const [first, second] = err.errors;
    expect(first.cause).toBeInstanceOf(TypeError);
    expect(first.cause.message).toMatch(/circular/i);
    expect(first.message).toBe(`The context of session ${circular.id} cannot be stored as JSON: ${first.cause.message}`);
    expect(second.cause).toBeInstanceOf(TypeError);
    expect(second.cause.message).toMatch(/BigInt/);
    expect(second.message).toBe(`The context of session ${big.id} cannot be stored as JSON: ${second.cause.message}`);
    // The error fails as its first failure does, with that failure's cause.
    expect(err.cause).toBe(first.cause);
    delete (circular.context as any).self;
    (big.context as any).n = 1;
    manager.shutdown();
  });

  it("methods taking an id refuse a non-string id with ERR_INVALID_ARG_TYPE and change nothing", () => {
    const base = tempDir();
    const manager = new SessionManager({ basePath: base, persistIntervalMs: 0 });
    const session = manager.createSession("op");
    const bad = loose(42);
    expectError(() => manager.getSession(bad), { type: TypeError, code: "ERR_INVALID_ARG_TYPE" });
    expectError(() => manager.cancelSession(bad), { type: TypeError, code: "ERR_INVALID_ARG_TYPE" });
    expectError(() => manager.completeSession(bad), { type: TypeError, code: "ERR_INVALID_ARG_TYPE" });
    expectError(() => manager.failSession(bad, "x"), { type: TypeError, code: "ERR_INVALID_ARG_TYPE" });
    expect(manager.getAllSessions()).toEqual([session]);
    expect(session.progress.getState().status).toBe("pending");
  });

  it("cancelSession with a non-string reason is refused and cancels nothing", () => {
    const manager = new SessionManager({ basePath: tempDir(), persistIntervalMs: 0 });
    const session = manager.createSession("op");
    expectError(() => manager.cancelSession(session.id, loose(42)), typeError("reason"));
    expect(session.cancellation.isCancelled).toBe(false);
    expect(session.progress.getState().status).toBe("pending");
  });

  it("failSession with a non-string error is refused and keeps the session", () => {
    const manager = new SessionManager({ basePath: tempDir(), persistIntervalMs: 0 });
    const session = manager.createSession("op");
    expectError(() => manager.failSession(session.id, loose(undefined)), typeError("error"));
    expect(manager.getSession(session.id)).toBe(session);
    expect(session.progress.getState().status).toBe("pending");
  });

  it("onProgress needs a function", () => {
    const manager = new SessionManager({ basePath: tempDir(), persistIntervalMs: 0 });
    expectError(() => manager.onProgress(loose(null)), typeError("callback"));
  });

  it.each([
    ["an empty object", {}],
    ["a missing progress", makeState("x", { progress: undefined })],
    ["a non-object context", makeState("x", { context: 5 })],
  ])("resumeSession(%s) is ERR_INVALID_SESSION_STATE and adds nothing", (_label, state) => {
    const base = tempDir();
    const manager = new SessionManager({ basePath: base, persistIntervalMs: 0 });
    expectError(() => manager.resumeSession(loose(state)), {
      type: TypeError,
      code: "ERR_INVALID_SESSION_STATE",
      message: /state/i,
    });
    expect(manager.getAllSessions()).toEqual([]);
    expect(sessionFiles(base)).toEqual([]);
  });

  it.each([NaN, -1])("cleanup(%s) is a RangeError naming `maxAgeDays`", (days) => {
    const manager = new SessionManager({ basePath: tempDir(), persistIntervalMs: 0 });
    expectError(() => manager.cleanup(days), rangeError("maxAgeDays"));
  });
});
