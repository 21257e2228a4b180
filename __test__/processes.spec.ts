// requestCancellation across processes, and a process that used every feature of the package
// (worker threads included) exiting by itself. Child scripts: fixtures/p-*.mjs, which import the
// package from the URL passed to them. Nothing here measures time: the contract gives the owner
// 250 ms to see a request, but only the test timeout bounds the waits below.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { SessionManager, requestCancellation } from "msw-session";
import {
  childProcesses,
  expectError,
  isReference,
  packageEntry,
  readSession,
  sessionsDir,
  tempDirs,
  waitFor,
} from "./helpers";

const tempDir = tempDirs();

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), "fixtures");
const packageUrl = pathToFileURL(packageEntry).href;

// Registered after tempDirs(), so (after-hooks run in reverse) children and managers are gone
// before their folders are removed.
const managers: SessionManager[] = [];
afterEach(() => {
  for (const manager of managers.splice(0)) manager.shutdown();
});
const children = childProcesses();

function newManager(basePath: string): SessionManager {
  const manager = new SessionManager({ basePath, persistIntervalMs: 0 });
  managers.push(manager);
  return manager;
}

interface Child {
  process: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves once the child has exited and its output is drained. */
  closed: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function run(script: string, args: string[], cwd: string): Child {
  const child = spawn(process.execPath, [path.join(fixtures, script), packageUrl, ...args], {
    cwd,
    stdio: ["pipe", "pipe", "pipe"],
  });
  children.push(child);
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (chunk) => (stdout += chunk));
  child.stderr!.on("data", (chunk) => (stderr += chunk));
  const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code, signal }));
  });
  return { process: child, stdout: () => stdout, stderr: () => stderr, closed };
}

/** Starts fixtures/p-own-session.mjs and returns it with the id of the session it owns. */
async function childOwner(basePath: string): Promise<{ child: Child; id: string }> {
  const child = run("p-own-session.mjs", [basePath], basePath);
  let exited = false;
  void child.closed.then(() => (exited = true));
  await waitFor(() => exited || /^id .+\n/m.test(child.stdout()));
  const match = /^id (.+)\n/m.exec(child.stdout());
  if (!match) throw new Error(`the owner child ended early: ${child.stderr()}`);
  return { child, id: match[1] };
}

/** The session file's status, or undefined while it cannot be read. */
function fileStatus(basePath: string, id: string): string | undefined {
  try {
    return readSession(basePath, id).status;
  } catch {
    return undefined;
  }
}

const cancelFile = (basePath: string, id: string) => path.join(sessionsDir(basePath), "requests", `${id}.cancel`);
/** The request files waiting in the folder of requests. */
const requestFiles = (basePath: string) => {
  const dir = path.join(sessionsDir(basePath), "requests");
  return fs.existsSync(dir) ? fs.readdirSync(dir) : [];
};

describe.skipIf(isReference)("requestCancellation across processes", () => {
  it("a child process cancels a session owned by this process: token, tracker and file", async () => {
    const basePath = tempDir();
    const manager = newManager(basePath);
    const session = manager.createSession("owned by the test", { n: 1 });
    session.progress.start(4);
    session.progress.completeStep("one");
    const reasons: Array<string | undefined> = [];
    session.cancellation.token.onCancelled((reason) => reasons.push(reason));

    const child = run("p-request-cancel.mjs", [basePath, session.id, "stop from the child"], basePath);
    const exit = await child.closed;
    expect(child.stderr()).toBe("");
    expect(child.stdout()).toBe("true\n");
    expect(exit.code).toBe(0);

    // The file first, then the token's listeners, then the tracker (the reference's order).
    await waitFor(
      () => reasons.length > 0 && fileStatus(basePath, session.id) === "cancelled" && session.progress.getState().status === "cancelled",
    );
    expect(reasons).toEqual(["stop from the child"]);
    expect(session.cancellation.token.isCancelled).toBe(true);
    expect(session.cancellation.token.reason).toBe("stop from the child");
    const state = session.progress.getState();
    expect(state.status).toBe("cancelled");
    expect(state.error).toBe("stop from the child");
    const saved = readSession(basePath, session.id);
    expect(saved.status).toBe("cancelled");
    expect(saved.progress.status).toBe("cancelled");
    expect(saved.progress.error).toBe("stop from the child");
  });

  it("this process cancels a session owned by a child; the child's onCancelled gets the reason", async () => {
    const basePath = tempDir();
    const { child, id } = await childOwner(basePath);

    expect(requestCancellation(id, "stop from the parent", { basePath })).toBe(true);
    await waitFor(() => child.stdout().includes("cancelled "));
    expect(child.stdout()).toBe(`id ${id}\ncancelled stop from the parent\n`);
    await waitFor(() => fileStatus(basePath, id) === "cancelled");
    const saved = readSession(basePath, id);
    expect(saved.progress.status).toBe("cancelled");
    expect(saved.progress.error).toBe("stop from the parent");

    child.process.stdin!.end();
    const exit = await child.closed;
    expect(child.stderr()).toBe("");
    expect(exit.code).toBe(0);
  });

  it("returns false and writes no .cancel file for an unknown id", () => {
    const basePath = tempDir();
    const id = randomUUID();
    expect(requestCancellation(id, "nobody", { basePath })).toBe(false);
    expect(fs.existsSync(cancelFile(basePath, id))).toBe(false);
    // with a sessions folder holding another, live session
    const manager = newManager(basePath);
    const other = manager.createSession("other");
    expect(requestCancellation(id, "nobody", { basePath })).toBe(false);
    expect(fs.existsSync(cancelFile(basePath, id))).toBe(false);
    expect(requestFiles(basePath)).toEqual([]);
    expect(other.cancellation.isCancelled).toBe(false);
  });

  it("returns false and writes no .cancel file for a finished session", () => {
    const basePath = tempDir();
    const manager = newManager(basePath);
    const completed = manager.createSession("completed");
    const failed = manager.createSession("failed");
    expect(manager.completeSession(completed.id)).toBe(true);
    expect(manager.failSession(failed.id, "broken")).toBe(true);

    expect(requestCancellation(completed.id, "too late", { basePath })).toBe(false);
    expect(requestCancellation(failed.id, "too late", { basePath })).toBe(false);
    expect(fs.existsSync(cancelFile(basePath, completed.id))).toBe(false);
    expect(fs.existsSync(cancelFile(basePath, failed.id))).toBe(false);
    expect(readSession(basePath, completed.id).status).toBe("completed");
    expect(readSession(basePath, failed.id).status).toBe("failed");
    expect(completed.cancellation.isCancelled).toBe(false);
  });

  it("returns false and writes no .cancel file for a session whose owner was killed with SIGKILL", async () => {
    const basePath = tempDir();
    const { child, id } = await childOwner(basePath);
    child.process.kill("SIGKILL");
    const exit = await child.closed;
    expect(exit.signal).toBe("SIGKILL");

    expect(requestCancellation(id, "owner is gone", { basePath })).toBe(false);
    expect(fs.existsSync(cancelFile(basePath, id))).toBe(false);
    expect(readSession(basePath, id).status).toBe("active");
  });

  it("refuses bad input with the documented errors", () => {
    const basePath = tempDir();
    expectError(() => requestCancellation(42 as unknown as string), { type: TypeError, code: "ERR_INVALID_ARG_TYPE" });
    expectError(() => requestCancellation("../x"), { type: TypeError, code: "ERR_INVALID_SESSION_ID" });
    expectError(() => requestCancellation("../x", "r", { basePath }), { type: TypeError, code: "ERR_INVALID_SESSION_ID" });
    expectError(() => requestCancellation("x", 7 as unknown as string, { basePath }), {
      type: TypeError,
      code: "ERR_INVALID_ARG_TYPE",
    });
    expect(fs.existsSync(path.join(basePath, ".msw"))).toBe(false);
  });
});

describe.skipIf(isReference)("shutdown() lets go of the folder (issue 21.2)", () => {
  /** The files under `dir` this process has open, from /proc/self/fd. */
  function openFilesIn(dir: string): string[] {
    const real = fs.realpathSync(dir);
    return fs.readdirSync("/proc/self/fd").flatMap((fd) => {
      try {
        const target = fs.readlinkSync(`/proc/self/fd/${fd}`);
        return target === real || target.startsWith(real + path.sep) ? [target] : [];
      } catch {
        return []; // closed meanwhile (readdir's own descriptor)
      }
    });
  }

  it.skipIf(process.platform !== "linux")(
    "after shutdown() of the only manager on a folder the process holds nothing open in it; the folder can be removed and a new manager's sessions are alive to another process",
    () => {
      const base = tempDir();
      const first = new SessionManager({ basePath: base, persistIntervalMs: 0 });
      const done = first.createSession("op", { n: 1 });
      // while it is in use, the process's owner lock is open
      expect(openFilesIn(base)).toEqual([expect.stringMatching(/\/\.msw\/sessions\/owners\/[^/]+\.lock$/)]);
      first.completeSession(done.id);
      first.shutdown();
      expect(openFilesIn(base)).toEqual([]);

      fs.rmSync(path.join(base, ".msw"), { recursive: true });
      expect(fs.existsSync(path.join(base, ".msw"))).toBe(false);
      const second = newManager(base);
      const live = second.createSession("op", { n: 2 });
      // another process, stale threshold 0: only a live owner lock keeps the session from being reported
      const script = `import { SessionStateStore } from ${JSON.stringify(packageUrl)};
process.stdout.write(JSON.stringify(new SessionStateStore(${JSON.stringify(base)}).findCrashedSessions(0).map((s) => s.id)));`;
      const out = execFileSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" });
      expect(JSON.parse(out)).toEqual([]);
      expect(readSession(base, live.id).status).toBe("active");
    },
  );
});

describe.skipIf(isReference)("a process that leaves everything behind exits by itself", () => {
  it("manager, session, listeners, token signal, linked source, timeout token and an exited worker: exit code 0", async () => {
    const basePath = tempDir();
    const child = run("p-exit-all.mjs", [basePath, path.join(fixtures, "w-session.mjs")], basePath);
    child.process.stdin!.end();
    // 'close' follows 'exit' once the child's output is drained; the test timeout is the bound
    const exit = await child.closed;
    expect(child.stderr()).toBe("");
    expect(child.stdout()).toBe("worker true\nscript done\n");
    expect(exit.signal).toBeNull();
    expect(exit.code).toBe(0);
  });
});
