// The package's ESM declarations (index.d.mts: what `import … from "msw-session"` resolves to
// under "node16"/"nodenext" and "bundler"), checked from this CommonJS folder: `import()` and a
// `resolution-mode: "import"` type import resolve the package with the "import" condition. The
// names must be index.d.ts's classes and functions, as types and values, and the very types the
// CommonJS side sees (index.mjs re-exports the objects of index.js). Type-checked by
// `npx tsc -p __test__/tsconfig.json`; never run.
import type * as Cjs from "msw-session";
import type {
  CancellationError as EsmCancellationError,
  CancellationToken as EsmCancellationToken,
  ErrorCode,
  ProgressState,
  Session,
} from "msw-session" with { "resolution-mode": "import" };

export async function fromEsm(basePath: string): Promise<string> {
  const esm = await import("msw-session");

  // index.mjs has named exports only, and so have its declarations.
  // @ts-expect-error -- no default export (the CommonJS declarations would give one)
  void esm.default;

  // Classes are values and types, interchangeable with the CommonJS declarations' ones.
  const source: Cjs.CancellationSource = new esm.CancellationSource();
  const token: EsmCancellationToken = source.token;
  const sameToken: Cjs.CancellationToken = token;
  const error: EsmCancellationError = new esm.CancellationError("stop");
  const cjsError: Cjs.CancellationError = error;
  class Timeout extends esm.CancellationError {
    readonly code: ErrorCode = "ERR_OUT_OF_RANGE";
  }
  try {
    sameToken.throwIfCancelled();
    throw new Timeout();
  } catch (err) {
    if (err instanceof esm.CancellationError) console.log(err.reason, cjsError.reason);
  }

  const manager = new esm.SessionManager({ basePath, persistIntervalMs: 0 });
  const session: Session = manager.createSession("esm", { n: 1 });
  const attached: Cjs.Session | undefined = esm.attachSession(session.id, { basePath });
  const state: ProgressState = session.progress.getState();
  esm.requestCancellation(session.id, "esm", { basePath });
  const counts: Cjs.LiveCounts = esm.liveCounts();
  console.log(attached?.id, counts, esm.getSessionManager() instanceof esm.SessionManager);
  manager.shutdown();
  return esm.formatProgress(state);
}
