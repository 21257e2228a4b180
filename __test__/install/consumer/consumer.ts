// What a strict ESM TypeScript project writes with msw-session. Type-checked with `tsc -p .`
// in a project that installed the package; never run.
import { readFile } from "node:fs/promises";

import {
  CancellationError,
  CancellationSource,
  SessionManager,
  attachSession,
  createTimeoutToken,
  formatProgress,
  requestCancellation,
  type ProgressState,
  type Session,
  type SessionManagerOptions,
  type SessionState,
} from "msw-session";

const options: SessionManagerOptions = {
  basePath: process.cwd(),
  autoSaveIntervalMs: 5000,
  persistIntervalMs: 100,
};
const manager = new SessionManager(options);
manager.startAutoSave();

/** A long job: one step per file, cancellable, resumable from `context.cursor`. */
export async function indexFiles(files: string[], timeoutMs = 60_000): Promise<SessionState["status"]> {
  const session: Session = manager.createSession("index", { cursor: 0, files });
  const timeout = createTimeoutToken(timeoutMs);
  const linked = CancellationSource.linked(session.cancellation, timeout.token);
  const stopListening = session.progress.onProgress((state: ProgressState) => {
    const line: string = formatProgress(state);
    console.log(line, state.completedSteps ?? 0, "/", state.totalSteps ?? "?", state.eta ?? "");
  });
  session.progress.start(files.length);
  try {
    for (const [index, file] of files.entries()) {
      linked.token.throwIfCancelled();
      const text = await readFile(file, { encoding: "utf8", signal: linked.token.signal });
      session.context.cursor = index + 1;
      session.progress.completeStep(`${file} (${text.length} chars)`);
      const estimate = session.progress.estimate();
      if (estimate) session.progress.setEta(estimate.eta);
    }
    manager.completeSession(session.id);
    return "completed";
  } catch (err) {
    if (err instanceof CancellationError) {
      const reason: string | undefined = err.reason;
      manager.cancelSession(session.id, reason);
      return "cancelled";
    }
    manager.failSession(session.id, err instanceof Error ? err.message : String(err));
    return "failed";
  } finally {
    stopListening();
    linked.dispose();
    timeout.dispose();
    manager.flush();
  }
}

/** Picks up what a killed process left. */
export function resumeCrashed(): Session[] {
  const crashed: SessionState[] = manager.findCrashedSessions();
  const resumed: Session[] = [];
  for (const state of crashed) {
    const cursor = typeof state.context.cursor === "number" ? state.context.cursor : 0;
    const session = manager.resumeSession(state);
    if (session) {
      console.log(`resumed ${session.id} at ${cursor}: ${formatProgress(session.progress.getState())}`);
      resumed.push(session);
    }
  }
  return resumed;
}

/** In a worker thread: report progress on a session the main thread owns. */
export function reportFromWorker(id: string, percent: number): ProgressState | undefined {
  const handle: Session | undefined = attachSession(id, { basePath: process.cwd() });
  if (handle === undefined) return undefined;
  if (handle.cancellation.isCancelled) return handle.progress.getState();
  handle.progress.setProgress(percent, "worker");
  return handle.progress.getState();
}

/** From another process (a CLI, a UI): ask the owner to stop. */
export function stopFromElsewhere(id: string): boolean {
  return requestCancellation(id, "stopped by the user", { basePath: process.cwd() });
}

export function listSessions(): Array<Pick<SessionState, "id" | "status">> {
  return manager.getAllSessions().map((session) => ({
    id: session.id,
    status: session.cancellation.isCancelled ? "cancelled" : "active",
  }));
}

process.on("exit", () => manager.shutdown());

// The declarations are precise, not `any`:
// @ts-expect-error a stored session status is not a progress status
export const wrongStatus: SessionState["status"] = "running";
// @ts-expect-error createSession needs an operation name
manager.createSession();
// @ts-expect-error a context is an object
manager.createSession("index", 42);
// @ts-expect-error formatProgress takes a ProgressState
formatProgress({ progress: "10" });
