// The `msw-session` command: ls, show, watch, cancel, cleanup; exit codes
// 0 ok, 1 not found, 2 usage; plain output off a terminal.
import { spawn } from "node:child_process";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";

import { SessionManager, SessionStateStore } from "msw-session";
import { childProcesses, isoAgo, isReference, makeState, packageRoot, tempDirs, waitFor } from "./helpers.js";

const tempDir = tempDirs();
const BIN = path.join(packageRoot, "bin", "msw-session.mjs");
const managers: SessionManager[] = [];
afterEach(() => {
  for (const manager of managers.splice(0)) manager.shutdown();
});
const children = childProcesses();

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[], env: Record<string, string> = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env } });
    children.push(child);
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

function managerIn(base: string): SessionManager {
  const manager = new SessionManager({ basePath: base, persistIntervalMs: 0 });
  managers.push(manager);
  return manager;
}

describe.skipIf(isReference)("msw-session CLI", () => {
  it("ls on an empty folder says so and exits 0", async () => {
    const r = await cli(["ls", "--dir", tempDir()]);
    expect(r).toEqual({ code: 0, stdout: "no sessions\n", stderr: "" });
  });

  it("ls shows a table with bars and owners; --json the states", async () => {
    const base = tempDir();
    const manager = managerIn(base);
    const live = manager.createSession("index notes", { vault: "a" });
    live.progress.start(4);
    live.progress.completeStep("one");
    const done = manager.createSession("upload");
    manager.completeSession(done.id);
    const table = await cli(["ls", "--dir", base], { NO_COLOR: "1" });
    expect(table.code).toBe(0);
    const lines = table.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^ID\s+OPERATION\s+STATUS\s+PROGRESS\s+STEP\s+AGE\s+OWNER$/);
    const liveLine = lines.find((l) => l.startsWith(live.id.slice(0, 8)))!;
    expect(liveLine).toContain("index notes");
    expect(liveLine).toContain("[########----------------------] 25%");
    expect(liveLine).toMatch(/\balive$/);
    expect(lines.find((l) => l.startsWith(done.id.slice(0, 8)))).toMatch(/completed.*100%/);
    expect(table.stdout).not.toContain("\x1b[");
    const json = JSON.parse((await cli(["ls", "--dir", base, "--json"])).stdout);
    expect(json.map((s: { id: string }) => s.id).sort()).toEqual([live.id, done.id].sort());
    expect(json.find((s: { id: string }) => s.id === live.id).ownerState).toBe("alive");
  });

  it("ls reports a session whose owner is gone as crashed", async () => {
    const base = tempDir();
    new SessionStateStore(base).save(makeState("lost", { updatedAt: isoAgo(3_600_000) }));
    const r = await cli(["ls", "--dir", base], { NO_COLOR: "1" });
    expect(r.stdout.split("\n")[1]).toMatch(/^lost\s+index\s+crashed\b.*crashed$/);
  });

  it("show prints one session (by id or unique prefix); an unknown id exits 1", async () => {
    const base = tempDir();
    const session = managerIn(base).createSession("index", { k: 1 });
    const json = await cli(["show", session.id.slice(0, 8), "--dir", base, "--json"]);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ id: session.id, context: { k: 1 }, status: "active" });
    const text = await cli(["show", session.id, "--dir", base]);
    expect(text.stdout).toContain(session.id);
    expect(text.stdout).toContain('context   {"k":1}');
    const missing = await cli(["show", "nope", "--dir", base]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("no session nope");
  });

  it("cancel asks the owner (this process) to cancel; without a live owner it exits 1", async () => {
    const base = tempDir();
    const session = managerIn(base).createSession("index");
    const r = await cli(["cancel", session.id, "from the CLI", "--dir", base]);
    expect(r.code).toBe(0);
    await waitFor(() => session.cancellation.isCancelled);
    expect(session.cancellation.token.reason).toBe("from the CLI");
    expect((await cli(["cancel", "unknown", "--dir", base])).code).toBe(1);
  });

  it("cleanup --older-than removes old finished sessions", async () => {
    const base = tempDir();
    const store = new SessionStateStore(base);
    store.save(makeState("old", { status: "completed", updatedAt: isoAgo(3 * 86_400_000) }));
    store.save(makeState("new", { status: "completed", updatedAt: isoAgo(1000) }));
    const r = await cli(["cleanup", "--older-than", "2d", "--dir", base, "--json"]);
    expect(r).toMatchObject({ code: 0, stdout: '{"removed":1}\n' });
    expect(store.listSessions()).toEqual(["new"]);
  });

  it("watch --json streams the sessions and follows changes by other processes", async () => {
    const base = tempDir();
    const session = managerIn(base).createSession("index");
    const child = spawn(process.execPath, [BIN, "watch", "--json", "--dir", base]);
    children.push(child);
    const frames: Array<{ sessions: Array<{ id: string; progress: { progress: number } }> }> = [];
    let buffer = "";
    child.stdout.on("data", (d) => {
      buffer += d;
      let nl;
      while ((nl = buffer.indexOf("\n")) >= 0) {
        frames.push(JSON.parse(buffer.slice(0, nl)));
        buffer = buffer.slice(nl + 1);
      }
    });
    await waitFor(() => frames.length > 0);
    expect(frames[0].sessions.map((s) => s.id)).toEqual([session.id]);
    session.progress.setProgress(42);
    await waitFor(() => frames.some((f) => f.sessions[0]?.progress.progress === 42));
  });

  it("usage errors exit 2 with the usage text; --help exits 0", async () => {
    for (const args of [[], ["bogus"], ["ls", "extra"], ["show"], ["cleanup", "--older-than", "soon"], ["--nope"]]) {
      const r = await cli(args);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stderr).toContain("Usage: msw-session");
    }
    const help = await cli(["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("Exit codes: 0 ok, 1 not found, 2 usage.");
  });
});
