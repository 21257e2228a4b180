#!/usr/bin/env node
// inspect(id) and listStates() of the native store, and SessionTaskStore#getTask
// of another process's working task, with 10 and with 10,000 session files in
// the folder (issue 23: inspect and getTask within 2x of 10 files).
//
//   node bench/inspect.mjs [--rounds <n>] [--json]
//
// Goes through the package's SessionStateStore (`inspect`, `listStates`),
// JSON.parse of the answer included. Prints the median µs per inspect call
// over `--rounds` rounds (default 9) of 2,000 calls each, and the median ms
// of `--rounds` listStates() of the whole folder; `--json` prints them as one
// JSON line (what `npm run bench`, bench/run.mjs, reads).
//
// getTask: after those, a child process (bench/task-owner.mjs) creates a
// working task in a SessionTaskStore (msw-session/mcp) over the same folder,
// prints its id and lives until its stdin closes; this process times
// `getTask(id)` from a SessionTaskStore of its own (awaited, one call at a
// time): median µs per call over `--rounds` rounds of 2,000 calls, after a
// warm-up round. The owner is alive, so the task stays `working`.
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { SessionStateStore } from "../index.mjs";
import { SessionTaskStore } from "../mcp.mjs";

const args = process.argv.slice(2);
const roundsAt = args.indexOf("--rounds");
const rounds = roundsAt >= 0 ? Number(args[roundsAt + 1]) : 9;
const json = args.includes("--json");
const results = [];
const calls = 2000;

function folderWith(files) {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), "msw-inspect-"));
  const dir = path.join(base, ".msw", "sessions");
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const now = new Date().toISOString();
  const ids = [];
  for (let n = 0; n < files; n++) {
    const id = randomUUID();
    ids.push(id);
    const state = {
      id,
      operation: "job",
      status: "completed",
      progress: { sessionId: id, operation: "job", status: "completed", progress: 100, startedAt: now, updatedAt: now },
      context: { n },
      createdAt: now,
      updatedAt: now,
    };
    fs.writeFileSync(path.join(dir, `${id}.json`), JSON.stringify(state, null, 2), { mode: 0o600 });
  }
  return { base, ids };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Spawns bench/task-owner.mjs over `base`; resolves with its task's id and the child, once it printed the id. */
function taskOwner(base) {
  const child = spawn(process.execPath, [fileURLToPath(new URL("task-owner.mjs", import.meta.url)), base], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  return new Promise((resolve, reject) => {
    let out = "";
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`bench/task-owner.mjs exited ${code} before printing a task id`)));
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk) => {
      out += chunk;
      const nl = out.indexOf("\n");
      if (nl >= 0) resolve({ child, taskId: out.slice(0, nl).trim() });
    });
  });
}

/** Median µs per `getTask(taskId)` of another process's working task in `base`. */
async function timeGetTask(base) {
  const { child, taskId } = await taskOwner(base);
  const store = new SessionTaskStore({ basePath: base });
  try {
    const first = await store.getTask(taskId);
    if (first?.status !== "working") throw new Error(`getTask answered ${JSON.stringify(first)}, not a working task`);
    // A warm-up round, not counted.
    for (let i = 0; i < calls; i++) await store.getTask(taskId);
    const perCall = [];
    for (let r = 0; r < rounds; r++) {
      const t = process.hrtime.bigint();
      for (let i = 0; i < calls; i++) await store.getTask(taskId);
      perCall.push(Number(process.hrtime.bigint() - t) / 1000 / calls);
    }
    return median(perCall);
  } finally {
    store.close();
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.stdin.end();
    child.kill();
    await exited;
  }
}

for (const files of [10, 10_000]) {
  const { base, ids } = folderWith(files);
  const store = new SessionStateStore(base);
  const id = ids[Math.floor(files / 2)];
  const perCall = [];
  // A warm-up round, not counted.
  for (let i = 0; i < calls; i++) store.inspect(id);
  for (let r = 0; r < rounds; r++) {
    const t = process.hrtime.bigint();
    for (let i = 0; i < calls; i++) store.inspect(id);
    perCall.push(Number(process.hrtime.bigint() - t) / 1000 / calls);
  }
  const perList = [];
  let listed = 0;
  for (let r = 0; r < rounds; r++) {
    const t = process.hrtime.bigint();
    listed = store.listStates().length;
    perList.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  if (listed !== files) throw new Error(`listStates listed ${listed} of ${files}`);
  const getTaskUs = await timeGetTask(base);
  results.push({ files, inspectUs: median(perCall), listStatesMs: median(perList), getTaskUs, rounds, calls });
  if (!json) {
    console.log(
      `${files} files: inspect ${median(perCall).toFixed(2)} µs/call (median of ${rounds}); ` +
        `listStates ${median(perList).toFixed(1)} ms for ${listed} (median of ${rounds}); ` +
        `getTask of another process's task ${getTaskUs.toFixed(2)} µs/call (median of ${rounds})`,
    );
  }
  fs.rmSync(base, { recursive: true, force: true });
}

if (json) console.log(JSON.stringify(results));
else console.log(`10,000 files / 10 files: inspect ${(results[1].inspectUs / results[0].inspectUs).toFixed(2)}x, getTask ${(results[1].getTaskUs / results[0].getTaskUs).toFixed(2)}x`);
