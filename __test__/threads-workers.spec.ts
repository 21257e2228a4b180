// attachSession in real worker threads (node:worker_threads): a worker gets a handle on a live
// session that a manager of the main thread created, sharing its token and its tracker. The
// worker script is fixtures/w-session.mjs; it imports the package from the URL passed to it.
// Nothing here measures time: the test timeout is the bound of every wait.
import { randomUUID } from "node:crypto";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { afterEach, describe, expect, it } from "vitest";
import { type ProgressState, SessionManager } from "msw-session";
import { isReference, packageEntry, readSession, tempDirs, waitFor } from "./helpers";

const tempDir = tempDirs();

const workerScript = path.join(path.dirname(fileURLToPath(import.meta.url)), "fixtures", "w-session.mjs");
const packageUrl = pathToFileURL(packageEntry).href;

// Registered after tempDirs(), so (after-hooks run in reverse) workers and managers are gone
// before their folders are removed.
const workers: Worker[] = [];
const managers: SessionManager[] = [];
afterEach(async () => {
  await Promise.all(workers.splice(0).map((worker) => worker.terminate()));
  for (const manager of managers.splice(0)) manager.shutdown();
});

function newManager(basePath: string, persistIntervalMs?: number): SessionManager {
  const manager = new SessionManager(persistIntervalMs === undefined ? { basePath } : { basePath, persistIntervalMs });
  managers.push(manager);
  return manager;
}

interface Running {
  worker: Worker;
  /** Every message the worker posted, in order. */
  messages: any[];
  /** Resolves with the exit code. */
  exited: Promise<number>;
  /** The first message of that type (waits for it; rejects when the worker failed). */
  message(type: string): Promise<any>;
}

function startWorker(data: Record<string, unknown>): Running {
  const worker = new Worker(workerScript, { workerData: { packageUrl, ...data } });
  workers.push(worker);
  const messages: any[] = [];
  let failure: unknown;
  worker.on("message", (message) => messages.push(message));
  worker.on("error", (error) => (failure = error));
  const exited = new Promise<number>((resolve) => worker.once("exit", resolve));
  return {
    worker,
    messages,
    exited,
    async message(type) {
      await waitFor(() => failure !== undefined || messages.some((m) => m.type === type));
      if (failure !== undefined) throw failure;
      return messages.find((m) => m.type === type);
    },
  };
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

describe.skipIf(isReference)("attachSession in a worker thread", () => {
  it("returns a handle on the main thread's live session: same id, operation, createdAt, state; context is a copy", async () => {
    const basePath = tempDir();
    const manager = newManager(basePath, 0);
    const context = { items: ["a"], nested: { k: 1 } };
    const session = manager.createSession("attach me", context);
    session.progress.start(5);
    session.progress.completeStep("one");

    const run = startWorker({ basePath, id: session.id, mode: "attach" });
    const attached = await run.message("attached");
    expect(attached.found).toBe(true);
    expect(attached.id).toBe(session.id);
    expect(attached.operation).toBe("attach me");
    expect(attached.createdAtIsDate).toBe(true);
    expect(attached.createdAtMs).toBe(session.createdAt.getTime());
    expect(attached.context).toEqual({ items: ["a"], nested: { k: 1 } });
    expect(attached.isCancelled).toBe(false);
    expect(attached.state).toEqual(session.progress.getState());
    expect(attached.state).toMatchObject({ status: "running", totalSteps: 5, completedSteps: 1, progress: 20 });

    // the worker changed its copy; the main thread's object is untouched
    const changed = await run.message("changed");
    expect(changed.context).toEqual({ items: ["a", "from worker"], nested: { k: 1 }, changedInWorker: true });
    expect(await run.exited).toBe(0);
    expect(session.context).toBe(context);
    expect(session.context).toEqual({ items: ["a"], nested: { k: 1 } });
    manager.flush();
    expect(readSession(basePath, session.id).context).toEqual({ items: ["a"], nested: { k: 1 } });
  });

  it("returns undefined for an unknown id, a finished session and another basePath", async () => {
    const basePath = tempDir();
    const otherBase = tempDir();
    const manager = newManager(basePath, 0);
    const live = manager.createSession("live");
    const finished = manager.createSession("finished");
    expect(manager.completeSession(finished.id)).toBe(true);
    const failed = manager.createSession("failed");
    expect(manager.failSession(failed.id, "no")).toBe(true);

    const run = startWorker({
      mode: "lookup",
      lookups: [
        { id: live.id, basePath }, // the control: found
        { id: randomUUID(), basePath },
        { id: finished.id, basePath },
        { id: failed.id, basePath },
        { id: live.id, basePath: otherBase },
      ],
    });
    const { results } = await run.message("lookups");
    expect(results).toEqual([true, false, false, false, false]);
    expect(await run.exited).toBe(0);
  });

  it.each([
    ["manager.cancelSession", (manager: SessionManager, id: string) => manager.cancelSession(id, "stop now")],
    ["session.cancellation.cancel", (manager: SessionManager, id: string) => manager.getSession(id)!.cancellation.cancel("stop now")],
  ])(
    "a cancel in the main thread (%s) ends a worker's synchronous busy loop over isCancelled",
    async (_label, cancel) => {
      const basePath = tempDir();
      const manager = newManager(basePath, 0);
      const session = manager.createSession("spin");
      session.progress.start(1);

      const run = startWorker({ basePath, id: session.id, mode: "busy-cancel" });
      const spinning = await run.message("spinning");
      expect(spinning.isCancelled).toBe(false);
      // the worker never yields to its event loop from here on: only the shared flag can stop it
      cancel(manager, session.id);
      const seen = await run.message("seen");
      expect(seen.reason).toBe("stop now");
      expect(await run.exited).toBe(0);
      expect(session.cancellation.token.reason).toBe("stop now");
    },
  );

  it("steps completed through a worker's handle are heard in order by the main thread's listeners and saved", async () => {
    const N = 25;
    const basePath = tempDir();
    const manager = newManager(basePath);
    const session = manager.createSession("steps from a worker");
    session.progress.start(N);
    const fromTracker: Array<number | undefined> = [];
    const fromManager: Array<number | undefined> = [];
    session.progress.onProgress((state) => fromTracker.push(state.completedSteps));
    manager.onProgress((state) => {
      if (state.sessionId === session.id) fromManager.push(state.completedSteps);
    });

    const run = startWorker({ basePath, id: session.id, mode: "steps", steps: N });
    expect((await run.message("done")).count).toBe(N);
    expect(await run.exited).toBe(0);
    // the tracker's state is shared: the main thread sees the count at once
    expect(session.progress.getState()).toMatchObject({ completedSteps: N, totalSteps: N, progress: 100 });
    await waitFor(() => fromTracker.length >= N && fromManager.length >= N);
    expect(fromTracker).toEqual(range(N));
    expect(fromManager).toEqual(range(N));
    manager.flush();
    const saved = readSession(basePath, session.id);
    expect(saved.progress.completedSteps).toBe(N);
    expect(saved.progress.progress).toBe(100);
    expect(saved.progress.currentStep).toBe(`w0-${N - 1}`);
  });

  it("each update a worker makes is in the file once the main thread's flush() returns, round after round", async () => {
    // The worker updates, lets about a persist interval pass (so the background writer is due
    // just as flush() runs), then waits; the main thread flushes, reads the file and lets the
    // worker go on. flush() must write every update not written yet, whoever is writing.
    const ROUNDS = 600;
    const basePath = tempDir();
    const manager = newManager(basePath, 1);
    const session = manager.createSession("flush rounds");
    session.progress.start();
    const sync = new Int32Array(new SharedArrayBuffer(8));
    const run = startWorker({ basePath, id: session.id, mode: "rounds", rounds: ROUNDS, pauseMs: 1, sync: sync.buffer });
    await run.message("ready");

    const stale: Array<{ round: number; inFile: unknown }> = [];
    for (let round = 1; round <= ROUNDS; round++) {
      expect(Atomics.wait(sync, 0, round - 1, 10_000)).not.toBe("timed-out");
      manager.flush();
      const inFile = readSession(basePath, session.id).progress.currentStep;
      if (inFile !== `round ${round}`) stale.push({ round, inFile });
      Atomics.store(sync, 1, round);
      Atomics.notify(sync, 1);
    }
    expect((await run.message("done")).count).toBe(ROUNDS);
    expect(await run.exited).toBe(0);
    expect(stale.slice(0, 5), `${stale.length} of ${ROUNDS} reads after flush() were stale`).toEqual([]);
  });

  it("eight workers doing 500 completeStep each on one session lose no step", async () => {
    const basePath = tempDir();
    const manager = newManager(basePath);
    const session = manager.createSession("hammer");
    session.progress.start(4000);
    let lastHeard: ProgressState | undefined;
    session.progress.onProgress((state) => (lastHeard = state));

    const runs = Array.from({ length: 8 }, () => startWorker({ basePath, id: session.id, mode: "hammer", steps: 500 }));
    await Promise.all(runs.map((run) => run.message("ready")));
    for (const run of runs) run.worker.postMessage("go");
    for (const run of runs) expect((await run.message("done")).count).toBe(500);
    expect(await Promise.all(runs.map((run) => run.exited))).toEqual(Array(8).fill(0));

    const state = session.progress.getState();
    expect(state.completedSteps).toBe(4000);
    expect(state.totalSteps).toBe(4000);
    expect(state.progress).toBe(100);
    expect(state.status).toBe("running");
    await waitFor(() => lastHeard?.completedSteps === 4000);
    manager.flush();
    expect(readSession(basePath, session.id).progress).toMatchObject({ completedSteps: 4000, progress: 100 });
  });

  it("a worker terminated in the middle of a tight update loop leaves the session usable", async () => {
    const basePath = tempDir();
    const manager = newManager(basePath);
    const session = manager.createSession("terminated");
    session.progress.start(1_000_000);

    const run = startWorker({ basePath, id: session.id, mode: "tight-loop" });
    await run.message("looping");
    await waitFor(() => (session.progress.getState().completedSteps ?? 0) >= 50);
    await run.worker.terminate();

    // the main thread can still update it, and a listener hears that
    const heard: ProgressState[] = [];
    session.progress.onProgress((state) => heard.push(state));
    session.progress.setProgress(42, "after the worker");
    expect(session.progress.getState()).toMatchObject({ status: "running", progress: 42, currentStep: "after the worker" });
    expect(heard.some((s) => s.progress === 42 && s.currentStep === "after the worker")).toBe(true);
    const managerHeard: ProgressState[] = [];
    manager.onProgress((state) => managerHeard.push(state));
    expect(manager.completeSession(session.id)).toBe(true);
    expect(session.progress.getState()).toMatchObject({ status: "completed", progress: 100 });
    expect(heard.some((s) => s.status === "completed")).toBe(true);
    expect(managerHeard.some((s) => s.sessionId === session.id && s.status === "completed")).toBe(true);
    manager.flush();
    const saved = readSession(basePath, session.id);
    expect(saved.status).toBe("completed");
    expect(saved.progress.status).toBe("completed");
    expect(saved.progress.progress).toBe(100);
  });

  it("a listener registered in a worker is called in the worker when the main thread changes the tracker", async () => {
    const basePath = tempDir();
    const manager = newManager(basePath, 0);
    const session = manager.createSession("listened to from a worker");

    const run = startWorker({ basePath, id: session.id, mode: "listen" });
    await run.message("listening");
    session.progress.start(3);
    session.progress.completeStep("a");
    session.progress.setProgress(80, "b");
    expect(manager.cancelSession(session.id, "enough")).toBe(true);

    await waitFor(() => run.messages.some((m) => m.type === "heard" && m.status === "cancelled"));
    await run.message("cancelled");
    const heard = run.messages.filter((m) => m.type === "heard");
    expect(heard.slice(0, 3)).toEqual([
      { type: "heard", status: "running", progress: 0, currentStep: undefined },
      { type: "heard", status: "running", progress: 33, currentStep: "a" },
      { type: "heard", status: "running", progress: 80, currentStep: "b" },
    ]);
    expect(heard.slice(3).map((m) => m.status)).toEqual(["cancelled"]);
    expect(run.messages.find((m) => m.type === "cancelled").reason).toBe("enough");

    run.worker.postMessage("stop");
    expect(await run.exited).toBe(0);
  });
});
