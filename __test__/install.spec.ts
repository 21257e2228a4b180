// Installing the package from source as a user does, in a temporary project outside the repo:
// from the tarball `npm pack` makes (no prebuilt binary: the documented build-from-source
// command builds it), from a git URL (its `prepare` builds it), and from a folder. The
// registry route, with prebuilt binaries and no Rust, is __test__/registry.spec.ts.
//
// The Rust builds of all routes share one temporary CARGO_TARGET_DIR (never the repo's
// target/), so a later route reuses the dependencies an earlier one compiled.
// MSW_KEEP_INSTALL_TMP=1 keeps the temporary folder (its path is printed) for a look after a
// failure; every command's output is in <tmp>/logs/.
import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { type CommandRun, commandRunner, expectSucceeded, isReference, nestedEnv, outputTail, packageRoot, pathWithoutRust } from "./helpers.js";

const TEMPLATES = path.join(packageRoot, "__test__", "install", "consumer");
const MINUTES = 60_000;

type Run = CommandRun;

let work = "";
let cargoTarget = "";

/** The environment of every command: a nested one, with the shared cargo target folder. */
function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return nestedEnv({ CARGO_TARGET_DIR: cargoTarget, CARGO_TERM_COLOR: "never", ...extra });
}

const run = commandRunner(() => path.join(work, "logs"), () => childEnv());
const tail = outputTail;
const expectOk = expectSucceeded;

const npmInstallFlags = ["install", "--no-audit", "--no-fund", "--prefer-offline", "--foreground-scripts"];

/** A temporary project in `work`: `files` copied from the templates, a package.json made from theirs. */
function makeConsumer(name: string, files: string[], devDependencies: Record<string, string> = {}): string {
  const dir = path.join(work, name);
  fs.mkdirSync(dir);
  for (const file of files) fs.copyFileSync(path.join(TEMPLATES, file), path.join(dir, file));
  const pkg = JSON.parse(fs.readFileSync(path.join(TEMPLATES, "package.json"), "utf8"));
  pkg.name = `msw-session-${name}`;
  if (Object.keys(devDependencies).length === 0) {
    delete pkg.devDependencies;
    delete pkg.jest;
  } else {
    pkg.devDependencies = { ...devDependencies, ...pkg.devDependencies };
  }
  fs.writeFileSync(path.join(dir, "package.json"), `${JSON.stringify(pkg, null, 2)}\n`);
  return dir;
}

/**
 * Where the installed addon came from: the repo's own working-tree binary (shipped in what was
 * installed), or one built during the install (by the install step, or by npm preparing a git
 * dependency). Only reported: whether the tarball may carry a binary is the pack test's business.
 */
function addonOrigin(consumer: string, install: Run): string {
  const installed = fs.realpathSync(path.join(consumer, "node_modules", "msw-session"));
  const hash = (file: string) => createHash("sha256").update(fs.readFileSync(file)).digest("hex");
  const repoBinaries = new Set(
    fs
      .readdirSync(packageRoot)
      .filter((f) => f.endsWith(".node"))
      .map((f) => hash(path.join(packageRoot, f))),
  );
  const binaries = fs.readdirSync(installed).filter((f) => f.endsWith(".node"));
  if (binaries.length === 0) return "no .node in the installed package";
  const shipped = binaries.filter((f) => repoBinaries.has(hash(path.join(installed, f))));
  if (shipped.length > 0) return `the repo's working-tree binary, shipped in the package (${shipped.join(", ")}); nothing built`;
  const how = (install.stdout + install.stderr).includes("building the native addon from source")
    ? "by scripts/build-from-source.js"
    : "by `prepare` (npm preparing a git dependency)";
  return `built from source ${how} (${binaries.join(", ")})`;
}

/** The addon loads with `require`, as a CommonJS consumer loads it, and exports the API. */
async function expectRequireWorks(consumer: string): Promise<void> {
  const r = await run(
    process.execPath,
    [
      "-e",
      "const m = require('msw-session'); console.log(require.resolve('msw-session')); " +
        "console.log(typeof m.SessionManager, typeof m.formatProgress, typeof m.attachSession)",
    ],
    { cwd: consumer },
  );
  expectOk(r);
  expect(r.stdout).toContain("function function function");
}

/** The smoke script (ESM import, createSession, formatProgress) prints the expected bar. */
async function expectSmokeWorks(consumer: string): Promise<void> {
  const r = await run(process.execPath, ["smoke.mjs"], { cwd: consumer });
  expectOk(r);
  expect(r.stdout.trim()).toBe("[########----------------------] 25% smoke - one");
}

/** Runs the documented build-from-source command in `consumer`'s installed package. */
async function buildFromSource(consumer: string): Promise<Run> {
  const r = await run(process.execPath, [path.join("node_modules", "msw-session", "scripts", "build-from-source.js")], {
    cwd: consumer,
    timeoutMs: 8 * MINUTES,
  });
  expectOk(r);
  return r;
}

/** What `npm pack --json` reports. */
interface PackReport {
  filename: string;
  size: number;
  unpackedSize: number;
  files: Array<{ path: string; size: number }>;
}

let pack: PackReport | undefined;
let tarball = "";
let packError = "";

function needTarball(): string {
  if (!tarball) throw new Error(`npm pack made no tarball:\n${packError}`);
  return tarball;
}

describe.skipIf(isReference)("installing msw-session in a new project", () => {
  const repoPkg = JSON.parse(fs.readFileSync(path.join(packageRoot, "package.json"), "utf8"));
  // The consumer pins the tools the repo itself uses, so a failure is not a version drift.
  const repoTools: Record<string, string> = {};
  for (const name of ["typescript", "vitest", "@types/node", "@modelcontextprotocol/sdk"]) repoTools[name] = repoPkg.devDependencies[name];

  beforeAll(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), "msw-session-install-"));
    cargoTarget = path.join(work, "cargo-target");
    fs.mkdirSync(path.join(work, "logs"));
    fs.mkdirSync(path.join(work, "pack"));
    if (process.env.MSW_KEEP_INSTALL_TMP) console.log(`install test folder: ${work}`);
    // The committed sources, as a tarball of them is made (nothing built).
    const sources = path.join(work, "sources");
    const clone = await run("git", ["clone", "--quiet", packageRoot, sources], { cwd: work });
    if (clone.code !== 0) {
      packError = tail(clone);
      return;
    }
    const r = await run("npm", ["pack", "--json", "--ignore-scripts", "--pack-destination", path.join(work, "pack")], {
      cwd: sources,
      timeoutMs: 2 * MINUTES,
    });
    if (r.code !== 0) {
      packError = tail(r);
      return;
    }
    // npm prints the JSON report on stdout; lifecycle output, if any, goes before it.
    pack = (JSON.parse(r.stdout.slice(r.stdout.indexOf("["))) as PackReport[])[0];
    tarball = path.join(work, "pack", pack.filename);
  }, 3 * MINUTES);

  // Removing the builds and installs takes a while on a slow disk.
  afterAll(() => {
    if (work && !process.env.MSW_KEEP_INSTALL_TMP) fs.rmSync(work, { recursive: true, force: true });
  }, 3 * MINUTES);

  it("npm pack: the tarball has the sources to build from and nothing built here", async () => {
    needTarball();
    expect(fs.existsSync(tarball)).toBe(true);
    const files = pack!.files.map((f) => f.path.replace(/\\/g, "/"));

    // Nothing built or installed in this working tree.
    expect.soft(files.filter((f) => f.startsWith("target/")), "target/ in the tarball").toEqual([]);
    expect.soft(files.filter((f) => f.includes("node_modules/")), "node_modules/ in the tarball").toEqual([]);
    expect
      .soft(
        files.filter((f) => f.endsWith(".node")),
        "a .node binary is in a tarball of the committed sources",
      )
      .toEqual([]);

    // What an install needs to build and load the addon.
    const needed = [
      "package.json",
      "Cargo.toml",
      "Cargo.lock",
      "build.rs",
      "crates/session-core/Cargo.toml",
      "scripts/build-from-source.js",
      "binding.js",
      "index.js",
      "index.mjs",
      "index.d.ts",
    ];
    // Every entry point package.json names: main, types, exports, bin.
    const entry = (p: string) => p.replace(/^\.\//, "");
    needed.push(entry(repoPkg.main), entry(repoPkg.types));
    for (const target of Object.values(repoPkg.exports as Record<string, string | Record<string, string>>)) {
      for (const p of typeof target === "string" ? [target] : Object.values(target)) needed.push(entry(p));
    }
    for (const p of Object.values(repoPkg.bin as Record<string, string>)) needed.push(entry(p));
    // Every Rust source the repo tracks, and the modules of the JavaScript layer.
    const tracked = await run("git", ["ls-files", "--", "src", "crates/session-core/src", "lib"], { cwd: packageRoot });
    expectOk(tracked);
    const sources = tracked.stdout.split("\n").filter(Boolean);
    expect(sources.some((f) => f.startsWith("src/"))).toBe(true);
    expect(sources.some((f) => f.startsWith("crates/session-core/src/"))).toBe(true);
    expect(sources.some((f) => f.startsWith("lib/"))).toBe(true);
    needed.push(...sources);

    const missing = [...new Set(needed)].filter((f) => !files.includes(f));
    expect(missing, "files an install needs, missing from the tarball").toEqual([]);
  });

  it(
    "from the tarball: installs with a working addon; tsc, vitest (threads, forks) and jest pass",
    async () => {
      const tgz = needTarball();
      const consumer = makeConsumer(
        "consumer-tarball",
        [
          "tsconfig.json",
          "consumer.ts",
          "consumer-cjs.cts",
          "consumer-mcp.ts",
          "vitest.config.mjs",
          "session.test.ts",
          "session.test.cjs",
          "fake-timers.checks.cjs",
          "fake-timers.test.cjs",
          "fake-timers.test.mjs",
          "smoke.mjs",
        ],
        repoTools,
      );

      const install = await run("npm", [...npmInstallFlags, tgz], { cwd: consumer, timeoutMs: 8 * MINUTES });
      expectOk(install);
      // No install-time script ran: nothing was built.
      expect(fs.readdirSync(path.join(consumer, "node_modules", "msw-session")).filter((f) => f.endsWith(".node"))).toEqual([]);
      // A tarball carries no binary: the documented command builds one from source.
      const build = await buildFromSource(consumer);
      console.log(`tarball route: ${addonOrigin(consumer, build)}`);
      await expectRequireWorks(consumer);
      await expectSmokeWorks(consumer);

      // The command the package declares in `bin`.
      const bin = await run("npx", ["--no", "--", "msw-session", "ls", "--dir", consumer], { cwd: consumer });
      expectOk(bin);
      expect(bin.stdout).toBe(`no sessions in ${consumer} (no .msw folder there)\n`);

      expectOk(await run("npx", ["--no", "--", "tsc", "-p", "."], { cwd: consumer, timeoutMs: 3 * MINUTES }));

      for (const pool of ["threads", "forks"]) {
        const vitest = await run("npx", ["--no", "--", "vitest", "run", "--pool", pool], {
          cwd: consumer,
          env: childEnv({ EXPECTED_POOL: pool }),
          timeoutMs: 3 * MINUTES,
        });
        expectOk(vitest);
        expect(vitest.stdout).toMatch(/Tests\s+3 passed/);
      }

      // CommonJS: the session test and the fake-timer checks (jest's modern timers).
      const jest = await run("npx", ["--no", "--", "jest"], { cwd: consumer, timeoutMs: 3 * MINUTES });
      expectOk(jest);
      expect(jest.stderr).toMatch(/Tests:\s+5 passed, 5 total/);
      // ESM: the same fake-timer checks, as jest runs ES modules.
      const jestEsm = await run(
        process.execPath,
        ["--experimental-vm-modules", path.join("node_modules", "jest", "bin", "jest.js"), "--testMatch", "**/*.test.mjs"],
        { cwd: consumer, timeoutMs: 3 * MINUTES },
      );
      expectOk(jestEsm);
      expect(jestEsm.stderr).toMatch(/Tests:\s+4 passed, 4 total/);
    },
    10 * MINUTES,
  );

  it(
    "from a git URL: installs with a working addon",
    async () => {
      // The committed HEAD, as a git host serves it (no build output, no untracked files).
      const repo = path.join(work, "msw-session.git");
      expectOk(await run("git", ["clone", "--quiet", "--bare", packageRoot, repo], { cwd: work }));
      const consumer = makeConsumer("consumer-git", ["smoke.mjs"]);

      const install = await run("npm", [...npmInstallFlags, `git+file://${repo.replace(/\\/g, "/")}`], {
        cwd: consumer,
        timeoutMs: 8 * MINUTES,
      });
      expectOk(install);
      console.log(`git route: ${addonOrigin(consumer, install)}`);
      await expectRequireWorks(consumer);
      await expectSmokeWorks(consumer);
    },
    10 * MINUTES,
  );

  it(
    "from a folder: installs with a working addon",
    async () => {
      // A copy of the committed tree: no .node, no target/, no node_modules/.
      const folder = path.join(work, "msw-session-folder");
      expectOk(await run("git", ["clone", "--quiet", packageRoot, folder], { cwd: work }));
      const consumer = makeConsumer("consumer-folder", ["smoke.mjs"]);

      const install = await run("npm", [...npmInstallFlags, folder], { cwd: consumer, timeoutMs: 8 * MINUTES });
      expectOk(install);
      const build = await buildFromSource(consumer);
      console.log(`folder route: ${addonOrigin(consumer, build)}`);
      await expectRequireWorks(consumer);
      await expectSmokeWorks(consumer);
    },
    10 * MINUTES,
  );

  it("without a binary: the import names the causes, and without cargo the build says what to install", async () => {
    const tgz = needTarball();
    const consumer = makeConsumer("consumer-no-rust", []);
    expectOk(await run("npm", [...npmInstallFlags, tgz], { cwd: consumer, timeoutMs: 3 * MINUTES }));
    const env = childEnv({ PATH: pathWithoutRust(work) });
    expect((await run("sh", ["-c", "command -v cargo || command -v rustc || echo none"], { cwd: consumer, env })).stdout.trim()).toBe("none");

    const load = await run(process.execPath, ["-e", "require('msw-session')"], { cwd: consumer, env });
    expect(load.code, tail(load)).toBe(1);
    for (const cause of ["--omit=optional", "npm/cli#4828", "another OS or architecture", "--allow-ffi", "build-from-source.js"]) {
      expect(load.stderr).toContain(cause);
    }

    const r = await run(process.execPath, [path.join("node_modules", "msw-session", "scripts", "build-from-source.js")], {
      cwd: consumer,
      env,
      timeoutMs: MINUTES,
    });
    expect(r.code, tail(r)).toBe(1);
    expect(r.stderr).toMatch(/`?cargo`? was not found/);
    expect(r.stderr).toContain("https://rustup.rs");
    // A message, not a crash.
    expect(r.stderr).not.toMatch(/^\s+at /m);
    expect(fs.readdirSync(path.join(consumer, "node_modules", "msw-session")).filter((f) => f.endsWith(".node"))).toEqual([]);
  });
});
