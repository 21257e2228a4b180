// Issue: real data in long-lived processes. Nothing a finished session held
// stays behind, every JavaScript string survives, an update's cost does not
// grow with the context, user code may call back into the package, and one
// session that cannot be saved never stops the others.
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import * as pkg from "msw-session";
import { CancellationSource, ProgressTracker, SessionManager, SessionStateStore, createTimeoutToken, requestCancellation } from "msw-session";
import { childProcesses, collect, gc, isReference, packageEntry, packageRoot, readSession, sessionFile, sessionsDir, tempDirs, waitFor } from "./helpers";

const tempDir = tempDirs();
const children = childProcesses();


/** The counts once everything earlier tests left is collected (they no longer change). */
async function settled() {
  let last = JSON.stringify(live());
  for (let round = 0; round < 50; round++) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
    const now = JSON.stringify(live());
    if (now === last && round >= 3) break;
    last = now;
  }
  return live();
}

const live = () => pkg.liveCounts();

/** Runs Node with `args` to its end: its exit code and all it printed. */
async function runNode(args: string[]): Promise<{ code: unknown; out: string; err: string }> {
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  let out = "";
  let err = "";
  child.stdout.on("data", (d) => (out += d));
  child.stderr.on("data", (d) => (err += d));
  const code = await new Promise((resolve) => child.once("close", resolve));
  return { code, out, err };
}

describe.skipIf(isReference)("a finished session leaves nothing behind", () => {
  /** Runs `count` sessions through `finish`, each with listeners that close over the session, as real code does. */
  async function cycles(finish: (manager: SessionManager, id: string) => void) {
    const manager = new SessionManager({ basePath: tempDir() });
    const before = await settled();
    for (let i = 0; i < 200; i++) {
      const session = manager.createSession("cycle", { i });
      session.progress.onProgress((state) => {
        if (state.progress > 100) session.cancellation.cancel("never");
      });
      const off = manager.onProgress(() => void session.id);
      session.cancellation.token.onCancelled(() => void session.progress);
      void session.cancellation.token.signal;
      session.progress.start(2);
      session.progress.completeStep("one");
      finish(manager, session.id);
      off();
    }
    manager.flush();
    await collect(() => live().sessions === before.sessions && live().callbacks === before.callbacks);
    return { manager, before, after: live() };
  }

  it("after completion", async () => {
    const { before, after } = await cycles((m, id) => m.completeSession(id));
    expect(after.sessions).toBe(before.sessions);
    expect(after.attachable).toBe(before.attachable);
    expect(after.dirty).toBe(0);
    expect(after.callbacks).toBe(before.callbacks);
  });

  it("at once, in a loop that never yields: one gc() and no event-loop turn (issue 20.3)", async () => {
    const manager = new SessionManager({ basePath: tempDir() });
    const before = await settled();
    const finish = [(id: string) => manager.completeSession(id), (id: string) => manager.failSession(id, "boom")];
    // The loop runs in a function of its own that has returned before gc():
    // a frame still running keeps its last iteration's values alive.
    (() => {
      for (let i = 0; i < 2000; i++) {
        const session = manager.createSession("batch", { i });
        const off = session.progress.onProgress(() => void session.context);
        session.progress.start(1);
        session.progress.completeStep("one");
        off();
        finish[i % 2](session.id);
      }
    })();
    gc();
    const after = live();
    expect([after.sessions, after.attachable, after.callbacks]).toEqual([before.sessions, before.attachable, before.callbacks]);
    expect(after.dirty).toBe(0);
    // The native halves of each session's tracker and token are freed inside
    // that gc(), not on a later turn of the event loop.
    expect(after.handles).toBe(before.handles);
  });

  it("after failure", async () => {
    const { before, after } = await cycles((m, id) => m.failSession(id, "boom"));
    expect([after.sessions, after.attachable, after.dirty]).toEqual([before.sessions, before.attachable, 0]);
  });

  it("after cancellation, once the session is completed and collected", async () => {
    const { before, after } = await cycles((m, id) => {
      m.cancelSession(id, "stop");
      m.completeSession(id);
    });
    expect([after.sessions, after.attachable, after.dirty]).toEqual([before.sessions, before.attachable, 0]);
  });

  it("a dropped manager, tracker or source takes its listeners with it", async () => {
    const before = await settled();
    (() => {
      const manager = new SessionManager({ basePath: tempDir() });
      manager.onProgress(() => void manager);
      const tracker = new ProgressTracker("t", "op");
      tracker.onProgress(() => void tracker);
      const source = new CancellationSource();
      source.token.onCancelled(() => void source);
      const child = CancellationSource.linked(source.token);
      child.token.onCancelled(() => void child);
    })();
    await collect(() => live().callbacks === before.callbacks);
    expect(live().callbacks).toBe(before.callbacks);
  });

  it("a timeout's callbacks run even when nothing else holds its source", async () => {
    let fired: string | undefined;
    const heard = new Promise<void>((resolve) => {
      createTimeoutToken(5).token.onCancelled((reason) => {
        fired = reason;
        resolve();
      });
    });
    await collect(() => false);
    await heard;
    expect(fired).toBe("Timeout after 5ms");
  });

  it("a timeout token is collected once it fired, with or without callbacks", async () => {
    let collected = 0;
    const registry = new FinalizationRegistry(() => collected++);
    const tokens: Array<{ isCancelled: boolean }> = [];
    for (const withCallback of [false, true]) {
      const source = createTimeoutToken(1);
      if (withCallback) source.token.onCancelled(() => void source);
      registry.register(source.token, withCallback);
      tokens.push(source.token);
    }
    await waitFor(() => tokens.every((t) => t.isCancelled));
    // Let the posted callbacks run, then drop the last references.
    await new Promise((resolve) => setImmediate(resolve));
    tokens.length = 0;
    await collect(() => collected === 2);
    expect(collected).toBe(2);
  });

  it("a linked source's callbacks run when its parent fires, held by nothing else", async () => {
    const parent = createTimeoutToken(5);
    const heard = new Promise<string | undefined>((resolve) => {
      CancellationSource.linked(parent.token).token.onCancelled(resolve);
    });
    await collect(() => false);
    expect(await heard).toBe("Timeout after 5ms");
  });
});

// The field: a batch loop that names only its session let its manager be collected, and the
// session's updates went nowhere (its file frozen, read as crashed by other processes while the
// process still worked on it). A live session keeps its manager; a finished one lets it go.
describe.skipIf(isReference)("a live session keeps its manager", () => {
  /** A manager made, asked for one session and never named again; `registry` sees it collected. */
  function forgottenManager(basePath: string, registry: FinalizationRegistry<string>, heard: number[]) {
    const manager = new SessionManager({ basePath, persistIntervalMs: 0 });
    manager.onProgress((state) => heard.push(state.progress));
    registry.register(manager, "manager");
    return manager.createSession("batch", { n: 0 });
  }

  it("held through its session: the manager and its listeners live on, and every update is written", async () => {
    const basePath = tempDir();
    let collected = false;
    const registry = new FinalizationRegistry<string>(() => (collected = true));
    const heard: number[] = [];
    const session = forgottenManager(basePath, registry, heard);
    await collect(() => collected);
    expect(collected).toBe(false);
    session.context.n = 1;
    session.progress.setProgress(40, "item 40");
    expect(readSession(basePath, session.id)).toMatchObject({ context: { n: 1 }, progress: { progress: 40, currentStep: "item 40" } });
    expect(heard).toEqual([40]);
  });

  it("held through its token only: a cancel requested from elsewhere still reaches it", async () => {
    const basePath = tempDir();
    const registry = new FinalizationRegistry<string>(() => {});
    const { id, token } = (() => {
      const session = forgottenManager(basePath, registry, []);
      return { id: session.id, token: session.cancellation.token };
    })();
    await collect(() => false);
    expect(requestCancellation(id, "stop", { basePath })).toBe(true);
    await waitFor(() => token.isCancelled);
    expect(token.reason).toBe("stop");
    await waitFor(() => readSession(basePath, id).status === "cancelled");
  });

  it("once its session is finished and nothing holds them, the manager and the session are collected", async () => {
    const basePath = tempDir();
    let collected = 0;
    const registry = new FinalizationRegistry<string>(() => collected++);
    (() => {
      const manager = new SessionManager({ basePath, persistIntervalMs: 0 });
      const session = manager.createSession("batch", { n: 0 });
      session.progress.onProgress(() => void manager);
      registry.register(manager, "manager");
      registry.register(session, "session");
      manager.completeSession(session.id);
    })();
    await collect(() => collected === 2);
    expect(collected).toBe(2);
  });

  it.each([
    ["persistIntervalMs: 0", 0],
    ["the background writer", 100],
  ])("a loop that never yields, with %s: a gc() in the middle loses no update, and the exit write writes the last", async (_label, interval) => {
    const basePath = tempDir();
    const fixture = path.join(packageRoot, "__test__", "fixtures", "forgotten-manager.mjs");
    const { code, out, err } = await runNode(["--expose-gc", fixture, pathToFileURL(packageEntry).href, basePath, String(interval)]);
    expect({ code, err, done: out.endsWith("done\n") }).toEqual({ code: 0, err: "", done: true });
    const id = out.split("\n")[0].slice("id ".length);
    expect(readSession(basePath, id)).toMatchObject({
      status: "active",
      context: { n: 2000 },
      progress: { progress: 100, currentStep: "item 2000" },
    });
  });
});

describe("every JavaScript string survives", () => {
  const lone = "result: \ud83d";
  const strings = [lone, "\ude00 cut", "a\ud800b\udfffc", "\udbff\udfff\u{10ffff}", "\u{10f7ff}\u{10f800}"];

  it("a context with lone surrogates is created and stored with JSON.stringify's bytes", () => {
    const base = tempDir();
    const manager = new SessionManager({ basePath: base, persistIntervalMs: 0 });
    const session = manager.createSession("op", { text: lone, list: strings });
    const text = fs.readFileSync(sessionFile(base, session.id), "utf8");
    expect(text).toContain(`"text": ${JSON.stringify(lone)}`);
    expect(text).toContain("\\ud83d");
    expect(readSession(base, session.id).context).toEqual({ text: lone, list: strings });
    manager.shutdown();
  });

  it("a lone surrogate added in place is saved, and later progress still reaches the disk", () => {
    const base = tempDir();
    const manager = new SessionManager({ basePath: base, persistIntervalMs: 0 });
    const session = manager.createSession("op", { items: [] as string[] });
    (session.context.items as string[]).push("\udc00");
    manager.saveAllSessions();
    session.progress.setProgress(40);
    manager.shutdown();
    const stored = readSession(base, session.id);
    expect(stored.context.items).toEqual(["\udc00"]);
    expect(stored.progress.progress).toBe(40);
  });

  it("every string argument comes back exactly, in states, listeners, tokens and files", () => {
    const base = tempDir();
    const manager = new SessionManager({ basePath: base, persistIntervalMs: 0 });
    for (const s of strings) {
      const session = manager.createSession(s);
      const heard: string[] = [];
      session.progress.onProgress((state) => heard.push(state.currentStep ?? state.error ?? ""));
      session.progress.setProgress(10, s);
      expect(session.progress.getState().operation).toBe(s);
      expect(session.progress.getState().currentStep).toBe(s);
      expect(readSession(base, session.id).progress.currentStep).toBe(s);
      expect(readSession(base, session.id).operation).toBe(s);
      manager.cancelSession(session.id, s);
      expect(session.cancellation.token.reason).toBe(s);
      expect(session.progress.getState().error).toBe(s);
      expect(readSession(base, session.id).progress.error).toBe(s);
      manager.failSession(session.id, s);
      expect(readSession(base, session.id).progress.error).toBe(s);
      expect(heard).toEqual([s, s, s]);
    }
    const tracker = new ProgressTracker(lone, lone);
    tracker.fail(lone);
    expect(tracker.getState()).toMatchObject({ sessionId: lone, operation: lone, error: lone });
    const source = new CancellationSource();
    source.cancel(lone);
    expect(source.token.reason).toBe(lone);
  });

  it("the store reads back files whose strings hold lone surrogates, and finds them crashed", () => {
    const base = tempDir();
    const store = new SessionStateStore(base);
    const id = "00000000-0000-4000-8000-000000000001";
    const old = new Date(Date.now() - 3_600_000).toISOString();
    const state = {
      id,
      operation: lone,
      status: "active" as const,
      progress: { sessionId: id, operation: lone, status: "running" as const, progress: 5, currentStep: lone, startedAt: old, updatedAt: old },
      context: { note: lone },
      createdAt: old,
      updatedAt: old,
    };
    fs.mkdirSync(sessionsDir(base), { recursive: true, mode: 0o700 });
    fs.writeFileSync(sessionFile(base, id), JSON.stringify(state, null, 2));
    expect(store.load(id)).toEqual(state);
    const crashed = store.findCrashedSessions();
    expect(crashed.map((s) => [s.id, s.operation, s.progress.currentStep])).toEqual([[id, lone, lone]]);
    expect(fs.readdirSync(sessionsDir(base)).filter((f) => f.endsWith(".corrupt"))).toEqual([]);
  });
});

describe.skipIf(isReference)("one session that cannot be saved never stops the others", () => {
  it("saveAllSessions and shutdown save every other session, then name each failure", () => {
    const base = tempDir();
    const manager = new SessionManager({ basePath: base, persistIntervalMs: 0 });
    const good = manager.createSession("good", { n: 0 });
    const bad1 = manager.createSession("bad1", {});
    const bad2 = manager.createSession("bad2", {});
    (bad1.context as any).self = bad1.context;
    (bad2.context as any).big = 1n;
    good.context.n = 1;
    let error: any;
    try {
      manager.saveAllSessions();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TypeError);
    expect(error.code).toBe("ERR_CONTEXT_NOT_SERIALIZABLE");
    expect(error.message).toContain(bad1.id);
    expect(error.message).toContain(bad2.id);
    expect(error.errors.map((e: any) => [e.sessionId, e.code])).toEqual([
      [bad1.id, "ERR_CONTEXT_NOT_SERIALIZABLE"],
      [bad2.id, "ERR_CONTEXT_NOT_SERIALIZABLE"],
    ]);
    expect(error.errors[0].cause).toBeInstanceOf(TypeError);
    expect(readSession(base, good.id).context).toEqual({ n: 1 });
    good.context.n = 2;
    expect(() => manager.shutdown()).toThrow(/2 sessions could not be saved/);
    expect(readSession(base, good.id).context).toEqual({ n: 2 });
    delete (bad1.context as any).self;
    delete (bad2.context as any).big;
    manager.shutdown();
  });
});

describe.skipIf(isReference)("an update's cost does not grow with the context", () => {
  /** A context that counts how often it is serialized. */
  function countedContext() {
    const context = {
      reads: 0,
      results: [] as { done: boolean }[],
      toJSON() {
        context.reads++;
        return { results: context.results };
      },
    };
    for (let i = 0; i < 100; i++) context.results.push({ done: false });
    return context;
  }

  it("updates serialize the context at most once per persist interval; saves serialize it anew", () => {
    const base = tempDir();
    const manager = new SessionManager({ basePath: base, persistIntervalMs: 60_000 });
    const context = countedContext();
    const session = manager.createSession("op", context);
    const created = context.reads;
    session.progress.start(1000);
    for (let i = 0; i < 1000; i++) {
      context.results[i % 100].done = true;
      session.progress.completeStep(`result ${i}`);
    }
    // An hour-long interval has not passed: no update read the context.
    expect(context.reads - created).toBe(0);
    manager.saveAllSessions();
    expect(context.reads - created).toBe(1);
    const state = readSession(base, session.id);
    expect(state.progress.completedSteps).toBe(1000);
    expect(state.context.results.every((r: { done: boolean }) => r.done)).toBe(true);
    manager.shutdown();
  });

  it("progress made since the last read reaches the disk with its context once the thread is free", async () => {
    const base = tempDir();
    const manager = new SessionManager({ basePath: base, persistIntervalMs: 20 });
    const context = countedContext();
    const session = manager.createSession("op", context);
    session.progress.start(3);
    for (let i = 0; i < 3; i++) {
      context.results[i].done = true;
      session.progress.completeStep(`result ${i}`);
    }
    // No save: the writer and a read on this thread, when it is free, catch up.
    await waitFor(() => {
      const state = readSession(base, session.id);
      return state.progress.completedSteps === 3 && state.context.results[2].done === true;
    });
    manager.shutdown();
  });

  it("a file's progress never runs ahead of its context, also in a busy loop", () => {
    const base = tempDir();
    const manager = new SessionManager({ basePath: base, persistIntervalMs: 2 });
    const session = manager.createSession("op", { step: 0 });
    const file = sessionFile(base, session.id);
    session.progress.start();
    const deadline = Date.now() + 15_000; // a hang guard, not a threshold
    const seen: { steps: number; step: number }[] = [];
    for (let i = 1; seen.length < 5 && Date.now() < deadline; i++) {
      session.context.step = i;
      session.progress.completeStep(`step ${i}`);
      if (i % 64 === 0) {
        const state = JSON.parse(fs.readFileSync(file, "utf8"));
        if (state.context.step > 0 && !seen.some((s) => s.step === state.context.step)) {
          seen.push({ steps: state.progress.completedSteps, step: state.context.step });
        }
      }
    }
    expect(seen.length).toBe(5);
    // Each checkpoint holds the progress made with the context it holds.
    for (const { steps, step } of seen) expect(steps).toBe(step);
    manager.shutdown();
  });
});

describe.skipIf(isReference)("a busy thread's context reaches the disk", () => {
  it("a thread busy in a loop of updates still checkpoints its context every interval", () => {
    const base = tempDir();
    const manager = new SessionManager({ basePath: base, persistIntervalMs: 2 });
    const session = manager.createSession("op", { step: -1 });
    const file = sessionFile(base, session.id);
    const deadline = Date.now() + 15_000; // a hang guard, not a threshold
    let seen = -1;
    for (let i = 0; seen < 0 && Date.now() < deadline; i++) {
      session.context.step = i;
      session.progress.setProgress(i % 100);
      if (i % 64 === 0) seen = JSON.parse(fs.readFileSync(file, "utf8")).context.step;
    }
    // The writer thread wrote a context changed in place during the loop,
    // although the loop never yielded to the event loop.
    expect(seen).toBeGreaterThan(-1);
    manager.shutdown();
  });
});

describe.skipIf(isReference)("user code may call back into the package", () => {
  const fixture = path.join(packageRoot, "__test__", "fixtures", "reentrant.mjs");
  const methods = ["flush", "saveAllSessions", "completeSession", "cancelSession", "shutdown"];
  const kinds = ["toJSON", "toJSON-background", "tracker-listener", "manager-listener", "cancel-listener"];
  for (const kind of kinds) {
    it(`from a ${kind}: every method finishes`, async () => {
      for (const method of methods) {
        const base = tempDir();
        const { code, out, err } = await runNode([fixture, pathToFileURL(packageEntry).href, base, kind, method]);
        expect({ method, code, out, err }).toEqual({ method, code: 0, out: `done ${method}\n`, err: "" });
      }
    });
  }
});

describe("every folder the package makes is private", () => {
  it("msw-session watch creates nothing in a folder without sessions", async () => {
    const base = tempDir();
    const child = spawn(process.execPath, [path.join(packageRoot, "bin", "msw-session.mjs"), "watch", "--dir", base, "--json"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    children.push(child);
    await new Promise<void>((resolve) => child.stdout.once("data", () => resolve()));
    child.kill("SIGKILL");
    await new Promise((resolve) => child.once("close", resolve));
    expect(fs.readdirSync(base)).toEqual([]);
  });
});

describe("a fresh clone's npm install changes no tracked file", () => {
  it("the lock file records the root package as package.json declares it", () => {
    const manifest = JSON.parse(fs.readFileSync(path.join(packageRoot, "package.json"), "utf8"));
    const lock = JSON.parse(fs.readFileSync(path.join(packageRoot, "package-lock.json"), "utf8"));
    const root = lock.packages[""];
    expect(root.bin).toEqual(manifest.bin);
    expect(root.engines).toEqual(manifest.engines);
    expect(root.devDependencies).toEqual(manifest.devDependencies);
    expect([lock.name, lock.version, root.name, root.version]).toEqual([manifest.name, manifest.version, manifest.name, manifest.version]);
  });
});
