// Run by jest in a project that installed msw-session: CommonJS, `require("msw-session")`,
// the way ts-jest and babel-jest projects load the package.
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");

const { CancellationError, SessionManager, formatProgress } = require("msw-session");

test("a session: steps, file on disk, cancellation", () => {
  const basePath = fs.mkdtempSync(path.join(os.tmpdir(), "msw-session-jest-"));
  const manager = new SessionManager({ basePath });
  try {
    const session = manager.createSession("index", { cursor: 0 });
    session.progress.start(4);
    session.progress.completeStep("parse");
    manager.flush();

    const file = path.join(basePath, ".msw", "sessions", `${session.id}.json`);
    expect(fs.existsSync(file)).toBe(true);
    const saved = JSON.parse(fs.readFileSync(file, "utf8"));
    expect(saved).toMatchObject({ id: session.id, operation: "index", status: "active" });
    expect(saved.progress).toMatchObject({
      status: "running",
      progress: 25,
      currentStep: "parse",
      totalSteps: 4,
      completedSteps: 1,
    });
    expect(formatProgress(saved.progress)).toBe("[########----------------------] 25% index - parse");

    expect(manager.cancelSession(session.id, "stopped")).toBe(true);
    expect(() => session.cancellation.token.throwIfCancelled()).toThrow(CancellationError);
    expect(() => session.cancellation.token.throwIfCancelled()).toThrow("stopped");
    manager.flush();
    expect(JSON.parse(fs.readFileSync(file, "utf8")).status).toBe("cancelled");
  } finally {
    manager.shutdown();
    fs.rmSync(basePath, { recursive: true, force: true });
  }
});
