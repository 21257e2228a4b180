#!/usr/bin/env node
// msw-session against the reference TypeScript module, side by side.
//
//   node bench/run.mjs [--quick] [--json] [--baseline <dir>] [--only <ids>]
//
// --quick            fewer iterations and rounds: a smoke run of a few seconds
// --json             print the results as JSON instead of Markdown
// --baseline <dir>   the folder of the reference `.ts` files
//                    (default: ../shared/reference/session from the repository root)
// --only <ids>       run only these workloads (comma-separated): isCancelled,
//                    throwIfCancelled, trackerUpdate, formatProgress, persistedUpdate,
//                    createComplete, largeContext, crashScan, manyFiles, inspect, folderCheck, memory
//
// inspect (package only): bench/inspect.mjs in a process of its own:
// SessionStateStore#inspect(id) with 10 and with 10,000 files in the folder,
// listStates() of them, and SessionTaskStore#getTask of another process's
// working task (bench/task-owner.mjs) in the same folders.
//
// manyFiles: 10,000 stale session files (written once): listSessions and
// findCrashedSessions on both sides, and `msw-session ls --json` (the
// package only: the reference has no CLI).
//
// folderCheck (package only: the reference checks no folder): what the check
// of .msw, sessions, owners/ and requests/ adds to a new store (one lstat per
// folder, once per store or manager): `new SessionStateStore` with the
// default options minus with `trustFolder: true`, over folders that exist.
//
// The floor: after each measured round of a file workload, the bare system
// calls of that workload run in a Rust loop (crates/session-core/examples/
// floor.rs, built once with cargo), in the same state of the disk, so the
// table shows how close each side is to them.
//
// The reference is compiled at bench time (bench/reference.mjs). Each
// workload runs warm-up rounds, then several measured rounds, alternating
// which side goes first; the table shows the median ns per operation of each
// side and speedup = reference / package. Memory is measured for the package
// only, in a child process of its own (bench/memory.mjs). Progress goes to
// stderr, results to stdout.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { DEFAULT_REFERENCE_DIR, ReferenceMissingError, loadReference } from "./reference.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const script = fileURLToPath(import.meta.url);

// --- options ----------------------------------------------------------------

function usage(message) {
  if (message) console.error(`bench: ${message}`);
  console.error("usage: node bench/run.mjs [--quick] [--json] [--baseline <dir>] [--only <workload,...>]");
  process.exit(2);
}

const WORKLOAD_IDS = [
  "isCancelled",
  "throwIfCancelled",
  "trackerUpdate",
  "formatProgress",
  "persistedUpdate",
  "createComplete",
  "largeContext",
  "crashScan",
  "manyFiles",
  "inspect",
  "folderCheck",
  "memory",
];

const options = { quick: false, json: false, baseline: DEFAULT_REFERENCE_DIR, only: null };
for (let i = 2; i < process.argv.length; i++) {
  const arg = process.argv[i];
  if (arg === "--quick") options.quick = true;
  else if (arg === "--json") options.json = true;
  else if (arg === "--baseline") {
    const dir = process.argv[++i];
    if (!dir) usage("--baseline needs a folder");
    options.baseline = path.resolve(dir);
  } else if (arg.startsWith("--baseline=")) options.baseline = path.resolve(arg.slice("--baseline=".length));
  else if (arg === "--only") {
    const list = process.argv[++i];
    if (!list) usage("--only needs a comma-separated list of workloads");
    options.only = list.split(",").filter(Boolean);
  } else if (arg.startsWith("--only=")) options.only = arg.slice("--only=".length).split(",").filter(Boolean);
  else if (arg === "--help" || arg === "-h") usage();
  else usage(`unknown option ${arg}`);
}
const unknownIds = options.only?.filter((id) => !WORKLOAD_IDS.includes(id)) ?? [];
if (unknownIds.length > 0) usage(`unknown workload ${unknownIds.join(", ")} (known: ${WORKLOAD_IDS.join(", ")})`);

// gc() between rounds keeps one round's garbage out of the next one's time:
// without --expose-gc, run again with it (same arguments, same stdio).
if (typeof global.gc !== "function") {
  const child = spawnSync(process.execPath, ["--expose-gc", ...process.execArgv, script, ...process.argv.slice(2)], {
    stdio: "inherit",
  });
  if (child.error) {
    console.error(`bench: cannot re-run node with --expose-gc: ${child.error.message}`);
    process.exit(1);
  }
  process.exit(child.status ?? 1);
}

const log = (message) => process.stderr.write(`${message}\n`);

// --- the two implementations ------------------------------------------------

let reference;
try {
  reference = await loadReference(options.baseline);
} catch (error) {
  if (error instanceof ReferenceMissingError) {
    console.error(`bench: ${error.message}`);
    console.error("bench: the reference module is needed to compare against; pass --baseline <dir> with its .ts files");
    process.exit(1);
  }
  throw error;
}
process.on("exit", () => reference.dispose());
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => process.exit(130));

const pkg = await import("../index.mjs");
const addon = describeAddon();
const sides = {
  reference: { M: reference.module, W: await import("./workloads.mjs?side=reference") },
  package: { M: pkg, W: await import("./workloads.mjs?side=package") },
};

/**
 * The native addon this process loaded (from /proc/self/maps), whether it is
 * a debug build (it has a `.debug_info` section: the release profile strips
 * symbols) and whether Rust sources changed after it was built. Benchmarking
 * a debug build measures nothing useful, so this is printed with the results.
 */
function describeAddon() {
  const info = { path: null, debugBuild: null, builtAt: null, staleSources: [] };
  try {
    const maps = fs.readFileSync("/proc/self/maps", "utf8");
    const match = maps.split("\n").map((line) => line.slice(line.indexOf("/"))).find((p) => /msw-session.*\.node$/.test(p));
    if (!match) return info;
    info.path = match;
    const stat = fs.statSync(match);
    info.builtAt = stat.mtime.toISOString();
    info.debugBuild = elfSectionNames(fs.readFileSync(match))?.includes(".debug_info") ?? null;
    const root = path.resolve(here, "..");
    const newer = [];
    const walk = (dir) => {
      if (!fs.existsSync(dir)) return;
      for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) walk(full);
        else if (entry.name.endsWith(".rs") && fs.statSync(full).mtimeMs > stat.mtimeMs) newer.push(path.relative(root, full));
      }
    };
    walk(path.join(root, "src"));
    walk(path.join(root, "crates"));
    info.staleSources = newer;
  } catch {
    // Not Linux, or unreadable: report what is known.
  }
  return info;
}

/** The section names of a 64-bit little-endian ELF file, or null for anything else. */
function elfSectionNames(buf) {
  if (buf.length < 64 || buf.readUInt32BE(0) !== 0x7f454c46 || buf[4] !== 2 || buf[5] !== 1) return null;
  const shoff = Number(buf.readBigUInt64LE(0x28));
  const shentsize = buf.readUInt16LE(0x3a);
  const shnum = buf.readUInt16LE(0x3c);
  const shstrndx = buf.readUInt16LE(0x3e);
  if (shoff === 0 || shstrndx >= shnum || shoff + shnum * shentsize > buf.length) return null;
  const header = (i) => shoff + i * shentsize;
  const strtab = Number(buf.readBigUInt64LE(header(shstrndx) + 0x18));
  const names = [];
  for (let i = 0; i < shnum; i++) {
    const start = strtab + buf.readUInt32LE(header(i));
    const end = buf.indexOf(0, start);
    names.push(buf.toString("latin1", start, end));
  }
  return names;
}

/**
 * Linux pressure-stall information: the share of the last 60 s in which some
 * task waited for a CPU, or for I/O (null where not available).
 */
function pressure() {
  const read = (kind) => {
    try {
      const line = fs.readFileSync(`/proc/pressure/${kind}`, "utf8").split("\n")[0];
      return Number(/avg60=([\d.]+)/.exec(line)?.[1] ?? NaN);
    } catch {
      return null;
    }
  };
  return { cpuSomeAvg60: read("cpu"), ioSomeAvg60: read("io") };
}

function gitHead() {
  const git = spawnSync("git", ["-C", path.resolve(here, ".."), "rev-parse", "--short", "HEAD"], { encoding: "utf8" });
  if (git.status !== 0) return null;
  const dirty = spawnSync("git", ["-C", path.resolve(here, ".."), "status", "--porcelain", "--untracked-files=no"], {
    encoding: "utf8",
  });
  return `${git.stdout.trim()}${dirty.stdout?.trim() ? " (with uncommitted changes)" : ""}`;
}

// --- measuring --------------------------------------------------------------

const Q = options.quick;
const sizes = {
  hotReads: Q ? 1_000_000 : 10_000_000,
  hotRounds: Q ? 5 : 21,
  trackerUpdates: Q ? 20_000 : 200_000,
  formatCalls: Q ? 100_000 : 1_000_000,
  microRounds: Q ? 5 : 9,
  persistSessions: Q ? 10 : 50,
  persistSteps: Q ? 20 : 100,
  lifecycleSessions: Q ? 100 : 1_000,
  crashFiles: Q ? 300 : 3_000,
  manyFiles: Q ? 1_000 : 10_000,
  largeContextResults: 20_000,
  largeContextUpdates: Q ? 20 : 100,
  fileRounds: Q ? 3 : 5,
};

/** Warm-up rounds of the in-memory workloads: enough for V8's optimizing compiler. */
const MICRO_WARMUPS = 3;

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function gc() {
  global.gc();
}

/** A fresh temporary folder for one round, removed afterwards. */
function withTmp(fn) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "msw-session-bench-"));
  try {
    return fn(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Runs `round(side, warm)` for both sides: `warmups` warm-up rounds each
 * (enough for V8 to optimize the loop fully, not only on-stack-replace it),
 * then `rounds` measured rounds, alternating which side goes first.
 */
function measure(name, rounds, round, warmups = 1) {
  log(`  ${name} ...`);
  const perOp = { reference: [], package: [], parts: { reference: [], package: [] } };
  for (let w = 0; w < warmups; w++) {
    for (const side of ["reference", "package"]) {
      gc();
      round(side, true);
    }
  }
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? ["reference", "package"] : ["package", "reference"];
    for (const side of order) {
      gc();
      const { ns, ops, parts } = round(side, false);
      perOp[side].push(ns / ops);
      if (parts) perOp.parts[side].push(parts);
    }
  }
  return perOp;
}

/** A fixed set of progress states for formatProgress, like a tracker's. */
function formatStates() {
  const iso = new Date().toISOString();
  const states = [];
  const values = [0, 0.5, 1, 3.3, 10, 12.5, 33.333333333333336, 50, 66.6, 75, 99.9, 100];
  for (let i = 0; i < 96; i++) {
    const progress = i < values.length ? values[i] : (i * 7) % 101;
    const state = { sessionId: "bench", operation: "importing files", status: "running", progress };
    if (i % 2 === 0) state.currentStep = `file ${i}.csv`;
    state.startedAt = iso;
    state.updatedAt = iso;
    states.push(state);
  }
  return states;
}

const workloads = [];

/**
 * The floor program (examples/floor.rs), built once; `null` without cargo.
 * `floorRound(patterns)` runs one round of those patterns and records their
 * µs per unit in `floors`, by pattern.
 */
const floorProgram = (() => {
  const root = path.resolve(here, "..");
  const build = spawnSync("cargo", ["build", "--release", "-q", "-p", "msw-session-core", "--example", "floor"], {
    cwd: root,
    encoding: "utf8",
  });
  if (build.status !== 0) {
    log(`bench: the floor is not measured (cargo: ${build.error?.message ?? build.stderr.trim().split("\n").at(-1)})`);
    return null;
  }
  const target = process.env.CARGO_TARGET_DIR ?? path.join(root, "target");
  return path.join(target, "release", "examples", process.platform === "win32" ? "floor.exe" : "floor");
})();
const floors = {};
function floorRound(patterns) {
  if (!floorProgram) return;
  const run = spawnSync(floorProgram, ["--json", "--rounds", "1", "--only", patterns.join(",")], { encoding: "utf8" });
  if (run.status !== 0) throw new Error(`floor: ${run.stderr}`);
  for (const [k, v] of Object.entries(JSON.parse(run.stdout.trim().split("\n").at(-1)))) (floors[k] ??= []).push(v);
}

function add(id, name, unit, goal, perOp) {
  const ref = median(perOp.reference);
  const pack = median(perOp.package);
  const speedup = ref / pack;
  // Median ns of each part of the timed section, per round (not per op).
  const parts = {};
  for (const side of ["reference", "package"]) {
    const rounds = perOp.parts[side];
    if (rounds.length === 0) continue;
    parts[side] = Object.fromEntries(Object.keys(rounds[0]).map((k) => [k, median(rounds.map((p) => p[k]))]));
  }
  workloads.push({
    id,
    name,
    unit,
    reference: { medianNs: ref, minNs: Math.min(...perOp.reference), maxNs: Math.max(...perOp.reference), rounds: perOp.reference },
    package: { medianNs: pack, minNs: Math.min(...perOp.package), maxNs: Math.max(...perOp.package), rounds: perOp.package },
    speedup,
    goal,
    met: goal === null ? null : speedup >= goal,
    ...(Object.keys(parts).length > 0 ? { partsMedianNsPerRound: parts } : {}),
  });
}

const started = process.hrtime.bigint();
const loadBefore = os.loadavg();
const pressureBefore = pressure();
log(`bench: reference compiled from ${options.baseline} (typescript ${reference.typescriptVersion})`);
log(`bench: ${Q ? "quick" : "full"} run`);
log(`bench: addon ${addon.path ?? "(not found in /proc/self/maps)"}${addon.debugBuild ? " — a DEBUG build" : ""}`);
if (addon.debugBuild) log("bench: WARNING: the addon is a debug build; run `npm run build` first for meaningful numbers");
if (addon.staleSources.length > 0) {
  log(`bench: WARNING: Rust sources are newer than the addon (${addon.staleSources.slice(0, 3).join(", ")}…); run \`npm run build\``);
}

// Correctness first: both sides must format every state alike.
const states = formatStates();
for (const state of states) {
  const a = sides.reference.M.formatProgress(state);
  const b = sides.package.M.formatProgress(state);
  if (a !== b) throw new Error(`formatProgress differs for ${JSON.stringify(state)}:\n  reference ${a}\n  package   ${b}`);
}

/** Every workload: its id (for `--only`) and how to measure it. */
const plan = [
  {
    id: "isCancelled",
    run: () =>
      add(
        "isCancelled",
        "`isCancelled` read (uncancelled)",
        "read",
        0.5,
        measure(
          "isCancelled",
          sizes.hotRounds,
          (side, warm) => sides[side].W.isCancelled(sides[side].M, warm ? sizes.hotReads / 2 : sizes.hotReads),
          MICRO_WARMUPS,
        ),
      ),
  },
  {
    id: "throwIfCancelled",
    run: () =>
      add(
        "throwIfCancelled",
        "`throwIfCancelled()` (uncancelled)",
        "call",
        0.5,
        measure(
          "throwIfCancelled",
          sizes.hotRounds,
          (side, warm) => sides[side].W.throwIfCancelled(sides[side].M, warm ? sizes.hotReads / 2 : sizes.hotReads),
          MICRO_WARMUPS,
        ),
      ),
  },
  {
    id: "trackerUpdate",
    run: () =>
      add(
        "trackerUpdate",
        "tracker update, one listener (`setProgress`)",
        "update",
        1,
        measure(
          "tracker update",
          sizes.microRounds,
          (side, warm) =>
            sides[side].W.trackerUpdate(sides[side].M, warm ? sizes.trackerUpdates / 2 : sizes.trackerUpdates),
          MICRO_WARMUPS,
        ),
      ),
  },
  {
    id: "formatProgress",
    run: () => {
      const checks = {};
      const perOp = measure(
        "formatProgress",
        sizes.microRounds,
        (side, warm) => {
          const n = warm ? sizes.formatCalls / 2 : sizes.formatCalls;
          const result = sides[side].W.formatProgress(sides[side].M, n, states);
          if (!warm) {
            checks[side] ??= result.check;
            if (checks[side] !== result.check) throw new Error("formatProgress: output checksum changed between rounds");
          }
          return result;
        },
        MICRO_WARMUPS,
      );
      if (checks.reference !== checks.package) throw new Error("formatProgress: the two sides printed different output");
      add("formatProgress", "`formatProgress(state)`", "call", 1, perOp);
    },
  },
  {
    id: "persistedUpdate",
    run: () =>
      add(
        "persistedUpdate",
        `persisted update (${sizes.persistSessions} sessions × ${sizes.persistSteps} \`completeStep\`, then \`shutdown\`)`,
        "update",
        50,
        measure("persisted updates", sizes.fileRounds, (side, warm) => {
          const result = withTmp((dir) =>
            sides[side].W.persistedUpdates(
              sides[side].M,
              dir,
              warm ? 10 : sizes.persistSessions,
              warm ? 10 : sizes.persistSteps,
            ),
          );
          if (!warm && side === "package") floorRound(["atomic1"]);
          return result;
        }),
      ),
  },
  {
    id: "createComplete",
    run: () =>
      add(
        "createComplete",
        `create + start + complete (${sizes.lifecycleSessions.toLocaleString("en-US")} sessions, then \`shutdown\`)`,
        "session",
        2,
        measure("create + start + complete", sizes.fileRounds, (side, warm) => {
          const result = withTmp((dir) =>
            sides[side].W.createComplete(
              sides[side].M,
              dir,
              warm ? Math.max(10, sizes.lifecycleSessions / 10) : sizes.lifecycleSessions,
            ),
          );
          if (!warm && side === "package") floorRound(["atomic2", "reference4"]);
          return result;
        }),
      ),
  },
  {
    id: "largeContext",
    run: () =>
      add(
        "largeContext",
        `update with a 1 MB context (${sizes.largeContextResults.toLocaleString("en-US")} results, ${sizes.largeContextUpdates} updates each after an in-place change, then \`saveAllSessions\`)`,
        "update",
        20,
        measure("1 MB context update", sizes.fileRounds, (side, warm) =>
          withTmp((dir) =>
            sides[side].W.largeContextUpdates(
              sides[side].M,
              dir,
              sizes.largeContextResults,
              warm ? 10 : sizes.largeContextUpdates,
            ),
          ),
        ),
      ),
  },
  {
    id: "crashScan",
    run: () => {
      // Interop: each side's fixture folder must be read by the other side
      // too (checked on the first measured round's folders, untimed).
      const interop = {};
      let checked = false;
      const perOp = measure("findCrashedSessions", sizes.fileRounds, (side, warm) =>
        withTmp((dir) => {
          const count = warm ? Math.max(30, sizes.crashFiles / 10) : sizes.crashFiles;
          const result = sides[side].W.crashScan(sides[side].M, dir, count);
          if (!warm && side === "package") floorRound(["read"]);
          if (!warm && !checked) {
            const other = side === "reference" ? "package" : "reference";
            const found = sides[other].W.countCrashed(sides[other].M, dir);
            if (found !== count) throw new Error(`interop: the ${other} found ${found} of the ${count} files the ${side} wrote`);
            interop[`${side} files read by the ${other}`] = found;
            if (Object.keys(interop).length === 2) checked = true;
          }
          return result;
        }),
      );
      add("crashScan", `\`findCrashedSessions\` over ${sizes.crashFiles.toLocaleString("en-US")} files`, "file", 2, perOp);
      workloads.at(-1).interop = interop;
    },
  },
];

plan.push({
  id: "manyFiles",
  run: () => {
    // One folder of stale files, written once by the package (each side
    // reads the other's files: see the interop line), read by both sides.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "msw-session-bench-many-"));
    try {
      const store = new sides.package.M.SessionStateStore(dir);
      const iso = new Date(Date.now() - 3_600_000).toISOString();
      for (let i = 0; i < sizes.manyFiles; i++) {
        store.save(sides.package.W.staleState(`s-${String(i).padStart(6, "0")}`, i, iso));
      }
      const count = sizes.manyFiles;
      const label = count.toLocaleString("en-US");
      add("listMany", `\`listSessions\` of ${label} files`, "file", null,
        measure("listSessions, many files", sizes.fileRounds, (side) => sides[side].W.listMany(sides[side].M, dir, count)));
      add("scanMany", `\`findCrashedSessions\` over ${label} files`, "file", null,
        measure("findCrashedSessions, many files", sizes.fileRounds, (side) => sides[side].W.scanMany(sides[side].M, dir, count)));
      log("  msw-session ls --json, many files ...");
      const cli = path.resolve(here, "..", "bin", "msw-session.mjs");
      const perFile = [];
      for (let r = 0; r < sizes.fileRounds; r++) {
        const t0 = process.hrtime.bigint();
        const ls = spawnSync(process.execPath, [cli, "ls", "--json", "--dir", dir], { encoding: "utf8", maxBuffer: 1 << 30 });
        const ns = Number(process.hrtime.bigint() - t0);
        if (ls.status !== 0) throw new Error(`msw-session ls --json exited ${ls.status}: ${ls.stderr}`);
        const listed = JSON.parse(ls.stdout).length;
        if (listed !== count) throw new Error(`msw-session ls --json listed ${listed} of ${count}`);
        perFile.push(ns / count);
      }
      cliMany = { medianNs: median(perFile), minNs: Math.min(...perFile), maxNs: Math.max(...perFile), files: count };
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
});
/** `msw-session ls --json` over the many files (package only), when measured. */
let cliMany = null;

plan.push({
  id: "inspect",
  run: () => {
    // bench/inspect.mjs, in a process of its own: inspect(id) with 10 and
    // with 10,000 files in the folder (issue 23: within 2x), listStates, and
    // getTask of another process's working task (issue 23: within 2x).
    log("  inspect, listStates and getTask, 10 and 10,000 files (package only) ...");
    const child = spawnSync(process.execPath, [path.join(here, "inspect.mjs"), "--json", "--rounds", Q ? "3" : "9"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "inherit"],
    });
    if (child.status !== 0) throw new Error(`bench/inspect.mjs exited ${child.status}`);
    inspect = JSON.parse(child.stdout.trim().split("\n").at(-1));
  },
});
/** bench/inspect.mjs's figures (package only), when measured. */
let inspect = null;

plan.push({
  id: "folderCheck",
  run: () => {
    log("  folder check (package only) ...");
    const { M, W } = sides.package;
    const count = Q ? 2_000 : 20_000;
    withTmp((dir) => {
      // All four checked folders exist, as in a folder in use.
      const manager = new M.SessionManager({ basePath: dir, persistIntervalMs: 0 });
      manager.completeSession(manager.createSession("bench-folder-check").id);
      manager.shutdown();
      fs.mkdirSync(path.join(dir, ".msw", "sessions", "owners"), { recursive: true, mode: 0o700 });
      fs.mkdirSync(path.join(dir, ".msw", "sessions", "requests"), { recursive: true, mode: 0o700 });
      const sample = (options) => {
        W.storeOpens(M, dir, count / 10, options); // warm-up
        const rounds = [];
        for (let r = 0; r < sizes.fileRounds; r++) {
          gc();
          const { ns, ops } = W.storeOpens(M, dir, count, options);
          rounds.push(ns / ops);
        }
        return median(rounds);
      };
      const checked = sample({});
      const trusted = sample({ trustFolder: true });
      folderCheck = { checkedNs: checked, trustedNs: trusted, checkNs: checked - trusted, folders: 4, count };
    });
  },
});
/** What the folder check adds to a new store (package only), when measured. */
let folderCheck = null;

const wanted = (id) => !options.only || options.only.includes(id);
for (const workload of plan) if (wanted(workload.id)) workload.run();

// --- memory (package only, in a process of its own) ---------------------------

let memory = null;
if (wanted("memory")) {
  log("  memory (package, separate process) ...");
  const memoryChild = spawnSync(
    process.execPath,
    ["--expose-gc", path.join(here, "memory.mjs"), ...(Q ? ["--quick"] : [])],
    { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], maxBuffer: 16 * 1024 * 1024 },
  );
  if (memoryChild.status !== 0) {
    console.error(`bench: the memory run failed (exit ${memoryChild.status})`);
    process.exit(1);
  }
  memory = JSON.parse(memoryChild.stdout.trim().split("\n").at(-1));
}

const seconds = Number(process.hrtime.bigint() - started) / 1e9;
log(`bench: done in ${seconds.toFixed(1)} s`);

// --- output -------------------------------------------------------------------

const machine = {
  cpu: os.cpus()[0]?.model ?? "unknown",
  cpus: os.availableParallelism?.() ?? os.cpus().length,
  memoryGB: +(os.totalmem() / 1024 ** 3).toFixed(1),
  node: process.version,
  platform: `${process.platform}-${process.arch}`,
  kernel: os.release(),
  commit: gitHead(),
  loadAverage: { before: loadBefore.map((x) => +x.toFixed(2)), after: os.loadavg().map((x) => +x.toFixed(2)) },
  pressure: { before: pressureBefore, after: pressure() },
  addon,
};

if (options.json) {
  process.stdout.write(
    `${JSON.stringify(
      { machine, quick: Q, baseline: options.baseline, sizes, seconds, workloads, floors, cliMany, inspect, folderCheck, memory },
      null,
      2,
    )}\n`,
  );
  process.exit(0);
}

function ns(value) {
  if (value < 10) return value.toFixed(2);
  if (value < 1000) return value.toFixed(1);
  return Math.round(value).toLocaleString("en-US");
}

function ratio(value) {
  if (value >= 100) return `${Math.round(value)}×`;
  if (value >= 10) return `${value.toFixed(1)}×`;
  return `${value.toFixed(2)}×`;
}

const mb = (value) => value.toFixed(1);
const out = [];
out.push(`## msw-session vs the reference (${Q ? "quick run" : "full run"})`);
out.push("");
out.push(
  `${machine.cpu}, ${machine.cpus} CPUs, ${machine.memoryGB} GB, Node ${machine.node}, ${machine.platform}. ` +
    `Medians of ${sizes.hotRounds} rounds (hot loops) / ${sizes.microRounds} (tracker, format) / ${sizes.fileRounds} (file workloads), after a warm-up.`,
);
out.push("");
if (Q) {
  out.push("**Quick run**: smaller workloads and fewer rounds, a smoke test; the ratios are not comparable with the goals.");
  out.push("");
}
out.push(
  `Package at ${machine.commit ?? "unknown commit"}, addon ${addon.path ? path.basename(addon.path) : "unknown"} ` +
    `(${addon.debugBuild === null ? "build type unknown" : addon.debugBuild ? "**DEBUG build: these numbers are not meaningful**" : "release build"}` +
    `${addon.staleSources.length > 0 ? ", **older than the Rust sources**" : ""}, built ${addon.builtAt ?? "?"}); ` +
    `reference compiled from ${options.baseline} with typescript ${reference.typescriptVersion}.`,
);
out.push("");
out.push("| workload | reference ns/op | package ns/op | speedup | goal |");
out.push("|---|---:|---:|---:|---|");
for (const w of workloads) {
  out.push(
    `| ${w.name}, per ${w.unit} | ${ns(w.reference.medianNs)} | ${ns(w.package.medianNs)} | ${ratio(w.speedup)} | ${w.goal === null ? "—" : `≥ ${w.goal}×: ${w.met ? "met" : "**not met**"}`} |`,
  );
}
out.push("");
out.push("Spread (min – max ns/op over the measured rounds):");
out.push("");
out.push("| workload | reference | package |");
out.push("|---|---:|---:|");
for (const w of workloads) {
  out.push(
    `| ${w.id} | ${ns(w.reference.minNs)} – ${ns(w.reference.maxNs)} | ${ns(w.package.minNs)} – ${ns(w.package.maxNs)} |`,
  );
}
out.push("");
for (const w of workloads.filter((x) => x.partsMedianNsPerRound)) {
  const describeParts = (side) =>
    Object.entries(w.partsMedianNsPerRound[side])
      .map(([k, v]) => `${k} ${(v / 1e6).toFixed(1)} ms`)
      .join(", ");
  out.push(`Where the time goes in ${w.id} (median per round): reference ${describeParts("reference")}; package ${describeParts("package")}.`);
  out.push("");
}
if (cliMany) {
  out.push(
    `\`msw-session ls --json\` over ${cliMany.files.toLocaleString("en-US")} files (package only, a new process each time): ` +
      `${ns(cliMany.medianNs)} ns per file (${ns(cliMany.minNs)} – ${ns(cliMany.maxNs)}), ${(cliMany.medianNs * cliMany.files / 1e6).toFixed(0)} ms per run.`,
  );
  out.push("");
}
if (inspect) {
  const [few, many] = inspect;
  out.push(
    `\`SessionStateStore#inspect(id)\` (package only, bench/inspect.mjs): ${few.inspectUs.toFixed(2)} µs per call with ${few.files.toLocaleString("en-US")} files in the folder, ` +
      `${many.inspectUs.toFixed(2)} µs with ${many.files.toLocaleString("en-US")} (${(many.inspectUs / few.inspectUs).toFixed(2)}x; medians of ${many.rounds} rounds of ${many.calls.toLocaleString("en-US")}); ` +
      `\`listStates()\` of the ${many.files.toLocaleString("en-US")} files: ${many.listStatesMs.toFixed(1)} ms.`,
  );
  out.push("");
  out.push(
    `\`SessionTaskStore#getTask(id)\` of another process's working task (package only, bench/inspect.mjs): ${few.getTaskUs.toFixed(2)} µs per call with ${few.files.toLocaleString("en-US")} other files in the folder, ` +
      `${many.getTaskUs.toFixed(2)} µs with ${many.files.toLocaleString("en-US")} (${(many.getTaskUs / few.getTaskUs).toFixed(2)}x; medians of ${many.rounds} rounds of ${many.calls.toLocaleString("en-US")}).`,
  );
  out.push("");
}
if (folderCheck) {
  out.push(
    `Folder check (package only; one \`lstat\` of each of the ${folderCheck.folders} folders, once per store or manager, never per write): ` +
      `\`new SessionStateStore\` takes ${ns(folderCheck.checkedNs)} ns checked, ${ns(folderCheck.trustedNs)} ns with \`trustFolder: true\`: ` +
      `the check costs ${ns(folderCheck.checkNs)} ns per store (medians of ${sizes.fileRounds} rounds of ${folderCheck.count.toLocaleString("en-US")}).`,
  );
  out.push("");
}
if (Object.keys(floors).length > 0) {
  const floor = Object.fromEntries(Object.entries(floors).map(([k, v]) => [k, median(v) * 1000]));
  const by = Object.fromEntries(workloads.map((w) => [w.id, w]));
  const rows = [
    ["createComplete", "two atomic writes per session (new file `O_EXCL` 0600, write, close, rename)", floor.atomic2, "one new file, three rewrites in place", floor.reference4],
    ["persistedUpdate", `${sizes.persistSessions} atomic writes (the shutdown), per update`, (floor.atomic1 * sizes.persistSessions) / (sizes.persistSessions * sizes.persistSteps), "—", undefined],
    ["crashScan", "open, read, close per file (one thread)", floor.read, "the same", floor.read],
  ];
  out.push("### The floor: each workload's system calls in a bare Rust loop (`examples/floor.rs`)");
  out.push("");
  out.push("Measured after each measured package round, in the same state of the disk; medians.");
  out.push("");
  out.push("| workload | the package's calls | floor ns | package ns | package ÷ floor | the reference's calls | floor ns | reference ÷ floor |");
  out.push("|---|---|---:|---:|---:|---|---:|---:|");
  for (const [id, calls, floorNs, refCalls, refFloor] of rows) {
    const w = by[id];
    if (!w || floorNs === undefined) continue;
    out.push(
      `| ${id} | ${calls} | ${ns(floorNs)} | ${ns(w.package.medianNs)} | ${(w.package.medianNs / floorNs).toFixed(2)} | ${refCalls} | ` +
        `${refFloor === undefined ? "—" : ns(refFloor)} | ${refFloor === undefined ? "—" : (w.reference.medianNs / refFloor).toFixed(2)} |`,
    );
  }
  out.push("");
}
const crash = workloads.find((w) => w.id === "crashScan");
if (crash?.interop) {
  out.push(
    `Interop: ${Object.entries(crash.interop)
      .map(([k, v]) => `${k}: ${v.toLocaleString("en-US")}`)
      .join("; ")}.`,
  );
  out.push("");
}
if (memory) {
  const live = memory.liveSessions;
  out.push("### Memory (package)");
  out.push("");
  out.push("| measurement | RSS MB | heapUsed MB | external MB |");
  out.push("|---|---:|---:|---:|");
  out.push(`| before ${live.sessions.toLocaleString("en-US")} sessions | ${mb(live.before.rssMB)} | ${mb(live.before.heapUsedMB)} | ${mb(live.before.externalMB)} |`);
  out.push(
    `| with ${live.sessions.toLocaleString("en-US")} live sessions, one listener each | ${mb(live.after.rssMB)} | ${mb(live.after.heapUsedMB)} | ${mb(live.after.externalMB)} |`,
  );
  for (const [label, g] of [
    ["tracker `setProgress`, one listener", memory.trackerUpdates],
    ["persisted session `setProgress`, default options", memory.sessionUpdates],
  ]) {
    out.push(`| ${label}: after ${g.first.updates.toLocaleString("en-US")} updates | ${mb(g.first.rssMB)} | ${mb(g.first.heapUsedMB)} | ${mb(g.first.externalMB)} |`);
    out.push(`| ${label}: after ${g.last.updates.toLocaleString("en-US")} updates | ${mb(g.last.rssMB)} | ${mb(g.last.heapUsedMB)} | ${mb(g.last.externalMB)} |`);
  }
  out.push("");
  out.push(
    `- ${live.sessions.toLocaleString("en-US")} live sessions: +${mb(live.after.rssMB - live.before.rssMB)} MB RSS ` +
      `(${live.perSessionKB.toFixed(1)} KB per session, ${live.heapPerSessionKB.toFixed(2)} KB of it JS heap).`,
  );
  for (const [label, g] of [
    ["Tracker updates", memory.trackerUpdates],
    ["Persisted session updates", memory.sessionUpdates],
  ]) {
    out.push(
      `- ${label}: RSS ${g.rssGrowthMB >= 0 ? "+" : ""}${mb(g.rssGrowthMB)} MB, heapUsed ${g.heapGrowthMB >= 0 ? "+" : ""}${g.heapGrowthMB.toFixed(2)} MB ` +
        `from ${g.first.updates.toLocaleString("en-US")} to ${g.last.updates.toLocaleString("en-US")} updates (bound ${g.boundMB} MB): **${g.verdict}**.`,
    );
  }
  for (const [label, u] of [
    ["without yielding", memory.unyieldingLifecycles],
    [`yielding every ${memory.yieldingLifecycles?.yieldEvery}`, memory.yieldingLifecycles],
  ]) {
    if (!u) continue;
    out.push(
      `- ${u.sessions.toLocaleString("en-US")} lifecycles ${label} (create, a listener, start, a step, the listener removed, complete; ` +
        `a process of its own): RSS +${mb(u.rssGrowthMB)} MB after one gc() (goal ≤ ${u.boundMB} MB without yielding), ` +
        `liveCounts() then ${JSON.stringify(u.countsAfterOneGc)}; after five event-loop turns RSS +${mb(u.settled.rssMB - u.before.rssMB)} MB, ` +
        `liveCounts() ${JSON.stringify(u.countsSettled)}: **${u.verdict}**.`,
    );
  }
  const life = memory.sessionLifecycles;
  if (life) {
    out.push(
      `- Session lifecycles (one manager; create, two listeners closing over the session, start, 2 steps, complete): ` +
        `RSS ${life.rssGrowthMB >= 0 ? "+" : ""}${mb(life.rssGrowthMB)} MB, heapUsed ${life.heapGrowthMB >= 0 ? "+" : ""}${life.heapGrowthMB.toFixed(2)} MB ` +
        `from ${life.first.sessions.toLocaleString("en-US")} to ${life.last.sessions.toLocaleString("en-US")} sessions ` +
        `(${life.heapPerSessionBytes.toFixed(1)} B of heap per session; RSS ${mb(life.first.rssMB)} → ${mb(life.last.rssMB)} MB); ` +
        `liveCounts() after: ${JSON.stringify(life.liveCounts)}: **${life.verdict}**.`,
    );
  }
}
out.push("");
out.push(
  `Whole run: ${seconds.toFixed(1)} s. Load average (1/5/15 min) before ${machine.loadAverage.before.join(" / ")}, ` +
    `after ${machine.loadAverage.after.join(" / ")}: other work on this machine shows up as noise.`,
);
if (machine.pressure.after.cpuSomeAvg60 !== null) {
  const p = machine.pressure;
  out.push(
    `CPU pressure (share of the last minute some task waited for a CPU) ${p.before.cpuSomeAvg60}% before, ${p.after.cpuSomeAvg60}% after; ` +
      `I/O pressure ${p.before.ioSomeAvg60}% before, ${p.after.ioSomeAvg60}% after.`,
  );
}
process.stdout.write(`${out.join("\n")}\n`);
