// msw-session/mcp, typed: a `SessionTaskStore` is the SDK's `TaskStore` (it goes where
// `InMemoryTaskStore` went), and its additions are typed. Type-checked by
// `npx tsc -p __test__/tsconfig.json` (strict, Node16); never run.
import type { TaskStore } from "@modelcontextprotocol/sdk/experimental/tasks" with { "resolution-mode": "import" };
import { SessionTaskStore } from "msw-session/mcp";
import type { CancellationToken, Session } from "msw-session";

export async function useTheStore(basePath: string): Promise<string> {
  const store: TaskStore = new SessionTaskStore({ basePath, persistIntervalMs: 0 });
  const task = await store.createTask({ ttl: 60_000 }, 1, { method: "tools/call", params: {} });
  const durable = store as SessionTaskStore;
  const session: Session | undefined = durable.sessionOf(task.taskId);
  const token: CancellationToken | undefined = durable.tokenOf(task.taskId);
  session?.progress.setProgress(50, "halfway");
  if (token?.isCancelled) return "cancelled";
  await store.storeTaskResult(task.taskId, "completed", { content: [] });
  const found = await store.getTask(task.taskId);
  durable.close();
  return found?.status ?? "gone";
}

/** A task tool in a few lines: `run` is the `createTask` handler, typed as the SDK wants it. */
export async function aTaskTool(basePath: string): Promise<void> {
  const { McpServer } = await import("@modelcontextprotocol/sdk/server/mcp.js");
  const taskStore = new SessionTaskStore({ basePath, defaultTtl: 3_600_000, maxTtl: null, fsync: true, fileMode: 0o600 });
  const server = new McpServer({ name: "typed", version: "1.0.0" }, { capabilities: { tasks: { requests: { tools: { call: {} } } } }, taskStore });
  server.experimental.tasks.registerToolTask(
    "count",
    { description: "counts", execution: { taskSupport: "required" } },
    {
      createTask: (extra) =>
        taskStore.run(extra, async (session: Session, token: CancellationToken) => {
          session.progress.start(3);
          for (let i = 0; i < 3; i++) {
            token.throwIfCancelled();
            session.progress.completeStep(`step ${i + 1}`);
          }
          return { content: [{ type: "text" as const, text: "counted" }] };
        }),
      getTask: (extra) => extra.taskStore.getTask(extra.taskId),
      getTaskResult: async (extra) => (await extra.taskStore.getTaskResult(extra.taskId)) as { content: [] },
    },
  );
}
