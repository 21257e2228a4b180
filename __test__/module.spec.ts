// Contract §1 "Exports": the same runtime names from `require("msw-session")` and
// `import … from "msw-session"`, resolved by name through package.json `exports` (self-reference
// from the package folder), and one module instance behind both.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { isReference, packageRoot, tempDirs } from "./helpers";

const run = promisify(execFile);
const tempDir = tempDirs();

// Ends a child still running when its test timed out.
const running: AbortController[] = [];
afterEach(() => {
  for (const controller of running.splice(0)) controller.abort();
});

/** The runtime exports of the reference module. Extra names are allowed only when listed here. */
const EXPORTS = [
  "CancellationError",
  "CancellationSource",
  "CancellationToken",
  "ProgressTracker",
  "SessionManager",
  "SessionStateStore",
  "createTimeoutToken",
  "formatProgress",
  "getSessionManager",
  // added by the package (threads and processes)
  "attachSession",
  "requestCancellation",
  // added by the package (a diagnostic of what finished sessions leave behind)
  "liveCounts",
  // added by the package (a lookup by a client's id that needs no try/catch)
  "isSessionId",
].sort();

const KINDS = `Object.fromEntries(Object.keys(m).sort().map((k) => [k, typeof m[k]]))`;

/** Runs node in the package folder (so that "msw-session" resolves to the package itself). */
async function node(args: string[], env: Record<string, string> = {}): Promise<Record<string, unknown>> {
  const controller = new AbortController();
  running.push(controller);
  const { stdout, stderr } = await run(process.execPath, args, {
    cwd: packageRoot,
    env: { ...process.env, ...env },
    signal: controller.signal,
  });
  expect(stderr).toBe("");
  return JSON.parse(stdout);
}

describe.skipIf(isReference)("module formats", () => {
  it("require('msw-session') exports exactly the reference's runtime names", async () => {
    const out = await node(["-e", `const m = require("msw-session"); console.log(JSON.stringify(${KINDS}));`]);
    expect(Object.keys(out)).toEqual(EXPORTS);
    for (const name of EXPORTS) expect(out[name], name).toBe("function");
  });

  it("import * from 'msw-session' exports exactly the reference's runtime names", async () => {
    const script = `import * as m from "msw-session"; console.log(JSON.stringify(${KINDS}));`;
    const out = await node(["--input-type=module", "-e", script]);
    expect(Object.keys(out)).toEqual(EXPORTS);
    for (const name of EXPORTS) expect(out[name], name).toBe("function");
  });

  it("named imports work and ESM and CommonJS share one instance", async () => {
    const script = `
      import * as m from "msw-session";
      import { CancellationError, getSessionManager } from "msw-session";
      import { createRequire } from "node:module";
      const cjs = createRequire(process.cwd() + "/")("msw-session");
      process.chdir(process.env.MSW_TEST_CWD); // a manager's default basePath is the cwd
      console.log(JSON.stringify({
        sameError: m.CancellationError === cjs.CancellationError,
        sameNamed: CancellationError === cjs.CancellationError,
        sameManager: getSessionManager() === cjs.getSessionManager(),
        crossInstanceof: new CancellationError("x") instanceof cjs.CancellationError,
        sameTracker: m.ProgressTracker === cjs.ProgressTracker,
      }));`;
    const out = await node(["--input-type=module", "-e", script], { MSW_TEST_CWD: tempDir() });
    expect(out).toEqual({
      sameError: true,
      sameNamed: true,
      sameManager: true,
      crossInstanceof: true,
      sameTracker: true,
    });
  });
});
