// Memory of the package, measured in a process of its own (a clean heap and
// RSS): bench/run.mjs spawns `node --expose-gc bench/memory.mjs [--quick]`
// and reads the JSON this prints on stdout. It can also be run by hand.
//
// 1. RSS and heap with N live sessions (SessionManager#createSession), each
//    with one progress listener.
// 2. Whether memory grows over many tracker updates with one listener:
//    samples after a first batch and after all of them, each after gc().
// 3. The same over updates of a persisted session (default options: the
//    background writer), to check that nothing queues up behind the disk.
// 4. A long-lived server's loop: one manager creates, starts, steps and
//    completes sessions, each with a progress and a cancellation listener
//    that close over the session (as real code does). Memory must stay flat
//    and the package's own counts (`liveCounts()`) must return to zero.
// 5. Lifecycles that never yield, and that yield every 100 sessions, each in
//    a process of its own: `--lifecycles <yieldEvery> [--reference]` runs one
//    (the reference's loop with `--reference`) and prints its JSON line.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

import * as pkg from "../index.mjs";
import { loadReference } from "./reference.mjs";

const quick = process.argv.includes("--quick");
const LIVE_SESSIONS = quick ? 2_000 : 10_000;
const FIRST = quick ? 10_000 : 100_000;
const TOTAL = quick ? 100_000 : 1_000_000;
const FLAT_BOUND_MB = 20;

if (typeof global.gc !== "function") {
  console.error("memory.mjs needs --expose-gc");
  process.exit(2);
}

const MB = 1024 * 1024;

function settle() {
  for (let i = 0; i < 3; i++) global.gc();
}

function sample() {
  settle();
  const m = process.memoryUsage();
  return { rssMB: m.rss / MB, heapUsedMB: m.heapUsed / MB, externalMB: m.external / MB };
}

function liveSessions() {
  const basePath = fs.mkdtempSync(path.join(os.tmpdir(), "msw-session-bench-mem-"));
  try {
    const before = sample();
    const manager = new pkg.SessionManager({ basePath });
    const sessions = [];
    let heard = 0;
    for (let i = 0; i < LIVE_SESSIONS; i++) {
      const session = manager.createSession("bench-memory", { index: i });
      session.progress.onProgress((state) => {
        heard += state.progress;
      });
      sessions.push(session);
    }
    const after = sample();
    // Every listener is alive and heard: one update per session.
    for (const session of sessions) session.progress.setProgress(1);
    if (heard !== LIVE_SESSIONS) throw new Error(`listeners heard ${heard} of ${LIVE_SESSIONS} updates`);
    manager.shutdown();
    return {
      sessions: LIVE_SESSIONS,
      before,
      after,
      perSessionKB: ((after.rssMB - before.rssMB) * 1024) / LIVE_SESSIONS,
      heapPerSessionKB: ((after.heapUsedMB - before.heapUsedMB) * 1024) / LIVE_SESSIONS,
    };
  } finally {
    fs.rmSync(basePath, { recursive: true, force: true });
  }
}

/** Runs `update(i)` TOTAL times, sampling after FIRST and after TOTAL. */
function growth(update) {
  let i = 0;
  const t0 = process.hrtime.bigint();
  for (; i < FIRST; i++) update(i);
  const first = sample();
  for (; i < TOTAL; i++) update(i);
  const last = sample();
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const rssGrowthMB = last.rssMB - first.rssMB;
  const heapGrowthMB = last.heapUsedMB - first.heapUsedMB;
  const flat = rssGrowthMB < FLAT_BOUND_MB && heapGrowthMB < FLAT_BOUND_MB;
  return {
    first: { updates: FIRST, ...first },
    last: { updates: TOTAL, ...last },
    rssGrowthMB,
    heapGrowthMB,
    boundMB: FLAT_BOUND_MB,
    verdict: flat ? "flat" : "grows",
    seconds,
  };
}

function trackerUpdates() {
  const tracker = new pkg.ProgressTracker("bench-memory", "bench");
  tracker.start(100);
  let sum = 0;
  tracker.onProgress((state) => {
    sum += state.progress;
  });
  const result = growth((i) => tracker.setProgress(i % 100));
  if (sum === 0) throw new Error("listener never ran");
  return result;
}

function sessionUpdates() {
  const basePath = fs.mkdtempSync(path.join(os.tmpdir(), "msw-session-bench-mem-"));
  try {
    const manager = new pkg.SessionManager({ basePath });
    const session = manager.createSession("bench-memory", { kind: "persisted" });
    session.progress.start(100);
    let sum = 0;
    session.progress.onProgress((state) => {
      sum += state.progress;
    });
    const result = growth((i) => session.progress.setProgress(i % 100, `step ${i % 100}`));
    manager.shutdown();
    if (sum === 0) throw new Error("listener never ran");
    const file = path.join(basePath, ".msw", "sessions", `${session.id}.json`);
    const stored = JSON.parse(fs.readFileSync(file, "utf8"));
    const expected = (TOTAL - 1) % 100;
    if (stored.progress.progress !== expected) {
      throw new Error(`stored progress ${stored.progress.progress}, expected ${expected}`);
    }
    return result;
  } finally {
    fs.rmSync(basePath, { recursive: true, force: true });
  }
}

const LIFECYCLE_FIRST = quick ? 2_000 : 5_000;
const LIFECYCLE_TOTAL = quick ? 10_000 : 50_000;

/** Lets finalizers of collected native objects run, then samples. */
async function settledSample() {
  for (let i = 0; i < 5; i++) {
    global.gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
  return sample();
}

async function sessionLifecycles() {
  const basePath = fs.mkdtempSync(path.join(os.tmpdir(), "msw-session-bench-mem-"));
  try {
    const manager = new pkg.SessionManager({ basePath });
    let heard = 0;
    const cycle = (i) => {
      const session = manager.createSession("bench-lifecycle", { index: i });
      session.progress.onProgress((state) => {
        if (state.progress > 100) session.cancellation.cancel("impossible");
        heard++;
      });
      session.cancellation.token.onCancelled(() => session.progress.fail("cancelled"));
      session.progress.start(2);
      session.progress.completeStep("one");
      session.progress.completeStep("two");
      manager.completeSession(session.id);
    };
    let i = 0;
    const t0 = process.hrtime.bigint();
    for (; i < LIFECYCLE_FIRST; i++) cycle(i);
    const first = await settledSample();
    for (; i < LIFECYCLE_TOTAL; i++) {
      cycle(i);
      // A server yields to its event loop; finalizers run there.
      if (i % 1000 === 999) await new Promise((resolve) => setImmediate(resolve));
    }
    const last = await settledSample();
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    manager.shutdown();
    const counts = pkg.liveCounts();
    if (heard !== LIFECYCLE_TOTAL * 4) throw new Error(`listeners heard ${heard} of ${LIFECYCLE_TOTAL * 4} updates`);
    const rssGrowthMB = last.rssMB - first.rssMB;
    const heapGrowthMB = last.heapUsedMB - first.heapUsedMB;
    const perSessionBytes = (heapGrowthMB * MB) / (LIFECYCLE_TOTAL - LIFECYCLE_FIRST);
    const flat = rssGrowthMB < FLAT_BOUND_MB && heapGrowthMB < FLAT_BOUND_MB && counts.sessions === 0 && counts.callbacks === 0;
    return {
      first: { sessions: LIFECYCLE_FIRST, ...first },
      last: { sessions: LIFECYCLE_TOTAL, ...last },
      rssGrowthMB,
      heapGrowthMB,
      heapPerSessionBytes: perSessionBytes,
      liveCounts: counts,
      boundMB: FLAT_BOUND_MB,
      verdict: flat ? "flat" : "grows",
      seconds,
    };
  } finally {
    fs.rmSync(basePath, { recursive: true, force: true });
  }
}

// How many lifecycles `--lifecycles` runs: MSW_BENCH_LIFECYCLES when set (to
// see whether growth is per session: run 50,000 and 150,000), else 50,000.
const UNYIELDING = Number(process.env.MSW_BENCH_LIFECYCLES) || (quick ? 10_000 : 50_000);
/** The goal of issue 20: RSS growth of 50,000 lifecycles that never yield. */
const UNYIELDING_BOUND_MB = 30;

/**
 * The loop of a batch job or a synchronous handler (issue 20.3): create, add a
 * listener, start, one step, remove the listener, complete; UNYIELDING times,
 * yielding to the event loop every `yieldEvery` sessions (0: never). Run in a
 * process of its own (`--lifecycles <yieldEvery>`), so that no earlier
 * measurement's freed memory hides this one's growth. RSS is sampled after one
 * `gc()` without a turn of the event loop, then after five turns (when Node
 * has run the finalizers of collected native objects).
 */
async function lifecycles(yieldEvery, impl) {
  const basePath = fs.mkdtempSync(path.join(os.tmpdir(), "msw-session-bench-mem-"));
  const reference = impl === "reference" ? await loadReference() : undefined;
  const mod = reference ? reference.module : pkg;
  try {
    const manager = new mod.SessionManager({ basePath });
    const before = sample();
    for (let i = 0; i < UNYIELDING; i++) {
      const session = manager.createSession("bench-unyielding", { index: i });
      // The reference's onProgress returns nothing and has no way to remove a listener.
      const off = session.progress.onProgress(() => {});
      session.progress.start(1);
      session.progress.completeStep("one");
      if (typeof off === "function") off();
      manager.completeSession(session.id);
      if (yieldEvery > 0 && i % yieldEvery === yieldEvery - 1) await new Promise((resolve) => setImmediate(resolve));
    }
    global.gc();
    const m = process.memoryUsage();
    const afterOneGc = { rssMB: m.rss / MB, heapUsedMB: m.heapUsed / MB };
    const countsAfterOneGc = reference ? undefined : pkg.liveCounts();
    const settled = await settledSample();
    const countsSettled = reference ? undefined : pkg.liveCounts();
    manager.shutdown();
    const rssGrowthMB = afterOneGc.rssMB - before.rssMB;
    return {
      impl: reference ? "reference" : "package",
      sessions: UNYIELDING,
      yieldEvery,
      before,
      afterOneGc,
      countsAfterOneGc,
      settled,
      countsSettled,
      rssGrowthMB,
      boundMB: UNYIELDING_BOUND_MB,
      verdict:
        rssGrowthMB <= UNYIELDING_BOUND_MB && (countsAfterOneGc?.callbacks ?? 0) === 0 ? "met" : "not met",
    };
  } finally {
    reference?.dispose();
    fs.rmSync(basePath, { recursive: true, force: true });
  }
}

const lifecyclesAt = process.argv.indexOf("--lifecycles");
if (lifecyclesAt !== -1) {
  const impl = process.argv.includes("--reference") ? "reference" : "package";
  process.stdout.write(`${JSON.stringify(await lifecycles(Number(process.argv[lifecyclesAt + 1]), impl))}\n`);
  process.exit(0);
}

/** `lifecycles(yieldEvery)` of the package or the reference, in a fresh process. */
function lifecyclesInChild(yieldEvery, impl = "package") {
  const child = spawnSync(
    process.execPath,
    [
      "--expose-gc",
      fileURLToPath(import.meta.url),
      ...(quick ? ["--quick"] : []),
      ...(impl === "reference" ? ["--reference"] : []),
      "--lifecycles",
      String(yieldEvery),
    ],
    { encoding: "utf8", maxBuffer: 16 * MB },
  );
  if (child.status !== 0) throw new Error(`the lifecycles child failed (exit ${child.status}): ${child.stderr}`);
  return JSON.parse(child.stdout.trim().split("\n").at(-1));
}

const result = {
  node: process.version,
  unyieldingLifecycles: lifecyclesInChild(0),
  yieldingLifecycles: lifecyclesInChild(100),
  referenceUnyieldingLifecycles: lifecyclesInChild(0, "reference"),
  referenceYieldingLifecycles: lifecyclesInChild(100, "reference"),
  quick,
  baseline: sample(),
  liveSessions: liveSessions(),
  trackerUpdates: trackerUpdates(),
  sessionUpdates: sessionUpdates(),
  sessionLifecycles: await sessionLifecycles(),
};
process.stdout.write(`${JSON.stringify(result)}\n`);
