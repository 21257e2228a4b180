#!/usr/bin/env node
// Builds the native addon from source with cargo, for a clone (`prepare`) or
// for a platform without a prebuilt binary:
//
//   node node_modules/msw-session/scripts/build-from-source.js
//
// 1. A binary that already loads (built before, or a prebuilt per-platform
//    package `msw-session-<platform>`) is used as it is; `--force` builds
//    anyway.
// 2. Otherwise the addon is built with cargo: through the napi-rs CLI when it
//    is installed (a clone), or with plain `cargo build` (an installed
//    package, whose devDependencies are absent). The binary goes beside
//    `binding.js`, where the loader looks first.
// Set MSW_SESSION_SKIP_BUILD=1 to skip this step. Published packages run no
// install-time script: this one runs only when asked (or as a clone's
// `prepare`).
"use strict";

const { spawnSync } = require("node:child_process");
const fs = require("node:fs");
const path = require("node:path");

const root = path.join(__dirname, "..");

function loads() {
  try {
    require(path.join(root, "binding.js"));
    return true;
  } catch {
    return false;
  }
}

function run(command, args) {
  const result = spawnSync(command, args, { cwd: root, stdio: "inherit", shell: process.platform === "win32" });
  return result.status === 0;
}

function platformSuffix() {
  const { platform, arch } = process;
  if (platform === "linux") {
    const report = /** @type {any} */ (process.report?.getReport?.());
    const glibc = report?.header?.glibcVersionRuntime;
    return `linux-${arch}-${glibc ? "gnu" : "musl"}`;
  }
  if (platform === "win32") return `win32-${arch}-msvc`;
  return `${platform}-${arch}`;
}

/** Builds with plain cargo and copies the library where the loader looks. */
function buildWithCargo() {
  // Ask cargo where it put the library: CARGO_TARGET_DIR, build.target-dir
  // or build.target may move it.
  const result = spawnSync(
    "cargo",
    ["build", "--release", "--lib", "-p", "msw-session", "--message-format=json-render-diagnostics"],
    {
      cwd: root,
      stdio: ["inherit", "pipe", "inherit"],
      encoding: "utf8",
      maxBuffer: 256 * 1024 * 1024,
      shell: process.platform === "win32",
    },
  );
  if (result.status !== 0) return false;
  let lib;
  for (const line of result.stdout.split("\n")) {
    if (!line.startsWith("{")) continue;
    const message = JSON.parse(line);
    if (message.reason === "compiler-artifact" && message.target.kind.includes("cdylib")) {
      lib = message.filenames.find((f) => /\.(so|dylib|dll)$/.test(f));
    }
  }
  if (!lib) {
    console.error("msw-session: cargo reported no library for msw-session.");
    return false;
  }
  fs.copyFileSync(lib, path.join(root, `msw-session.${platformSuffix()}.node`));
  return true;
}

function main() {
  if (process.env.MSW_SESSION_SKIP_BUILD) return 0;
  if (!process.argv.includes("--force") && loads()) return 0;
  const cargo = spawnSync("cargo", ["--version"], { stdio: "ignore", shell: process.platform === "win32" });
  if (cargo.status !== 0) {
    console.error(
      "msw-session: no prebuilt binary for this platform, and `cargo` was not found to build one.\n" +
        "Install Rust (https://rustup.rs, 1.89 or newer) and run this command again.",
    );
    return 1;
  }
  console.error("msw-session: building the native addon from source with cargo (a minute or two)...");
  let cli = null;
  try {
    cli = require.resolve("@napi-rs/cli/package.json", { paths: [root] });
  } catch {}
  const built = cli
    ? run(process.execPath, [
        path.join(path.dirname(cli), "dist", "cli.js"),
        "build",
        "--platform",
        "--release",
        "--js",
        "binding.js",
        "--dts",
        "binding.d.ts",
      ])
    : buildWithCargo();
  if (!built || !loads()) {
    console.error("msw-session: the native build failed; see the cargo output above.");
    return 1;
  }
  return 0;
}

process.exitCode = main();
