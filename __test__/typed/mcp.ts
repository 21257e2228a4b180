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
