#!/usr/bin/env node
// inspect(id) and listStates() of the native store, with 10 and with 10,000
// session files in the folder (issue 23: inspect within 2x of 10 files).
//
//   node bench/inspect.mjs [--rounds <n>] [--json]
//
// Goes through the package's SessionStateStore (`inspect`, `listStates`),
// JSON.parse of the answer included. Prints the median µs per inspect call
// over `--rounds` rounds (default 9) of 2,000 calls each, and the median ms
// of `--rounds` listStates() of the whole folder; `--json` prints them as one
// JSON line (what `npm run bench`, bench/run.mjs, reads).
import { randomUUID } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { SessionStateStore } from "../index.mjs";

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
  results.push({ files, inspectUs: median(perCall), listStatesMs: median(perList), rounds, calls });
  if (!json) {
    console.log(
      `${files} files: inspect ${median(perCall).toFixed(2)} µs/call (median of ${rounds}); ` +
        `listStates ${median(perList).toFixed(1)} ms for ${listed} (median of ${rounds})`,
    );
  }
  fs.rmSync(base, { recursive: true, force: true });
}

if (json) console.log(JSON.stringify(results));
