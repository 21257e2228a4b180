// `npm run demo -- --ci`: a run killed with SIGKILL half-way, then found
// crashed, resumed from its checkpoints and finished; one session cancelled.
// `npm run demo` on a terminal: live bars, then the state files, on a clean screen.
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

import { childProcesses, isReference, packageRoot, sessionsDir, tempDirs, windowsSkip } from "./helpers.js";

const tempDir = tempDirs();
const children = childProcesses();

const DEMO = path.join(packageRoot, "demo", "demo.mjs");
const SCRIPT = "/usr/bin/script";

/** Runs a command to its end; its exit code and stdout. */
async function run(command: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  return { code, stdout, stderr };
}

/** The parsed `.json` state files under `dir`, with their file names. */
function readStates(dir: string): Array<{ name: string; state: any }> {
  return fs
    .readdirSync(sessionsDir(dir))
    .filter((f) => f.endsWith(".json"))
    .sort()
    .map((name) => ({ name, state: JSON.parse(fs.readFileSync(path.join(sessionsDir(dir), name), "utf8")) }));
}

/**
 * The screen a terminal shows once it has received `output`: the rows, with
 * trailing blanks and empty rows at the end dropped. Understands exactly what
 * the demo writes — printable text, CR, LF, and the CSI sequences cursor up
 * (`A`), down (`B`), to column (`G`), erase in screen (`J`) and in line (`K`)
 * — and throws on anything else, so an unexpected sequence fails the test
 * instead of being misread. The screen is as wide and as tall as needed (the
 * pty `script` makes reports 0 columns, so the demo does not cut its lines):
 * nothing wraps and nothing scrolls off, so every overdraw stays visible.
 */
function replay(output: string): string[] {
  const rows: string[][] = [[]];
  let row = 0;
  let col = 0;
  const line = (r: number) => {
    while (rows.length <= r) rows.push([]);
    return rows[r];
  };
  const blank = (r: number, from: number, to: number) => {
    const cells = line(r);
    for (let c = from; c < Math.min(to, cells.length); c++) cells[c] = " ";
  };
  const csi = /^\x1b\[(\d*)([A-Za-z])/;
  for (let i = 0; i < output.length; ) {
    const ch = output[i];
    if (ch === "\x1b") {
      const m = csi.exec(output.slice(i, i + 16));
      if (!m) throw new Error(`unexpected escape sequence at ${i}: ${JSON.stringify(output.slice(i, i + 16))}`);
      const n = m[1] === "" ? undefined : Number(m[1]);
      switch (m[2]) {
        case "A": // up n (0 counts as 1), not above the top
          row = Math.max(0, row - Math.max(n ?? 1, 1));
          break;
        case "B": // down n (0 counts as 1)
          row += Math.max(n ?? 1, 1);
          break;
        case "G": // to column n (1-based)
          col = Math.max(n ?? 1, 1) - 1;
          break;
        case "J": // erase: 0 cursor to end of screen, 1 start of screen to cursor, 2 all
          if ((n ?? 0) === 0) {
            line(row).length = Math.min(line(row).length, col);
            for (let r = row + 1; r < rows.length; r++) rows[r] = [];
          } else if (n === 1) {
            for (let r = 0; r < row; r++) rows[r] = [];
            blank(row, 0, col + 1);
          } else if (n === 2) {
            for (let r = 0; r < rows.length; r++) rows[r] = [];
          } else throw new Error(`unexpected ESC[${n}J`);
          break;
        case "K": // erase: 0 cursor to end of line, 1 start of line to cursor, 2 the line
          if ((n ?? 0) === 0) line(row).length = Math.min(line(row).length, col);
          else if (n === 1) blank(row, 0, col + 1);
          else if (n === 2) rows[row] = [];
          else throw new Error(`unexpected ESC[${n}K`);
          break;
        default:
          throw new Error(`unexpected escape sequence ${JSON.stringify(m[0])}`);
      }
      i += m[0].length;
      continue;
    }
    if (ch === "\r") col = 0;
    else if (ch === "\n") line(++row);
    else if (ch < " " || ch === "\x7f") throw new Error(`unexpected control character ${JSON.stringify(ch)} at ${i}`);
    else {
      const cells = line(row);
      while (cells.length < col) cells.push(" ");
      cells[col++] = ch;
    }
    i++;
  }
  const screen = rows.map((cells) => cells.join("").trimEnd());
  while (screen.length > 0 && screen[screen.length - 1] === "") screen.pop();
  return screen;
}

describe.skipIf(isReference)("npm run demo -- --ci", () => {
  it("resumes every killed session from its checkpoint; the files say what happened", async () => {
    const dir = tempDir();
    const { code, stdout } = await run(process.execPath, [DEMO, "--ci", "--dir", dir]);
    expect(code).toBe(0);
    expect(stdout.match(/^resumed hash dataset-\d at file \d+\/24/gm)).toHaveLength(4);
    const states = readStates(dir).map((f) => f.state);
    expect(states).toHaveLength(4);
    const statuses = states.map((s) => s.status).sort();
    expect(statuses).toEqual(["cancelled", "completed", "completed", "completed"]);
    for (const s of states) {
      // The checkpoint and the progress agree, resumed or not.
      expect(s.context.hashes).toHaveLength(s.context.nextIndex);
      expect(s.progress.completedSteps).toBe(s.context.nextIndex);
      if (s.status === "completed") expect(s.context.nextIndex).toBe(24);
    }
  });

  it("records nothing after a cancel: the cancelled session's last line on screen and its file agree", async () => {
    const dir = tempDir();
    const { code, stdout } = await run(process.execPath, [DEMO, "--ci", "--dir", dir]);
    expect(code).toBe(0);
    const cancelled = readStates(dir).filter((f) => f.state.status === "cancelled");
    expect(cancelled).toHaveLength(1);
    const s = cancelled[0].state;
    // The resumed run's bar lines for that session: `  [###---] 42% hash dataset-1 - part-09.bin  cancelled`.
    const resumedRun = stdout.slice(stdout.indexOf("\n2. "));
    const bar = new RegExp(`^  \\[[#-]{30}\\] (\\d+(?:\\.\\d+)?)% ${s.operation} - \\S+  (\\w+)$`, "gm");
    const lines = [...resumedRun.matchAll(bar)];
    expect(lines.length, `no bar line for ${s.operation} in:\n${stdout}`).toBeGreaterThan(0);
    const [, percent, status] = lines[lines.length - 1];
    expect(status).toBe("cancelled");
    expect(Number(percent)).toBe(s.progress.progress);
    expect(s.context.hashes).toHaveLength(s.progress.completedSteps);
    expect(s.context.nextIndex).toBe(s.progress.completedSteps);
    expect(s.progress.completedSteps).toBeLessThan(24);
  });
});

const script = windowsSkip("script");

describe.skipIf(isReference)("npm run demo on a terminal", () => {
  it.skipIf(script.skip)(script.title("ends on a clean screen: every session's bar, then every state file, nothing overdrawn"), async (ctx) => {
    // macOS has a BSD script(1) at that path, without util-linux's `-c`.
    if (process.platform !== "linux" || !fs.existsSync(SCRIPT)) ctx.skip(`no util-linux script(1) at ${SCRIPT}: no pseudo-terminal to run the demo on`);
    const dir = tempDir();
    // `script` gives the demo a pty as stdout, so it takes its interactive path; the hidden
    // `--pace-ms` makes that path quick (the default pace is the demo's INTERACTIVE_PACE_MS).
    const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
    const command = [process.execPath, DEMO, "--dir", dir, "--pace-ms", "10"].map(quote).join(" ");
    const { code, stdout, stderr } = await run(SCRIPT, ["-qec", command, "/dev/null"]);
    expect(code, `${stdout}\n--- stderr\n${stderr}`).toBe(0);
    // The bars were drawn in place: the demo took the terminal path.
    expect(stdout).toContain("\x1b[4A");

    const screen = replay(stdout);
    const shown = `final screen:\n${screen.join("\n")}`;
    const files = readStates(dir);
    expect(files).toHaveLength(4);

    // Each session's bar, once, finished.
    const bars = screen.flatMap((text, row) => (text.startsWith("  [") ? [{ text, row }] : []));
    expect(bars.map((b) => b.text).sort(), shown).toEqual(
      [0, 1, 2, 3].map((d) => `  [${"#".repeat(30)}] 100% hash dataset-${d} - part-23.bin  completed`),
    );
    expect(bars.map((b) => b.row), shown).toEqual([0, 1, 2, 3].map((k) => bars[0].row + k));

    // After the bars, the listing, whole: a line per entry of the sessions folder, in order.
    const header = screen.indexOf(`State files in ${sessionsDir(dir)}:`);
    expect(header, shown).toBeGreaterThan(bars[3].row);
    const listing = fs
      .readdirSync(sessionsDir(dir))
      .sort()
      .map((name) => {
        const s = files.find((f) => f.name === name)?.state;
        return s ? `  ${name}  completed 100%  ${s.operation}  next file 24, 24 digests` : `  ${name}`;
      });
    expect(screen.slice(header + 1), shown).toEqual(listing);
    for (const { name } of files) expect(screen.filter((text) => text.includes(name)), shown).toHaveLength(1);
    expect(screen, shown).toContain("sessions: completed, completed, completed, completed");
  });
});
