// Issue: the MCP tasks extension (`io.modelcontextprotocol/tasks`, spec revision 2026-07-28) for
// SDK v2 servers. `SessionTasks` (msw-session/mcp, lib/tasks-extension.js) driven in-process
// through the SDK's real HTTP entry (`createMcpHandler(...).fetch`) with raw JSON-RPC (the v2
// client cannot read `resultType: "task"`): the capability advertised, `-32021` gating, auth
// binding, the tools' task policies, durable creation, statusMessage from progress, the result
// wire forms, cancel, input_required over `tasks/update`, ttl and poll interval, a server that
// died (a child process), the SDK internal it relies on, argument checks, and the 1.x
// `SessionTaskStore` kept apart on one folder.
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { createMcpHandler, fromJsonSchema, inputRequired, McpServer } from "@modelcontextprotocol/server";
import { CancellationError, type CancellationToken } from "msw-session";
import { afterEach, describe, expect, it, vi } from "vitest";
import { SessionTaskStore, SessionTasks, type SessionTasksOptions, type TaskAuthInfo } from "../mcp.mjs";
import { childProcesses, ISO_TIMESTAMP, isReference, packageRoot, readSession, sessionFile, sessionFiles, tempDirs, UUID, waitFor } from "./helpers";

const tempDir = tempDirs();
const children = childProcesses();

const EXT = "io.modelcontextprotocol/tasks";
/** A request's capabilities that declare the extension. */
const WITH_TASKS = { extensions: { [EXT]: {} } };
const MISSING_CAPABILITY = { code: -32021, data: { requiredCapabilities: { extensions: { [EXT]: {} } } } };
const TASK_METHODS = ["tasks/get", "tasks/update", "tasks/cancel"] as const;
/** The one error a task the caller cannot see gets (the spec's example text). */
const NOT_FOUND = { code: -32602, message: "Failed to retrieve task: Task not found" };
/** A well-formed id of no task. */
const NO_SUCH_TASK = "0b7e2e8c-2f4e-4a57-9d0e-5a1b2c3d4e5f";

/** The real setTimeout, kept before a test fakes the clock (`until` polls with it). */
const realSetTimeout = globalThis.setTimeout;

interface Rpc {
  /** The HTTP status of the response. */
  http: number;
  result?: any;
  error?: { code: number; message: string; data?: any };
}
type RpcFn = (method: string, params?: Record<string, unknown>, options?: { caps?: unknown; authInfo?: TaskAuthInfo; headers?: Record<string, string> }) => Promise<Rpc>;

const made: SessionTasks[] = [];
const handlers: { close(): Promise<void> }[] = [];
afterEach(async () => {
  vi.useRealTimers();
  for (const handler of handlers.splice(0)) await handler.close();
  for (const tasks of made.splice(0)) {
    tasks.cleanup();
    tasks.close();
  }
});

/** A SessionTasks on `basePath` (a new folder by default), closed after the test. */
function sessionTasks(options: SessionTasksOptions = {}): SessionTasks {
  const tasks = new SessionTasks({ ...options, basePath: options.basePath ?? tempDir() });
  made.push(tasks);
  return tasks;
}

let nextId = 0;

/**
 * `rpc(method, params, { caps, authInfo, headers })` against `tasks` through the SDK's HTTP
 * entry, one McpServer per request as createMcpHandler makes them: a 2026-07-28 POST with its
 * headers (`Mcp-Name` the task id for tasks/*, the tool for tools/call) and its `_meta`
 * envelope; `caps` defaults to declaring the extension.
 */
function serve(tasks: SessionTasks): RpcFn {
  const handler = createMcpHandler(() => tasks.enable(new McpServer({ name: "mcp-tasks-spec", version: "1.0.0" })));
  handlers.push(handler);
  return async (method, params = {}, { caps = WITH_TASKS, authInfo, headers = {} } = {}) => {
    const name = method.startsWith("tasks/") ? params.taskId : method === "tools/call" ? params.name : undefined;
    const id = ++nextId;
    const request = new Request("http://127.0.0.1/mcp", {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
        "mcp-protocol-version": "2026-07-28",
        "mcp-method": method,
        ...(typeof name === "string" ? { "mcp-name": name } : {}),
        ...headers,
      },
      body: JSON.stringify({
        jsonrpc: "2.0",
        id,
        method,
        params: {
          ...params,
          _meta: {
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientInfo": { name: "mcp-tasks-spec-client", version: "1.0.0" },
            "io.modelcontextprotocol/clientCapabilities": caps,
          },
        },
      }),
    });
    const response = await handler.fetch(request, authInfo ? { authInfo: authInfo as any } : undefined);
    const text = await response.text();
    // A JSON body, or an SSE stream whose response is the message with our id.
    const messages = (response.headers.get("content-type") ?? "").includes("text/event-stream")
      ? text
          .split("\n")
          .filter((line) => line.startsWith("data:"))
          .map((line) => JSON.parse(line.slice(5)))
      : [JSON.parse(text)];
    const message = messages.find((m) => m.id === id);
    expect(message, `a response to ${method} (HTTP ${response.status}): ${text}`).toBeDefined();
    return { http: response.status, result: message.result, error: message.error };
  };
}

/** A SessionTasks, with its tools registered by `register`, and an `rpc` to it. */
function setup(register: (tasks: SessionTasks) => void = () => {}, options: SessionTasksOptions = {}) {
  const tasks = sessionTasks(options);
  register(tasks);
  return { tasks, rpc: serve(tasks) };
}

/** A promise the test settles: the work of a tool awaits it. */
function gate<T = void>() {
  let open!: (value: T) => void;
  const promise = new Promise<T>((resolve) => (open = resolve));
  return { promise, open };
}

/**
 * Reads with `read` until `done` holds of what it read, one event-loop turn (a 2 ms real timer)
 * at a time, as helpers' `waitFor` does. The test timeout bounds it.
 */
async function until<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    await new Promise((resolve) => realSetTimeout(resolve, 2));
  }
}

const TERMINAL = ["completed", "failed", "cancelled"];

/** `tasks/get` until the task is terminal; its result. */
const settled = (rpc: RpcFn, taskId: string, options: Parameters<RpcFn>[2] = {}) =>
  until(
    () => rpc("tasks/get", { taskId }, options),
    (r) => TERMINAL.includes(r.result?.status),
  ).then((r) => r.result);

/** Creates a task of tool `name`; its `CreateTaskResult`. */
async function createTask(rpc: RpcFn, name: string, args: Record<string, unknown> = {}, options: Parameters<RpcFn>[2] = {}) {
  const r = await rpc("tools/call", { name, arguments: args }, options);
  expect(r.error).toBeUndefined();
  expect(r.result.resultType).toBe("task");
  return r.result;
}

const text = (value: string) => ({ content: [{ type: "text", text: value }] });

/** The task files of a folder (a session file each). */
const taskFiles = (base: string) => sessionFiles(base).filter((f) => f.endsWith(".json"));

/** A result without the `_meta` the SDK stamps on every result (`serverInfo`). */
function withoutMeta(result: any) {
  const { _meta, ...rest } = result;
  return rest;
}

/** A tool whose work reports "started" and ends when the test opens its gate; records what it got. */
function gatedTool(tasks: SessionTasks, name: string, policy: "never" | "optional" | "required" = "required") {
  const finish = gate();
  const calls: { id: string | undefined; token: CancellationToken; authInfo: unknown }[] = [];
  tasks.registerTool(name, { task: policy }, async (_args, { id, token, authInfo }) => {
    calls.push({ id, token, authInfo });
    await finish.promise;
    return text(`${name} done`);
  });
  return { finish, calls };
}

describe.skipIf(isReference)("SessionTasks: the capability and -32021", () => {
  it("one call of enable() advertises the extension as exactly {} in server/discover", async () => {
    const { rpc } = setup();
    const r = await rpc("server/discover", {});
    expect(r.error).toBeUndefined();
    expect(r.result.capabilities.extensions[EXT]).toStrictEqual({});
    expect(Object.keys(r.result.capabilities.extensions)).toEqual([EXT]);
    // The three methods are answered, even on a server with no tools of SessionTasks.
    for (const method of TASK_METHODS) expect((await rpc(method, { taskId: NO_SUCH_TASK })).error).toEqual(NOT_FOUND);
    // With tools too, and a discover without the extension still sees it advertised.
    const { rpc: withTools } = setup((tasks) => gatedTool(tasks, "work"));
    expect((await withTools("server/discover", {}, { caps: {} })).result.capabilities.extensions).toStrictEqual({ [EXT]: {} });
  });

  it("tasks/get, tasks/update and tasks/cancel without the extension are -32021, for an unknown id and a real one (capability first)", async () => {
    const { tasks, rpc } = setup();
    const { finish } = gatedTool(tasks, "work");
    const { taskId } = await createTask(rpc, "work");
    for (const method of TASK_METHODS) {
      for (const params of [{ taskId: NO_SUCH_TASK }, { taskId }, { taskId: 42 }, {}]) {
        const r = await rpc(method, params, { caps: {} });
        expect(r.result, `${method} ${JSON.stringify(params)}`).toBeUndefined();
        expect(r.error, `${method} ${JSON.stringify(params)}`).toMatchObject(MISSING_CAPABILITY);
        expect(r.error!.data.requiredCapabilities.extensions[EXT]).toStrictEqual({});
        // The SDK sends a handler's -32021 with HTTP 400.
        expect(r.http).toBe(400);
      }
    }
    // Another extension declared is not this one.
    expect((await rpc("tasks/get", { taskId }, { caps: { extensions: { "com.example/other": {} } } })).error).toMatchObject(MISSING_CAPABILITY);
    // The refused cancel did nothing: the task still works, then completes.
    expect((await rpc("tasks/get", { taskId })).result.status).toBe("working");
    finish.open();
    expect((await settled(rpc, taskId)).status).toBe("completed");
  });

  it("with the extension: an unknown id, a number and a missing id are -32602 for all three methods", async () => {
    const { rpc } = setup();
    for (const method of TASK_METHODS) {
      expect((await rpc(method, { taskId: NO_SUCH_TASK })).error, method).toEqual(NOT_FOUND);
      expect((await rpc(method, { taskId: "../../etc/passwd" })).error, method).toEqual(NOT_FOUND);
      for (const params of [{ taskId: 42 }, {}, { taskId: null }]) {
        const r = await rpc(method, params);
        expect(r.result, `${method} ${JSON.stringify(params)}`).toBeUndefined();
        expect(r.error?.code, `${method} ${JSON.stringify(params)}`).toBe(-32602);
      }
    }
  });
});

describe.skipIf(isReference)("SessionTasks: auth binding and ids", () => {
  const alice: TaskAuthInfo = { token: "a", clientId: "alice", scopes: [] };
  const bob: TaskAuthInfo = { token: "b", clientId: "bob", scopes: [] };

  it("a task is its creator's: another principal and an unauthenticated request get the error of an id that does not exist", async () => {
    const { tasks, rpc } = setup();
    const { finish, calls } = gatedTool(tasks, "work");
    const { taskId } = await createTask(rpc, "work", {}, { authInfo: alice });
    expect(calls[0].authInfo).toMatchObject({ clientId: "alice" });
    expect((await rpc("tasks/get", { taskId }, { authInfo: alice })).result).toMatchObject({ taskId, status: "working" });
    for (const method of TASK_METHODS) {
      const missing = await rpc(method, { taskId: NO_SUCH_TASK }, { authInfo: bob });
      expect(missing.error).toEqual(NOT_FOUND);
      for (const who of [{ authInfo: bob }, {}]) {
        const r = await rpc(method, { taskId, inputResponses: {} }, who);
        expect(r.result, `${method} as ${JSON.stringify(who)}`).toBeUndefined();
        expect(r.error, `${method} as ${JSON.stringify(who)}`).toEqual(missing.error);
        expect(r.http).toBe(missing.http);
      }
    }
    // Bob's cancel did not cancel alice's task: it runs on and completes.
    expect(calls[0].token.isCancelled).toBe(false);
    expect((await rpc("tasks/get", { taskId }, { authInfo: alice })).result.status).toBe("working");
    finish.open();
    const done = await settled(rpc, taskId, { authInfo: alice });
    expect(done).toMatchObject({ status: "completed", result: { ...text("work done"), resultType: "complete" } });
    // And a task created without auth info is not an authenticated caller's.
    const open = await createTask(rpc, "work");
    expect((await rpc("tasks/get", { taskId: open.taskId })).result.status).toBe("completed");
    expect((await rpc("tasks/get", { taskId: open.taskId }, { authInfo: alice })).error).toEqual(NOT_FOUND);
  });

  it("the default principal tells extra.sub apart within one clientId; the principal option overrides it", async () => {
    const { tasks, rpc } = setup();
    gatedTool(tasks, "work");
    const sub1: TaskAuthInfo = { ...alice, extra: { sub: "user-1" } };
    const sub2: TaskAuthInfo = { ...alice, extra: { sub: "user-2" } };
    const { taskId } = await createTask(rpc, "work", {}, { authInfo: sub1 });
    expect((await rpc("tasks/get", { taskId }, { authInfo: sub1 })).result.status).toBe("working");
    expect((await rpc("tasks/get", { taskId }, { authInfo: { ...sub1, token: "another token" } })).result.status).toBe("working");
    expect((await rpc("tasks/get", { taskId }, { authInfo: sub2 })).error).toEqual(NOT_FOUND);
    expect((await rpc("tasks/get", { taskId }, { authInfo: alice })).error).toEqual(NOT_FOUND);

    // A tenant-wide principal: every client of the tenant sees the task, another tenant does not.
    const byTenant = setup((t) => gatedTool(t, "work"), { principal: (authInfo) => authInfo.extra?.tenant as string | undefined });
    const shared = await createTask(byTenant.rpc, "work", {}, { authInfo: { ...alice, extra: { tenant: "acme" } } });
    expect((await byTenant.rpc("tasks/get", { taskId: shared.taskId }, { authInfo: { ...bob, extra: { tenant: "acme" } } })).result.status).toBe("working");
    expect((await byTenant.rpc("tasks/get", { taskId: shared.taskId }, { authInfo: { ...alice, extra: { tenant: "globex" } } })).error).toEqual(NOT_FOUND);
    expect((await byTenant.rpc("tasks/get", { taskId: shared.taskId })).error).toEqual(NOT_FOUND);
    expect(() => sessionTasks({ principal: "clientId" as any })).toThrow(expect.objectContaining({ name: "TypeError", code: "ERR_INVALID_ARG_TYPE" }));
  });

  it("without a clientId, the default principal is a digest of the token: another token is another principal, and the file never holds the token", async () => {
    const base = tempDir();
    const { tasks, rpc } = setup(undefined, { basePath: base });
    gatedTool(tasks, "work");
    const first: TaskAuthInfo = { token: "secret-token-1", scopes: [] };
    const second: TaskAuthInfo = { token: "secret-token-2", scopes: [] };
    const { taskId } = await createTask(rpc, "work", {}, { authInfo: first });
    expect((await rpc("tasks/get", { taskId }, { authInfo: first })).result.status).toBe("working");
    expect((await rpc("tasks/get", { taskId }, { authInfo: second })).error).toEqual(NOT_FOUND);
    expect((await rpc("tasks/get", { taskId })).error).toEqual(NOT_FOUND);
    expect(fs.readFileSync(sessionFile(base, taskId), "utf8")).not.toContain("secret-token-1");
  });

  it("task ids are UUID v4, all distinct over 50 tasks", async () => {
    const { rpc } = setup((tasks) => tasks.registerTool("quick", { task: "required" }, () => text("quick")));
    const ids: string[] = [];
    for (let i = 0; i < 50; i++) ids.push((await createTask(rpc, "quick")).taskId);
    for (const id of ids) expect(id).toMatch(UUID);
    expect(new Set(ids).size).toBe(50);
  });
});

describe.skipIf(isReference)("SessionTasks: tools' task policies", () => {
  it("'never' is a plain result even with the extension; 'optional' is plain without it and a flat CreateTaskResult with it", async () => {
    const ran: string[] = [];
    const base = tempDir();
    const { rpc } = setup((tasks) => {
      tasks.registerTool("never", { task: "never", inputSchema: fromJsonSchema({ type: "object", properties: { who: { type: "string" } }, required: ["who"] }) }, (args, { id }) => {
        ran.push(`never ${id}`);
        return text(`hello ${args.who}`);
      });
      tasks.registerTool("optional", { task: "optional" }, (_args, { id }) => {
        ran.push(`optional ${id}`);
        return text("optional done");
      });
    }, { basePath: base });
    const never = await rpc("tools/call", { name: "never", arguments: { who: "ada" } });
    expect(never.error).toBeUndefined();
    expect(withoutMeta(never.result)).toEqual({ ...text("hello ada"), resultType: "complete" });
    const plain = await rpc("tools/call", { name: "optional", arguments: {} }, { caps: {} });
    expect(withoutMeta(plain.result)).toEqual({ ...text("optional done"), resultType: "complete" });
    expect(ran).toEqual(["never undefined", "optional undefined"]);
    // A plain call's session is gone when the call ends: no task was made.
    expect(taskFiles(base)).toEqual([]);

    const created = await rpc("tools/call", { name: "optional", arguments: {} });
    expect(created.error).toBeUndefined();
    const task = created.result;
    expect(task).toMatchObject({ resultType: "task", taskId: expect.stringMatching(UUID), status: "working" });
    expect(Number.isInteger(task.ttlMs)).toBe(true);
    expect(Number.isInteger(task.pollIntervalMs)).toBe(true);
    expect(task.createdAt).toMatch(ISO_TIMESTAMP);
    expect(task.lastUpdatedAt).toMatch(ISO_TIMESTAMP);
    // Flat: the task's fields at the top, no `task` wrapper, nothing of a later status.
    for (const key of ["task", "result", "error", "inputRequests", "isError"]) expect(task, key).not.toHaveProperty(key);
    expect(ran).toEqual(["never undefined", "optional undefined", `optional ${task.taskId}`]);
  });

  it("'required' without the extension is a JSON-RPC -32021 (not an isError result), and its work never runs", async () => {
    let runs = 0;
    const { rpc } = setup((tasks) =>
      tasks.registerTool("required", { task: "required" }, () => {
        runs++;
        return text("ran");
      }),
    );
    const r = await rpc("tools/call", { name: "required", arguments: {} }, { caps: {} });
    expect(r.result).toBeUndefined();
    expect(r.error).toMatchObject(MISSING_CAPABILITY);
    expect(r.error!.data.requiredCapabilities.extensions[EXT]).toStrictEqual({});
    expect(runs).toBe(0);
    // With the extension it is a task.
    const { taskId } = await createTask(rpc, "required");
    expect((await settled(rpc, taskId)).status).toBe("completed");
    expect(runs).toBe(1);
  });
});

describe.skipIf(isReference)("SessionTasks: durable creation and status", () => {
  it("the task's file exists when the CreateTaskResult arrives, and another SessionTasks on the folder (a restarted server) resolves it", async () => {
    const base = tempDir();
    const { tasks, rpc } = setup(() => {}, { basePath: base });
    const { finish } = gatedTool(tasks, "work");
    const { taskId } = await createTask(rpc, "work");
    // Nothing awaited between the response and these reads.
    expect(fs.existsSync(sessionFile(base, taskId))).toBe(true);
    expect(readSession(base, taskId).context.mcpTask).toMatchObject({ kind: EXT, status: "working", tool: "work" });

    const restarted = serve(sessionTasks({ basePath: base }));
    for (let i = 0; i < 3; i++) {
      const r = await restarted("tasks/get", { taskId });
      expect(r.error).toBeUndefined();
      // Its owner lives: working, never failed.
      expect(r.result).toMatchObject({ taskId, status: "working", resultType: "complete" });
    }
    finish.open();
    expect(await settled(restarted, taskId)).toMatchObject({ status: "completed", result: { ...text("work done"), resultType: "complete" } });
  });

  it("a working task's statusMessage is its session's current step", async () => {
    const reached = gate();
    const finish = gate();
    let progressAt = "";
    const { rpc } = setup((tasks) =>
      tasks.registerTool("read", { task: "required" }, async (_args, { session }) => {
        session.progress.setProgress(40, "reading sources");
        progressAt = session.progress.getState().updatedAt;
        reached.open();
        await finish.promise;
        return text("read");
      }),
    );
    const { taskId } = await createTask(rpc, "read");
    await reached.promise;
    const r = await until(
      () => rpc("tasks/get", { taskId }),
      (x) => x.result?.statusMessage !== undefined,
    );
    expect(r.result).toMatchObject({ status: "working", statusMessage: "reading sources" });
    // The progress is the task's last update.
    expect(r.result.lastUpdatedAt).toBe(progressAt > r.result.createdAt ? progressAt : r.result.createdAt);
    finish.open();
    expect((await settled(rpc, taskId)).status).toBe("completed");
  });
});

describe.skipIf(isReference)("SessionTasks: what tasks/get returns when the work ends", () => {
  /** One tool per way a work can end. */
  const tools = (tasks: SessionTasks) => {
    tasks.registerTool("ok", { task: "required" }, () => ({ ...text("all good"), structuredContent: { n: 1 } }));
    tasks.registerTool("tool-error", { task: "required" }, () => ({ ...text("bad input"), isError: true }));
    tasks.registerTool("rpc-error", { task: "required" }, async () => {
      throw Object.assign(new Error("API rate limit exceeded"), { code: -32603 });
    });
    tasks.registerTool("rpc-error-data", { task: "required" }, async () => {
      throw Object.assign(new Error("no such row"), { code: -32000, data: { row: 7 } });
    });
    tasks.registerTool("throws", { task: "required" }, async () => {
      throw new Error("disk on fire");
    });
    // Node's errors carry a string code: not a JSON-RPC error.
    tasks.registerTool("enoent", { task: "required" }, async () => {
      fs.readFileSync(path.join(packageRoot, "no-such-file"));
      return text("unreachable");
    });
    tasks.registerTool("cancellation-error", { task: "required" }, async () => {
      throw new CancellationError("gave up");
    });
    tasks.registerTool("cancels-its-token", { task: "required" }, async (_args, { session, token }) => {
      session.cancellation.cancel("stopped itself");
      token.throwIfCancelled();
      return text("unreachable");
    });
  };

  it("a result is `result` with resultType complete inside; an isError result is completed too", async () => {
    const { rpc } = setup(tools);
    const ok = await settled(rpc, (await createTask(rpc, "ok")).taskId);
    expect(ok).toMatchObject({ status: "completed", resultType: "complete" });
    expect(ok.result).toEqual({ ...text("all good"), structuredContent: { n: 1 }, resultType: "complete" });
    expect(ok).not.toHaveProperty("error");
    expect(ok).not.toHaveProperty("inputRequests");
    const toolError = await settled(rpc, (await createTask(rpc, "tool-error")).taskId);
    expect(toolError.status).toBe("completed");
    expect(toolError.result).toEqual({ ...text("bad input"), isError: true, resultType: "complete" });
    expect(toolError).not.toHaveProperty("error");
  });

  it("a thrown error with an integer code is failed with that JSON-RPC error and no result; a plain throw is a completed isError result", async () => {
    const { rpc } = setup(tools);
    const failed = await settled(rpc, (await createTask(rpc, "rpc-error")).taskId);
    expect(failed.status).toBe("failed");
    expect(failed.error).toEqual({ code: -32603, message: "API rate limit exceeded" });
    expect(failed.statusMessage).toBe("API rate limit exceeded");
    expect(failed).not.toHaveProperty("result");
    const withData = await settled(rpc, (await createTask(rpc, "rpc-error-data")).taskId);
    expect(withData).toMatchObject({ status: "failed", error: { code: -32000, message: "no such row", data: { row: 7 } } });
    const thrown = await settled(rpc, (await createTask(rpc, "throws")).taskId);
    expect(thrown.status).toBe("completed");
    expect(thrown.result).toEqual({ ...text("disk on fire"), isError: true, resultType: "complete" });
    expect(thrown).not.toHaveProperty("error");
    const enoent = await settled(rpc, (await createTask(rpc, "enoent")).taskId);
    expect(enoent.status).toBe("completed");
    expect(enoent.result).toMatchObject({ isError: true, content: [{ type: "text", text: expect.stringContaining("ENOENT") }] });
  });

  it("a CancellationError, or a work that cancelled its own token, is cancelled", async () => {
    const { rpc } = setup(tools);
    for (const name of ["cancellation-error", "cancels-its-token"]) {
      const task = await settled(rpc, (await createTask(rpc, name)).taskId);
      expect(task.status, name).toBe("cancelled");
      expect(task, name).not.toHaveProperty("result");
      expect(task, name).not.toHaveProperty("error");
    }
  });
});

describe.skipIf(isReference)("SessionTasks: tasks/cancel", () => {
  it("cancels a working task's token: the ack is an empty result, the task reads cancelled; a terminal task gets the same ack and stays as it was", async () => {
    const base = tempDir();
    const seen = gate<string | undefined>();
    const { tasks, rpc } = setup(() => {}, { basePath: base });
    tasks.registerTool("long", { task: "required" }, (_args, { token }) => {
      return new Promise((_resolve, reject) => {
        token.onCancelled(() => {
          seen.open(token.reason);
          reject(new CancellationError(token.reason));
        });
      });
    });
    tasks.registerTool("quick", { task: "required" }, () => text("quick"));
    const { taskId } = await createTask(rpc, "long");
    const ack = await rpc("tasks/cancel", { taskId });
    expect(ack.error).toBeUndefined();
    expect(withoutMeta(ack.result)).toEqual({ resultType: "complete" });
    expect(await seen.promise).toBe("cancelled by tasks/cancel");
    const cancelled = (await rpc("tasks/get", { taskId })).result;
    expect(cancelled.status).toBe("cancelled");
    expect(readSession(base, taskId).status).toBe("cancelled");

    // Terminal tasks: cancelled again, and completed.
    expect(withoutMeta((await rpc("tasks/cancel", { taskId })).result)).toEqual({ resultType: "complete" });
    expect((await rpc("tasks/get", { taskId })).result.status).toBe("cancelled");
    const quick = (await createTask(rpc, "quick")).taskId;
    expect((await settled(rpc, quick)).status).toBe("completed");
    const again = await rpc("tasks/cancel", { taskId: quick });
    expect(again.error).toBeUndefined();
    expect(withoutMeta(again.result)).toEqual({ resultType: "complete" });
    expect((await rpc("tasks/get", { taskId: quick })).result).toMatchObject({ status: "completed", result: { ...text("quick"), resultType: "complete" } });
  });
});

describe.skipIf(isReference)("SessionTasks: input_required and tasks/update", () => {
  const ask = (message: string) => ({
    method: "elicitation/create",
    params: { mode: "form", message, requestedSchema: { type: "object", properties: { answer: { type: "string" } }, required: ["answer"] } },
  });
  const answer = (value: string) => ({ action: "accept", content: { answer: value } });

  it("two inputs at once; a partial update leaves the other outstanding; unknown and answered keys are ignored; durable while waiting", async () => {
    const base = tempDir();
    const { rpc } = setup(
      (tasks) =>
        tasks.registerTool("two-questions", { task: "required" }, async (_args, { input }) => {
          const [a, b] = await Promise.all([input(ask("A?"), "a"), input(ask("B?"), "b")]);
          return text(`a=${(a.content as any).answer} b=${(b.content as any).answer}`);
        }),
      { basePath: base },
    );
    const { taskId } = await createTask(rpc, "two-questions");
    const waiting = await until(
      () => rpc("tasks/get", { taskId }),
      (r) => r.result?.status === "input_required" && Object.keys(r.result.inputRequests).length === 2,
    );
    expect(waiting.result.inputRequests).toEqual({ a: ask("A?"), b: ask("B?") });
    expect(waiting.result).not.toHaveProperty("result");
    // On disk while waiting: the outstanding requests, no answers yet.
    expect(readSession(base, taskId).context.mcpTask).toMatchObject({ status: "input_required", inputRequests: { a: ask("A?"), b: ask("B?") }, inputResponses: {} });

    const first = await rpc("tasks/update", { taskId, inputResponses: { a: answer("first"), zzz: answer("never asked") } });
    expect(first.error).toBeUndefined();
    expect(withoutMeta(first.result)).toEqual({ resultType: "complete" });
    const half = (await rpc("tasks/get", { taskId })).result;
    expect(half.status).toBe("input_required");
    expect(half.inputRequests).toEqual({ b: ask("B?") });
    const file = readSession(base, taskId).context.mcpTask;
    expect(file.inputResponses).toEqual({ a: answer("first") });
    expect(file.inputRequests).toEqual({ b: ask("B?") });

    // An answered key again: ignored (acked, nothing changes).
    const twice = await rpc("tasks/update", { taskId, inputResponses: { a: answer("second") } });
    expect(withoutMeta(twice.result)).toEqual({ resultType: "complete" });
    expect(readSession(base, taskId).context.mcpTask.inputResponses).toEqual({ a: answer("first") });
    expect((await rpc("tasks/get", { taskId })).result.inputRequests).toEqual({ b: ask("B?") });

    expect(withoutMeta((await rpc("tasks/update", { taskId, inputResponses: { b: answer("bee") } })).result)).toEqual({ resultType: "complete" });
    const done = await settled(rpc, taskId);
    expect(done).toMatchObject({ status: "completed", result: { ...text("a=first b=bee"), resultType: "complete" } });
    expect(done).not.toHaveProperty("inputRequests");
    // After the end, an update is acked and changes nothing.
    expect(withoutMeta((await rpc("tasks/update", { taskId, inputResponses: { b: answer("late") } })).result)).toEqual({ resultType: "complete" });
    expect((await rpc("tasks/get", { taskId })).result.result).toEqual({ ...text("a=first b=bee"), resultType: "complete" });
  });
});

describe.skipIf(isReference)("SessionTasks: ttlMs and pollIntervalMs", () => {
  it("the options are the creation result's and every snapshot's ttlMs and pollIntervalMs, as integers", async () => {
    const cases: { options: SessionTasksOptions; ttlMs: number | null; pollIntervalMs: number }[] = [
      { options: {}, ttlMs: 86_400_000, pollIntervalMs: 1000 },
      { options: { defaultTtlMs: 60_000, pollIntervalMs: 250 }, ttlMs: 60_000, pollIntervalMs: 250 },
      { options: { defaultTtlMs: 60_000, maxTtlMs: 30_000 }, ttlMs: 30_000, pollIntervalMs: 1000 },
      { options: { defaultTtlMs: 5000, maxTtlMs: 30_000 }, ttlMs: 5000, pollIntervalMs: 1000 },
      { options: { defaultTtlMs: null }, ttlMs: null, pollIntervalMs: 1000 },
      { options: { defaultTtlMs: null, maxTtlMs: 7000 }, ttlMs: 7000, pollIntervalMs: 1000 },
    ];
    for (const { options, ttlMs, pollIntervalMs } of cases) {
      const label = JSON.stringify(options);
      const { tasks, rpc } = setup(() => {}, options);
      const { finish } = gatedTool(tasks, "work");
      const created = await createTask(rpc, "work");
      expect({ ttlMs: created.ttlMs, pollIntervalMs: created.pollIntervalMs }, label).toEqual({ ttlMs, pollIntervalMs });
      const working = (await rpc("tasks/get", { taskId: created.taskId })).result;
      expect({ status: working.status, ttlMs: working.ttlMs, pollIntervalMs: working.pollIntervalMs }, label).toEqual({ status: "working", ttlMs, pollIntervalMs });
      finish.open();
      const done = await settled(rpc, created.taskId);
      expect({ ttlMs: done.ttlMs, pollIntervalMs: done.pollIntervalMs }, label).toEqual({ ttlMs, pollIntervalMs });
      if (ttlMs !== null) expect(Number.isInteger(done.ttlMs), label).toBe(true);
      expect(Number.isInteger(done.pollIntervalMs), label).toBe(true);
    }
  });

  it("bad ttl and poll options are TypeErrors with ERR_INVALID_ARG_TYPE", () => {
    for (const name of ["defaultTtlMs", "maxTtlMs", "pollIntervalMs"]) {
      for (const value of [0, 1.5, -1, "x", Number.NaN, Number.POSITIVE_INFINITY]) {
        expect(() => new SessionTasks({ basePath: tempDir(), [name]: value } as any), `${name}: ${String(value)}`).toThrow(
          expect.objectContaining({ name: "TypeError", code: "ERR_INVALID_ARG_TYPE" }),
        );
      }
    }
    expect(() => new SessionTasks({ basePath: tempDir(), pollIntervalMs: null } as any)).toThrow(expect.objectContaining({ name: "TypeError", code: "ERR_INVALID_ARG_TYPE" }));
    expect(() => new SessionTasks(null as any)).toThrow(expect.objectContaining({ name: "TypeError", code: "ERR_INVALID_ARG_TYPE" }));
  });

  it("a task is removed ttlMs after its creation (not its end), readable until then; a task still working then is cancelled first", async () => {
    vi.useFakeTimers({ toFake: ["Date", "setTimeout", "clearTimeout"] });
    const base = tempDir();
    const { tasks, rpc } = setup(() => {}, { basePath: base, defaultTtlMs: 1000 });
    const { finish } = gatedTool(tasks, "work");
    const { finish: never, calls } = gatedTool(tasks, "stuck");
    const { taskId } = await createTask(rpc, "work");
    const stuck = await createTask(rpc, "stuck");
    vi.advanceTimersByTime(600);
    finish.open();
    const done = await settled(rpc, taskId);
    expect(done.status).toBe("completed");
    vi.advanceTimersByTime(399);
    // 999 ms after creation: still there, on the wire and on disk.
    expect((await rpc("tasks/get", { taskId })).result).toMatchObject({ status: "completed", ttlMs: 1000 });
    expect((await rpc("tasks/get", { taskId: stuck.taskId })).result.status).toBe("working");
    expect(fs.existsSync(sessionFile(base, taskId))).toBe(true);
    vi.advanceTimersByTime(1);
    for (const id of [taskId, stuck.taskId]) {
      expect((await rpc("tasks/get", { taskId: id })).error).toEqual(NOT_FOUND);
      expect(fs.existsSync(sessionFile(base, id))).toBe(false);
    }
    expect(calls[0].token.isCancelled).toBe(true);
    never.open();
  });

  it("after a restart, a task past its ttl is gone", async () => {
    vi.useFakeTimers({ toFake: ["Date", "setTimeout", "clearTimeout"] });
    const base = tempDir();
    const { rpc } = setup((tasks) => tasks.registerTool("quick", { task: "required" }, () => text("quick")), { basePath: base, defaultTtlMs: 1000 });
    const { taskId } = await createTask(rpc, "quick");
    expect((await settled(rpc, taskId)).status).toBe("completed");
    made.splice(0).forEach((t) => t.close());
    vi.setSystemTime(Date.now() + 2000);
    const restarted = serve(sessionTasks({ basePath: base }));
    expect((await restarted("tasks/get", { taskId })).error).toEqual(NOT_FOUND);
    expect(fs.existsSync(sessionFile(base, taskId))).toBe(false);
  });
});

describe.skipIf(isReference)("SessionTasks: a task of another server process", () => {
  /** Starts the owner fixture: a server process with one task of `tool`; its id and stdout lines. */
  function owner(base: string, tool: "forever" | "ask") {
    const child: ChildProcess = spawn(
      process.execPath,
      [path.join(packageRoot, "__test__", "fixtures", "mcp-tasks-owner.mjs"), pathToFileURL(path.join(packageRoot, "mcp.mjs")).href, base, tool],
      { cwd: packageRoot, stdio: ["ignore", "pipe", "inherit"] },
    );
    children.push(child);
    const lines: string[] = [];
    let buffered = "";
    child.stdout!.on("data", (d) => {
      buffered += d;
      const parts = buffered.split("\n");
      buffered = parts.pop()!;
      lines.push(...parts);
    });
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    return { child, lines, exited };
  }

  it("a task whose server was killed while working reads failed with -32603 naming its pid, at once; never while it lived", async () => {
    const base = tempDir();
    const { child, lines, exited } = owner(base, "forever");
    await waitFor(() => lines.length > 0 || child.exitCode !== null);
    const [taskId] = lines;
    expect(taskId).toMatch(UUID);
    // Its progress reaches the file within persistIntervalMs (auto-save): wait for the file, not a time.
    await waitFor(() => readSession(base, taskId).progress?.currentStep === "indexing");
    const { rpc } = setup(() => {}, { basePath: base });
    for (let i = 0; i < 3; i++) expect((await rpc("tasks/get", { taskId })).result).toMatchObject({ status: "working", statusMessage: "indexing" });
    child.kill("SIGKILL");
    await exited;
    const failed = (await rpc("tasks/get", { taskId })).result;
    expect(failed.status).toBe("failed");
    expect(failed.error.code).toBe(-32603);
    expect(failed.error.message).toContain(`pid ${child.pid}`);
    expect(failed.statusMessage).toContain(`pid ${child.pid}`);
    expect(failed).not.toHaveProperty("result");
    // It is terminal: a cancel and an update are acknowledged and change nothing.
    for (const method of ["tasks/cancel", "tasks/update"]) {
      expect(withoutMeta((await rpc(method, { taskId, inputResponses: {} })).result), method).toEqual({ resultType: "complete" });
    }
    expect((await rpc("tasks/get", { taskId })).result).toMatchObject({ status: "failed", error: failed.error });
  });

  it("tasks/cancel sent to this server cancels a live task of another process: its work sees its token cancelled", async () => {
    const base = tempDir();
    const { child, lines } = owner(base, "forever");
    await waitFor(() => lines.length > 0 || child.exitCode !== null);
    const [taskId] = lines;
    const { rpc } = setup(() => {}, { basePath: base });
    expect((await rpc("tasks/get", { taskId })).result.status).toBe("working");
    const ack = await rpc("tasks/cancel", { taskId });
    expect(ack.error).toBeUndefined();
    expect(withoutMeta(ack.result)).toEqual({ resultType: "complete" });
    await waitFor(() => lines.length > 1);
    expect(lines[1]).toBe("cancelled: cancelled by tasks/cancel");
    await waitFor(() => readSession(base, taskId).status === "cancelled");
    expect((await rpc("tasks/get", { taskId })).result.status).toBe("cancelled");
    expect(child.exitCode).toBeNull();
  });

  /** A task of a server process on `base` that was killed with SIGKILL while its task waited for input; its id. */
  async function diedWaitingForInput(base: string): Promise<string> {
    const { child, lines, exited } = owner(base, "ask");
    await waitFor(() => lines.length > 0 || child.exitCode !== null);
    const [taskId] = lines;
    await waitFor(() => readSession(base, taskId).context.mcpTask.status === "input_required");
    child.kill("SIGKILL");
    await exited;
    return taskId;
  }

  it("a task whose server died while waiting for input still waits; the answer makes this server take it over and run its tool again", async () => {
    const base = tempDir();
    const taskId = await diedWaitingForInput(base);
    const ran: { id: string | undefined; answer: unknown }[] = [];
    const { rpc } = setup(
      (tasks) =>
        tasks.registerTool("ask", { task: "required" }, async (_args, { id, input }) => {
          const answer = await input({ method: "elicitation/create", params: {} }, "confirm");
          ran.push({ id, answer });
          return text(`taken over: ${JSON.stringify(answer)}`);
        }),
      { basePath: base },
    );
    const waiting = (await rpc("tasks/get", { taskId })).result;
    expect(waiting.status).toBe("input_required");
    expect(Object.keys(waiting.inputRequests)).toEqual(["confirm"]);
    expect(waiting.inputRequests.confirm.params.message).toBe("Go on?");
    const yes = { action: "accept", content: { confirm: true } };
    expect(withoutMeta((await rpc("tasks/update", { taskId, inputResponses: { confirm: yes } })).result)).toEqual({ resultType: "complete" });
    const done = await settled(rpc, taskId);
    expect(done).toMatchObject({ status: "completed", result: { ...text(`taken over: ${JSON.stringify(yes)}`), resultType: "complete" } });
    expect(ran).toEqual([{ id: taskId, answer: yes }]);
  });

  it("a task whose server died while waiting for input can be cancelled by another server", async () => {
    const base = tempDir();
    const taskId = await diedWaitingForInput(base);
    const { rpc } = setup(() => {}, { basePath: base });
    expect((await rpc("tasks/get", { taskId })).result.status).toBe("input_required");
    expect(withoutMeta((await rpc("tasks/cancel", { taskId })).result)).toEqual({ resultType: "complete" });
    expect((await rpc("tasks/get", { taskId })).result.status).toBe("cancelled");
    expect(readSession(base, taskId).context.mcpTask.status).toBe("cancelled");
  });

  // A work awaiting `input()` is released with a CancellationError however its token is
  // cancelled, here by a tasks/cancel sent to another server on the folder (it once was only by
  // a tasks/cancel that reached the server running it).
  it("a work awaiting input() gets a CancellationError when tasks/cancel reaches another server on the folder", async () => {
    const base = tempDir();
    const outcome: string[] = [];
    const { rpc } = setup(
      (tasks) =>
        tasks.registerTool("ask", { task: "required" }, async (_args, { input }) => {
          try {
            await input({ method: "elicitation/create", params: { mode: "form", message: "Go on?", requestedSchema: { type: "object", properties: {} } } }, "go");
            outcome.push("answered");
          } catch (error) {
            outcome.push((error as Error).name);
            throw error;
          }
          return text("went on");
        }),
      { basePath: base },
    );
    const other = serve(sessionTasks({ basePath: base }));
    const { taskId } = await createTask(rpc, "ask");
    await waitFor(() => readSession(base, taskId).context.mcpTask.status === "input_required");
    expect(withoutMeta((await other("tasks/cancel", { taskId })).result)).toEqual({ resultType: "complete" });
    // The server running it recorded the cancel (in its token's callback); then one turn for the rejection.
    await waitFor(() => readSession(base, taskId).context.mcpTask.status === "cancelled");
    await new Promise((resolve) => setImmediate(resolve));
    expect((await rpc("tasks/get", { taskId })).result.status).toBe("cancelled");
    expect(outcome).toEqual(["CancellationError"]);
  });
});

describe.skipIf(isReference)("SessionTasks: a tool's before (input needed before the task exists)", () => {
  it("before's InputRequiredResult answers the call; the retry with the answer creates the task, whose work gets what before returned", async () => {
    const base = tempDir();
    let befores = 0;
    const { rpc } = setup(
      (tasks) =>
        tasks.registerTool(
          "greet",
          {
            task: "required",
            before: (_args, ctx) => {
              befores++;
              const answer = ctx.mcpReq.inputResponses?.name;
              if (answer?.action === "accept") return { name: answer.content.name as string };
              return inputRequired({
                inputRequests: { name: inputRequired.elicit({ message: "Your name?", requestedSchema: { type: "object", properties: { name: { type: "string" } }, required: ["name"] } }) },
              }) as unknown as Record<string, unknown>;
            },
          },
          (_args, { prepared }) => text(`Hello, ${(prepared as { name: string }).name}!`),
        ),
      { basePath: base },
    );
    const caps = { ...WITH_TASKS, elicitation: { form: {} } };
    const first = await rpc("tools/call", { name: "greet", arguments: {} }, { caps });
    expect(first.error).toBeUndefined();
    expect(first.result.resultType).toBe("input_required");
    expect(first.result.inputRequests.name).toMatchObject({ method: "elicitation/create", params: { message: "Your name?" } });
    expect(taskFiles(base)).toEqual([]);
    const second = await rpc("tools/call", { name: "greet", arguments: {}, inputResponses: { name: { action: "accept", content: { name: "Ada" } } } }, { caps });
    expect(second.result).toMatchObject({ resultType: "task", status: "working" });
    const { taskId } = second.result;
    expect(readSession(base, taskId).context.mcpTask.prepared).toEqual({ name: "Ada" });
    expect(await settled(rpc, taskId)).toMatchObject({ status: "completed", result: { ...text("Hello, Ada!"), resultType: "complete" } });
    // Without the extension, -32021 comes first: before does not run.
    expect(befores).toBe(2);
    expect((await rpc("tools/call", { name: "greet", arguments: {} }, { caps: { elicitation: { form: {} } } })).error).toMatchObject(MISSING_CAPABILITY);
    expect(befores).toBe(2);
  });
});

describe.skipIf(isReference)("SessionTasks: the SDK internal it relies on", () => {
  /** An object shaped like an McpServer, `handlers` as its `server._requestHandlers`. */
  const lookalike = (handlers?: unknown) => ({
    registerTool: () => {},
    server: { registerCapabilities: () => {}, setRequestHandler: () => {}, ...(handlers === undefined ? {} : { _requestHandlers: handlers }) },
  });

  it("enable() on a server without McpServer's tools/call in server._requestHandlers throws, naming it and the SDK version", () => {
    const tasks = sessionTasks();
    tasks.registerTool("work", { task: "optional" }, () => text("work"));
    for (const handlers of [undefined, new Map(), new Map([["tools/list", () => ({})]]), {}]) {
      expect(() => tasks.enable(lookalike(handlers))).toThrow(/_requestHandlers.*@modelcontextprotocol\/server 2\.4/);
    }
    expect(() => tasks.enable({} as any)).toThrow(expect.objectContaining({ name: "TypeError", code: "ERR_INVALID_ARG_TYPE" }));
  });

  it("with the installed SDK (2.4.0), enable() wraps McpServer's own tools/call handler: this fails loudly if the SDK moves it", async () => {
    const sdk = JSON.parse(fs.readFileSync(path.join(packageRoot, "node_modules", "@modelcontextprotocol", "server", "package.json"), "utf8"));
    expect(sdk.version).toBe("2.4.0");
    const tasks = sessionTasks();
    tasks.registerTool("work", { task: "required" }, () => text("work"));
    const server = new McpServer({ name: "guard", version: "1.0.0" });
    server.registerTool("plain", { description: "a tool of the SDK's own" }, () => ({ content: [] }));
    const handlers = (server.server as any)._requestHandlers;
    expect(handlers).toBeInstanceOf(Map);
    const original = handlers.get("tools/call");
    expect(typeof original).toBe("function");
    expect(tasks.enable(server)).toBe(server);
    const wrapped = handlers.get("tools/call");
    expect(typeof wrapped).toBe("function");
    expect(wrapped).not.toBe(original);
    for (const method of TASK_METHODS) expect(handlers.has(method), method).toBe(true);
  });
});

describe.skipIf(isReference)("SessionTasks: registerTool's arguments", () => {
  it("a bad name, config, handler, policy or before is a TypeError with a code; a name twice is an error", () => {
    const tasks = sessionTasks();
    const work = () => text("x");
    const typeError = (code: string) => expect.objectContaining({ name: "TypeError", code });
    expect(() => tasks.registerTool("", {}, work)).toThrow(typeError("ERR_INVALID_ARG_TYPE"));
    expect(() => tasks.registerTool(5 as any, {}, work)).toThrow(typeError("ERR_INVALID_ARG_TYPE"));
    expect(() => tasks.registerTool("t", null as any, work)).toThrow(typeError("ERR_INVALID_ARG_TYPE"));
    expect(() => tasks.registerTool("t", "required" as any, work)).toThrow(typeError("ERR_INVALID_ARG_TYPE"));
    expect(() => tasks.registerTool("t", {}, "work" as any)).toThrow(typeError("ERR_INVALID_ARG_TYPE"));
    expect(() => tasks.registerTool("t", { task: "sometimes" as any }, work)).toThrow(typeError("ERR_INVALID_ARG_VALUE"));
    expect(() => tasks.registerTool("t", { task: true as any }, work)).toThrow(typeError("ERR_INVALID_ARG_VALUE"));
    expect(() => tasks.registerTool("t", { before: 5 as any }, work)).toThrow(typeError("ERR_INVALID_ARG_TYPE"));
    // None of those registered anything: "t" is free.
    tasks.registerTool("t", {}, work);
    expect(() => tasks.registerTool("t", {}, work)).toThrow(expect.objectContaining({ code: "ERR_INVALID_ARG_VALUE", message: "Tool t is already registered" }));
  });
});

describe.skipIf(isReference)("SessionTasks and the 1.x SessionTaskStore on one folder", () => {
  it("neither sees the other's tasks", async () => {
    const base = tempDir();
    const store = new SessionTaskStore({ basePath: base });
    try {
      const old = await store.createTask({}, 1, { method: "tools/call", params: { name: "research" } } as any);
      const { rpc } = setup((tasks) => tasks.registerTool("quick", { task: "required" }, () => text("quick")), { basePath: base });
      const { taskId } = await createTask(rpc, "quick");
      expect((await settled(rpc, taskId)).status).toBe("completed");
      // Both are files of the folder.
      expect(fs.existsSync(sessionFile(base, old.taskId))).toBe(true);
      expect(fs.existsSync(sessionFile(base, taskId))).toBe(true);
      expect(await store.getTask(taskId)).toBeNull();
      expect((await store.listTasks()).tasks.map((t: any) => t.taskId)).toEqual([old.taskId]);
      expect(store.getAllTasks().map((t: any) => t.taskId)).toEqual([old.taskId]);
      await expect(store.getTaskResult(taskId)).rejects.toThrow(`Task with ID ${taskId} not found`);
      for (const method of TASK_METHODS) expect((await rpc(method, { taskId: old.taskId })).error, method).toEqual(NOT_FOUND);
      // The 1.x task was left alone by the cancel.
      expect(await store.getTask(old.taskId)).toMatchObject({ status: "working" });
    } finally {
      store.cleanup();
      store.close();
    }
  });
});
