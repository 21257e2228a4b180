// What a strict ESM TypeScript MCP server writes with msw-session/mcp: the store where the
// SDK's InMemoryTaskStore went, and trackRequest in a plain tool. Type-checked with `tsc -p .`
// in a project that installed the package and the SDK; never run.
import type { TaskStore } from "@modelcontextprotocol/sdk/experimental/tasks";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { SessionManager } from "msw-session";
import { SessionTaskStore, trackRequest } from "msw-session/mcp";

const taskStore: TaskStore = new SessionTaskStore({ basePath: process.cwd() });
const manager = new SessionManager();
const server = new McpServer({ name: "consumer", version: "1.0.0" }, { capabilities: { tasks: {} }, taskStore });

server.registerTool("work", { description: "works" }, async (extra) => {
  const session = manager.createSession("work");
  const stop = trackRequest(extra, session, { manager, intervalMs: 50 });
  try {
    session.progress.start(2);
    session.progress.completeStep("one");
    session.cancellation.token.throwIfCancelled();
    return { content: [{ type: "text", text: session.id }] };
  } finally {
    stop();
  }
});

export async function poll(taskId: string): Promise<string | undefined> {
  const task = await taskStore.getTask(taskId);
  (taskStore as SessionTaskStore).tokenOf(taskId)?.throwIfCancelled();
  return task?.statusMessage;
}
