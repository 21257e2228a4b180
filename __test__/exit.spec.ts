// D7: no timer or listener of the package holds Node's event loop open. A child process that
// leaves a long timeout token, listeners and a running auto-save behind must exit by itself.
// The test timeout is the bound; nothing here measures time.
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { childProcesses, isReference, packageEntry, sessionFiles, tempDirs } from "./helpers";

const tempDir = tempDirs();

// A child that did not exit by itself when its test timed out is ended, before its folder goes.
const children = childProcesses();

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** The child's temp folder (its cwd and basePath). */
  dir: string;
}

/** Runs `body` as an ESM script that has imported the package as `m`, with `basePath` defined. */
function runChild(body: string): Promise<Exit> {
  const dir = tempDir();
  const script = path.join(dir, "child.mjs");
  fs.writeFileSync(
    script,
    [
      `import * as m from ${JSON.stringify(pathToFileURL(packageEntry).href)};`,
      `const basePath = ${JSON.stringify(dir)};`,
      body,
      `console.log("script done");`,
    ].join("\n"),
  );
  return new Promise<Omit<Exit, "dir">>((resolve, reject) => {
    const child = spawn(process.execPath, [script], { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
    children.push(child);
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.on("error", reject);
    // 'close' follows 'exit' once the child's output is drained; no timer is involved
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
  }).then((exit) => ({ ...exit, dir }));
}

const scenarios: Array<[string, string]> = [
  [
    "a 10-minute timeout token with an onCancelled listener",
    `const source = m.createTimeoutToken(600000);
     source.token.onCancelled(() => console.log("cancelled?!"));`,
  ],
  [
    "a tracker with an onProgress listener",
    `const tracker = new m.ProgressTracker("s", "op");
     tracker.onProgress(() => {});
     tracker.start(3);`,
  ],
  [
    "a manager with auto-save running, a session and listeners",
    `const manager = new m.SessionManager({ basePath, autoSaveIntervalMs: 50 });
     manager.onProgress(() => {});
     manager.startAutoSave();
     const session = manager.createSession("op", { n: 1 });
     session.progress.onProgress(() => {});
     session.cancellation.token.onCancelled(() => {});
     session.progress.start(2);`,
  ],
  [
    "all of it together, as the contract's D7 describes",
    `const source = m.createTimeoutToken(600000);
     source.token.onCancelled(() => console.log("cancelled?!"));
     const tracker = new m.ProgressTracker("s", "op");
     tracker.onProgress(() => {});
     const manager = new m.SessionManager({ basePath, autoSaveIntervalMs: 50 });
     manager.onProgress(() => {});
     manager.startAutoSave();
     const session = manager.createSession("op", { n: 1 });
     session.progress.onProgress(() => {});
     session.progress.setProgress(10, "first");`,
  ],
];

describe.skipIf(isReference)("D7: the package never keeps Node running", () => {
  it.each(scenarios)("a process that leaves %s exits by itself with code 0", async (_label, body) => {
    const exit = await runChild(body);
    expect(exit.stderr).toBe("");
    expect(exit.stdout).toBe("script done\n");
    expect(exit.signal).toBeNull();
    expect(exit.code).toBe(0);
  });

  it("a short timeout still fires while something else keeps the process alive", async () => {
    const exit = await runChild(
      `const keepAlive = setTimeout(() => { console.log("timer never fired"); }, 60000);
       const source = m.createTimeoutToken(10);
       source.token.onCancelled((reason) => { console.log(reason); clearTimeout(keepAlive); });`,
    );
    expect(exit.stderr).toBe("");
    expect(exit.stdout).toBe("script done\nTimeout after 10ms\n");
    expect(exit.code).toBe(0);
  });

  it("the session file the child wrote is there after it exits", async () => {
    const exit = await runChild(
      `const manager = new m.SessionManager({ basePath, autoSaveIntervalMs: 50 });
       manager.startAutoSave();
       const session = manager.createSession("op", { n: 1 });
       console.log(session.id);`,
    );
    expect(exit.code).toBe(0);
    const id = exit.stdout.split("\n")[0];
    // the owner's lock file stays too; nobody holds it now, which is how the crash is seen
    expect(sessionFiles(exit.dir)).toEqual([`${id}.json`, "owners", "requests"]);
  });
});
