#!/usr/bin/env node
// Two or more builds of the addon on the crash scan, in one process,
// interleaved: for a change too small for the spread between full runs.
//
//   node bench/ab-crash-scan.mjs <a.node> <b.node> ... [--reference] [--rounds <n>] [--files <n>]
//
// Copy the built addon (msw-session.<platform>.node) aside before and after
// a change, then name the copies. Each round writes `--files` (default 3,000)
// stale session files into a new folder with this package's store (the
// reference's own store for --reference), then times one scan of each build
// in turn, JSON.parse of its result included, alternating which goes first;
// the first two rounds are a warm-up. Prints the median µs per file of each
// build and every round's value. A build with `NativeStore#scanCrashed` is
// read batch by batch, an older one through `NativeStore#findCrashed`.
import { randomUUID } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { SessionStateStore } from "../index.mjs";
import { staleState } from "./workloads.mjs";
import { loadReference } from "./reference.mjs";

const args = process.argv.slice(2);
let rounds = 12;
let files = 3000;
let withReference = false;
const builds = [];
for (let i = 0; i < args.length; i++) {
  const arg = args[i];
  if (arg === "--rounds") rounds = Number(args[++i]);
  else if (arg === "--files") files = Number(args[++i]);
  else if (arg === "--reference") withReference = true;
  else if (arg.endsWith(".node")) builds.push(arg);
  else {
    console.error(`usage: node bench/ab-crash-scan.mjs <a.node> <b.node> ... [--reference] [--rounds <n>] [--files <n>]`);
    process.exit(2);
  }
}
if (!(Number.isInteger(rounds) && rounds > 2) || !(Number.isInteger(files) && files > 0) || builds.length === 0) {
  console.error("bench/ab-crash-scan.mjs: name at least one .node file; --rounds above 2, --files above 0");
  process.exit(2);
}

/**
 * A build's NativeStore on `dir`: a build since the folder check takes its store options as an
 * object; an older one takes `fsync` (a boolean) there, and refuses the object.
 */
function newStore(NativeStore, dir) {
  try {
    return new NativeStore(dir, {});
  } catch (error) {
    if (error?.code !== "BooleanExpected") throw error;
    return new NativeStore(dir);
  }
}

/** Each side: a name and how to scan a folder (returning the crashed states). */
const sides = builds.map((file, i) => {
  const module = { exports: {} };
  process.dlopen(module, path.resolve(file));
  const { NativeStore } = module.exports;
  const scan = (dir) => {
    const store = newStore(NativeStore, dir);
    if (typeof store.scanCrashed !== "function") return JSON.parse(store.findCrashed());
    const states = [];
    const batches = store.scanCrashed();
    for (let batch = batches.next(); batch !== null; batch = batches.next()) states.push(...JSON.parse(batch));
    return states;
  };
  return { name: `${i + 1}: ${path.basename(file)}`, save: (dir, state) => new SessionStateStore(dir).save(state), scan };
});
let reference;
if (withReference) {
  reference = await loadReference();
  const { SessionStateStore: ReferenceStore } = reference.module;
  sides.push({ name: "reference", save: (dir, state) => new ReferenceStore(dir).save(state), scan: (dir) => new ReferenceStore(dir).findCrashedSessions() });
}

const times = sides.map(() => []);
try {
  for (let round = 0; round < rounds; round++) {
    const order = sides.map((_, i) => i);
    if (round % 2) order.reverse();
    for (const i of order) {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "msw-session-ab-"));
      try {
        const iso = new Date(Date.now() - 3_600_000).toISOString();
        for (let n = 0; n < files; n++) sides[i].save(dir, staleState(randomUUID(), n, iso));
        const t0 = process.hrtime.bigint();
        const found = sides[i].scan(dir);
        const ns = Number(process.hrtime.bigint() - t0);
        if (found.length !== files) throw new Error(`${sides[i].name} found ${found.length} of ${files}`);
        if (round >= 2) times[i].push(ns / files / 1000);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    }
  }
} finally {
  reference?.dispose();
}
const median = (values) => [...values].sort((a, b) => a - b)[values.length >> 1];
for (const [i, side] of sides.entries()) {
  console.log(`${side.name}: median ${median(times[i]).toFixed(2)} µs a file (${times[i].map((t) => t.toFixed(1)).join(" ")})`);
}
