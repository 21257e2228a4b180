// The workloads of bench/run.mjs, one round each, written once and run
// against either implementation (`M`: the package or the compiled reference).
//
// run.mjs imports this file once per implementation, under two different
// URLs (`workloads.mjs?side=reference`, `?side=package`), so each side gets
// its own compiled copy of every loop: V8 keeps type feedback per function,
// and a loop shared by both sides would see two token classes and turn
// polymorphic, penalizing whichever side ran second.
//
// Every round returns `{ ns, ops }` (elapsed nanoseconds of the timed part,
// operations done in it; some add `parts`, the ns of each step of the timed part) and checks its own result, so that the JIT cannot
// drop the work and a broken run cannot pass for a fast one.
import fs from "node:fs";
import path from "node:path";
import { randomUUID } from "node:crypto";

const now = () => process.hrtime.bigint();

function fail(message) {
  throw new Error(`check failed: ${message}`);
}

/** `n` reads of `source.token.isCancelled` on an uncancelled token. */
export function isCancelled(M, n) {
  const source = new M.CancellationSource();
  const token = source.token;
  let acc = 0;
  const t0 = now();
  for (let i = 0; i < n; i++) {
    if (token.isCancelled) acc += 2;
    else acc += 1;
  }
  const ns = Number(now() - t0);
  if (acc !== n) fail(`isCancelled: ${acc} !== ${n}`);
  return { ns, ops: n };
}

/** `n` calls of `throwIfCancelled()` on an uncancelled token. */
export function throwIfCancelled(M, n) {
  const source = new M.CancellationSource();
  const token = source.token;
  let acc = 0;
  const t0 = now();
  for (let i = 0; i < n; i++) {
    token.throwIfCancelled();
    acc += i & 1;
  }
  const ns = Number(now() - t0);
  if (acc !== n >>> 1) fail(`throwIfCancelled: ${acc} !== ${n >>> 1}`);
  return { ns, ops: n };
}

/** Sum of `i % 100` for i in 0..n. */
function expectedProgressSum(n) {
  const full = Math.floor(n / 100);
  const rest = n % 100;
  return full * 4950 + (rest * (rest - 1)) / 2;
}

/** `n` × `setProgress(i % 100)` on a tracker with one listener reading `state.progress`. */
export function trackerUpdate(M, n) {
  const tracker = new M.ProgressTracker("bench-tracker", "bench");
  tracker.start(100);
  let sum = 0;
  let calls = 0;
  tracker.onProgress((state) => {
    sum += state.progress;
    calls++;
  });
  const t0 = now();
  for (let i = 0; i < n; i++) tracker.setProgress(i % 100);
  const ns = Number(now() - t0);
  if (calls !== n) fail(`tracker: listener ran ${calls} times for ${n} updates`);
  if (sum !== expectedProgressSum(n)) fail(`tracker: progress sum ${sum} !== ${expectedProgressSum(n)}`);
  return { ns, ops: n };
}

/**
 * `n` × `formatProgress(states[i % states.length])`; returns a checksum of the
 * output too. Reading the last character makes V8 flatten the string built by
 * concatenation, as printing it would, so neither side is timed on a lazy string.
 */
export function formatProgress(M, n, states) {
  let length = 0;
  const count = states.length;
  const t0 = now();
  for (let i = 0; i < n; i++) {
    const text = M.formatProgress(states[i % count]);
    length += text.length + text.charCodeAt(text.length - 1);
  }
  const ns = Number(now() - t0);
  return { ns, ops: n, check: length };
}

/** The folder of the session files under `basePath`. */
export function sessionsDir(basePath) {
  return path.join(basePath, ".msw", "sessions");
}

function readSession(basePath, id) {
  const file = path.join(sessionsDir(basePath), `${id}.json`);
  if (!fs.existsSync(file)) fail(`missing session file ${file}`);
  try {
    return JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (error) {
    fail(`${file} does not parse: ${error.message}`);
  }
}

/**
 * `sessions` sessions, each `start(steps)`, then `steps` rounds of one
 * `completeStep` per session, then `shutdown()`; the timed part is the
 * updates and the shutdown (whatever is not on disk yet is written by it).
 * Afterwards every file must exist and hold `completedSteps === steps`.
 */
export function persistedUpdates(M, basePath, sessions, steps) {
  const manager = new M.SessionManager({ basePath });
  const list = [];
  for (let s = 0; s < sessions; s++) {
    const session = manager.createSession("bench-persist", { index: s });
    session.progress.start(steps);
    list.push(session);
  }
  const t0 = now();
  for (let step = 0; step < steps; step++) {
    const name = `step ${step}`;
    for (let s = 0; s < sessions; s++) list[s].progress.completeStep(name);
  }
  const t1 = now();
  manager.shutdown();
  const t2 = now();
  const ns = Number(t2 - t0);
  for (const session of list) {
    const state = readSession(basePath, session.id);
    if (state.progress.completedSteps !== steps) {
      fail(`persisted: ${session.id} has completedSteps ${state.progress.completedSteps}, expected ${steps}`);
    }
    if (state.progress.progress !== 100) fail(`persisted: ${session.id} at ${state.progress.progress}%`);
  }
  return { ns, ops: sessions * steps, parts: { updates: Number(t1 - t0), shutdown: Number(t2 - t1) } };
}

/**
 * `count` × (`createSession`, `progress.start(1)`, `completeSession`), then
 * `shutdown()`, all timed. Afterwards every file must say `completed`.
 */
export function createComplete(M, basePath, count) {
  const manager = new M.SessionManager({ basePath });
  const ids = new Array(count);
  const t0 = now();
  for (let i = 0; i < count; i++) {
    const session = manager.createSession("bench-lifecycle", { index: i });
    session.progress.start(1);
    if (!manager.completeSession(session.id)) fail(`completeSession(${session.id}) returned false`);
    ids[i] = session.id;
  }
  manager.shutdown();
  const ns = Number(now() - t0);
  for (const id of ids) {
    const state = readSession(basePath, id);
    if (state.status !== "completed" || state.progress.status !== "completed") {
      fail(`lifecycle: ${id} stored as ${state.status}/${state.progress.status}`);
    }
  }
  return { ns, ops: count };
}

/** A context of about 1.2 MB: `count` small result objects, as a real job collects them. */
export function largeContext(count) {
  const results = [];
  for (let i = 0; i < count; i++) {
    results.push({ file: `/data/input/part-${i}.csv`, rows: i * 7, digest: `sha256:${(i * 2654435761) >>> 0}`, done: false });
  }
  return { job: "bench-large-context", results };
}

/**
 * One session with a context of `resultCount` results; `n` progress updates,
 * each after an in-place change of the context (a result marked done), then
 * `flush()` so that the package's deferred write is timed too. Afterwards
 * the file holds the last progress and the last change.
 */
export function largeContextUpdates(M, basePath, resultCount, n) {
  const manager = new M.SessionManager({ basePath });
  const session = manager.createSession("bench-large-context", largeContext(resultCount));
  session.progress.start(n);
  const results = session.context.results;
  const t0 = now();
  for (let i = 0; i < n; i++) {
    results[i % results.length].done = true;
    session.progress.completeStep(`result ${i}`);
  }
  manager.saveAllSessions();
  const ns = Number(now() - t0);
  manager.shutdown();
  const state = readSession(basePath, session.id);
  if (state.progress.completedSteps !== n) fail(`large context: completedSteps ${state.progress.completedSteps}, expected ${n}`);
  if (state.context.results.length !== resultCount || state.context.results[(n - 1) % resultCount].done !== true) {
    fail("large context: the last in-place change is not on disk");
  }
  return { ns, ops: n };
}

/** An active session state, last written an hour ago, with no owner. */
export function staleState(id, index, iso) {
  return {
    id,
    operation: "bench-crash",
    status: "active",
    progress: {
      sessionId: id,
      operation: "bench-crash",
      status: "running",
      progress: 42,
      currentStep: `step ${index}`,
      totalSteps: 100,
      completedSteps: 42,
      startedAt: iso,
      updatedAt: iso,
    },
    context: { index, file: `/data/input-${index}.csv`, options: { retries: 3, verbose: false } },
    createdAt: iso,
    updatedAt: iso,
  };
}

/**
 * Writes `count` stale active sessions with this side's own `store.save`
 * (not timed), then times one `store.findCrashedSessions()`, which must
 * return all of them.
 */
export function crashScan(M, basePath, count) {
  const store = new M.SessionStateStore(basePath);
  const iso = new Date(Date.now() - 3_600_000).toISOString();
  for (let i = 0; i < count; i++) store.save(staleState(randomUUID(), i, iso));
  const t0 = now();
  const found = store.findCrashedSessions();
  const ns = Number(now() - t0);
  if (found.length !== count) fail(`crash scan found ${found.length} of ${count}`);
  for (const state of found) {
    if (state.status !== "crashed" || typeof state.crashedAt !== "string") fail(`crash scan: ${state.id} not marked crashed`);
  }
  return { ns, ops: count };
}

/** How many stale sessions this side's store finds in a folder (for the interop check). */
export function countCrashed(M, basePath) {
  return new M.SessionStateStore(basePath).findCrashedSessions().length;
}

/** `store.listSessions()` of a folder that holds `count` session files, timed. */
export function listMany(M, basePath, count) {
  const store = new M.SessionStateStore(basePath);
  const t0 = now();
  const ids = store.listSessions();
  const ns = Number(now() - t0);
  if (ids.length !== count) fail(`list: ${ids.length} of ${count} ids`);
  return { ns, ops: count };
}

/** `store.findCrashedSessions()` of a folder of `count` stale session files, timed. */
export function scanMany(M, basePath, count) {
  const t0 = now();
  const found = new M.SessionStateStore(basePath).findCrashedSessions();
  const ns = Number(now() - t0);
  if (found.length !== count) fail(`scan: found ${found.length} of ${count}`);
  return { ns, ops: count };
}

/**
 * `count` × `new SessionStateStore(basePath, options)` over a sessions folder
 * whose four checked folders exist (package only): with the default options
 * each construction checks them (one `lstat` each), with `trustFolder: true`
 * none does, so the difference is the folder check's cost.
 */
export function storeOpens(M, basePath, count, options) {
  const t0 = now();
  let last;
  for (let i = 0; i < count; i++) last = new M.SessionStateStore(basePath, options);
  const ns = Number(now() - t0);
  if (!last) fail("storeOpens: no store");
  return { ns, ops: count };
}
