// msw-session/mcp, typed, on the SDK v2: `SessionTasks#enable` takes the SDK's own `McpServer`
// and returns it as it is, `listen` the SDK's stdio transport, and a tool's work is typed with its
// arguments, its `prepared` and its task context. Type-checked by `npx tsc -p __test__/tsconfig.json`
// (strict, Node16); never run.
import { createMcpHandler, McpServer } from "@modelcontextprotocol/server";
import { serveStdio, StdioServerTransport } from "@modelcontextprotocol/server/stdio";
import { SessionTasks, type TaskContext } from "msw-session/mcp";

export function aTasksServer(basePath: string): void {
  const tasks = new SessionTasks({ basePath, defaultTtlMs: 3_600_000, maxTtlMs: null, pollIntervalMs: 500, principal: (authInfo) => authInfo.clientId });
  tasks.registerTool<{ file: string }, { user: string }>(
    "confirm",
    { description: "asks first", task: "required", before: () => ({ user: "ada" }) },
    async ({ file }, task: TaskContext<{ user: string }>) => {
      const answer = await task.input({ method: "elicitation/create", params: { message: `Delete ${file}?` } }, "confirm");
      task.session.progress.setProgress(50, "deleting");
      task.token.throwIfCancelled();
      return { content: [{ type: "text", text: `${task.prepared?.user ?? "?"}: ${String(answer.action)}` }] };
    },
  );
  const server: McpServer = tasks.enable(new McpServer({ name: "typed", version: "1.0.0" }));
  void server;
  const transport: StdioServerTransport = tasks.listen(new StdioServerTransport());
  serveStdio(() => tasks.enable(new McpServer({ name: "typed", version: "1.0.0" })), { transport });
  const handler = createMcpHandler(() => tasks.enable(new McpServer({ name: "typed", version: "1.0.0" })));
  void handler;
  tasks.cleanup();
  tasks.close();
}
