#!/usr/bin/env node
// An MCP server over stdio with one long tool, `research`, used both ways:
//
// - as a plain call (`tools/call`): its session's progress goes to the client as
//   `notifications/progress` (when the client sent a progressToken), and a client's cancel
//   (`notifications/cancelled`) stops it cooperatively — `trackRequest`;
// - as a task (`research-task`, `tools/call` with `task`): the task lives in a
//   `SessionTaskStore`, so the client polls it (`tasks/get`), fetches its result
//   (`tasks/result`), cancels it (`tasks/cancel`), and a restarted server still knows it — and
//   reports it `failed` if this process died while it was working.
//
// Sessions go to `<MSW_BASE or the current folder>/.msw/sessions/`: `npx msw-session ls` shows them.
//
//   node examples/mcp-server.mjs            (an MCP client starts it; it speaks JSON-RPC on stdio)
import { InMemoryTaskMessageQueue } from "@modelcontextprotocol/sdk/experimental/tasks";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { z } from "zod";
import { CancellationError, SessionManager } from "msw-session";
import { SessionTaskStore, trackRequest } from "msw-session/mcp";

const basePath = process.env.MSW_BASE ?? process.cwd();
const taskStore = new SessionTaskStore({ basePath });
const manager = new SessionManager({ basePath });

const server = new McpServer(
  { name: "msw-session-example", version: "1.0.0" },
  { capabilities: { tasks: { requests: { tools: { call: {} } } } }, taskStore, taskMessageQueue: new InMemoryTaskMessageQueue() },
);

const args = { steps: z.number().int().min(1).default(5), stepMs: z.number().min(0).default(50) };

/** The long work: `steps` steps of `stepMs`, each checkpointed; stops when its token is cancelled. */
async function research(session, { steps, stepMs }) {
  session.progress.start(steps);
  for (let i = 0; i < steps; i++) {
    await new Promise((resolve) => setTimeout(resolve, stepMs));
    session.cancellation.token.throwIfCancelled();
    session.context.done = i + 1;
    session.progress.completeStep(`source ${i + 1} of ${steps}`);
  }
  return { content: [{ type: "text", text: `researched ${steps} sources (session ${session.id})` }] };
}

server.registerTool("research", { description: "Researches a topic, step by step", inputSchema: args }, async (input, extra) => {
  const session = manager.createSession("research", { done: 0 });
  const stop = trackRequest(extra, session, { manager });
  try {
    const result = await research(session, input);
    manager.completeSession(session.id);
    return result;
  } catch (error) {
    if (error instanceof CancellationError) return { content: [{ type: "text", text: error.message }], isError: true };
    manager.failSession(session.id, String(error));
    throw error;
  } finally {
    stop();
  }
});

server.experimental.tasks.registerToolTask(
  "research-task",
  { description: "Researches a topic as a task", inputSchema: args, execution: { taskSupport: "required" } },
  {
    // The task's session and token, progress, tasks/cancel, the result or the failure: all wired by run.
    createTask: (input, extra) => taskStore.run(extra, (session) => research(session, input)),
    getTask: (_input, { taskId, taskStore: store }) => store.getTask(taskId),
    getTaskResult: (_input, { taskId, taskStore: store }) => store.getTaskResult(taskId),
  },
);

await server.connect(new StdioServerTransport());
