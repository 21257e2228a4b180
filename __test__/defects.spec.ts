// Contract §2: the reference's defects that this package fixes — D1, D2, D6, D8, D9.
// (D7 is in exit.spec.ts; D3, D4, D5, D10 and D11 belong to a later issue.)
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import {
  CancellationSource,
  ProgressTracker,
  SessionManager,
  SessionStateStore,
  type ProgressState,
} from "msw-session";
import { expectError, isReference, makeState, readSession, sessionFiles, sessionsDir, tempDirs } from "./helpers";

const tempDir = tempDirs();

describe.skipIf(isReference)("D1: the stored status says what happened", () => {
  it("pending and running sessions are stored as active", () => {
    const base = tempDir();
    const manager = new SessionManager({ basePath: base, persistIntervalMs: 0 });
    const session = manager.createSession("index");
    expect(readSession(base, session.id).status).toBe("active");
    session.progress.start(2);
    expect(readSession(base, session.id).status).toBe("active");
    manager.saveAllSessions();
    expect(readSession(base, session.id).status).toBe("active");
  });

  it("completeSession stores completed", () => {
    const base = tempDir();
    const manager = new SessionManager({ basePath: base, persistIntervalMs: 0 });
    const session = manager.createSession("index");
    session.progress.start();
    manager.completeSession(session.id);
    expect(readSession(base, session.id).status).toBe("completed");
  });

  it("failSession stores failed", () => {
    const base = tempDir();
    const manager = new SessionManager({ basePath: base, persistIntervalMs: 0 });
    const session = manager.createSession("index");
    session.progress.start();
    manager.failSession(session.id, "boom");
    expect(readSession(base, session.id).status).toBe("failed");
  });

  it("a failure reported on the tracker itself stores failed", () => {
    const base = tempDir();
    const manager = new SessionManager({ basePath: base, persistIntervalMs: 0 });
    const session = manager.createSession("index");
    session.progress.fail("boom");
    expect(readSession(base, session.id).status).toBe("failed");
  });

  it("the seed plan's check: cancelSession stores cancelled", () => {
    const base = tempDir();
    const manager = new SessionManager({ basePath: base, persistIntervalMs: 0 });
    const session = manager.createSession("index");
    session.progress.start();
    manager.cancelSession(session.id, "user quit");
    expect(readSession(base, session.id)).toMatchObject({
      status: "cancelled",
      progress: { status: "cancelled", error: "user quit" },
    });
    // the session stays in memory; later saves keep the status
    manager.shutdown();
    expect(readSession(base, session.id).status).toBe("cancelled");
  });

  it("finished sessions are not found crashed; cleanup removes old cancelled ones", () => {
    const base = tempDir();
    const store = new SessionStateStore(base);
    store.save(makeState("c", { status: "cancelled", updatedAt: "2000-01-01T00:00:00.000Z" }));
    expect(store.findCrashedSessions(0)).toEqual([]);
    expect(store.cleanup()).toBe(1);
  });
});

describe("D2: a createSession that throws leaves nothing behind", () => {
  const cyclic = () => {
    const context: Record<string, unknown> = { name: "loop" };
    context.self = context;
    return context;
  };

  it("a cyclic context is refused with a TypeError", () => {
    const manager = new SessionManager({ basePath: tempDir(), persistIntervalMs: 0 });
    expect(() => manager.createSession("x", cyclic())).toThrow(TypeError);
  });

  it.skipIf(isReference)(
    "ERR_CONTEXT_NOT_SERIALIZABLE with the cause; no session, no file, shutdown still works",
    () => {
      const base = tempDir();
      const manager = new SessionManager({ basePath: base, persistIntervalMs: 0 });
      const err = expectError(() => manager.createSession("x", cyclic()), {
        type: TypeError,
        code: "ERR_CONTEXT_NOT_SERIALIZABLE",
        message: "context",
      });
      expect(err.cause).toBeInstanceOf(TypeError);
      expect(manager.getAllSessions()).toEqual([]);
      expect(manager.getActiveSessions()).toEqual([]);
      expect(sessionFiles(base)).toEqual([]);
      expect(() => manager.shutdown()).not.toThrow();
      expect(() => manager.saveAllSessions()).not.toThrow();
      const ok = manager.createSession("y", { fine: true });
      expect(manager.getAllSessions()).toEqual([ok]);
      // the session file, and the folder of owner locks (this process holds one while it lives)
      expect(sessionFiles(base)).toEqual([`${ok.id}.json`, "owners"]);
    },
  );
});

describe.skipIf(isReference)("D6: an id that is not a plain file name is refused", () => {
  it("load('../../x') refuses to read outside the folder", () => {
    const base = tempDir();
    const store = new SessionStateStore(base);
    // where the reference would read: <base>/.msw/sessions/../../x.json
    const outside = path.join(base, "x.json");
    fs.writeFileSync(outside, JSON.stringify(makeState("x")));
    expectError(() => store.load("../../x"), { type: TypeError, code: "ERR_INVALID_SESSION_ID" });
    expect(fs.existsSync(outside)).toBe(true);
  });

  it("remove('../../x') refuses to delete outside the folder", () => {
    const base = tempDir();
    const store = new SessionStateStore(base);
    store.save(makeState("inside"));
    const outside = path.join(base, "x.json");
    fs.writeFileSync(outside, "keep me");
    expectError(() => store.remove("../../x"), { type: TypeError, code: "ERR_INVALID_SESSION_ID" });
    expect(fs.readFileSync(outside, "utf8")).toBe("keep me");
    expect(store.listSessions()).toEqual(["inside"]);
  });

  it("save({ id: '../x' }) refuses to write outside the folder", () => {
    const base = tempDir();
    const store = new SessionStateStore(base);
    expectError(() => store.save(makeState("../x")), { type: TypeError, code: "ERR_INVALID_SESSION_ID" });
    expect(fs.existsSync(path.join(base, ".msw", "x.json"))).toBe(false);
    // a refused call changes nothing, not even the folders
    expect(fs.readdirSync(base)).toEqual([]);
  });

  it.each([
    ["empty", ""],
    [".", "."],
    ["..", ".."],
    ["a slash", "a/b"],
    ["a leading slash", "/etc/passwd"],
    ["a backslash", "a\\b"],
    ["a NUL", "a\0b"],
  ])("an id with %s is refused by save, load and remove", (_label, id) => {
    const base = tempDir();
    const store = new SessionStateStore(base);
    store.save(makeState("inside"));
    const expected = { type: TypeError, code: "ERR_INVALID_SESSION_ID" };
    expectError(() => store.load(id), expected);
    expectError(() => store.remove(id), expected);
    expectError(() => store.save(makeState(id)), expected);
    expect(store.listSessions()).toEqual(["inside"]);
    expect(fs.readdirSync(sessionsDir(base))).toEqual(["inside.json"]);
  });

  it("resumeSession refuses a state whose id is not a plain file name", () => {
    const base = tempDir();
    const manager = new SessionManager({ basePath: base, persistIntervalMs: 0 });
    expect(() => manager.resumeSession(makeState("../escape"))).toThrow(TypeError);
    expect(manager.getAllSessions()).toEqual([]);
    expect(fs.existsSync(path.join(base, ".msw", "escape.json"))).toBe(false);
  });
});

describe.skipIf(isReference)("D8: every listener can be removed", () => {
  it("onCancelled returns a function that removes the callback", () => {
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

  it("the remover of a callback that already ran is harmless", () => {
    const source = new CancellationSource();
    source.cancel("done");
    let runs = 0;
    const remove = source.token.onCancelled(() => runs++);
    expect(runs).toBe(1);
    expect(typeof remove).toBe("function");
    expect(() => remove()).not.toThrow();
  });

  it("removing one of two registrations of the same callback keeps the other", () => {
    const source = new CancellationSource();
    let runs = 0;
    const cb = () => runs++;
    const first = source.token.onCancelled(cb);
    source.token.onCancelled(cb);
    first();
    source.cancel();
    expect(runs).toBe(1);
  });

  it("tracker onProgress returns a function that removes the listener", () => {
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

  it("a listener may remove itself while being called", () => {
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

  it("manager onProgress returns a function that removes the listener", () => {
    const manager = new SessionManager({ basePath: tempDir(), persistIntervalMs: 0 });
    const heard: ProgressState[] = [];
    const remove = manager.onProgress((s) => heard.push(s));
    const session = manager.createSession("op");
    session.progress.setProgress(10);
    remove();
    remove();
    session.progress.setProgress(20);
    expect(heard.map((s) => s.progress)).toEqual([10]);
  });
});

describe("D9: progress stays within 0..100", () => {
  it.skipIf(isReference)("completeStep never reports more than 100%", () => {
    const t = new ProgressTracker("s", "op");
    t.start(2);
    t.completeStep("a");
    t.completeStep("b");
    t.completeStep("c");
    expect(t.getState()).toMatchObject({ progress: 100, completedSteps: 3, currentStep: "c" });
    t.completeStep();
    expect(t.getState()).toMatchObject({ progress: 100, completedSteps: 4 });
  });

  it.skipIf(isReference)("setProgress(NaN) is refused and the progress kept", () => {
    const t = new ProgressTracker("s", "op");
    t.setProgress(30);
    expectError(() => t.setProgress(NaN), { type: RangeError, code: "ERR_OUT_OF_RANGE", message: "progress" });
    expect(t.getState().progress).toBe(30);
  });

  it("completeStep up to totalSteps reaches exactly 100%", () => {
    const t = new ProgressTracker("s", "op");
    t.start(2);
    t.completeStep();
    t.completeStep();
    expect(t.getState().progress).toBe(100);
  });
});
