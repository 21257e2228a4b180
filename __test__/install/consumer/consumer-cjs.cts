// The same package from CommonJS TypeScript (a .cts file, or a project without "type": "module"),
// the way ts-jest projects compile: `import = require` sees the same declarations.
import session = require("msw-session");

export function quick(basePath: string): string {
  const manager: session.SessionManager = new session.SessionManager({ basePath });
  const live: session.Session = manager.createSession("quick", { n: 1 });
  live.progress.start(2);
  live.progress.completeStep("first");
  const state: session.ProgressState = live.progress.getState();
  manager.shutdown();
  return session.formatProgress(state);
}
