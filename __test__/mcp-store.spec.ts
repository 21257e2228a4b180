// Issue: MCP durable tasks. `SessionTaskStore` (msw-session/mcp) against the SDK's own
// `InMemoryTaskStore`, point by point: every behaviour test runs on both stores. Then what only
// the durable store does: files on disk, a second process, a dead server's task failed at once,
// cancellation through the token, the current step as statusMessage, restarts, `ls`.
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { InMemoryTaskStore } from "@modelcontextprotocol/sdk/experimental/tasks";
import { afterEach, describe, expect, it, vi } from "vitest";
import { SessionTaskStore } from "../mcp.mjs";
import { childProcesses, isReference, packageRoot, readSession, sessionFile, sessionFiles, tempDirs, waitFor, waitForValue } from "./helpers";

const tempDir = tempDirs();
const children = childProcesses();
const request = { method: "tools/call", params: { name: "research", arguments: { topic: "x" } } } as any;
const result = { content: [{ type: "text", text: "done" }] } as any;

const made: { close?: () => void; cleanup: () => void }[] = [];
afterEach(() => {
  vi.useRealTimers();
  for (const store of made.splice(0)) (store.close ?? store.cleanup).call(store);
});

const kinds = {
  InMemoryTaskStore: () => new InMemoryTaskStore(),
  // `defaultTtl: null`: a task created without a ttl is kept, as the in-memory store keeps it.
  SessionTaskStore: () => new SessionTaskStore({ basePath: tempDir(), defaultTtl: null }),
};

describe.skipIf(isReference).each(Object.entries(kinds))("%s: the TaskStore behaviour", (_name, make) => {
  const store = () => {
    const s = make() as any;
    made.push(s);
    return s;
  };

  it("creates a working task with its ttl, the default pollInterval and timestamps", async () => {
    const s = store();
    const task = await s.createTask({ ttl: 60_000 }, 1, request);
    expect(task).toEqual({
      taskId: expect.any(String),
      status: "working",
      ttl: 60_000,
      createdAt: expect.stringMatching(/Z$/),
      lastUpdatedAt: task.createdAt,
      pollInterval: 1000,
    });
    expect(await s.getTask(task.taskId)).toEqual(task);
    expect((await s.createTask({ pollInterval: 250 }, 2, request)).pollInterval).toBe(250);
    expect((await s.createTask({}, 3, request)).ttl).toBeNull();
    expect(await s.getTask("no-such-task")).toBeNull();
  });

  it("stores a result once; terminal states are final, with the in-memory store's messages", async () => {
    const s = store();
    const { taskId } = await s.createTask({}, 1, request);
    await expect(s.getTaskResult(taskId)).rejects.toThrow(`Task ${taskId} has no result stored`);
    await s.storeTaskResult(taskId, "completed", result);
    expect((await s.getTask(taskId)).status).toBe("completed");
    expect(await s.getTaskResult(taskId)).toEqual(result);
    await expect(s.storeTaskResult(taskId, "failed", result)).rejects.toThrow(
      `Cannot store result for task ${taskId} in terminal status 'completed'. Task results can only be stored once.`,
    );
    await expect(s.updateTaskStatus(taskId, "working")).rejects.toThrow(
      `Cannot update task ${taskId} from terminal status 'completed' to 'working'. Terminal states (completed, failed, cancelled) cannot transition to other states.`,
    );
    await expect(s.getTaskResult("missing")).rejects.toThrow("Task with ID missing not found");
    await expect(s.storeTaskResult("missing", "completed", result)).rejects.toThrow("Task with ID missing not found");
    await expect(s.updateTaskStatus("missing", "cancelled")).rejects.toThrow("Task with ID missing not found");
  });

  it("updates a status with its message; a cancelled task is final", async () => {
    const s = store();
    const { taskId } = await s.createTask({}, 1, request);
    await s.updateTaskStatus(taskId, "input_required", "need a choice");
    expect(await s.getTask(taskId)).toMatchObject({ status: "input_required", statusMessage: "need a choice" });
    await s.updateTaskStatus(taskId, "cancelled", "stopped by the client");
    expect(await s.getTask(taskId)).toMatchObject({ status: "cancelled", statusMessage: "stopped by the client" });
    await expect(s.updateTaskStatus(taskId, "working")).rejects.toThrow("terminal status 'cancelled'");
  });

  it("a task bound to one MCP session is invisible to another", async () => {
    const s = store();
    const a = await s.createTask({}, 1, request, "session-a");
    const open = await s.createTask({}, 2, request);
    expect(await s.getTask(a.taskId, "session-b")).toBeNull();
    expect(await s.getTask(a.taskId, "session-a")).not.toBeNull();
    expect(await s.getTask(a.taskId)).not.toBeNull();
    expect(await s.getTask(open.taskId, "session-b")).not.toBeNull();
    await expect(s.getTaskResult(a.taskId, "session-b")).rejects.toThrow(`Task with ID ${a.taskId} not found`);
    expect((await s.listTasks(undefined, "session-b")).tasks.map((t: any) => t.taskId)).toEqual([open.taskId]);
    expect(s.getAllTasks().map((t: any) => t.taskId).sort()).toEqual([a.taskId, open.taskId].sort());
  });

  it("lists in pages of 10 with a cursor; an unknown cursor throws", async () => {
    vi.useFakeTimers();
    const s = store();
    const ids: string[] = [];
    for (let i = 0; i < 23; i++) {
      vi.advanceTimersByTime(1); // creation order is time order
      ids.push((await s.createTask({}, i, request)).taskId);
    }
    const first = await s.listTasks();
    expect(first.tasks.map((t: any) => t.taskId)).toEqual(ids.slice(0, 10));
    expect(first.nextCursor).toBe(ids[9]);
    const second = await s.listTasks(first.nextCursor);
    expect(second.tasks.map((t: any) => t.taskId)).toEqual(ids.slice(10, 20));
    const last = await s.listTasks(second.nextCursor);
    expect(last.tasks.map((t: any) => t.taskId)).toEqual(ids.slice(20));
    expect(last.nextCursor).toBeUndefined();
    await expect(s.listTasks("not-a-task")).rejects.toThrow("Invalid cursor: not-a-task");
  });

  it("a ttl removes the task whatever its status, restarted when a result is stored; null is unlimited", async () => {
    vi.useFakeTimers();
    const s = store();
    const working = await s.createTask({ ttl: 1000 }, 1, request);
    const done = await s.createTask({ ttl: 1000 }, 2, request);
    const forever = await s.createTask({ ttl: null }, 3, request);
    vi.advanceTimersByTime(600);
    await s.storeTaskResult(done.taskId, "completed", result);
    vi.advanceTimersByTime(399);
    expect(await s.getTask(working.taskId)).not.toBeNull();
    vi.advanceTimersByTime(1);
    expect(await s.getTask(working.taskId)).toBeNull();
    // The result restarted its ttl at 600 ms.
    expect(await s.getTask(done.taskId)).not.toBeNull();
    vi.advanceTimersByTime(600);
    expect(await s.getTask(done.taskId)).toBeNull();
    vi.advanceTimersByTime(86_400_000);
    expect(await s.getTask(forever.taskId)).not.toBeNull();
  });

  it("cleanup() removes the store's tasks", async () => {
    const s = store();
    const { taskId } = await s.createTask({ ttl: 5000 }, 1, request);
    s.cleanup();
    expect(await s.getTask(taskId)).toBeNull();
    expect(s.getAllTasks()).toEqual([]);
  });
});

describe.skipIf(isReference)("SessionTaskStore: what the in-memory store cannot do", () => {
  it("tasks and results are session files; another store on the folder sees them; close() keeps them", async () => {
    const base = tempDir();
    const s = new SessionTaskStore({ basePath: base });
    const { taskId } = await s.createTask({ ttl: null }, 7, request);
    await s.storeTaskResult(taskId, "completed", result);
    s.close();
    const file = readSession(base, taskId);
    expect(file.status).toBe("completed");
    expect(file.context.mcpTask.result).toEqual(result);
    const other = new SessionTaskStore({ basePath: base });
    made.push(other);
    expect(await other.getTask(taskId)).toMatchObject({ status: "completed" });
    expect(await other.getTaskResult(taskId)).toEqual(result);
  });

  it("cancelling a task cancels its session's token, and the file says cancelled", async () => {
    const base = tempDir();
    const s = new SessionTaskStore({ basePath: base });
    made.push(s);
    const { taskId } = await s.createTask({}, 1, request);
    const token = s.tokenOf(taskId)!;
    expect(token.isCancelled).toBe(false);
    await s.updateTaskStatus(taskId, "cancelled", "the client cancelled");
    expect(token.isCancelled).toBe(true);
    expect(() => token.throwIfCancelled()).toThrow("the client cancelled");
    expect(readSession(base, taskId).status).toBe("cancelled");
  });

  it("a working task's statusMessage follows its session's current step", async () => {
    const s = new SessionTaskStore({ basePath: tempDir() });
    made.push(s);
    const { taskId } = await s.createTask({}, 1, request);
    s.sessionOf(taskId)!.progress.setProgress(40, "reading sources");
    expect((await s.getTask(taskId))!.statusMessage).toBe("reading sources");
  });

  it("after a restart, a task past its ttl is gone", async () => {
    vi.useFakeTimers();
    const base = tempDir();
    const s = new SessionTaskStore({ basePath: base });
    const { taskId } = await s.createTask({ ttl: 1000 }, 1, request);
    s.close();
    vi.setSystemTime(Date.now() + 2000);
    const restarted = new SessionTaskStore({ basePath: base });
    made.push(restarted);
    expect(await restarted.getTask(taskId)).toBeNull();
  });

  it("a task whose server was killed while working is failed at once, and never while it lives", async () => {
    const base = tempDir();
    const child = spawn(process.execPath, [path.join(packageRoot, "__test__", "fixtures", "mcp-task-owner.mjs"), pathToFileURL(path.join(packageRoot, "mcp.mjs")).href, base], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    children.push(child);
    const taskId = await new Promise<string>((resolve) => child.stdout!.once("data", (d) => resolve(String(d).trim())));
    const s = new SessionTaskStore({ basePath: base });
    made.push(s);
    expect(await s.getTask(taskId)).toMatchObject({ status: "working", statusMessage: "indexing" });
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGKILL");
    await exited;
    const task = await s.getTask(taskId);
    expect(task).toMatchObject({ status: "failed" });
    expect(task!.statusMessage).toMatch(/server process .* exited while the task was working/);
    expect((await s.listTasks()).tasks.map((t: any) => t.status)).toEqual(["failed"]);
  });

  it("msw-session ls lists tasks like any other session", async () => {
    const base = tempDir();
    const s = new SessionTaskStore({ basePath: base });
    made.push(s);
    const { taskId } = await s.createTask({}, 1, request);
    const ls = spawn(process.execPath, [path.join(packageRoot, "bin", "msw-session.mjs"), "ls", "--dir", base, "--json"], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    ls.stdout!.on("data", (d) => (out += d));
    await new Promise((resolve) => ls.once("close", resolve));
    expect(JSON.parse(out).map((x: any) => x.id)).toContain(taskId);
  });
});

describe.skipIf(isReference)("trackRequest: a plain tool call's progress and cancellation", () => {
  /** A real McpServer and Client over the SDK's in-memory transport, with one tool running `work`. */
  async function pair(work: (extra: any) => Promise<void> | void) {
    const { McpServer } = await import("@modelcontextprotocol/sdk/server/mcp.js");
    const { Client } = await import("@modelcontextprotocol/sdk/client/index.js");
    const { InMemoryTransport } = await import("@modelcontextprotocol/sdk/inMemory.js");
    const server = new McpServer({ name: "t", version: "1.0.0" });
    server.registerTool("work", { description: "work" }, async (extra: any) => {
      await work(extra);
      return { content: [{ type: "text" as const, text: "ok" }] };
    });
    const [a, b] = InMemoryTransport.createLinkedPair();
    await server.connect(a);
    const client = new Client({ name: "c", version: "1.0.0" });
    await client.connect(b);
    return { client, close: async () => (await client.close(), await server.close()) };
  }

  it("a tight loop of 1,000 steps sends two notifications: the first, and the last after the interval", async () => {
    vi.useFakeTimers({ toFake: ["Date", "setTimeout", "clearTimeout"] });
    const { SessionManager } = await import("msw-session");
    const { trackRequest } = await import("../mcp.mjs");
    const manager = new SessionManager({ basePath: tempDir() });
    const seen: any[] = [];
    const { client, close } = await pair(async (extra) => {
      const session = manager.createSession("loop");
      session.progress.start(1000);
      const stop = trackRequest(extra, session, { intervalMs: 100 });
      for (let i = 0; i < 1000; i++) session.progress.completeStep(`step ${i + 1}`);
      vi.advanceTimersByTime(100); // the trailing notification is due
      stop();
    });
    await client.callTool({ name: "work", arguments: {} }, undefined, { onprogress: (p) => seen.push(p) });
    expect(seen).toEqual([
      { progress: 1, total: 1000, message: "step 1" },
      { progress: 1000, total: 1000, message: "step 1000" },
    ]);
    await close();
    manager.shutdown();
  });

  it("without a progressToken nothing is sent; a client's abort cancels the session", async () => {
    const { SessionManager } = await import("msw-session");
    const { trackRequest } = await import("../mcp.mjs");
    const base = tempDir();
    const manager = new SessionManager({ basePath: base });
    const session = manager.createSession("abortable");
    const abort = new AbortController();
    const sent: unknown[] = [];
    const stop = trackRequest({ signal: abort.signal, sendNotification: async (n: unknown) => void sent.push(n) }, session, { manager });
    session.progress.setProgress(10);
    abort.abort("the client cancelled");
    expect(session.cancellation.token.isCancelled).toBe(true);
    expect(() => session.cancellation.token.throwIfCancelled()).toThrow("the client cancelled");
    expect(readSession(base, session.id).status).toBe("cancelled");
    expect(sent).toEqual([]);
    stop();
    manager.shutdown();
  });
});

describe.skipIf(isReference)("issue 23: a task follows its session, and a read touches one file", () => {
  const owner = (base: string) => {
    const child = spawn(process.execPath, [path.join(packageRoot, "__test__", "fixtures", "mcp-task-owner.mjs"), pathToFileURL(path.join(packageRoot, "mcp.mjs")).href, base], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    children.push(child);
    const taskId = new Promise<string>((resolve) => child.stdout!.once("data", (d) => resolve(String(d).trim())));
    return { child, taskId };
  };

  it("a task whose token was cancelled (not by tasks/cancel) reads cancelled, with the reason, in memory and on disk", async () => {
    const base = tempDir();
    const s = new SessionTaskStore({ basePath: base });
    made.push(s);
    const { taskId } = await s.createTask({}, 1, request);
    s.sessionOf(taskId)!.cancellation.cancel("the tool gave up");
    expect(await s.getTask(taskId)).toMatchObject({ status: "cancelled", statusMessage: "the tool gave up" });
    await expect(s.updateTaskStatus(taskId, "working")).rejects.toThrow("terminal status 'cancelled'");
    // The record on disk says so too, so another process agrees, and the session is released.
    expect(readSession(base, taskId).context.mcpTask.status).toBe("cancelled");
    expect(readSession(base, taskId).status).toBe("cancelled");
    expect(s.sessionOf(taskId)).toBeUndefined();
  });

  it("a task cancelled through trackRequest's signal reads cancelled", async () => {
    const { trackRequest } = await import("../mcp.mjs");
    const s = new SessionTaskStore({ basePath: tempDir() });
    made.push(s);
    const { taskId } = await s.createTask({}, 1, request);
    const abort = new AbortController();
    const stop = trackRequest({ signal: abort.signal }, s.sessionOf(taskId)!);
    abort.abort("the client went away");
    expect(await s.getTask(taskId)).toMatchObject({ status: "cancelled", statusMessage: "the client went away" });
    stop();
  });

  it("a task cancelled by requestCancellation (another process, the CLI) reads cancelled in its own server", async () => {
    const base = tempDir();
    const s = new SessionTaskStore({ basePath: base });
    made.push(s);
    const { taskId } = await s.createTask({}, 1, request);
    const cli = spawn(process.execPath, [path.join(packageRoot, "bin", "msw-session.mjs"), "cancel", taskId, "stopped from a terminal", "--dir", base], { stdio: "ignore" });
    children.push(cli);
    expect(await new Promise((resolve) => cli.once("exit", resolve))).toBe(0);
    // The owner's watcher cancels the session and writes its file (no JavaScript needed).
    await waitFor(() => readSession(base, taskId).status === "cancelled");
    // The file says cancelled first; the watcher thread cancels the token and the tracker next.
    const task = await waitForValue(() => s.getTask(taskId), (t) => t?.status !== "working");
    expect(task).toMatchObject({ status: "cancelled", statusMessage: "stopped from a terminal" });
  });

  it("getTask of another process's working task reads its one file: no crash scan of the folder", async () => {
    const base = tempDir();
    const { taskId } = owner(base);
    const id = await taskId;
    const s = new SessionTaskStore({ basePath: base });
    made.push(s);
    const { SessionStateStore } = await import("msw-session");
    const scan = vi.spyOn(SessionStateStore.prototype, "findCrashedSessions");
    try {
      expect(await s.getTask(id)).toMatchObject({ status: "working", statusMessage: "indexing" });
      expect(scan).not.toHaveBeenCalled();
    } finally {
      scan.mockRestore();
    }
  });

  it("updateTaskStatus writes its task only: an unrelated task's context that cannot be serialized does not make it throw", async () => {
    const base = tempDir();
    const s = new SessionTaskStore({ basePath: base });
    made.push(s);
    const { taskId } = await s.createTask({}, 1, request);
    const other = await s.createTask({}, 2, request);
    s.sessionOf(other.taskId)!.context.big = 1n; // the other tool's own data, not JSON
    await s.updateTaskStatus(taskId, "input_required", "need a choice");
    expect(readSession(base, taskId).context.mcpTask).toMatchObject({ status: "input_required", statusMessage: "need a choice" });
    delete s.sessionOf(other.taskId)!.context.big;
  });

  it("a disk that refuses a read is an error, not 'not found'", async () => {
    const s = new SessionTaskStore({ basePath: tempDir() });
    made.push(s);
    const { SessionStateStore } = await import("msw-session");
    const io = Object.assign(new Error("EIO: the disk refused"), { code: "ERR_SESSION_IO" });
    const read = vi.spyOn(SessionStateStore.prototype, "inspect").mockImplementation(() => {
      throw io;
    });
    try {
      await expect(s.getTask("0b7e2e8c-2f4e-4a57-9d0e-5a1b2c3d4e5f")).rejects.toMatchObject({ code: "ERR_SESSION_IO" });
      // A client's hostile id is still "not found", never an exception.
      expect(await s.getTask("../../etc/passwd")).toBeNull();
      expect(await s.getTask("")).toBeNull();
    } finally {
      read.mockRestore();
    }
  });
});

describe.skipIf(isReference)("issue 23: SessionTaskStore options", () => {
  it("a task created without a ttl gets the default of one day (defaultTtl), and maxTtl caps a requested one", async () => {
    vi.useFakeTimers();
    const s = new SessionTaskStore({ basePath: tempDir() });
    made.push(s);
    const none = await s.createTask({}, 1, request);
    const nul = await s.createTask({ ttl: null }, 2, request);
    expect(none.ttl).toBe(86_400_000);
    expect(nul.ttl).toBe(86_400_000);
    vi.advanceTimersByTime(86_400_000);
    expect(await s.getTask(none.taskId)).toBeNull();
    expect(await s.getTask(nul.taskId)).toBeNull();
    const capped = new SessionTaskStore({ basePath: tempDir(), defaultTtl: 5000, maxTtl: 60_000 });
    made.push(capped);
    expect((await capped.createTask({}, 1, request)).ttl).toBe(5000);
    expect((await capped.createTask({ ttl: 3_600_000 }, 2, request)).ttl).toBe(60_000);
    expect((await capped.createTask({ ttl: 1000 }, 3, request)).ttl).toBe(1000);
    expect(() => new SessionTaskStore({ basePath: tempDir(), defaultTtl: -1 })).toThrow(TypeError);
  });

  it("a restarted store removes the tasks past their ttl that no timer is left for", async () => {
    vi.useFakeTimers();
    const base = tempDir();
    const s = new SessionTaskStore({ basePath: base, defaultTtl: 1000 });
    const { taskId } = await s.createTask({}, 1, request);
    await s.storeTaskResult(taskId, "completed", result);
    s.close();
    vi.setSystemTime(Date.now() + 2000);
    made.push(new SessionTaskStore({ basePath: base }));
    expect(sessionFiles(base)).not.toContain(`${taskId}.json`);
  });

  it.skipIf(process.platform === "win32")("fileMode and fsync are passed to the session files", async () => {
    const base = tempDir();
    const s = new SessionTaskStore({ basePath: base, fileMode: 0o640, fsync: true });
    made.push(s);
    const { taskId } = await s.createTask({}, 1, request);
    expect(fs.statSync(sessionFile(base, taskId)).mode & 0o777).toBe(0o640);
  });
});

describe.skipIf(isReference)("issue 23: taskStore.run, a task tool in a few lines (the SDK's McpServer and Client, in memory)", () => {
  /** A server whose task tool `work` is `run(extra, work)`, and a client, over the SDK's in-memory transport. */
  async function serve(work: (session: any, token: any, input: { n: number }) => Promise<any>) {
    const { McpServer } = await import("@modelcontextprotocol/sdk/server/mcp.js");
    const { Client } = await import("@modelcontextprotocol/sdk/client/index.js");
    const { InMemoryTransport } = await import("@modelcontextprotocol/sdk/inMemory.js");
    const { z } = await import("zod");
    const base = tempDir();
    const taskStore = new SessionTaskStore({ basePath: base });
    made.push(taskStore);
    const server = new McpServer({ name: "t", version: "1.0.0" }, { capabilities: { tasks: { requests: { tools: { call: {} } } } }, taskStore });
    server.experimental.tasks.registerToolTask(
      "job",
      { inputSchema: { n: z.number() }, execution: { taskSupport: "required" } },
      {
        createTask: (input, extra) => taskStore.run(extra, (session, token) => work(session, token, input)),
        getTask: (_input, extra) => extra.taskStore.getTask(extra.taskId),
        getTaskResult: (_input, extra) => extra.taskStore.getTaskResult(extra.taskId) as any,
      },
    );
    const [a, b] = InMemoryTransport.createLinkedPair();
    await server.connect(a);
    const client = new Client({ name: "c", version: "1.0.0" });
    await client.connect(b);
    const { CreateTaskResultSchema } = await import("@modelcontextprotocol/sdk/types.js");
    const start = async (n: number) =>
      (await client.request({ method: "tools/call", params: { name: "job", arguments: { n }, task: { ttl: 60_000 } } }, CreateTaskResultSchema)).task;
    const until = async (taskId: string, status: string) => {
      for (;;) {
        const task = await client.experimental.tasks.getTask(taskId);
        if (task.status === status) return task;
        expect(task.status).toBe("working");
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    };
    return { base, client, start, until, close: async () => (await client.close(), await server.close()) };
  }

  it("stores what the work returns as the completed result; the session's steps are its progress", async () => {
    const t = await serve(async (session, _token, { n }) => {
      session.progress.start(n);
      for (let i = 0; i < n; i++) session.progress.completeStep(`part ${i + 1}`);
      return { content: [{ type: "text", text: `did ${n}` }] };
    });
    const task = await t.start(3);
    expect(task).toMatchObject({ status: "working", ttl: 60_000 });
    await t.until(task.taskId, "completed");
    const { CallToolResultSchema } = await import("@modelcontextprotocol/sdk/types.js");
    expect((await t.client.experimental.tasks.getTaskResult(task.taskId, CallToolResultSchema)).content).toEqual([{ type: "text", text: "did 3" }]);
    expect(readSession(t.base, task.taskId)).toMatchObject({ status: "completed", progress: { completedSteps: 3 } });
    await t.close();
  });

  it("tasks/cancel cancels the work's token: the work stops and the task is cancelled, its file too", async () => {
    let stopped = false;
    const t = await serve(async (session, token) => {
      session.progress.start();
      while (!token.isCancelled) await new Promise((resolve) => setTimeout(resolve, 2));
      stopped = true;
      token.throwIfCancelled();
    });
    const task = await t.start(1);
    const cancelled = await t.client.experimental.tasks.cancelTask(task.taskId);
    expect(cancelled.status).toBe("cancelled");
    await waitFor(() => stopped);
    expect(await t.client.experimental.tasks.getTask(task.taskId)).toMatchObject({ status: "cancelled" });
    expect(readSession(t.base, task.taskId)).toMatchObject({ status: "cancelled", context: { mcpTask: { status: "cancelled" } } });
    await t.close();
  });

  it("a throw is a failed result with the message; a CancellationError of the work's own is cancelled", async () => {
    const { CancellationError } = await import("msw-session");
    const t = await serve(async (_session, _token, { n }) => {
      await Promise.resolve();
      if (n === 1) throw new Error("the source was unreachable");
      throw new CancellationError("Timeout after 10ms");
    });
    const failed = await t.start(1);
    await t.until(failed.taskId, "failed");
    const { CallToolResultSchema } = await import("@modelcontextprotocol/sdk/types.js");
    expect(await t.client.experimental.tasks.getTaskResult(failed.taskId, CallToolResultSchema)).toMatchObject({
      content: [{ type: "text", text: "the source was unreachable" }],
      isError: true,
    });
    const cancelled = await t.start(2);
    expect(await t.until(cancelled.taskId, "cancelled")).toMatchObject({ statusMessage: "Timeout after 10ms" });
    await t.close();
  });
});
