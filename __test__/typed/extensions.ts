// A strict consumer of what the package adds to the reference's API: worker and
// cross-process sessions, AbortSignal, linked sources, estimates, persistence
// options, flush and corrupt files, typed error codes. Type-checked by
// `npx tsc -p __test__/tsconfig.json`; never run.
import {
  CancellationError,
  CancellationSource,
  ProgressTracker,
  SessionManager,
  SessionStateStore,
  attachSession,
  createTimeoutToken,
  isSessionId,
  requestCancellation,
  type ErrorCode,
  type OwnerState,
  type ProgressEstimate,
  type Session,
  type SessionManagerOptions,
  type SessionOwner,
  type SessionInspection,
  type SessionState,
  type StateFilter,
  type StoreOptions,
} from "msw-session";

const storeOptions: StoreOptions = { fsync: true, fileMode: 0o640 };
const options: SessionManagerOptions = { basePath: "/tmp/x", persistIntervalMs: 0, ...storeOptions };
const manager = new SessionManager(options);
const session: Session = manager.createSession("typed", { n: 1 });

// Removers.
const stopListening: () => void = session.progress.onProgress((state) => void state.progress);
const stopCancel: () => void = session.cancellation.token.onCancelled((reason?: string) => void reason);
stopListening();
stopCancel();

// AbortSignal and linked sources.
const signal: AbortSignal = session.cancellation.token.signal;
const linked: CancellationSource = CancellationSource.linked(
  session.cancellation,
  session.cancellation.token,
  AbortSignal.timeout(1000),
  createTimeoutToken(5000).token,
);
linked.dispose();
signal.addEventListener("abort", () => {
  const why: unknown = signal.reason;
  if (why instanceof CancellationError) {
    const reason: string | undefined = why.reason;
    void reason;
  }
});

// Estimates.
const estimate: ProgressEstimate | undefined = new ProgressTracker("s", "op").estimate();
if (estimate) {
  const { ratePerSec, remainingMs, eta, unit } = estimate;
  const when: Date = eta;
  const counted: "steps" | "percent" = unit;
  void [ratePerSec, remainingMs, when, counted];
}

// Threads and processes.
const attached: Session | undefined = attachSession(session.id, { basePath: "/tmp/x" });
const asked: boolean = requestCancellation(session.id, "stop", { basePath: "/tmp/x" });
void [attached, asked, requestCancellation(session.id)];

// Persistence.
manager.flush();
const corrupt: string[] = manager.corruptFiles();
const store = new SessionStateStore("/tmp/x", storeOptions);
const aside: string[] = store.corruptFiles();
const crashed: SessionState[] = store.findCrashedSessions();
const owner: SessionOwner | undefined = crashed[0]?.owner;
if (owner) {
  const { pid, host, instance, since } = owner;
  void [pid, host, instance, since];
}
const status: SessionState["status"] = "cancelled";
void [corrupt, aside, status];

// Queries of one session and of all (issue 23), releases, steps, retention.
const clientId: unknown = "from a client";
if (isSessionId(clientId)) {
  const found: SessionInspection | undefined = manager.inspect(clientId);
  const ownerState: OwnerState | undefined = found?.ownerState;
  const state: SessionState | undefined = store.inspect(clientId, { staleMs: 30_000 })?.state;
  void [ownerState, state];
}
const filter: StateFilter = { operation: "job", status: "active" };
const listed: SessionInspection[] = manager.listStates(filter);
const listedStale: SessionInspection[] = store.listStates({ ...filter, staleMs: 1000 });
const settled: string[] = manager.recoverCrashed({ fail: "server gone" });
const settledStale: string[] = store.recoverCrashed({ fail: "server gone", staleMs: 1000 });
const released: boolean = manager.releaseSession(session.id);
const saved: boolean = manager.saveSession(session.id);
session.progress.setSteps(3, 5, "three");
session.progress.setSteps(4);
const removedMs: number = manager.cleanup({ olderThanMs: 3_600_000 }) + store.cleanup({ olderThanMs: 1 });
const removedDays: number = manager.cleanup(7) + store.cleanup();
void [listed, listedStale, settled, settledStale, released, saved, removedMs, removedDays];

// Error codes.
try {
  manager.createSession("x", { big: 1n });
} catch (error) {
  const code = (error as { code?: ErrorCode }).code;
  if (code === "ERR_CONTEXT_NOT_SERIALIZABLE" || code === "ERR_SESSION_IO") void code;
}
