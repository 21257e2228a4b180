// The `msw-session` command: ls, show, watch, cancel, cleanup; exit codes
// 0 ok, 1 not found, 2 usage, 3 no such folder, 4 any other error; plain
// output off a terminal; a closed pipe ends it quietly; reads create nothing.
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { afterEach, describe, expect, it } from "vitest";

import { SessionManager, SessionStateStore } from "msw-session";
import {
  childProcesses,
  isoAgo,
  isReference,
  makeState,
  packageEntry,
  packageRoot,
  quietPeriod,
  sessionsDir,
  tempDirs,
  waitFor,
} from "./helpers.js";

const tempDir = tempDirs();
const BIN = path.join(packageRoot, "bin", "msw-session.mjs");
const managers: SessionManager[] = [];
afterEach(() => {
  for (const manager of managers.splice(0)) manager.shutdown();
});
const children = childProcesses();

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[], env: Record<string, string> = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env } });
    children.push(child);
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** Runs the CLI and closes the reading end of its stdout after the first chunk, as `| head` does. */
function cliClosingPipe(args: string[]): Promise<Result & { chunks: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, NO_COLOR: "1" } });
    children.push(child);
    let stdout = "";
    let stderr = "";
    let chunks = 0;
    child.stdout.once("data", (d) => {
      stdout += d;
      chunks++;
      child.stdout.destroy();
    });
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr, chunks }));
  });
}

/** The CLI's `watch` with its stdout split into lines as they come. */
function watchLines(args: string[]): { lines: string[] } {
  const child = spawn(process.execPath, [BIN, "watch", ...args], { env: { ...process.env, NO_COLOR: "1" } });
  children.push(child);
  const lines: string[] = [];
  let buffer = "";
  child.stdout.on("data", (d) => {
    buffer += d;
    let nl;
    while ((nl = buffer.indexOf("\n")) >= 0) {
      lines.push(buffer.slice(0, nl));
      buffer = buffer.slice(nl + 1);
    }
  });
  return { lines };
}

/** A session written with a megabyte of context and a long operation: more than a pipe holds. */
function bigSession(base: string): string {
  const id = "big";
  new SessionStateStore(base).save(
    makeState(id, { status: "completed", operation: "x".repeat(300_000), context: { blob: "y".repeat(1 << 20) } }),
  );
  return id;
}

/** Every entry below `dir`, relative, sorted. */
function tree(dir: string): string[] {
  return (fs.readdirSync(dir, { recursive: true }) as string[]).sort();
}

/** The id of a session whose owner, a child process, was killed with SIGKILL. */
async function sessionOfKilledOwner(base: string): Promise<string> {
  const fixture = path.join(packageRoot, "__test__", "fixtures", "p-own-session.mjs");
  const child = spawn(process.execPath, [fixture, pathToFileURL(packageEntry).href, base], { stdio: ["pipe", "pipe", "pipe"] });
  children.push(child);
  let out = "";
  child.stdout.on("data", (d) => (out += d));
  const closed = new Promise((resolve) => child.once("close", resolve));
  await waitFor(() => /^id .+\n/m.test(out) || child.exitCode !== null);
  const id = /^id (.+)\n/m.exec(out)?.[1];
  if (!id) throw new Error("the owner child ended before it made its session");
  child.kill("SIGKILL");
  await closed;
  return id;
}

/** The README's CLI section. */
function readmeCli(): string {
  const readme = fs.readFileSync(path.join(packageRoot, "README.md"), "utf8");
  return readme.slice(readme.indexOf("\n## CLI\n"), readme.indexOf("\n## ", readme.indexOf("\n## CLI\n") + 1));
}

function managerIn(base: string): SessionManager {
  const manager = new SessionManager({ basePath: base, persistIntervalMs: 0 });
  managers.push(manager);
  return manager;
}

describe.skipIf(isReference)("msw-session CLI", () => {
  it("ls on an empty folder says so, naming it, and exits 0; a folder without .msw is told apart", async () => {
    const base = tempDir();
    expect(await cli(["ls", "--dir", base])).toEqual({ code: 0, stdout: `no sessions in ${base} (no .msw folder there)\n`, stderr: "" });
    expect(await cli(["ls", "--dir", base, "--json"])).toEqual({ code: 0, stdout: "[]\n", stderr: "" });
    const show = await cli(["show", "abc", "--dir", base]);
    expect(show).toEqual({ code: 1, stdout: "", stderr: `msw-session: no session abc in ${base} (no .msw folder there)\n` });
    const watch = watchLines(["--dir", base]);
    await waitFor(() => watch.lines.length > 0);
    expect(watch.lines[0]).toBe(`no sessions in ${base} (no .msw folder there)`);
    expect(tree(base)).toEqual([]);
    fs.mkdirSync(sessionsDir(base), { recursive: true });
    expect(await cli(["ls", "--dir", base])).toEqual({ code: 0, stdout: `no sessions in ${base}\n`, stderr: "" });
  });

  it("a --dir that does not exist exits 3 naming it, and ls, show, watch create nothing", async () => {
    const base = tempDir();
    const missing = path.join(base, "typo", "project");
    const commands = [["ls"], ["ls", "--json"], ["show", "abc"], ["show", "abc", "--json"], ["watch"], ["watch", "--json"], ["cancel", "abc"], ["cleanup"]];
    for (const args of commands) {
      const r = await cli([...args, "--dir", missing]);
      expect(r, args.join(" ")).toEqual({ code: 3, stdout: "", stderr: `msw-session: no such folder: ${missing}\n` });
    }
    expect(tree(base)).toEqual([]);
  });

  it("a --dir at a file exits 3 (not 1, which means no such session), naming it", async () => {
    const base = tempDir();
    const file = path.join(base, "notes.md");
    fs.writeFileSync(file, "not a folder\n");
    for (const args of [["ls"], ["show", "abc"], ["watch", "--json"], ["cancel", "abc"], ["cleanup"]]) {
      const r = await cli([...args, "--dir", file]);
      expect(r, args.join(" ")).toEqual({ code: 3, stdout: "", stderr: `msw-session: not a folder: ${file}\n` });
    }
    const below = path.join(file, "deeper");
    expect(await cli(["ls", "--dir", below])).toMatchObject({ code: 3, stderr: `msw-session: no such folder: ${below}\n` });
    expect(tree(base)).toEqual(["notes.md"]);
  });

  it("an error of the disk exits 4 with its message and no stack", async () => {
    const base = tempDir();
    fs.mkdirSync(path.join(base, ".msw"));
    fs.writeFileSync(sessionsDir(base), "");
    for (const args of [["ls"], ["show", "abc"], ["watch", "--json"]]) {
      const r = await cli([...args, "--dir", base]);
      expect(r.code, args.join(" ")).toBe(4);
      expect(r.stderr).toMatch(new RegExp(`^msw-session: .*${sessionsDir(base).replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}.*\n$`));
    }
  });

  it("a reader that closes the pipe early ends show, ls and watch --json quietly with exit 0", async () => {
    const base = tempDir();
    const id = bigSession(base);
    for (const args of [["show", id], ["show", id, "--json"], ["ls"], ["ls", "--json"], ["watch", "--json"]]) {
      const r = await cliClosingPipe([...args, "--dir", base]);
      expect({ args, code: r.code, stderr: r.stderr, chunks: r.chunks }).toEqual({ args, code: 0, stderr: "", chunks: 1 });
    }
    // As a shell pipeline runs it (sh, or cmd on Windows), into a reader that stops after three
    // lines as `head -3` does (a Node one: Windows has no head).
    const head3 = "let n=0;process.stdin.on('data',d=>{for(const c of d)if(c===10&&++n===3)process.exit(0)})";
    const node = `"${process.execPath}"`;
    const head = spawn(`${node} "${BIN}" show ${id} --dir "${base}" | ${node} -e "${head3}"`, { shell: true });
    children.push(head);
    let stderr = "";
    head.stderr.on("data", (d) => (stderr += d));
    expect(await new Promise((resolve) => head.once("close", resolve))).toBe(0);
    expect(stderr).toBe("");
  });

  it("ls shows a table with bars and owners; --json the states", async () => {
    const base = tempDir();
    const manager = managerIn(base);
    const live = manager.createSession("index notes", { vault: "a" });
    live.progress.start(4);
    live.progress.completeStep("one");
    const done = manager.createSession("upload");
    manager.completeSession(done.id);
    const table = await cli(["ls", "--dir", base], { NO_COLOR: "1" });
    expect(table.code).toBe(0);
    const lines = table.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^ID\s+OPERATION\s+STATUS\s+PROGRESS\s+STEP\s+AGE\s+OWNER$/);
    const liveLine = lines.find((l) => l.startsWith(live.id.slice(0, 8)))!;
    expect(liveLine).toContain("index notes");
    expect(liveLine).toContain("[########----------------------] 25%");
    expect(liveLine).toMatch(/\balive$/);
    expect(lines.find((l) => l.startsWith(done.id.slice(0, 8)))).toMatch(/completed.*100%/);
    expect(table.stdout).not.toContain("\x1b[");
    const json = JSON.parse((await cli(["ls", "--dir", base, "--json"])).stdout);
    expect(json.map((s: { id: string }) => s.id).sort()).toEqual([live.id, done.id].sort());
    expect(json.find((s: { id: string }) => s.id === live.id).ownerState).toBe("alive");
  });

  it("ls reports a session whose owner is gone as crashed", async () => {
    const base = tempDir();
    new SessionStateStore(base).save(makeState("lost", { updatedAt: isoAgo(3_600_000) }));
    const r = await cli(["ls", "--dir", base], { NO_COLOR: "1" });
    expect(r.stdout.split("\n")[1]).toMatch(/^lost\s+index\s+crashed\b.*crashed$/);
  });

  it("show tells a session whose owner was killed as crashed, as ls does; --json keeps the stored status", async () => {
    const base = tempDir();
    const id = await sessionOfKilledOwner(base);
    const live = managerIn(base).createSession("still running");
    const ls = await cli(["ls", "--dir", base], { NO_COLOR: "1" });
    expect(ls.stdout.split("\n").find((l) => l.startsWith(id.slice(0, 8)))).toMatch(/\bcrashed\b.*crashed$/);
    const text = await cli(["show", id, "--dir", base], { NO_COLOR: "1" });
    expect(text.code).toBe(0);
    expect(text.stdout).toContain("  status    crashed (the file says active; its owner is gone)\n");
    expect(text.stdout).toMatch(/^ {2}owner {5}pid \d+ on .+ since .+ \(crashed\)$/m);
    const json = JSON.parse((await cli(["show", id, "--dir", base, "--json"])).stdout);
    expect(json).toMatchObject({ id, status: "active", ownerState: "crashed" });
    const fromLs = JSON.parse((await cli(["ls", "--dir", base, "--json"])).stdout).find((s: { id: string }) => s.id === id);
    expect(json).toEqual(fromLs);
    const alive = await cli(["show", live.id, "--dir", base], { NO_COLOR: "1" });
    expect(alive.stdout).toContain("  status    active\n");
    expect(alive.stdout).toMatch(/ \(alive\)$/m);
    expect(JSON.parse((await cli(["show", live.id, "--dir", base, "--json"])).stdout).ownerState).toBe("alive");
  });

  it("the owner column says unknown for an owner on another host that is not yet stale, - for a finished session", async () => {
    const base = tempDir();
    const store = new SessionStateStore(base);
    const since = isoAgo(1000);
    store.save(makeState("elsewhere", { updatedAt: isoAgo(1000), owner: { pid: 1, host: "another-host.invalid", instance: "i-1", since } }));
    store.save(makeState("done", { status: "completed", updatedAt: isoAgo(1000) }));
    const ls = await cli(["ls", "--dir", base], { NO_COLOR: "1" });
    const lines = ls.stdout.split("\n");
    expect(lines.find((l) => l.startsWith("elsewhe"))).toMatch(/^elsewher\s+index\s+active\b.*\bunknown$/);
    expect(lines.find((l) => l.startsWith("done"))).toMatch(/\bcompleted\b.*\s-$/);
    const json = JSON.parse((await cli(["ls", "--dir", base, "--json"])).stdout);
    expect(Object.fromEntries(json.map((s: any) => [s.id, s.ownerState]))).toEqual({ elsewhere: "unknown", done: "finished" });
    const show = await cli(["show", "elsewhere", "--dir", base], { NO_COLOR: "1" });
    expect(show.stdout).toContain("  status    active\n");
    expect(show.stdout).toContain(`  owner     pid 1 on another-host.invalid since ${since} (unknown)\n`);
  });

  it("show finds a session by its whole id when another id starts with it", async () => {
    const base = tempDir();
    const store = new SessionStateStore(base);
    store.save(makeState("ab", { status: "completed" }));
    store.save(makeState("abc", { status: "failed" }));
    expect(JSON.parse((await cli(["show", "ab", "--dir", base, "--json"])).stdout)).toMatchObject({ id: "ab", ownerState: "finished" });
    expect((await cli(["show", "a", "--dir", base])).code).toBe(1);
    for (const hostile of ["../ab", "", "ab/"]) expect((await cli(["show", hostile, "--dir", base])).code, hostile).toBe(1);
  });

  it("show tells a stale file without an owner record (the reference's) as crashed", async () => {
    const base = tempDir();
    new SessionStateStore(base).save(makeState("lost", { updatedAt: isoAgo(3_600_000) }));
    const r = await cli(["show", "lost", "--dir", base], { NO_COLOR: "1" });
    expect(r.stdout).toContain("  status    crashed (the file says active; its owner is gone)\n");
  });

  it("show prints one session (by id or unique prefix); an unknown id exits 1", async () => {
    const base = tempDir();
    const session = managerIn(base).createSession("index", { k: 1 });
    const json = await cli(["show", session.id.slice(0, 8), "--dir", base, "--json"]);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ id: session.id, context: { k: 1 }, status: "active" });
    const text = await cli(["show", session.id, "--dir", base]);
    expect(text.stdout).toContain(session.id);
    expect(text.stdout).toContain('context   {"k":1}');
    const missing = await cli(["show", "nope", "--dir", base]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("no session nope");
  });

  it("cancel asks the owner (this process) to cancel; without a live owner it exits 1", async () => {
    const base = tempDir();
    const session = managerIn(base).createSession("index");
    const r = await cli(["cancel", session.id, "from the CLI", "--dir", base]);
    expect(r.code).toBe(0);
    await waitFor(() => session.cancellation.isCancelled);
    expect(session.cancellation.token.reason).toBe("from the CLI");
    expect((await cli(["cancel", "unknown", "--dir", base])).code).toBe(1);
  });

  it("cleanup --older-than removes old finished sessions", async () => {
    const base = tempDir();
    const store = new SessionStateStore(base);
    store.save(makeState("old", { status: "completed", updatedAt: isoAgo(3 * 86_400_000) }));
    store.save(makeState("new", { status: "completed", updatedAt: isoAgo(1000) }));
    const r = await cli(["cleanup", "--older-than", "2d", "--dir", base, "--json"]);
    expect(r).toMatchObject({ code: 0, stdout: '{"removed":1}\n' });
    expect(store.listSessions()).toEqual(["new"]);
  });

  it("cleanup --older-than takes seconds, minutes, hours and days", async () => {
    const base = tempDir();
    const store = new SessionStateStore(base);
    const ages = { twoDays: 2 * 86_400_000, threeHours: 3 * 3_600_000, halfHour: 30 * 60_000, twoMinutes: 120_000, now: 0 };
    for (const [id, ms] of Object.entries(ages)) store.save(makeState(id, { status: "completed", updatedAt: isoAgo(ms) }));
    const left = async (olderThan: string) => {
      expect((await cli(["cleanup", "--older-than", olderThan, "--dir", base, "--json"])).stdout).toBe('{"removed":1}\n');
      return store.listSessions().sort();
    };
    expect(await left("1d")).toEqual(["halfHour", "now", "threeHours", "twoMinutes"]);
    expect(await left("2h")).toEqual(["halfHour", "now", "twoMinutes"]);
    expect(await left("15m")).toEqual(["now", "twoMinutes"]);
    expect(await left("90s")).toEqual(["now"]);
  });

  it("watch --json streams the sessions and follows changes by other processes", async () => {
    const base = tempDir();
    const session = managerIn(base).createSession("index");
    const child = spawn(process.execPath, [BIN, "watch", "--json", "--dir", base]);
    children.push(child);
    const frames: Array<{ sessions: Array<{ id: string; progress: { progress: number } }> }> = [];
    let buffer = "";
    child.stdout.on("data", (d) => {
      buffer += d;
      let nl;
      while ((nl = buffer.indexOf("\n")) >= 0) {
        frames.push(JSON.parse(buffer.slice(0, nl)));
        buffer = buffer.slice(nl + 1);
      }
    });
    await waitFor(() => frames.length > 0);
    expect(frames[0].sessions.map((s) => s.id)).toEqual([session.id]);
    session.progress.setProgress(42);
    await waitFor(() => frames.some((f) => f.sessions[0]?.progress.progress === 42));
  });

  it("watch --json prints one line at the start and one per change, none while nothing changes", async () => {
    const base = tempDir();
    const session = managerIn(base).createSession("index");
    const { lines } = watchLines(["--json", "--dir", base]);
    await waitFor(() => lines.length >= 1);
    session.progress.setProgress(42);
    await waitFor(() => lines.length >= 2);
    // Nothing changes for more than two of the once-a-second redraws.
    await quietPeriod(2500);
    expect(lines).toHaveLength(2);
    const frames = lines.map((l) => JSON.parse(l));
    expect(frames.map((f) => f.sessions.map((s: any) => [s.id, s.progress.progress, s.ownerState]))).toEqual([
      [[session.id, 0, "alive"]],
      [[session.id, 42, "alive"]],
    ]);
  });

  it("the terminal view of watch redraws each second, for ages and ETAs", async () => {
    const base = tempDir();
    managerIn(base).createSession("index");
    const { lines } = watchLines(["--dir", base]);
    // Off a terminal each frame is the table and an empty line.
    await waitFor(() => lines.filter((l) => l.startsWith("ID")).length >= 2);
  });

  it("the ETA column of watch comes from the package's estimator, once two changes were seen", async () => {
    const base = tempDir();
    const session = managerIn(base).createSession("index");
    session.progress.start(1000);
    const { lines } = watchLines(["--dir", base]);
    const etaOf = (line: string | undefined) => line && /\s(\d+:\d\d)$/.exec(line)?.[1];
    const rowLines = () => lines.filter((l) => l.startsWith(session.id.slice(0, 8)));
    await waitFor(() => rowLines().length >= 1);
    expect(lines[0]).toMatch(/\bETA$/);
    expect(etaOf(rowLines()[0])).toBeFalsy();
    // Each change is waited for in the view before the next: the estimator sees each one.
    for (let step = 1; step <= 3; step++) {
      session.progress.setSteps(step * 10, 1000, `step ${step}`);
      await waitFor(() => rowLines().some((l) => l.includes(`step ${step}`)));
    }
    await waitFor(() => !!etaOf(rowLines().at(-1)));
  });

  it("usage errors exit 2 with the usage text; --help exits 0", async () => {
    for (const args of [[], ["bogus"], ["ls", "extra"], ["show"], ["cleanup", "--older-than", "soon"], ["--nope"]]) {
      const r = await cli(args);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stderr).toContain("Usage: msw-session");
    }
    const help = await cli(["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Exit codes:\n {2}0 {2}ok.*\n {2}1 {2}not found.*\n {2}2 {2}usage\n {2}3 {2}no such folder.*\n {2}4 {2}any other error/m);
  });

  it("--help, the file header and the README's CLI section document every exit code and --older-than unit", async () => {
    const help = (await cli(["--help"])).stdout;
    const header = fs.readFileSync(BIN, "utf8").split("\nimport ")[0];
    for (const [name, text] of [["--help", help], ["header", header], ["README", readmeCli()]]) {
      for (const code of [0, 1, 2, 3, 4]) expect(text, `${name}: exit code ${code}`).toMatch(new RegExp(`\\b${code}\\b`));
      expect(text, name).toMatch(/no such folder/);
    }
    expect(help).toMatch(/--older-than D.*units s, m, h, d/);
    for (const unit of ["`s` (seconds)", "`m` (minutes)", "`h` (hours)", "`d` (days)"]) expect(readmeCli()).toContain(unit);
  });
});
