#!/usr/bin/env node
// Builds the prebuilt binaries and publishes msw-session to a registry:
//
//   node scripts/release.mjs --registry <url> [--targets <triple>,...] [--tag <dist-tag>]
//
// On a clean clone it
//   1. builds every Linux target this machine can build (see TARGETS), each
//      with zig as its linker, and places each binary in its `npm/<platform>/`;
//      a gnu binary is checked to need no glibc newer than 2.17;
//   2. publishes each platform package (`npm/<platform>`);
//   3. publishes the main package with exact-version `optionalDependencies`
//      on the platform packages it published (from a staged copy: the clone
//      is left as it was), with no lifecycle script in its manifest;
//   4. stops, before publishing anything, with a message naming each target
//      it could not build.
// macOS and Windows cannot be built here: `.github/workflows/release.yml`
// builds them. npm's own configuration (`.npmrc`, `npm_config_userconfig`)
// supplies the registry's credentials.

import { execFileSync, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

import * as tools from "./toolchain.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/**
 * The targets built here. `how`: "rustup" (the machine's toolchain), "debian-std"
 * (Debian's rustc with its arm64 standard library), "build-std" (Debian's
 * rustc building the standard library from Debian's sources).
 */
export const TARGETS = [
  { triple: "x86_64-unknown-linux-gnu", platform: "linux-x64-gnu", zig: "x86_64-unknown-linux-gnu.2.17", how: "rustup", machine: "X86-64" },
  { triple: "aarch64-unknown-linux-gnu", platform: "linux-arm64-gnu", zig: "aarch64-unknown-linux-gnu.2.17", how: "debian-std", machine: "AArch64" },
  { triple: "x86_64-unknown-linux-musl", platform: "linux-x64-musl", zig: "x86_64-unknown-linux-musl", how: "build-std", machine: "X86-64" },
  { triple: "aarch64-unknown-linux-musl", platform: "linux-arm64-musl", zig: "aarch64-unknown-linux-musl", how: "build-std", machine: "AArch64" },
];

/** The newest glibc a gnu binary may need. */
export const GLIBC_FLOOR = [2, 17];

function usage(message) {
  console.error(`release: ${message}\nusage: node scripts/release.mjs --registry <url> [--targets <triple>,...] [--tag <dist-tag>]`);
  process.exit(2);
}

function parseArgs(argv) {
  const options = { registry: undefined, targets: TARGETS.map((t) => t.triple), tag: undefined };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split(/=(.*)/s, 2);
    const value = () => inline ?? argv[++i] ?? usage(`${flag} needs a value`);
    if (flag === "--registry") options.registry = value();
    else if (flag === "--targets") options.targets = value().split(",").filter(Boolean);
    else if (flag === "--tag") options.tag = value();
    else usage(`unknown argument ${argv[i]}`);
  }
  if (!options.registry) usage("--registry is required");
  try {
    new URL(options.registry);
  } catch {
    usage(`--registry ${options.registry} is not a URL`);
  }
  for (const t of options.targets) {
    if (!TARGETS.some((known) => known.triple === t)) usage(`unknown target ${t} (known: ${TARGETS.map((k) => k.triple).join(", ")})`);
  }
  return options;
}

/** The binary's file name in its platform package. */
export const binaryName = (platform) => `msw-session.${platform}.node`;

/** The GLIBC_x.y versions an ELF file needs, and its machine, read with readelf. */
export function elfInfo(file) {
  const versions = execFileSync("readelf", ["-V", "-W", file], { encoding: "utf8" });
  const needed = [...new Set([...versions.matchAll(/GLIBC_(\d+)\.(\d+)/g)].map((m) => `${m[1]}.${m[2]}`))];
  const header = execFileSync("readelf", ["-h", "-W", file], { encoding: "utf8" });
  const machine = /Machine:\s+(.*)/.exec(header)?.[1].trim() ?? "";
  const newest = needed.map((v) => v.split(".").map(Number)).sort((a, b) => a[0] - b[0] || a[1] - b[1]).at(-1);
  return { machine, glibc: newest };
}

/** Builds one target; returns the built library's path. */
function build(target) {
  const env = { ...process.env, PATH: tools.toolPath() };
  const args = ["zigbuild", "--release", "--locked", "-p", "msw-session", "--target", target.zig, "--target-dir", path.join(root, "target", `release-${target.triple}`)];
  if (target.how === "debian-std") {
    env.RUSTC = tools.ensureDebianRust();
    // Target artifacts only (cargo does not pass RUSTFLAGS to build scripts
    // when --target is given): the host keeps Debian's own sysroot.
    env.RUSTFLAGS = `--sysroot=${tools.ensureArm64Sysroot()}`;
  } else if (target.how === "build-std") {
    env.RUSTC = tools.ensureDebianRust();
    env.RUSTC_BOOTSTRAP = "1";
    // A shared library on musl links the C library dynamically.
    env.RUSTFLAGS = "-C target-feature=-crt-static";
    args.push("-Zbuild-std=std,panic_abort");
  }
  tools.run("cargo", args, `building ${target.triple}`, { cwd: root, env });
  return path.join(root, "target", `release-${target.triple}`, target.triple, "release", "libmsw_session.so");
}

/** Checks a built library: its machine, and for gnu its glibc floor. Returns problems. */
function check(target, file) {
  const { machine, glibc } = elfInfo(file);
  const problems = [];
  if (!machine.includes(target.machine)) problems.push(`is built for ${machine}, not ${target.machine}`);
  if (target.triple.endsWith("-gnu") && glibc && (glibc[0] > GLIBC_FLOOR[0] || (glibc[0] === GLIBC_FLOOR[0] && glibc[1] > GLIBC_FLOOR[1]))) {
    problems.push(`needs GLIBC_${glibc.join(".")}, newer than ${GLIBC_FLOOR.join(".")}`);
  }
  return problems;
}

function npm(args, what, options = {}) {
  tools.run("npm", args, what, { cwd: root, ...options });
}

function main() {
  const options = parseArgs(process.argv.slice(2));
  const version = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")).version;
  tools.ensureZig();
  tools.ensureZigbuild();

  const built = [];
  const failed = [];
  for (const triple of options.targets) {
    const target = TARGETS.find((t) => t.triple === triple);
    try {
      const lib = build(target);
      const problems = check(target, lib);
      if (problems.length) throw new Error(`the binary ${problems.join(" and ")}`);
      const dir = path.join(root, "npm", target.platform);
      fs.copyFileSync(lib, path.join(dir, binaryName(target.platform)));
      built.push(target);
      console.error(`release: built ${triple} into npm/${target.platform}/`);
    } catch (error) {
      failed.push(`${triple}: ${error.message}`);
    }
  }
  if (failed.length) {
    console.error(`release: stopped before publishing; these targets could not be built here:\n  ${failed.join("\n  ")}`);
    process.exit(1);
  }

  const registry = ["--registry", options.registry];
  const tag = options.tag ? ["--tag", options.tag] : [];
  const optional = {};
  for (const target of built) {
    const dir = path.join(root, "npm", target.platform);
    const pkg = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8"));
    if (pkg.version !== version) throw new Error(`npm/${target.platform}/package.json has version ${pkg.version}, not ${version}`);
    npm(["publish", dir, ...registry, ...tag, "--ignore-scripts"], `publishing ${pkg.name}`);
    optional[pkg.name] = version;
  }

  // The main package, from a staged copy of what `npm pack` takes.
  const stage = fs.mkdtempSync(path.join(os.tmpdir(), "msw-session-release-"));
  try {
    const packed = JSON.parse(
      execFileSync("npm", ["pack", "--json", "--ignore-scripts", "--pack-destination", stage], { cwd: root, encoding: "utf8" }),
    );
    execFileSync("tar", ["-xzf", path.join(stage, packed[0].filename), "-C", stage]);
    // A binary built in this tree (`prepare`, for git installs) is not for every platform.
    for (const f of fs.readdirSync(path.join(stage, "package"))) {
      if (f.endsWith(".node")) fs.rmSync(path.join(stage, "package", f));
    }
    const manifestPath = path.join(stage, "package", "package.json");
    const manifest = JSON.parse(fs.readFileSync(manifestPath, "utf8"));
    manifest.optionalDependencies = { ...manifest.optionalDependencies, ...optional };
    for (const script of ["preinstall", "install", "postinstall", "prepare", "prepack", "postpack", "prepublish", "prepublishOnly"]) {
      delete manifest.scripts?.[script];
    }
    fs.writeFileSync(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
    npm(["publish", path.join(stage, "package"), ...registry, ...tag, "--ignore-scripts"], "publishing msw-session");
  } finally {
    fs.rmSync(stage, { recursive: true, force: true });
  }
  console.error(`release: published msw-session@${version} with ${built.map((t) => t.platform).join(", ")} to ${options.registry}`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    main();
  } catch (error) {
    console.error(`release: ${error.message}`);
    process.exit(1);
  }
}
