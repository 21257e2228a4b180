// Cost of each persistence mode, per progress update and per session
// created + completed. Medians of 5 rounds. Run: node bench/persistence.mjs
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { SessionManager } from "../index.mjs";

const ROUNDS = 5;
const UPDATES = 400;
const SESSIONS = 50;

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function measure(options) {
  const updates = [];
  const lifecycles = [];
  for (let round = 0; round < ROUNDS; round++) {
    const basePath = fs.mkdtempSync(path.join(os.tmpdir(), "msw-session-bench-"));
    const manager = new SessionManager({ basePath, ...options });
    const session = manager.createSession("bench", { round });
    session.progress.start(UPDATES);
    let t = process.hrtime.bigint();
    for (let i = 0; i < UPDATES; i++) session.progress.completeStep(`step ${i}`);
    manager.flush();
    updates.push(Number(process.hrtime.bigint() - t) / UPDATES);
    t = process.hrtime.bigint();
    for (let i = 0; i < SESSIONS; i++) {
      const s = manager.createSession("bench", { i });
      s.progress.start(1);
      manager.completeSession(s.id);
    }
    lifecycles.push(Number(process.hrtime.bigint() - t) / SESSIONS);
    manager.shutdown();
    fs.rmSync(basePath, { recursive: true, force: true });
  }
  return { update: median(updates), lifecycle: median(lifecycles) };
}

const modes = [
  ["default: coalesced, 100 ms lag", {}],
  ["persistIntervalMs: 0 (every update written)", { persistIntervalMs: 0 }],
  ["persistIntervalMs: 0, fsync: true", { persistIntervalMs: 0, fsync: true }],
  ["fsync: true, coalesced", { fsync: true }],
];

console.log(`| mode | µs per update (incl. final flush) | µs per create + start + complete |`);
console.log(`|---|---|---|`);
for (const [name, options] of modes) {
  const { update, lifecycle } = measure(options);
  console.log(`| ${name} | ${(update / 1000).toFixed(1)} | ${(lifecycle / 1000).toFixed(0)} |`);
}
