#!/usr/bin/env node
// inspect(id) and listStates() of the native store, with 10 and with 10,000
// session files in the folder (issue 23: inspect within 2x of 10 files).
//
//   node bench/inspect.mjs [--rounds <n>]
//
// Goes through the addon's NativeStore directly (the JavaScript wrappers of
// these queries are not written yet), JSON.parse of the answer included.
// Prints the median µs per inspect call over `--rounds` rounds (default 9)
// of 2,000 calls each, and one listStates() of the whole folder.
import { randomUUID } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const { NativeStore } = require("../binding.js");

const args = process.argv.slice(2);
const roundsAt = args.indexOf("--rounds");
const rounds = roundsAt >= 0 ? Number(args[roundsAt + 1]) : 9;
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

for (const files of [10, 10_000]) {
  const { base, ids } = folderWith(files);
  const store = new NativeStore(base, {});
  const id = ids[Math.floor(files / 2)];
  const perCall = [];
  // A warm-up round, not counted.
  for (let i = 0; i < calls; i++) JSON.parse(store.inspect(id).stateJson);
  for (let r = 0; r < rounds; r++) {
    const t = process.hrtime.bigint();
    for (let i = 0; i < calls; i++) JSON.parse(store.inspect(id).stateJson);
    perCall.push(Number(process.hrtime.bigint() - t) / 1000 / calls);
  }
  const t = process.hrtime.bigint();
  const list = store.listStates();
  const states = JSON.parse(list.statesJson);
  const listMs = Number(process.hrtime.bigint() - t) / 1e6;
  console.log(
    `${files} files: inspect ${median(perCall).toFixed(2)} µs/call (median of ${rounds}); ` +
      `listStates ${listMs.toFixed(1)} ms for ${states.length}`,
  );
  fs.rmSync(base, { recursive: true, force: true });
}
