// Issue 24, item 6: `notifications/tasks` for subscribed task ids, where the SDK lets a server
// have them. The SDK v2 answers `subscriptions/listen` itself and drops `taskIds`; on stdio,
// `SessionTasks#listen` wraps the transport (`serveStdio`'s public `transport` option) so that a
// listen for task ids is acknowledged with them and gets each task's state, then its changes.
// The example server (examples/mcp-tasks-server.mjs, stdio) is driven with raw JSON-RPC lines,
// as a 2026-07-28 client sends them (the SDK's own Client has no tasks support).
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { isReference, packageRoot, tempDirs, waitFor } from "./helpers";

const tempDir = tempDirs();
const EXAMPLE = path.join(packageRoot, "examples", "mcp-tasks-server.mjs");
const TASKS = "io.modelcontextprotocol/tasks";
const SUBSCRIPTION_ID = "io.modelcontextprotocol/subscriptionId";
const WITH_TASKS = { extensions: { [TASKS]: {} } };

const children: ChildProcessWithoutNullStreams[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill("SIGKILL");
});

/** The per-request `_meta` envelope of a 2026-07-28 request. */
const envelope = (capabilities: object) => ({
  "io.modelcontextprotocol/protocolVersion": "2026-07-28",
  "io.modelcontextprotocol/clientInfo": { name: "msw-session-test", version: "1.0.0" },
  "io.modelcontextprotocol/clientCapabilities": capabilities,
});

/** The example server on stdio, with every message it writes, in order. */
function start() {
  const child = spawn(process.execPath, [EXAMPLE], {
    cwd: packageRoot,
    env: { ...process.env, MSW_BASE: tempDir(), MSW_TASK_POLL_MS: "20" },
  });
  children.push(child);
  const received: any[] = [];
  let buffer = "";
  child.stdout.setEncoding("utf8");
  child.stdout.on("data", (chunk: string) => {
    buffer += chunk;
    for (let at = buffer.indexOf("\n"); at >= 0; at = buffer.indexOf("\n")) {
      received.push(JSON.parse(buffer.slice(0, at)));
      buffer = buffer.slice(at + 1);
    }
  });
  let nextId = 1;
  const send = (message: object) => child.stdin.write(`${JSON.stringify({ jsonrpc: "2.0", ...message })}\n`);
  /** Sends a request and resolves with its response. */
  const request = async (method: string, params: object, capabilities: object = WITH_TASKS) => {
    const id = nextId++;
    send({ id, method, params: { ...params, _meta: { ...(params as { _meta?: object })._meta, ...envelope(capabilities) } } });
    await waitFor(() => received.some((m) => m.id === id && ("result" in m || "error" in m)));
    return received.find((m) => m.id === id && ("result" in m || "error" in m));
  };
  /** The `notifications/tasks` of subscription `id` so far. */
  const notifications = (id: number) => received.filter((m) => m.method === "notifications/tasks" && m.params._meta?.[SUBSCRIPTION_ID] === id);
  /** Sends a `subscriptions/listen` for `taskIds`; resolves with its id once acknowledged (or answered). */
  const listen = async (taskIds: string[], capabilities: object = WITH_TASKS) => {
    const id = nextId++;
    send({ id, method: "subscriptions/listen", params: { notifications: { taskIds }, _meta: envelope(capabilities) } });
    await waitFor(() => received.some((m) => m.id === id || (m.method === "notifications/subscriptions/acknowledged" && m.params._meta?.[SUBSCRIPTION_ID] === id)));
    return { id, ack: received.find((m) => m.method === "notifications/subscriptions/acknowledged" && m.params._meta?.[SUBSCRIPTION_ID] === id), answer: received.find((m) => m.id === id) };
  };
  return { send, request, listen, notifications, received };
}

describe.skipIf(isReference)("notifications/tasks on stdio (SessionTasks#listen)", () => {
  it("a listen for task ids is acknowledged with the ones honoured, gets each one's state at once, then its end with the result", async () => {
    const server = start();
    await server.request("server/discover", {});
    // A task that waits for input, so that its states are known when the listen comes.
    const created = await server.request("tools/call", { name: "confirm_delete", arguments: { filename: "a.txt" } });
    const taskId = created.result.taskId as string;
    // Polled until the work has asked (each poll a round trip).
    while ((await server.request("tasks/get", { taskId })).result.status !== "input_required");

    const { id, ack } = await server.listen([taskId, "6f1c1a52-0000-4000-8000-000000000000", "not-a-task"]);
    // Only the task that exists is honoured, in the SDK's acknowledgement.
    expect(ack.params.notifications.taskIds).toEqual([taskId]);
    await waitFor(() => server.notifications(id).length >= 1);
    const [first] = server.notifications(id);
    expect(first.params).toMatchObject({ taskId, status: "input_required", inputRequests: { confirm: { method: "elicitation/create" } } });
    expect(Number.isInteger(first.params.ttlMs) && Number.isInteger(first.params.pollIntervalMs)).toBe(true);
    // A second listen on the same task gets the state too; the first is not sent it again (the
    // state a new listen gets goes to that listen only, after its acknowledgement, in order).
    const again = await server.listen([taskId]);
    await waitFor(() => server.notifications(again.id).length >= 1);
    expect(server.notifications(again.id)[0].params).toMatchObject({ taskId, status: "input_required" });
    expect(server.notifications(id)).toHaveLength(1);

    const updated = await server.request("tasks/update", { taskId, inputResponses: { confirm: { action: "accept", content: { confirm: true } } } });
    expect(updated.result.resultType).toBe("complete");
    await waitFor(() => server.notifications(id).some((m) => m.params.status === "completed"));
    const last = server.notifications(id).at(-1);
    // The same DetailedTask tasks/get gives: the result inlined.
    expect(last.params).toMatchObject({ taskId, status: "completed", result: { resultType: "complete", content: [{ type: "text", text: "Deleted a.txt" }] } });
    const got = await server.request("tasks/get", { taskId });
    const { _meta: _a, ...notified } = last.params;
    const { _meta: _b, resultType: _c, ...polled } = got.result;
    expect(notified).toEqual(polled);
  });

  it("a plain call (no extension) with a progressToken gets its session's progress as notifications/progress, before its result", async () => {
    const server = start();
    await server.request("server/discover", {});
    const answer = await server.request("tools/call", { name: "slow_compute", arguments: { seconds: 2 }, _meta: { progressToken: "p-1" } }, {});
    expect(answer.result.content[0].text).toBe("slow_compute: done after 2 s");
    const at = server.received.indexOf(answer);
    const progress = server.received.slice(0, at).filter((m) => m.method === "notifications/progress");
    expect(progress.map((m) => m.params)).toEqual([
      { progressToken: "p-1", progress: 0, total: 100, message: "second 1 of 2" },
      { progressToken: "p-1", progress: 50, total: 100, message: "second 2 of 2" },
    ]);
  });

  it("a listen for task ids without the extension is answered -32021 with requiredCapabilities", async () => {
    const server = start();
    await server.request("server/discover", {});
    const created = await server.request("tools/call", { name: "slow_compute", arguments: { seconds: 60 } });
    const { answer, ack } = await server.listen([created.result.taskId], {});
    expect(ack).toBeUndefined();
    expect(answer.error).toEqual({ code: -32021, message: "Missing required client capability", data: { requiredCapabilities: { extensions: { [TASKS]: {} } } } });
  });

  it("a cancelled listen gets nothing more, while another one on the same task does", async () => {
    const server = start();
    await server.request("server/discover", {});
    const created = await server.request("tools/call", { name: "confirm_delete", arguments: { filename: "b.txt" } });
    const taskId = created.result.taskId as string;
    const first = await server.listen([taskId]);
    const second = await server.listen([taskId]);
    await waitFor(() => server.notifications(first.id).length >= 1 && server.notifications(second.id).length >= 1);
    server.send({ method: "notifications/cancelled", params: { requestId: first.id, _meta: envelope(WITH_TASKS) } });
    // Input comes once the task asked for it.
    await waitFor(() => server.received.some((m) => m.method === "notifications/tasks" && m.params.taskId === taskId && m.params.status === "input_required"));
    const before = server.notifications(first.id).length;
    // tasks/update is answered after the cancel was read (one stdin, in order).
    await server.request("tasks/update", { taskId, inputResponses: { confirm: { action: "decline" } } });
    await waitFor(() => server.notifications(second.id).some((m) => m.params.status === "completed"));
    // Every subscription of a change is sent in one pass, in order: the cancelled one got none of it.
    expect(server.notifications(first.id).length).toBe(before);
    expect(server.notifications(second.id).at(-1).params.result.content[0].text).toBe("Kept b.txt");
  });
});
