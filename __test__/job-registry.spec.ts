// Issue 23: a job registry like MSW's `JobManager` (examples/job-registry/), built only on the
// public API: a restart keeps jobs and results; a job whose process was killed reads `failed`
// on the next `get` (one file read) and in `list`; a cancel from another process stops the job's
// work; `list` over 10,000 jobs is one pass; a client's hostile id is "not found".
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { SessionManager, SessionStateStore } from "msw-session";
import { afterEach, describe, expect, it, vi } from "vitest";
import { childProcesses, isReference, packageRoot, sessionFile, tempDirs, waitFor, windowsSkip } from "./helpers";

const manyFiles = windowsSkip("manyFiles");

const tempDir = tempDirs();
const children = childProcesses();
const REGISTRY = path.join(packageRoot, "examples", "job-registry", "job-registry.mjs");
const open: { close(): void }[] = [];
afterEach(() => {
  vi.restoreAllMocks();
  for (const r of open.splice(0)) r.close();
});

async function registry(basePath: string) {
  const { JobRegistry } = await import(REGISTRY);
  const r = new JobRegistry({ basePath });
  open.push(r);
  return r;
}

/** Starts a process that runs two jobs (see fixtures/job-owner.mjs) and returns their ids. */
async function owner(basePath: string, mode?: "exit") {
  const child = spawn(process.execPath, [path.join(packageRoot, "__test__", "fixtures", "job-owner.mjs"), pathToFileURL(REGISTRY).href, basePath, ...(mode ? [mode] : [])], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  children.push(child);
  let out = "";
  child.stdout!.on("data", (d) => (out += d));
  await waitFor(() => out.includes("\n"));
  const ids = JSON.parse(out.split("\n")[0]) as { done: string; running: string };
  return { child, ids, output: () => out };
}

describe.skipIf(isReference)("examples/job-registry: MSW's jobs on the session store", () => {
  it("a restart keeps jobs and results; a job that was running when its process ended reads failed", async () => {
    const base = tempDir();
    const { child, ids } = await owner(base, "exit");
    await new Promise((resolve) => (child.exitCode !== null ? resolve(null) : child.once("exit", resolve)));
    const jobs = await registry(base);
    expect(jobs.get(ids.done)).toMatchObject({ type: "msw_plan", params: { goal: "ship" }, status: "completed", result: { plan: ["a", "b"] } });
    expect(jobs.get(ids.running)).toMatchObject({ status: "failed", progress: { step: 2, total: 5, message: "reading sources" } });
    // Oldest first; two jobs made in one millisecond may come in either order.
    const byId = (a: string[], b: string[]) => (a[0] < b[0] ? -1 : 1);
    const listed = jobs.list();
    expect(listed.map((j: any) => j.createdAt)).toEqual(listed.map((j: any) => j.createdAt).sort());
    expect(listed.map((j: any) => [j.id, j.status]).sort(byId)).toEqual([
      [ids.done, "completed"],
      [ids.running, "failed"],
    ].sort(byId));
    // Cleanup settles the dead process's job on disk, then removes the finished ones.
    expect(jobs.cleanup({ olderThanMs: 0 })).toBe(2);
    expect(jobs.list()).toEqual([]);
  });

  it("a job whose process was killed with SIGKILL reads failed on the next get (one file read) and in list", async () => {
    const base = tempDir();
    const { child, ids } = await owner(base);
    const jobs = await registry(base);
    expect(jobs.get(ids.running)).toMatchObject({ status: "running", progress: { step: 2, total: 5, message: "reading sources" } });
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGKILL");
    await exited;
    const scan = vi.spyOn(SessionStateStore.prototype, "findCrashedSessions");
    const listing = vi.spyOn(SessionManager.prototype, "listStates");
    const managerScan = vi.spyOn(SessionManager.prototype, "findCrashedSessions");
    const job = jobs.get(ids.running);
    expect(job).toMatchObject({ status: "failed", error: expect.stringMatching(/process that ran this job \(pid \d+\) exited while it was running/) });
    expect(scan).not.toHaveBeenCalled();
    expect(managerScan).not.toHaveBeenCalled();
    expect(listing).not.toHaveBeenCalled();
    expect(jobs.list({ status: "failed" }).map((j: any) => j.id)).toEqual([ids.running]);
  });

  it("a cancel from another process stops the job's work, and the job reads cancelled", async () => {
    const base = tempDir();
    const { ids, output } = await owner(base);
    const jobs = await registry(base);
    expect(jobs.cancel(ids.running, "the user changed their mind")).toBe(true);
    await waitFor(() => output().includes(`stopped ${ids.running}`));
    await waitFor(() => jobs.get(ids.running)?.status === "cancelled");
    expect(jobs.get(ids.running)).toMatchObject({ status: "cancelled", error: "the user changed their mind" });
    expect(jobs.cancel(ids.done)).toBe(false); // finished: no one runs it
  });

  it.skipIf(manyFiles.skip)(manyFiles.title("list over 10,000 jobs reads the folder in one pass (listStates), not one load per job"), async () => {
    const base = tempDir();
    const jobs = await registry(base);
    const model = jobs.create("msw_execute", { n: 0 });
    jobs.update(model.id, { status: "completed", result: { ok: true } });
    const text = fs.readFileSync(sessionFile(base, model.id), "utf8");
    for (let i = 0; i < 10_000; i++) {
      const id = `job-${String(i).padStart(5, "0")}`;
      fs.writeFileSync(sessionFile(base, id), text.replaceAll(model.id, id), { mode: 0o600 });
    }
    const listing = vi.spyOn(SessionManager.prototype, "listStates");
    const inspect = vi.spyOn(SessionManager.prototype, "inspect");
    const load = vi.spyOn(SessionStateStore.prototype, "load");
    const all = jobs.list({ type: "msw_execute" });
    expect(all).toHaveLength(10_001);
    expect(all.every((j: any) => j.status === "completed" && j.result.ok)).toBe(true);
    expect(listing).toHaveBeenCalledTimes(1);
    expect(inspect).not.toHaveBeenCalled();
    expect(load).not.toHaveBeenCalled();
  });

  it("a client's hostile id is not found, never an exception", async () => {
    const jobs = await registry(tempDir());
    for (const id of ["../../etc/passwd", "", ".", "..", "a/b", "a\\b", "nul\0", "x".repeat(300), 42, null, undefined, {}]) {
      expect(jobs.get(id as any)).toBeUndefined();
      expect(jobs.update(id as any, { status: "completed" })).toBeUndefined();
      expect(jobs.cancel(id as any)).toBe(false);
      expect(jobs.token(id as any)).toBeUndefined();
    }
    expect(jobs.get("0b7e2e8c-2f4e-4a57-9d0e-5a1b2c3d4e5f")).toBeUndefined();
  });
});
