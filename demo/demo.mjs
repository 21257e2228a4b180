// `npm run demo`: the main job of msw-session in miniature.
//
// Several sessions hash generated files, each in a worker thread that
// attaches to its session (its cancellation token is shared memory: a cancel
// is seen at once between two files), with live bars. The main thread owns
// each session's context and checkpoints it with every step (the next file
// to hash and the digests so far).
//
//   npm run demo                 interactive: Ctrl-C cancels every session
//                                gracefully; kill -9 the process and run it
//                                again to see the crashed sessions found and
//                                resumed from their checkpoints
//   npm run demo -- --ci         the same, non-interactively, in seconds: a
//                                child run is killed with SIGKILL half-way,
//                                then resumed; one session is cancelled
//   npm run demo -- --dir <path> where the files and sessions live
//                                (default: <tmp>/msw-session-demo)
//   npm run demo -- --fresh      start over (delete the folder first)
//
// Hidden, for tests: `--pace-ms <n>` waits n ms per file instead of
// INTERACTIVE_PACE_MS, so a test can run the interactive (terminal) path
// quickly. The default pace makes an interactive run last about
// 24 files x 700 ms = 17 s: time enough to press Ctrl-C or kill -9 it.
import { spawn } from "node:child_process";
import { createHash, randomFillSync } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { Worker, isMainThread, parentPort, workerData } from "node:worker_threads";

import { SessionManager, attachSession, formatProgress } from "../index.mjs";

const SELF = fileURLToPath(import.meta.url);

/** The wait before each file in an interactive run, in ms (see the header). */
const INTERACTIVE_PACE_MS = 700;
/** The wait before each file in --ci's first run, which is killed half-way. */
const CHILD_PACE_MS = 20;
/**
 * Where each worker of --ci's first run stops and waits to be killed: half-way,
 * so every session is killed there whatever the machine's speed (a fast worker
 * used to finish its dataset before a slow one had started).
 */
const CHILD_HALT_AT = 12;

// ---------------------------------------------------------------------------
// The worker: hash the files of one dataset, from the checkpoint on.
if (!isMainThread) {
  const { id, basePath, files, from, pace, haltAt } = workerData;
  const session = attachSession(id, { basePath });
  const token = session.cancellation.token;
  for (let i = from; i < files.length; i++) {
    // --ci's first run: block this thread here until the process is killed.
    if (i === haltAt) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
    // The pace: a timer that a cancel (from any thread) cuts short.
    if (pace) await sleep(pace, undefined, { signal: token.signal }).catch(() => {});
    if (token.isCancelled) break; // a cancel from any thread is seen at once
    const hash = createHash("sha256").update(fs.readFileSync(files[i])).digest("hex");
    parentPort.postMessage({ index: i, hash: hash.slice(0, 12), file: path.basename(files[i]) });
  }
  parentPort.postMessage({ done: true, cancelled: token.isCancelled });
}

// ---------------------------------------------------------------------------
// The main thread.
const { values } = isMainThread
  ? parseArgs({
      options: {
        ci: { type: "boolean", default: false },
        child: { type: "boolean", default: false },
        fresh: { type: "boolean", default: false },
        dir: { type: "string", default: path.join(os.tmpdir(), "msw-session-demo") },
        "pace-ms": { type: "string" },
      },
    })
  : { values: {} };

const DATASETS = 4;
const FILES_PER_DATASET = 24;
const FILE_SIZE = 256 * 1024;

/** Makes the input files once: four datasets of random data. */
function prepare(dir) {
  const datasets = [];
  for (let d = 0; d < DATASETS; d++) {
    const folder = path.join(dir, "data", `dataset-${d}`);
    fs.mkdirSync(folder, { recursive: true });
    const files = [];
    for (let f = 0; f < FILES_PER_DATASET; f++) {
      const file = path.join(folder, `part-${String(f).padStart(2, "0")}.bin`);
      if (!fs.existsSync(file)) fs.writeFileSync(file, randomFillSync(Buffer.alloc(FILE_SIZE)));
      files.push(file);
    }
    datasets.push({ name: `dataset-${d}`, files });
  }
  return datasets;
}

/**
 * Live bars on a terminal; a line per quarter elsewhere. Returns `stop`,
 * which ends the redraws and draws the bars a last time: call it before
 * printing anything else.
 */
function reporter(manager, interactive) {
  const latest = new Map();
  const quarters = new Map();
  let timer;
  let drawn = 0; // the lines the last draw left above the cursor
  const draw = () => {
    timer = undefined;
    // A line as wide as the terminal would wrap and break the count of lines.
    const width = process.stdout.columns;
    const lines = [...latest.values()].map((s) => {
      const line = `  ${formatProgress(s)}  ${s.status}`;
      return width > 1 ? line.slice(0, width - 1) : line;
    });
    // Back to the first bar (`ESC[0A` would move up one line, not zero),
    // erase from there down, draw every bar.
    const up = drawn > 0 ? `\r\x1b[${drawn}A` : "";
    process.stdout.write(`${up}\x1b[0J${lines.join("\n")}\n`);
    drawn = lines.length;
  };
  const off = manager.onProgress((state) => {
    if (interactive) {
      latest.set(state.sessionId, state);
      timer ??= setTimeout(draw, 50);
      return;
    }
    const quarter = state.status === "running" ? Math.floor(state.progress / 25) : state.status;
    if (quarters.get(state.sessionId) !== quarter) {
      quarters.set(state.sessionId, quarter);
      console.log(`  ${formatProgress(state)}  ${state.status}`);
    }
  });
  return function stop() {
    off();
    clearTimeout(timer);
    if (interactive && latest.size > 0) draw();
  };
}

/** Runs one session's work in a worker; resolves when it stops. */
function work(manager, basePath, session, files, pace, cancelAfterOne = false, haltAt = undefined) {
  return new Promise((resolve, reject) => {
    const worker = new Worker(SELF, {
      workerData: { id: session.id, basePath, files, from: session.context.nextIndex, pace, haltAt },
    });
    worker.on("message", (message) => {
      if (message.done) return;
      // A cancel means: what is done by then counts, nothing after. A file
      // the worker had hashed before it saw the cancel arrives too late and
      // is dropped, so the progress shown and the checkpoint stay as they
      // were at the cancel (a resumed run would hash that file again).
      if (session.cancellation.token.isCancelled) return;
      // The context lives on this thread: update it, then report the step
      // here, so the checkpoint and the progress are written together.
      session.context.nextIndex = message.index + 1;
      session.context.hashes.push(message.hash);
      session.progress.completeStep(message.file);
      // As if the user cancelled this one from another process.
      if (cancelAfterOne) manager.cancelSession(session.id, "cancelled by the demo");
    });
    worker.on("error", reject);
    worker.on("exit", () => {
      const state = session.progress.getState();
      if (state.status === "running" && state.completedSteps >= files.length) {
        manager.completeSession(session.id);
      }
      resolve(session.progress.getState().status);
    });
  });
}

async function run({ dir, interactive, pace, cancelOne, quiet, haltAt }) {
  const basePath = dir;
  const datasets = prepare(dir);
  const manager = new SessionManager({ basePath });
  const stopReporter = quiet ? () => {} : reporter(manager, interactive);

  // Sessions left by a run that died are found at once (their owner's lock
  // is free) and resumed from their checkpointed context.
  const jobs = [];
  for (const crashed of manager.findCrashedSessions()) {
    const session = manager.resumeSession(crashed);
    if (!session) continue;
    const dataset = datasets.find((d) => d.name === session.context.dataset);
    if (!quiet) {
      console.log(
        `resumed ${session.operation} at file ${session.context.nextIndex}/${dataset.files.length} ` +
          `(crashed at ${crashed.progress.progress}%)`,
      );
    }
    jobs.push({ session, dataset });
  }
  const resumed = new Set(jobs.map((j) => j.session.context.dataset));
  for (const dataset of datasets) {
    if (resumed.has(dataset.name) || alreadyDone(manager, basePath, dataset.name)) continue;
    const session = manager.createSession(`hash ${dataset.name}`, {
      dataset: dataset.name,
      nextIndex: 0,
      hashes: [],
    });
    session.progress.start(dataset.files.length);
    jobs.push({ session, dataset });
  }
  if (jobs.length === 0 && !quiet) console.log("nothing to do: every dataset is hashed (--fresh starts over)");

  const onSigint = () => {
    for (const { session } of jobs) manager.cancelSession(session.id, "Ctrl-C");
  };
  process.once("SIGINT", onSigint);
  const results = await Promise.all(
    jobs.map(({ session, dataset }, i) =>
      work(manager, basePath, session, dataset.files, pace, cancelOne && i === jobs.length - 1, haltAt),
    ),
  );
  process.removeListener("SIGINT", onSigint);
  manager.shutdown();
  stopReporter();
  return results;
}

/** Whether a finished session for this dataset is on disk already. */
function alreadyDone(manager, basePath, dataset) {
  const dir = path.join(basePath, ".msw", "sessions");
  if (!fs.existsSync(dir)) return false;
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .some((f) => {
      const state = JSON.parse(fs.readFileSync(path.join(dir, f), "utf8"));
      return state.context?.dataset === dataset && state.status === "completed";
    });
}

function showFiles(dir) {
  const sessions = path.join(dir, ".msw", "sessions");
  console.log(`\nState files in ${sessions}:`);
  for (const name of fs.readdirSync(sessions).sort()) {
    if (!name.endsWith(".json")) {
      console.log(`  ${name}`);
      continue;
    }
    const s = JSON.parse(fs.readFileSync(path.join(sessions, name), "utf8"));
    console.log(
      `  ${name}  ${s.status.padEnd(9)} ${String(s.progress.progress).padStart(3)}%  ` +
        `${s.operation}  next file ${s.context.nextIndex}, ${s.context.hashes.length} digests`,
    );
  }
}

if (isMainThread) {
  const dir = path.resolve(values.dir);
  if (values.fresh || values.ci) fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });

  if (values.child) {
    // --ci's first run: work slowly until the parent kills this process.
    await run({ dir, interactive: false, pace: CHILD_PACE_MS, quiet: true, haltAt: CHILD_HALT_AT });
  } else if (values.ci) {
    console.log("1. A run hashing four datasets is killed with SIGKILL half-way");
    const child = spawn(process.execPath, [SELF, "--child", "--dir", dir], { stdio: "ignore" });
    const sessions = path.join(dir, ".msw", "sessions");
    // Wait until every session has checkpointed the files before the halt, then kill.
    await new Promise((resolve) => {
      const poll = setInterval(() => {
        const files = fs.existsSync(sessions) ? fs.readdirSync(sessions).filter((f) => f.endsWith(".json")) : [];
        const progressed = files.filter((f) => {
          try {
            return JSON.parse(fs.readFileSync(path.join(sessions, f), "utf8")).context.nextIndex === CHILD_HALT_AT;
          } catch {
            return false;
          }
        });
        if (files.length === DATASETS && progressed.length === DATASETS) {
          clearInterval(poll);
          resolve();
        }
      }, 20);
    });
    child.kill("SIGKILL");
    await new Promise((resolve) => child.once("exit", resolve));
    console.log("   killed; the files say:");
    showFiles(dir);
    console.log("\n2. A new run finds the crashed sessions at once and resumes them; one is cancelled");
    await run({ dir, interactive: false, pace: 0, cancelOne: true });
    showFiles(dir);
  } else {
    const interactive = Boolean(process.stdout.isTTY);
    console.log(`Hashing ${DATASETS} datasets in ${dir} (Ctrl-C cancels; kill -9 and rerun to resume)\n`);
    const pace = values["pace-ms"] === undefined ? INTERACTIVE_PACE_MS : Number(values["pace-ms"]);
    if (!Number.isFinite(pace) || pace < 0) throw new RangeError(`--pace-ms: not a number of ms: ${values["pace-ms"]}`);
    const results = await run({ dir, interactive, pace });
    console.log(`\nsessions: ${results.join(", ") || "none"}`);
    showFiles(dir);
  }
}
