// Every bad input is a typed error, never a panic. A child process (fixtures/bad-input-sweep.mjs,
// cwd a temp folder, so getSessionManager and default base paths stay there) calls every export,
// constructor, option field, method and state field with each value of a matrix (NaN, ±Infinity,
// 1e308, -0, 2**53, a 100 kB string, lone surrogates, a symbol, a bigint, a Proxy whose traps
// throw, a throwing getter, a throwing toJSON). Each call must return, throw a documented error
// (README "Errors": a documented code with its documented class), or let the user's own error
// through: the same object, or for a JSON context or state the `cause` of
// ERR_CONTEXT_NOT_SERIALIZABLE (README: "`cause` is its error"). The child must exit with code 0
// and an empty stderr (a Rust panic prints "thread '…' panicked at" there), and a manager must
// work afterwards. Package-only: the reference accepts anything.
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { SessionManager, createTimeoutToken } from "msw-session";
import { childProcesses, expectError, isReference, packageEntry, packageRoot, tempDirs } from "./helpers";

const tempDir = tempDirs();
const children = childProcesses();

const FIXTURE = path.join(packageRoot, "__test__", "fixtures", "bad-input-sweep.mjs");
/** The bound on the whole sweep: a call that hangs fails the test with its name. */
const SWEEP_TIMEOUT_MS = 60_000;

const rangeError = { type: RangeError, code: "ERR_OUT_OF_RANGE" };

interface Outcome {
  call: string;
  value: string;
  outcome: string;
}

interface Sweep {
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  stderr: string;
  /** (call, value) pairs started, in order. */
  started: Array<{ call: string; value: string }>;
  outcomes: Outcome[];
  /** Exports and methods the fixture swept only generically (not named by it). */
  uncovered: string[];
  /** The pair count the child reported at the end of the sweep, if it got there. */
  pairs: number | undefined;
  after: Record<string, unknown> | undefined;
  /** The session file the manager wrote after the sweep, read here once the child exited. */
  afterFile: any;
  unparsed: string[];
}

/** Runs the sweep in a child process; everything on disk is read before the folder goes. */
function runSweep(): Promise<Sweep> {
  const dir = tempDir();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--expose-gc", FIXTURE, pathToFileURL(packageEntry).href], {
      cwd: dir,
      stdio: ["ignore", "pipe", "pipe"],
    });
    children.push(child);
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    const bound = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, SWEEP_TIMEOUT_MS);
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.on("error", (err) => {
      clearTimeout(bound);
      reject(err);
    });
    child.on("close", (code, signal) => {
      clearTimeout(bound);
      const sweep: Sweep = {
        code,
        signal,
        timedOut,
        stderr,
        started: [],
        outcomes: [],
        uncovered: [],
        pairs: undefined,
        after: undefined,
        afterFile: undefined,
        unparsed: [],
      };
      for (const line of stdout.split("\n")) {
        if (line === "") continue;
        let event: any;
        try {
          event = JSON.parse(line);
        } catch {
          sweep.unparsed.push(line);
          continue;
        }
        if (event.t === "call") sweep.started.push({ call: event.call, value: event.value });
        else if (event.t === "outcome") sweep.outcomes.push({ call: event.call, value: event.value, outcome: event.outcome });
        else if (event.t === "uncovered") sweep.uncovered.push(event.name);
        else if (event.t === "done") sweep.pairs = event.pairs;
        else if (event.t === "after") sweep.after = event;
        else sweep.unparsed.push(line);
      }
      const file = sweep.after?.file;
      if (typeof file === "string" && fs.existsSync(file)) sweep.afterFile = JSON.parse(fs.readFileSync(file, "utf8"));
      resolve(sweep);
    });
  });
}

const show = (o: Outcome) => `  ${o.call}  ←  ${o.value}:  ${o.outcome}`;

/** Where the child was when it stopped, for messages. */
function lastStarted(sweep: Sweep): string {
  const last = sweep.started[sweep.started.length - 1];
  return last ? `${last.call} with ${last.value}` : "(no call started)";
}

describe.skipIf(isReference)("bad-input sweep of the whole API, in a child process", () => {
  let sweep: Sweep;

  beforeAll(async () => {
    sweep = await runSweep();
  }, SWEEP_TIMEOUT_MS + 30_000);

  it("runs every (call, value) pair to the end, none hanging", () => {
    expect(
      sweep.timedOut,
      sweep.pairs === undefined
        ? `the sweep did not finish within ${SWEEP_TIMEOUT_MS / 1000} s; the call that hung: ${lastStarted(sweep)}`
        : `the sweep finished but the child did not exit within ${SWEEP_TIMEOUT_MS / 1000} s (after: ${JSON.stringify(sweep.after)})`,
    ).toBe(false);
    expect(sweep.pairs, `the child stopped before the end of the sweep, in: ${lastStarted(sweep)}`).toBeDefined();
    expect(sweep.outcomes.length, `pairs without an outcome; the last one started: ${lastStarted(sweep)}`).toBe(sweep.pairs);
    expect(sweep.started.length).toBe(sweep.pairs);
    expect(sweep.unparsed, "stdout lines that are not events of the sweep").toEqual([]);
  });

  it("stays alive and quiet: exit code 0, nothing at all on stderr (no Rust panic)", () => {
    const panics = sweep.stderr.match(/panicked at/g)?.length ?? 0;
    expect(
      sweep.stderr.slice(0, 6000),
      `stderr must be empty; it holds ${sweep.stderr.length} characters, with ${panics} Rust panic(s)`,
    ).toBe("");
    expect(
      { code: sweep.code, signal: sweep.signal },
      `the child did not exit cleanly; the last call started: ${lastStarted(sweep)}`,
    ).toEqual({ code: 0, signal: null });
  });

  it("gives success, a documented error or the user's own error for every (call, value) pair", () => {
    expect(sweep.outcomes.length).toBeGreaterThan(0);
    const undocumented = sweep.outcomes.filter((o) => o.outcome.startsWith("UNDOCUMENTED"));
    expect(
      undocumented.length,
      `${undocumented.length} of ${sweep.outcomes.length} (call, value) pairs gave an undocumented outcome:\n` +
        undocumented.map(show).join("\n") +
        "\n",
    ).toBe(0);
  });

  it("the manager keeps working afterwards: a session created, updated and completed says so on disk", () => {
    expect(sweep.after, "the child did not get to the check after the sweep").toBeDefined();
    expect(sweep.after!.error, "the check after the sweep threw").toBeUndefined();
    expect(sweep.after).toMatchObject({ completed: true, status: "completed", shared: true, "getSessionManager()": true });
    expect(sweep.afterFile, "the session file written after the sweep is missing").toBeDefined();
    expect(sweep.afterFile).toMatchObject({
      status: "completed",
      operation: "after the sweep",
      progress: { status: "completed", progress: 100 },
      context: { ok: true },
    });
  });
});

describe.skipIf(isReference)("numbers that cannot become a duration", () => {
  it("createTimeoutToken(1e308) is a RangeError ERR_OUT_OF_RANGE", () => {
    expectError(() => createTimeoutToken(1e308), rangeError);
  });

  it("new SessionManager({ persistIntervalMs: 1e308 }) is a RangeError ERR_OUT_OF_RANGE", () => {
    expectError(() => new SessionManager({ basePath: tempDir(), persistIntervalMs: 1e308 }), rangeError);
  });

  it("new SessionManager({ autoSaveIntervalMs: 1e308 }) is a RangeError ERR_OUT_OF_RANGE", () => {
    expectError(() => new SessionManager({ basePath: tempDir(), autoSaveIntervalMs: 1e308 }), rangeError);
  });

  it("createTimeoutToken(Infinity) never fires: still not cancelled once a 1 ms timeout has fired", async () => {
    const never = createTimeoutToken(Infinity);
    let heard = false;
    never.token.onCancelled(() => (heard = true));
    const soon = createTimeoutToken(1);
    await new Promise<void>((resolve) => soon.token.onCancelled(() => resolve()));
    expect(soon.isCancelled).toBe(true);
    expect(never.isCancelled).toBe(false);
    expect(never.token.reason).toBeUndefined();
    expect(heard).toBe(false);
    never.dispose();
    soon.dispose();
  });
});
