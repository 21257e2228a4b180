#!/usr/bin/env node
// `npm run test:stress [-- --runs N]`: the README's test command (`npm test`) with two
// CPU-burning processes beside it, N times in a row (default 1), stopping at the first failure.
// The hogs are started before each run and killed after it, whatever happens (a signal
// included). It prints one line per run and exits with the first failing run's code.
import { spawn } from "node:child_process";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const HOGS = 2;

function parseRuns(argv) {
  const at = argv.indexOf("--runs");
  if (at === -1) return 1;
  const runs = Number(argv[at + 1]);
  if (!Number.isInteger(runs) || runs < 1) {
    console.error("usage: node scripts/test-stress.mjs [--runs N]  (N a whole number >= 1)");
    process.exit(2);
  }
  return runs;
}

/** @type {import("node:child_process").ChildProcess[]} */
let hogs = [];

function startHogs() {
  hogs = Array.from({ length: HOGS }, () => spawn(process.execPath, ["-e", "for (;;) {}"], { stdio: "ignore" }));
}

function stopHogs() {
  for (const hog of hogs.splice(0)) hog.kill("SIGKILL");
}

for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    stopHogs();
    process.exit(130);
  });
}
process.on("exit", stopHogs);

function npmTest() {
  return new Promise((resolve) => {
    const npm = process.platform === "win32" ? "npm.cmd" : "npm";
    const child = spawn(npm, ["test"], { cwd: root, stdio: "inherit", shell: process.platform === "win32" });
    child.on("close", (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}

const runs = parseRuns(process.argv.slice(2));
const results = [];
for (let run = 1; run <= runs; run++) {
  const load = os.loadavg()[0].toFixed(2);
  startHogs();
  const t0 = process.hrtime.bigint();
  const code = await npmTest();
  stopHogs();
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const line = `test:stress run ${run}/${runs}: ${code === 0 ? "passed" : `FAILED (exit ${code})`} in ${seconds.toFixed(0)} s, ${HOGS} CPU hogs, load average ${load} at the start`;
  results.push(line);
  console.log(`\n${line}\n`);
  if (code !== 0) break;
}
console.log(results.join("\n"));
process.exitCode = results.every((r) => r.includes("passed")) && results.length === runs ? 0 : 1;
