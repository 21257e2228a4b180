// A strict consumer written against the reference module's declarations (src/session/). It uses
// every export, method and getter the way those declarations allow, and must compile unchanged
// against the package's index.d.ts (`npx tsc -p __test__/tsconfig.json`). It is never run.
import {
  CancellationError,
  CancellationSource,
  CancellationToken,
  ProgressTracker,
  SessionManager,
  SessionStateStore,
  createTimeoutToken,
  formatProgress,
  getSessionManager,
  type ProgressCallback,
  type ProgressState,
  type ProgressStatus,
  type Session,
  type SessionManagerOptions,
  type SessionState,
} from "msw-session";

// Types re-exported the way a barrel does it.
export type { ProgressCallback, ProgressState, ProgressStatus, Session, SessionManagerOptions, SessionState };

// --- cancellation -----------------------------------------------------------------------------

export function useCancellation(): void {
  const token: CancellationToken = new CancellationToken();
  const cancelled: boolean = token.isCancelled;
  const reason: string | undefined = token.reason;
  const onCancel: (reason?: string) => void = (why) => {
    console.log(why?.toUpperCase(), cancelled, reason);
  };
  token.onCancelled(onCancel);
  token.onCancelled(() => undefined);
  token.throwIfCancelled();
  token._cancel();
  token._cancel("internal");

  const source = new CancellationSource();
  const fromSource: CancellationToken = source.token;
  const sourceCancelled: boolean = source.isCancelled;
  source.cancel();
  source.cancel("stop");
  fromSource.throwIfCancelled();
  console.log(sourceCancelled);

  const timed: CancellationSource = createTimeoutToken(1000);
  timed.token.onCancelled((why?: string) => console.log(why));

  try {
    timed.token.throwIfCancelled();
  } catch (err) {
    if (err instanceof CancellationError) {
      const message: string = err.message;
      const name: string = err.name;
      const stack: string | undefined = err.stack;
      console.log(message, name, stack);
    }
  }
  const plain: Error = new CancellationError();
  const withReason: CancellationError = new CancellationError("why");
  console.log(plain, withReason);
}

class TimeoutCancellation extends CancellationError {
  constructor(readonly ms: number) {
    super(`Timeout after ${ms}ms`);
  }
}

export function throwTimeout(ms: number): never {
  throw new TimeoutCancellation(ms);
}

/** Structural use: any function taking a token accepts the one a source hands out. */
export async function cooperative(token: CancellationToken, work: Array<() => Promise<void>>): Promise<number> {
  let done = 0;
  for (const step of work) {
    token.throwIfCancelled();
    if (token.isCancelled) break;
    await step();
    done++;
  }
  return done;
}

// --- progress ---------------------------------------------------------------------------------

export function useProgress(): string {
  const tracker = new ProgressTracker("session-id", "index vault");
  const listener: ProgressCallback = (state: ProgressState) => {
    const status: ProgressStatus = state.status;
    const pct: number = state.progress;
    const step: string | undefined = state.currentStep;
    const total: number | undefined = state.totalSteps;
    const completed: number | undefined = state.completedSteps;
    const times: [string, string] = [state.startedAt, state.updatedAt];
    const error: string | undefined = state.error;
    const eta: string | undefined = state.eta;
    const ids: [string, string] = [state.sessionId, state.operation];
    console.log(status, pct, step, total, completed, times, error, eta, ids);
  };
  tracker.onProgress(listener);
  tracker.onProgress((state) => console.log(formatProgress(state)));
  tracker.start();
  tracker.start(10);
  tracker.setProgress(50);
  tracker.setProgress(55, "parse");
  tracker.completeStep();
  tracker.completeStep("links");
  tracker.setEta(new Date(Date.now() + 60_000));
  tracker.complete();
  tracker.fail("disk full");
  tracker.cancel();
  tracker.cancel("user quit");
  const running: boolean = tracker.isRunning();
  const snapshot: ProgressState = tracker.getState();
  console.log(running);

  const statuses: ProgressStatus[] = ["pending", "running", "completed", "failed", "cancelled"];
  const literal: ProgressState = {
    sessionId: "s",
    operation: "op",
    status: statuses[0] ?? "pending",
    progress: 0,
    startedAt: new Date().toISOString(),
    updatedAt: new Date().toISOString(),
  };
  const full: ProgressState = {
    ...literal,
    currentStep: "step",
    totalSteps: 3,
    completedSteps: 1,
    error: "e",
    eta: new Date().toISOString(),
  };
  return formatProgress(snapshot) + formatProgress(literal) + formatProgress(full);
}

// --- store ------------------------------------------------------------------------------------

export function useStore(basePath: string): number {
  const store = new SessionStateStore(basePath);
  const inCwd = new SessionStateStore();
  const state: SessionState = {
    id: "id",
    operation: "op",
    status: "active",
    progress: new ProgressTracker("id", "op").getState(),
    context: { cursor: 1, nested: { ok: true } },
    createdAt: new Date().toISOString(),
    updatedAt: new Date().toISOString(),
  };
  const crashed: SessionState = { ...state, status: "crashed", crashedAt: new Date().toISOString() };
  const finished: SessionState["status"][] = ["active", "completed", "failed", "crashed"];
  store.save(state);
  store.save(crashed);
  const loaded: SessionState | undefined = store.load("id");
  const cursor: unknown = loaded?.context["cursor"];
  const removed: boolean = store.remove("id");
  const ids: string[] = inCwd.listSessions();
  const found: SessionState[] = [...store.findCrashedSessions(), ...store.findCrashedSessions(1000)];
  const when: string | undefined = found[0]?.crashedAt;
  const cleaned: number = store.cleanup() + store.cleanup(30);
  console.log(finished, cursor, removed, ids, when);
  return cleaned;
}

// --- manager ----------------------------------------------------------------------------------

export function useManager(options: SessionManagerOptions): Session | undefined {
  const manager = new SessionManager(options);
  const defaults = new SessionManager();
  const partial = new SessionManager({ basePath: "/tmp" });
  const interval: SessionManagerOptions = { autoSaveIntervalMs: 1000 };
  console.log(defaults, partial, new SessionManager(interval));

  manager.startAutoSave();
  manager.stopAutoSave();
  manager.onProgress((state: ProgressState) => console.log(state.sessionId));
  const listener: ProgressCallback = () => undefined;
  manager.onProgress(listener);

  const session: Session = manager.createSession("index");
  const withContext: Session = manager.createSession("import", { vault: "notes", cursor: 0 });
  const id: string = session.id;
  const operation: string = session.operation;
  const progress: ProgressTracker = session.progress;
  const cancellation: CancellationSource = session.cancellation;
  const context: Record<string, unknown> = withContext.context;
  const createdAt: Date = session.createdAt;
  context["cursor"] = 10;
  progress.start(3);
  cancellation.token.onCancelled(() => progress.cancel());
  console.log(operation, createdAt.toISOString());

  const same: Session | undefined = manager.getSession(id);
  const active: Session[] = manager.getActiveSessions();
  const all: Session[] = manager.getAllSessions();
  const ok: boolean[] = [
    manager.cancelSession(id),
    manager.cancelSession(id, "user"),
    manager.completeSession(id),
    manager.failSession(withContext.id, "boom"),
  ];
  const crashed: SessionState[] = manager.findCrashedSessions();
  const first = crashed[0];
  const resumed: Session | undefined = first ? manager.resumeSession(first) : undefined;
  const removed: number = manager.cleanup() + manager.cleanup(1);
  manager.saveAllSessions();
  manager.shutdown();
  console.log(same, active, all, ok, removed);

  // A hand-built session satisfies the interface too.
  const manual: Session = {
    id: "manual",
    operation: "op",
    progress: new ProgressTracker("manual", "op"),
    cancellation: new CancellationSource(),
    context: {},
    createdAt: new Date(),
  };
  console.log(manual);

  const shared: SessionManager = getSessionManager();
  shared.getAllSessions();
  return resumed;
}

// Function values of the exports keep their reference signatures.
export const factories: {
  timeout: (timeoutMs: number) => CancellationSource;
  format: (state: ProgressState) => string;
  manager: () => SessionManager;
} = {
  timeout: createTimeoutToken,
  format: formatProgress,
  manager: getSessionManager,
};
