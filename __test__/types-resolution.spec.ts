// The typings resolve right in every TypeScript resolution mode: "Are the Types Wrong?"
// (@arethetypeswrong/cli, a devDependency) on the tarball `npm pack` makes must find no problem
// for any entry point of the package (every subpath it discovers from package.json "exports",
// so a new one is checked without touching this file) in node10, node16 from CommonJS,
// node16 from ESM and bundler. For instance, an ESM `import` that loads index.mjs but gets
// the CommonJS index.d.ts is "Masquerading as CJS".
//
// Offline: attw reads the local tarball (no --from-npm) and npm runs with --offline. attw runs
// in the temporary folder so no .attw.json can switch a rule off, with the strict profile.
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { isReference, packageRoot } from "./helpers.js";

const MINUTES = 60_000;

/** The resolution modes attw's strict profile checks, as its JSON names them. */
const MODES = ["node10", "node16-cjs", "node16-esm", "bundler"] as const;

interface Run {
  command: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs a command; resolves with its output (never rejects), killed after `timeoutMs`. */
function run(command: string, args: string[], cwd: string, timeoutMs = 2 * MINUTES): Promise<Run> {
  const line = [command, ...args].join(" ");
  // Without what the outer npm and vitest put in the environment (a nested npm reads them).
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^(VITEST|npm_|NODE_ENV$|INIT_CWD$|FORCE_COLOR$)/i.test(key)) env[key] = value;
  }
  env.NO_COLOR = "1";
  env.npm_config_offline = "true";
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      cwd,
      env,
      shell: process.platform === "win32",
      stdio: ["ignore", "pipe", "pipe"],
      timeout: timeoutMs,
      killSignal: "SIGKILL",
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", (error) => resolve({ command: line, code: null, signal: null, stdout, stderr: `${stderr}\n${error.stack}` }));
    child.on("close", (code, signal) => resolve({ command: line, code, signal, stdout, stderr }));
  });
}

function describeRun(r: Run): string {
  const text = `${r.stdout}\n--- stderr\n${r.stderr}`;
  return `\`${r.command}\` (exit ${r.code} ${r.signal ?? ""}):\n${text.length > 6000 ? `…${text.slice(-6000)}` : text}`;
}

/** The parts of attw's `--format json` report this test reads. */
interface AttwReport {
  analysis: {
    packageName: string;
    types: false | { kind: string };
    entrypoints: Record<
      string,
      {
        subpath: string;
        resolutions: Record<
          string,
          { resolution?: { fileName: string }; implementationResolution?: { fileName: string }; visibleProblems?: number[] }
        >;
      }
    >;
    problems: Array<{ kind: string; [key: string]: unknown }>;
  };
}

let work = "";
let attw: Run | undefined;
let report: AttwReport | undefined;
let setupError = "";

describe.skipIf(isReference)("typings in every resolution mode (attw on the packed tarball)", () => {
  beforeAll(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), "msw-session-attw-"));
    const pack = await run("npm", ["pack", "--json", "--offline", "--pack-destination", work], packageRoot);
    if (pack.code !== 0) {
      setupError = describeRun(pack);
      return;
    }
    // npm prints the JSON report on stdout; lifecycle output, if any, goes before it.
    const { filename } = (JSON.parse(pack.stdout.slice(pack.stdout.indexOf("["))) as Array<{ filename: string }>)[0];
    const cliPkg = path.join(packageRoot, "node_modules", "@arethetypeswrong", "cli", "package.json");
    const bin = path.join(path.dirname(cliPkg), JSON.parse(fs.readFileSync(cliPkg, "utf8")).bin.attw);
    attw = await run(process.execPath, [bin, path.join(work, filename), "--format", "json", "--profile", "strict"], work);
    try {
      report = JSON.parse(attw.stdout) as AttwReport;
    } catch (err) {
      setupError = `attw printed no JSON report (${String(err)}); ${describeRun(attw)}`;
    }
  }, 4 * MINUTES);

  afterAll(() => {
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  function needReport(): AttwReport {
    if (!report) throw new Error(setupError || "no attw report");
    return report;
  }

  it("attw checks every subpath of package.json \"exports\" and finds the package typed", () => {
    const { analysis } = needReport();
    expect(analysis.packageName).toBe("msw-session");
    expect(analysis.types, "attw found no types in the package").not.toBe(false);
    const subpaths = Object.keys(analysis.entrypoints);
    expect(subpaths).toContain(".");
    const pkg = JSON.parse(fs.readFileSync(path.join(packageRoot, "package.json"), "utf8"));
    const exported = Object.keys(pkg.exports ?? {}).filter((key) => !key.includes("*"));
    expect(exported.filter((key) => !subpaths.includes(key)), "exports attw did not check").toEqual([]);
  });

  it("every entry point is green in node10, node16 (from CJS), node16 (from ESM) and bundler", () => {
    const { analysis } = needReport();
    // One cell per entry point and mode: "ok", or the problems attw shows there (with the files
    // resolved), so a failure reads like attw's table.
    const cells: Record<string, Record<string, string>> = {};
    const expected: Record<string, Record<string, string>> = {};
    for (const [subpath, entrypoint] of Object.entries(analysis.entrypoints)) {
      cells[subpath] = {};
      expected[subpath] = {};
      for (const mode of [...new Set([...MODES, ...Object.keys(entrypoint.resolutions)])]) {
        expected[subpath][mode] = "ok";
        const resolution = entrypoint.resolutions[mode];
        if (!resolution) {
          cells[subpath][mode] = "not checked by attw";
          continue;
        }
        const kinds = (resolution.visibleProblems ?? []).map((i) => analysis.problems[i]?.kind ?? `problem #${i}`);
        cells[subpath][mode] =
          kinds.length === 0
            ? "ok"
            : `${kinds.join(", ")} (types ${resolution.resolution?.fileName ?? "none"}, ` +
              `implementation ${resolution.implementationResolution?.fileName ?? "none"})`;
      }
    }
    expect(cells).toEqual(expected);
    // Problems not tied to a cell count too; so does attw's own verdict.
    expect(analysis.problems, "attw problems").toEqual([]);
    expect(attw?.code, describeRun(attw!)).toBe(0);
  });
});
