// Issue 20.1: a script that ends without shutdown() keeps every update, on a busy machine.
// Two CPU-burning processes run beside the children for the whole file; the children run a few
// at a time. Counts, not timings: every file must hold the script's last state.
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isReference, packageEntry, sessionFiles, sessionsDir, tempDirs } from "./helpers";

const tempDir = tempDirs();
const script = path.join(__dirname, "fixtures", "exit-77-steps.mjs");
const packageUrl = pathToFileURL(packageEntry).href;

/** How many times the script runs, and how many run at once. */
const RUNS = 200;
const AT_ONCE = 4;

const burners: ChildProcess[] = [];
beforeAll(() => {
  for (let i = 0; i < 2; i++) {
    burners.push(spawn(process.execPath, ["-e", "for (;;) {}"], { stdio: "ignore" }));
  }
});
afterAll(async () => {
  await Promise.all(
    burners.map((b) => {
      const closed = new Promise((resolve) => b.once("close", resolve));
      b.kill("SIGKILL");
      return closed;
    }),
  );
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  dir: string;
}

function runScript(dir: string, ...args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, packageUrl, dir, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr, dir }));
  });
}

/** What a run left on disk: the one session file, parsed. */
function fileOf(run: Run): any {
  const files = sessionFiles(run.dir).filter((f) => f.endsWith(".json"));
  expect(files, `one session file in ${run.dir}`).toHaveLength(1);
  return JSON.parse(fs.readFileSync(path.join(sessionsDir(run.dir), files[0]), "utf8"));
}

describe.skipIf(isReference)("exit without shutdown() on a busy machine (issue 20.1)", () => {
  it(`keeps every update in ${RUNS} of ${RUNS} runs with two CPU hogs beside them`, async () => {
    const lost: string[] = [];
    let next = 0;
    let done = 0;
    const worker = async () => {
      while (next < RUNS) {
        next++;
        const run = await runScript(tempDir());
        expect(run.code, run.stderr).toBe(0);
        expect(run.stderr).toBe("");
        const state = fileOf(run);
        const kept =
          state.progress.completedSteps === 77 &&
          state.progress.progress === 77 &&
          state.progress.currentStep === "s77" &&
          JSON.stringify(state.context) === '{"last":77}';
        if (!kept) lost.push(`${run.dir}: ${JSON.stringify({ progress: state.progress, context: state.context })}`);
        done++;
      }
    };
    await Promise.all(Array.from({ length: AT_ONCE }, worker));
    expect(done).toBe(RUNS);
    expect(lost, `${lost.length} of ${RUNS} runs lost updates`).toEqual([]);
  }, 600_000);

  it("tells on stderr, naming the session and its file, when the write at exit fails", async () => {
    const run = await runScript(tempDir(), "bigint");
    expect(run.code).toBe(0);
    const id = /^id (\S+)$/m.exec(run.stdout)?.[1];
    expect(id).toBeDefined();
    const file = path.join(sessionsDir(run.dir), `${id}.json`);
    expect(run.stderr).toContain(`msw-session: session ${id} was not saved at exit (${file})`);
    expect(run.stderr).toMatch(/BigInt/);
    // Nothing half-written: the file holds the last state that could be written.
    const state = fileOf(run);
    expect(state.id).toBe(id);
  });
});
