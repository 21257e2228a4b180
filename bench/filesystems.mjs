#!/usr/bin/env node
// The file workloads of bench/run.mjs on other file systems than the
// machine's temporary folder, to tell what the package costs from what the
// file system under it costs.
//
//   node bench/filesystems.mjs [--only <ids>] [--runs <n>]
//
// For each file system, `node bench/run.mjs --only <ids>` (default
// createComplete,persistedUpdate,crashScan) runs `--runs` times (default 1)
// with TMPDIR on it, so that both sides and the floor (examples/floor.rs)
// write there:
//   - `tmpdir`: os.tmpdir() as it is (here ext4 without a journal);
//   - `ext4-journal`: a new ext4 with a journal (mkfs.ext4's default) in a
//     2 GiB image file in os.tmpdir(), mounted through a loop device;
//   - `tmpfs`: memory, 1 GiB.
// Mounting needs root; a file system that cannot be made or mounted is
// skipped with a message. Everything mounted is unmounted and the image file
// deleted at the end, also after a failure. Progress goes to stderr; each
// run's table to stdout, under a heading that names the file system.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const runScript = path.join(here, "run.mjs");

function usage(message) {
  console.error(`bench/filesystems.mjs: ${message}`);
  console.error("usage: node bench/filesystems.mjs [--only <workload,...>] [--runs <n>]");
  process.exit(2);
}

let only = "createComplete,persistedUpdate,crashScan";
let runs = 1;
for (let i = 2; i < process.argv.length; i++) {
  const arg = process.argv[i];
  if (arg === "--only") only = process.argv[++i] ?? usage("--only needs a comma-separated list of workloads");
  else if (arg === "--runs") {
    runs = Number(process.argv[++i]);
    if (!Number.isInteger(runs) || runs < 1) usage("--runs needs a whole number of at least 1");
  } else usage(`unknown argument ${arg}`);
}

/** Runs a command; returns its result, or null (with a message) when it failed. */
function run(command, args, what) {
  const result = spawnSync(command, args, { encoding: "utf8" });
  if (result.error || result.status !== 0) {
    const why = result.error?.message ?? (result.stderr.trim() || `exit ${result.status}`);
    console.error(`skipped ${what}: ${command} ${args.join(" ")}: ${why}`);
    return null;
  }
  return result;
}

const work = fs.mkdtempSync(path.join(os.tmpdir(), "msw-session-fs-"));
const mounted = [];

/** The file systems to run on: name, and the folder to use as TMPDIR (or null when skipped). */
function* fileSystems() {
  yield { name: "tmpdir", what: `os.tmpdir() (${os.tmpdir()}) as it is`, dir: os.tmpdir() };

  const image = path.join(work, "ext4.img");
  const ext4 = path.join(work, "ext4");
  fs.mkdirSync(ext4);
  fs.closeSync(fs.openSync(image, "w"));
  fs.truncateSync(image, 2 * 1024 ** 3);
  const made = run("mkfs.ext4", ["-q", "-F", image], "ext4 with a journal") &&
    run("mount", ["-o", "loop", image, ext4], "ext4 with a journal");
  if (made) mounted.push(ext4);
  yield { name: "ext4-journal", what: "ext4 with a journal, in an image file on a loop device", dir: made ? ext4 : null };

  const tmpfs = path.join(work, "tmpfs");
  fs.mkdirSync(tmpfs);
  const memory = run("mount", ["-t", "tmpfs", "-o", "size=1G", "tmpfs", tmpfs], "tmpfs");
  if (memory) mounted.push(tmpfs);
  yield { name: "tmpfs", what: "tmpfs (memory)", dir: memory ? tmpfs : null };
}

let failed = false;
try {
  for (const fsys of fileSystems()) {
    if (!fsys.dir) continue;
    for (let i = 1; i <= runs; i++) {
      console.error(`${fsys.name}: run ${i} of ${runs}`);
      const bench = spawnSync(process.execPath, [runScript, "--only", only], {
        encoding: "utf8",
        env: { ...process.env, TMPDIR: fsys.dir },
        stdio: ["ignore", "pipe", "inherit"],
        maxBuffer: 1 << 26,
      });
      console.log(`## ${fsys.name}: ${fsys.what}, run ${i}\n`);
      console.log(bench.stdout);
      if (bench.status !== 0) {
        console.error(`${fsys.name}: bench/run.mjs exited with ${bench.status ?? bench.signal}`);
        failed = true;
      }
    }
  }
} finally {
  for (const dir of mounted.reverse()) run("umount", [dir], `unmounting ${dir}`);
  fs.rmSync(work, { recursive: true, force: true });
}
process.exitCode = failed ? 1 : 0;
