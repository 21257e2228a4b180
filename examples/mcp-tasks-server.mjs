#!/usr/bin/env node
// An MCP server on the SDK v2 (`@modelcontextprotocol/server`) with the tasks extension
// (`io.modelcontextprotocol/tasks`, spec revision 2026-07-28) on the session store: every task
// is a session of msw-session, on disk in `<MSW_BASE>/.msw/sessions/` before its
// `CreateTaskResult` is sent, so a restarted server (or another one on the folder) answers
// `tasks/get` for it; a task whose server died while working reads `failed`, one that waited
// for input still waits.
//
//   node examples/mcp-tasks-server.mjs                          stdio (an MCP client starts it)
//   node examples/mcp-tasks-server.mjs --http 127.0.0.1:<port>  Streamable HTTP at /mcp (stateless)
//
// Environment: `MSW_BASE`, the folder that holds `.msw/` (default: the current folder);
// `MSW_TASK_POLL_MS`, the `pollIntervalMs` its tasks suggest (default 1000).
//
// Its tools are the fixtures the official conformance referee's `tasks-*` scenarios ask of a
// server under test (`@modelcontextprotocol/conformance`): `greet` (never a task),
// `slow_compute` (optional), `failing_job`, `protocol_error_job`, `confirm_delete`,
// `multi_input` and `test_tool_with_task` (required).
import { createServer } from "node:http";
import { createMcpHandler, fromJsonSchema, inputRequired, McpServer } from "@modelcontextprotocol/server";
import { serveStdio, StdioServerTransport } from "@modelcontextprotocol/server/stdio";
import { localhostHostValidation, localhostOriginValidation, toNodeHandler } from "@modelcontextprotocol/node";
import { SessionTasks } from "msw-session/mcp";

const basePath = process.env.MSW_BASE ?? process.cwd();
const pollIntervalMs = process.env.MSW_TASK_POLL_MS ? Number(process.env.MSW_TASK_POLL_MS) : undefined;
const tasks = new SessionTasks({ basePath, ...(pollIntervalMs === undefined ? {} : { pollIntervalMs }) });

const object = (properties, required = []) => fromJsonSchema({ type: "object", properties, required });
const text = (value) => ({ content: [{ type: "text", text: value }] });

/** Waits `ms`, or rejects with the token's `CancellationError` as soon as it is cancelled. */
function wait(token, ms) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      stop();
      resolve();
    }, ms);
    const stop = token.onCancelled(() => {
      clearTimeout(timer);
      try {
        token.throwIfCancelled();
      } catch (error) {
        reject(error);
      }
    });
  });
}

/** An elicitation form asking for `properties`. */
const elicit = (message, properties) => ({
  method: "elicitation/create",
  params: { mode: "form", message, requestedSchema: { type: "object", properties, required: Object.keys(properties) } },
});

tasks.registerTool("greet", { description: "Says hello (never a task)", task: "never", inputSchema: object({ name: { type: "string" } }, ["name"]) }, ({ name }) =>
  text(`Hello, ${name}!`),
);

tasks.registerTool(
  "slow_compute",
  {
    description: "Works for `seconds` seconds, one step a second; a task when the client declares the extension",
    task: "optional",
    inputSchema: object({ seconds: { type: "number" }, label: { type: "string" } }, ["seconds"]),
  },
  async ({ seconds, label }, { session, token }) => {
    const steps = Math.max(0, Math.ceil(seconds));
    for (let i = 0; i < steps; i++) {
      session.progress.setProgress(Math.round((i / Math.max(steps, 1)) * 100), `second ${i + 1} of ${steps}`);
      await wait(token, Math.min(1000, (seconds - i) * 1000));
    }
    return text(`${label ?? "slow_compute"}: done after ${seconds} s`);
  },
);

tasks.registerTool("failing_job", { description: "A task whose tool ends with an isError result", task: "required" }, async (_args, { token }) => {
  await wait(token, 1000);
  return { content: [{ type: "text", text: "failing_job: the job failed" }], isError: true };
});

tasks.registerTool("protocol_error_job", { description: "A task that fails with a JSON-RPC error", task: "required" }, async (_args, { token }) => {
  await wait(token, 200);
  throw Object.assign(new Error("protocol_error_job: the job hit an internal error"), { code: -32603 });
});

tasks.registerTool(
  "confirm_delete",
  { description: "Asks the user to confirm, then 'deletes' the file", task: "required", inputSchema: object({ filename: { type: "string" } }, ["filename"]) },
  async ({ filename }, { input }) => {
    const answer = await input(elicit(`Delete ${filename}?`, { confirm: { type: "boolean" } }), "confirm");
    const confirmed = answer?.action === "accept" && answer.content?.confirm === true;
    return text(confirmed ? `Deleted ${filename}` : `Kept ${filename}`);
  },
);

tasks.registerTool("multi_input", { description: "Asks two questions at once", task: "required" }, async (_args, { input }) => {
  const [name, confirm] = await Promise.all([
    input(elicit("Your name?", { name: { type: "string" } }), "name"),
    input(elicit("Go on?", { confirm: { type: "boolean" } }), "confirm"),
  ]);
  return text(`name: ${name?.content?.name ?? "(none)"}, confirmed: ${confirm?.content?.confirm === true}`);
});

tasks.registerTool(
  "test_tool_with_task",
  {
    description: "Asks for a name on the call itself (multi round-trip), then greets in a task",
    task: "required",
    // Input needed before the task exists: answered on the call's retry, never in the task.
    before: (_args, ctx) => {
      const answer = ctx.mcpReq.inputResponses?.name;
      if (answer?.action === "accept" && typeof answer.content?.name === "string") return { name: answer.content.name };
      return inputRequired({ inputRequests: { name: inputRequired.elicit({ message: "Your name?", requestedSchema: { type: "object", properties: { name: { type: "string" } }, required: ["name"] } }) } });
    },
  },
  async (_args, { prepared, token }) => {
    await wait(token, 100);
    return text(`Hello, ${prepared.name}!`);
  },
);

/** A new McpServer with the extension and the tools (one per stdio connection or HTTP request). */
const newServer = () => tasks.enable(new McpServer({ name: "msw-session-tasks-example", version: "1.0.0" }));

const at = process.argv.indexOf("--http");
if (at >= 0) {
  const address = process.argv[at + 1] ?? "";
  const match = /^(127\.0\.0\.1|localhost|\[::1\]):(\d+)$/.exec(address);
  if (!match) {
    console.error(`usage: mcp-tasks-server.mjs --http 127.0.0.1:<port> (got ${JSON.stringify(address)})`);
    process.exit(2);
  }
  const handler = createMcpHandler(newServer, { onerror: (error) => console.error(`mcp-tasks-server: ${error.message}`) });
  const serve = toNodeHandler(handler);
  const validHost = localhostHostValidation();
  const validOrigin = localhostOriginValidation();
  const http = createServer((req, res) => {
    if (!validHost(req, res) || !validOrigin(req, res)) return;
    if (new URL(req.url ?? "/", "http://localhost").pathname !== "/mcp") {
      res.writeHead(404).end();
      return;
    }
    void serve(req, res);
  });
  http.listen(Number(match[2]), match[1].replace(/^\[|\]$/g, ""), () => {
    const { port } = /** @type {import("node:net").AddressInfo} */ (http.address());
    // The one line a test waits for: where it listens.
    console.error(`mcp-tasks-server: listening on http://${match[1]}:${port}/mcp`);
  });
  const stop = () => {
    http.close();
    void handler.close();
    tasks.close();
  };
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
} else {
  // `listen` wraps the transport so that a `subscriptions/listen` for task ids gets `notifications/tasks`.
  serveStdio(newServer, { transport: tasks.listen(new StdioServerTransport()) });
  process.stdin.once("end", () => tasks.close());
}
