// Crash-safe persistence: progress updates that return before the disk, atomic writes that
// survive kill -9, owner locks (a live owner is never accused, a killed one is found at once),
// exclusive resume, quarantine of unreadable files, file modes, fsync, and I/O errors.
// These are package-only behaviours; the reference module has none of them. The defects of the
// reference fixed here: D3 (atomic writes; a corrupt file is never deleted nor silently dropped),
// D4 (a dead owner is found at once, a live one never accused), D5 (resume is exclusive across
// processes; its whole state is in manager.spec.ts), D10 (updates return before the disk) and D11
// (private file modes).
//
// Child processes run the scripts in ./fixtures/, which import the package from the file URL
// given as their first argument. Nothing here sleeps to assert timing: tests wait for events
// (a line from a child, its exit) or conditions (`waitFor`), bounded by the test timeout.
import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { SessionManager, SessionStateStore } from "msw-session";
import {
  childProcesses,
  DAY,
  expectError,
  isoAgo,
  isReference,
  makeState,
  packageEntry,
  packageRoot,
  readSession,
  sessionFile,
  sessionFiles,
  sessionsDir,
  tempDirs,
  waitFor,
  windowsSkip,
} from "./helpers";

const modes = windowsSkip("modes");

const tempDir = tempDirs();

const fixtures = path.join(packageRoot, "__test__", "fixtures");
const packageUrl = pathToFileURL(packageEntry).href;

// A child still running when its test ends (failed or timed out) is killed before its folder goes.
const children = childProcesses();

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A fixture script running in its own Node process, its stdout split into lines. */
class Child {
  readonly proc: ChildProcess;
  readonly lines: string[] = [];
  stderr = "";
  /** Settles on 'close': the process has ended and its output is drained. */
  readonly exit: Promise<Exit>;
  private closed: Exit | undefined;
  private wake: Array<() => void> = [];

  constructor(fixture: string, args: string[]) {
    this.proc = spawn(process.execPath, [path.join(fixtures, fixture), packageUrl, ...args], {
      stdio: ["pipe", "pipe", "pipe"],
    });
    children.push(this.proc);
    let partial = "";
    this.proc.stdout!.setEncoding("utf8");
    this.proc.stdout!.on("data", (chunk: string) => {
      const parts = (partial + chunk).split("\n");
      partial = parts.pop()!;
      this.lines.push(...parts);
      this.notify();
    });
    this.proc.stderr!.setEncoding("utf8");
    this.proc.stderr!.on("data", (chunk: string) => (this.stderr += chunk));
    // A racer killed before it read its stdin must not crash the parent with EPIPE.
    this.proc.stdin!.on("error", () => {});
    this.exit = new Promise<Exit>((resolve, reject) => {
      this.proc.on("error", reject);
      this.proc.on("close", (code, signal) => {
        this.closed = { code, signal };
        this.notify();
        resolve(this.closed);
      });
    });
  }

  get pid(): number {
    return this.proc.pid!;
  }

  private notify(): void {
    for (const wake of this.wake.splice(0)) wake();
  }

  /** The first line (from the start of the output) that satisfies `match`; fails if the child ends first. */
  async line(match: (line: string) => boolean, what = "the expected line"): Promise<string> {
    let scanned = 0;
    for (;;) {
      for (; scanned < this.lines.length; scanned++) {
        if (match(this.lines[scanned])) return this.lines[scanned];
      }
      if (this.closed) {
        throw new Error(
          `the child (${this.closed.code ?? this.closed.signal}) ended before printing ${what}; ` +
            `stdout tail: ${JSON.stringify(this.lines.slice(-5))}; stderr: ${this.stderr}`,
        );
      }
      await new Promise<void>((resolve) => this.wake.push(resolve));
    }
  }

  /** The session id the fixture printed as `id <id>`. */
  async id(): Promise<string> {
    return (await this.line((l) => l.startsWith("id "), "its session id")).slice(3);
  }

  async kill9(): Promise<Exit> {
    this.proc.kill("SIGKILL");
    const exit = await this.exit;
    expect(exit.signal).toBe("SIGKILL");
    return exit;
  }
}

const ids = (states: Array<{ id: string }>) => states.map((s) => s.id).sort();

/** Every `*.json` entry of the sessions folder, parsed from its text (throws on a torn file). */
function parseAllJson(base: string): Map<string, any> {
  const parsed = new Map<string, any>();
  for (const name of sessionFiles(base).filter((n) => n.endsWith(".json"))) {
    const text = fs.readFileSync(path.join(sessionsDir(base), name), "utf8");
    let state: any;
    try {
      state = JSON.parse(text);
    } catch (err) {
      throw new Error(`${name} does not parse (${text.length} chars): ${(err as Error).message}`);
    }
    parsed.set(name.slice(0, -".json".length), state);
  }
  return parsed;
}

const mode = (p: string) => fs.statSync(p).mode & 0o777;

describe.skipIf(isReference)("persistence", () => {
  describe("kill -9 in the middle of writing", () => {
    it.each([
      // [label, persistIntervalMs, updates before the first kill]
      ["persistIntervalMs: 0 (every update written before it returns)", 0, 15],
      ["the default persistIntervalMs (background writer)", 100, 100],
    ])(
      "D3: with %s, 8 killed writers leave only whole files, each found crashed at once",
      async (_label, interval, firstTarget) => {
        const base = tempDir();
        const killed: string[] = [];
        for (let round = 0; round < 8; round++) {
          const child = new Child("hammer.mjs", [base, String(interval)]);
          const id = await child.id();
          // a different number of updates each round, so the kill lands at different points
          const target = firstTarget + round * 11;
          await child.line((l) => l.startsWith("n ") && Number(l.slice(2)) >= target, `update ${target}`);
          if (interval !== 0) {
            // the background writer has written while the child keeps updating; a reader
            // polling the file meanwhile only ever sees whole files (readSession parses)
            await waitFor(() => readSession(base, id).progress.currentStep !== undefined);
          }
          await child.kill9();
          killed.push(id);

          const files = parseAllJson(base);
          expect([...files.keys()].sort()).toEqual([...killed].sort());
          for (const [fileId, state] of files) {
            expect(state.id).toBe(fileId);
            expect(state.status).toBe("active");
            expect(state.context.chunks).toHaveLength(200);
            expect(state.context.chunks[199]).toBe("chunk 199 ".padEnd(1000, "abcdefghij"));
          }
          const last = files.get(id);
          expect(last.owner.pid).toBe(child.pid);
          expect(last.progress.currentStep).toMatch(/^step \d+$/);
          if (interval === 0) {
            // the child printed `n <target>` after that update had been written
            const step = Number(last.progress.currentStep.slice("step ".length));
            expect(step).toBeGreaterThanOrEqual(target);
            expect(last.context.counter).toBe(step);
          }

          // a one-hour threshold: only the dead owner can explain these
          const store = new SessionStateStore(base);
          const crashed = store.findCrashedSessions(3_600_000);
          expect(ids(crashed)).toEqual([...killed].sort());
          for (const state of crashed) {
            expect(state.status).toBe("crashed");
            expect(typeof state.crashedAt).toBe("string");
          }
          expect(store.corruptFiles()).toEqual([]);
        }
      },
      40_000,
    );
  });

  describe("owner liveness", () => {
    it("D4: a live but quiet owner is never reported, however old its file; once killed it is at once", async () => {
      const base = tempDir();
      const child = new Child("hold-session.mjs", [base]);
      const id = await child.id();

      const state = readSession(base, id);
      expect(state.owner).toMatchObject({ pid: child.pid });
      expect(typeof state.owner.host).toBe("string");
      expect(typeof state.owner.instance).toBe("string");
      expect(typeof state.owner.since).toBe("string");
      const dayAgo = isoAgo(DAY);
      state.updatedAt = dayAgo;
      state.progress.updatedAt = dayAgo;
      fs.writeFileSync(sessionFile(base, id), JSON.stringify(state, null, 2));

      // controls of the same age, whose liveness cannot be checked: no owner, another host
      const store = new SessionStateStore(base);
      store.save(makeState("no-owner", { updatedAt: dayAgo }));
      store.save(makeState("other-host", { updatedAt: dayAgo, owner: { ...state.owner, host: "another-host.invalid" } }));

      expect(ids(store.findCrashedSessions(1000))).toEqual(["no-owner", "other-host"]);
      expect(ids(store.findCrashedSessions(0))).toEqual(["no-owner", "other-host"]);
      expect(ids(new SessionManager({ basePath: base }).findCrashedSessions())).toEqual(["no-owner", "other-host"]);
      // the quiet owner wrote nothing meanwhile: only its liveness kept it out
      expect(readSession(base, id).updatedAt).toBe(dayAgo);

      await child.kill9();
      expect(ids(store.findCrashedSessions(1000))).toEqual([id, "no-owner", "other-host"].sort());
      expect(ids(store.findCrashedSessions(100 * DAY))).toEqual([id]);
    });

    it("D5: of three processes resuming one crashed session at the same moment exactly one wins", async () => {
      const base = tempDir();
      const holder = new Child("hold-session.mjs", [base]);
      const id = await holder.id();
      const original = readSession(base, id);
      await holder.kill9();
      const store = new SessionStateStore(base);
      expect(ids(store.findCrashedSessions(3_600_000))).toEqual([id]);

      // each round's winner is killed in turn, and the session is raced for again
      for (let round = 0; round < 3; round++) {
        const racers = [0, 1, 2].map(() => new Child("resume-racer.mjs", [base, id]));
        await Promise.all(racers.map((r) => r.line((l) => l === "ready", "ready")));
        for (const racer of racers) racer.proc.stdin!.write("go\n");
        const results = await Promise.all(racers.map((r) => r.line((l) => l === "won" || l === "lost", "won or lost")));
        expect(results.filter((r) => r === "won"), `results: ${results}`).toHaveLength(1);
        const winner = racers[results.indexOf("won")];

        const file = readSession(base, id);
        expect(file.owner.pid).toBe(winner.pid);
        expect(file.owner.instance).not.toBe(original.owner.instance);
        expect(file.status).toBe("active");
        expect(file.operation).toBe(original.operation);
        expect(file.progress.status).toBe("running");
        for (const key of ["progress", "currentStep", "totalSteps", "completedSteps", "startedAt"]) {
          expect(file.progress[key], key).toEqual(original.progress[key]);
        }
        expect(file.context).toEqual(original.context);
        // the winner is alive: not crashed, whatever the threshold
        expect(store.findCrashedSessions(0)).toEqual([]);

        for (const loser of racers.filter((r) => r !== winner)) {
          loser.proc.stdin!.end();
          expect(await loser.exit).toEqual({ code: 0, signal: null });
          expect(loser.stderr).toBe("");
        }
        await winner.kill9();
        expect(ids(store.findCrashedSessions(3_600_000))).toEqual([id]);
      }
    }, 30_000);
  });

  it("four processes writing 25 sessions each into one folder leave 100 whole, completed files", async () => {
    const base = tempDir();
    const writers = [0, 1, 2, 3].map(() => new Child("bulk-writer.mjs", [base]));
    const exits = await Promise.all(writers.map((w) => w.exit));
    for (const [i, exit] of exits.entries()) {
      expect(writers[i].stderr).toBe("");
      expect(exit).toEqual({ code: 0, signal: null });
    }
    const written = new Map<string, number>();
    for (const writer of writers) {
      const printed = writer.lines.filter(Boolean);
      expect(printed).toHaveLength(25);
      for (const id of printed) written.set(id, writer.pid);
    }
    expect(written.size).toBe(100);

    // nothing else is left: no temporary file, no claim; one owner lock file per writer process
    expect(sessionFiles(base)).toEqual([...[...written.keys()].map((id) => `${id}.json`), "owners", "requests"].sort());
    expect(fs.readdirSync(path.join(sessionsDir(base), "owners"))).toHaveLength(4);
    const files = parseAllJson(base);
    for (const [id, state] of files) {
      expect(state.id).toBe(id);
      expect(state.status).toBe("completed");
      expect(state.progress.status).toBe("completed");
      expect(state.progress.progress).toBe(100);
      expect(state.progress.completedSteps).toBe(20);
      expect(state.progress.totalSteps).toBe(20);
      expect(state.context.writer).toBe(written.get(id));
      expect(state.context.step).toBe(19);
      expect(state.owner.pid).toBe(written.get(id));
    }
    expect(new SessionStateStore(base).corruptFiles()).toEqual([]);
  }, 30_000);

  describe("file modes", () => {
    it.skipIf(modes.skip)(modes.title("D11: by default the folder is 0700 and the session and lock files 0600"), () => {
      const base = tempDir();
      const manager = new SessionManager({ basePath: base });
      const session = manager.createSession("modes", {});
      expect(mode(sessionsDir(base))).toBe(0o700);
      expect(mode(sessionFile(base, session.id))).toBe(0o600);
      const owners = path.join(sessionsDir(base), "owners");
      expect(mode(owners)).toBe(0o700);
      expect(mode(path.join(owners, `${readSession(base, session.id).owner.instance}.lock`))).toBe(0o600);
      manager.completeSession(session.id);

      const storeBase = tempDir();
      new SessionStateStore(storeBase).save(makeState("s"));
      expect(mode(sessionsDir(storeBase))).toBe(0o700);
      expect(mode(sessionFile(storeBase, "s"))).toBe(0o600);
    });

    it.skipIf(modes.skip)(modes.title("{ fileMode: 0o640 } gives files 0640 and the folder 0750"), () => {
      const base = tempDir();
      const manager = new SessionManager({ basePath: base, fileMode: 0o640 });
      const session = manager.createSession("modes", {});
      expect(mode(sessionsDir(base))).toBe(0o750);
      expect(mode(sessionFile(base, session.id))).toBe(0o640);
      const owners = path.join(sessionsDir(base), "owners");
      expect(mode(owners)).toBe(0o750);
      expect(mode(path.join(owners, `${readSession(base, session.id).owner.instance}.lock`))).toBe(0o640);
      // a rewrite (a new file renamed over the old) keeps the mode
      manager.completeSession(session.id);
      expect(mode(sessionFile(base, session.id))).toBe(0o640);

      const storeBase = tempDir();
      new SessionStateStore(storeBase, { fileMode: 0o640 }).save(makeState("s"));
      expect(mode(sessionsDir(storeBase))).toBe(0o750);
      expect(mode(sessionFile(storeBase, "s"))).toBe(0o640);
    });

    it.each([0o400, 0o200, 0o000, 0o1000, 1.5, -1, NaN])("fileMode %d is refused with ERR_OUT_OF_RANGE", (fileMode) => {
      const base = tempDir();
      expectError(() => new SessionStateStore(base, { fileMode }), { type: RangeError, code: "ERR_OUT_OF_RANGE", message: "fileMode" });
      expectError(() => new SessionManager({ basePath: base, fileMode }), {
        type: RangeError,
        code: "ERR_OUT_OF_RANGE",
        message: "fileMode",
      });
      expect(fs.existsSync(path.join(base, ".msw"))).toBe(false);
    });
  });

  describe("exit without shutdown()", () => {
    it.each([
      ["runs out of work", []],
      ["calls process.exit(0)", ["exit"]],
    ])("a process that %s writes its last progress and context", async (_label, extra) => {
      const base = tempDir();
      const child = new Child("exit-without-shutdown.mjs", [base, ...extra]);
      const exit = await child.exit;
      expect(child.stderr).toBe("");
      expect(exit).toEqual({ code: 0, signal: null });
      const id = await child.id();
      const state = readSession(base, id);
      expect(state.status).toBe("active");
      expect(state.progress).toMatchObject({
        status: "running",
        progress: 77,
        currentStep: "last step",
        totalSteps: 10,
        completedSteps: 5,
      });
      expect(state.context).toEqual({ phase: "changed in place", items: ["x", "y"] });
    });
  });

  describe("how far the disk lags", () => {
    it("D10: with the default persistIntervalMs the file catches up with updates by itself", async () => {
      const base = tempDir();
      const manager = new SessionManager({ basePath: base });
      const session = manager.createSession("lag", { n: 0 });
      session.progress.start(4);
      session.context.n = 1;
      session.progress.setProgress(42, "middle");
      await waitFor(() => {
        const s = readSession(base, session.id);
        return s.progress.progress === 42 && s.progress.currentStep === "middle" && s.context.n === 1;
      });
      // a burst of updates ends, on disk, at the last one
      for (let i = 1; i <= 50; i++) {
        session.context.n = i;
        session.progress.setProgress(42 + i, `burst ${i}`);
      }
      await waitFor(() => {
        const s = readSession(base, session.id);
        return s.progress.progress === 92 && s.progress.currentStep === "burst 50" && s.context.n === 50;
      });
      expect(manager.completeSession(session.id)).toBe(true);
      expect(readSession(base, session.id).status).toBe("completed");
    }, 10_000);

    it("D10: an update returns before the disk: flush() writes at once what a one-hour persistIntervalMs leaves pending", () => {
      const base = tempDir();
      const manager = new SessionManager({ basePath: base, persistIntervalMs: 3_600_000 });
      const session = manager.createSession("flush", { n: 0 });
      session.progress.start(4);
      session.progress.completeStep("one");
      session.context.n = 2;
      session.progress.setProgress(60, "two");
      const before = readSession(base, session.id);
      expect(before.progress.progress).toBe(0);
      expect(before.progress.currentStep).toBeUndefined();
      expect(before.context).toEqual({ n: 0 });

      manager.flush();
      const after = readSession(base, session.id);
      expect(after.progress).toMatchObject({ status: "running", progress: 60, currentStep: "two", completedSteps: 1, totalSteps: 4 });
      expect(after.context).toEqual({ n: 2 });
      manager.shutdown();
    });

    it("persistIntervalMs: 0 writes every update before it returns", () => {
      const base = tempDir();
      const manager = new SessionManager({ basePath: base, persistIntervalMs: 0 });
      const session = manager.createSession("sync", { n: 0 });
      session.progress.start(3);
      for (let i = 1; i <= 3; i++) {
        session.context.n = i;
        session.progress.completeStep(`s${i}`);
        const s = readSession(base, session.id);
        expect(s.progress.completedSteps).toBe(i);
        expect(s.progress.currentStep).toBe(`s${i}`);
        expect(s.context.n).toBe(i);
      }
      manager.completeSession(session.id);
    });
  });

  describe("unreadable files", () => {
    it("D3: unreadable files are moved aside to .corrupt, .corrupt.1, … on the first failed read, never deleted", () => {
      const base = tempDir();
      const store = new SessionStateStore(base);
      // a finished session old enough for cleanup(0), to show that cleanup does run
      store.save(makeState("done", { status: "completed", updatedAt: isoAgo(60_000) }));
      const dir = sessionsDir(base);
      const garbage1 = Buffer.concat([Buffer.from('{"id": "torn", "operation": "to'), Buffer.from([0xff, 0xfe, 0x00])]);
      fs.writeFileSync(sessionFile(base, "torn"), garbage1);

      expect(store.load("torn")).toBeUndefined();
      const first = path.join(dir, "torn.json.corrupt");
      expect(fs.existsSync(sessionFile(base, "torn"))).toBe(false);
      expect(fs.readFileSync(first).equals(garbage1)).toBe(true);
      expect(store.corruptFiles()).toEqual([first]);
      expect(new SessionManager({ basePath: base }).corruptFiles()).toEqual([first]);
      expect(store.listSessions()).toEqual(["done"]);

      expect(store.cleanup(0)).toBe(1);
      expect(fs.readFileSync(first).equals(garbage1)).toBe(true);
      expect(store.corruptFiles()).toEqual([first]);

      // a second unreadable file of the same id, found by a crash scan, does not replace the first
      const garbage2 = Buffer.from("not json at all");
      fs.writeFileSync(sessionFile(base, "torn"), garbage2);
      expect(store.findCrashedSessions(0)).toEqual([]);
      const second = path.join(dir, "torn.json.corrupt.1");
      expect(fs.readFileSync(second).equals(garbage2)).toBe(true);
      expect(fs.readFileSync(first).equals(garbage1)).toBe(true);

      // a third, found by cleanup
      const garbage3 = Buffer.from('{"id": "torn"}');
      fs.writeFileSync(sessionFile(base, "torn"), garbage3);
      expect(store.cleanup(0)).toBe(0);
      const third = path.join(dir, "torn.json.corrupt.2");
      expect(fs.readFileSync(third).equals(garbage3)).toBe(true);
      expect(store.corruptFiles()).toEqual([first, second, third]);
      expect(sessionFiles(base)).toEqual(["torn.json.corrupt", "torn.json.corrupt.1", "torn.json.corrupt.2"]);
    });
  });

  describe("I/O faults", () => {
    it("a basePath that is a regular file: createSession and store.save throw ERR_SESSION_IO naming it and keep nothing", () => {
      const dir = tempDir();
      const file = path.join(dir, "a-file");
      fs.writeFileSync(file, "not a folder");
      const manager = new SessionManager({ basePath: file });
      const err = expectError(() => manager.createSession("op", { n: 1 }), { type: Error, code: "ERR_SESSION_IO", message: file });
      expect(String(err.path)).toContain(file);
      expect(manager.getAllSessions()).toEqual([]);
      expect(manager.getActiveSessions()).toEqual([]);
      expect(() => manager.shutdown()).not.toThrow();
      expect(fs.readFileSync(file, "utf8")).toBe("not a folder");

      const saveErr = expectError(() => new SessionStateStore(file).save(makeState("s")), {
        type: Error,
        code: "ERR_SESSION_IO",
        message: file,
      });
      expect(typeof saveErr.path).toBe("string");
      expect(saveErr.path!.startsWith(file)).toBe(true);
      expect(fs.readFileSync(file, "utf8")).toBe("not a folder");
    });

    it.each([
      ["a one-hour persistIntervalMs", 3_600_000],
      ["the default persistIntervalMs", 100],
      ["persistIntervalMs: 0", 0],
    ])(
      "with %s, a refused progress write is thrown by the next flush(), and the manager recovers",
      (_label, persistIntervalMs) => {
        const base = tempDir();
        const manager = new SessionManager({ basePath: base, persistIntervalMs });
        const session = manager.createSession("fault", { n: 0 });
        session.progress.start(10);
        manager.flush();

        const dir = sessionsDir(base);
        fs.renameSync(dir, `${dir}.moved`);
        fs.writeFileSync(dir, "in the way");
        session.context.n = 1;
        // the update itself does not throw, whatever the interval
        session.progress.setProgress(30, "blocked");
        const err = expectError(() => manager.flush(), { type: Error, code: "ERR_SESSION_IO", message: dir });
        // Every separator the platform's (issue 21.1: not `…\\.msw/sessions\\…` on Windows). Which
        // call the OS refuses first differs: Linux refuses the file's write (ENOTDIR), Windows the
        // folder's creation (EEXIST), so the error names the file or its folder.
        const file = path.join(base, ".msw", "sessions", `${session.id}.json`);
        expect([file, path.dirname(file)]).toContain(err.path);
        expect(err.message).toContain(`"${err.path}"`);
        // memory is unchanged
        expect(manager.getSession(session.id)).toBe(session);
        expect(session.progress.getState()).toMatchObject({ progress: 30, currentStep: "blocked", status: "running" });

        fs.rmSync(dir);
        fs.renameSync(`${dir}.moved`, dir);
        manager.saveAllSessions();
        const state = readSession(base, session.id);
        expect(state.progress).toMatchObject({ progress: 30, currentStep: "blocked" });
        expect(state.context).toEqual({ n: 1 });
        // and keeps working
        session.progress.setProgress(40, "after");
        manager.flush();
        expect(readSession(base, session.id).progress.progress).toBe(40);
        expect(manager.completeSession(session.id)).toBe(true);
        expect(readSession(base, session.id).status).toBe("completed");
      },
    );
  });

  describe("fsync", () => {
    it("{ fsync: true, persistIntervalMs: 0 } writes every state correctly", () => {
      const base = tempDir();
      const manager = new SessionManager({ basePath: base, fsync: true, persistIntervalMs: 0 });
      const session = manager.createSession("fsync", { items: ["a"] });
      expect(readSession(base, session.id).progress.status).toBe("pending");
      session.progress.start(2);
      session.context.items = ["a", "b"];
      session.progress.completeStep("first");
      expect(readSession(base, session.id)).toMatchObject({
        status: "active",
        progress: { status: "running", progress: 50, currentStep: "first", completedSteps: 1, totalSteps: 2 },
        context: { items: ["a", "b"] },
      });
      expect(manager.completeSession(session.id)).toBe(true);
      expect(readSession(base, session.id)).toMatchObject({ status: "completed", progress: { status: "completed", progress: 100 } });
      expect(sessionFiles(base)).toEqual([`${session.id}.json`, "owners", "requests"]);

      const store = new SessionStateStore(base, { fsync: true });
      const state = makeState("direct");
      store.save(state);
      expect(store.load("direct")).toEqual(state);
    });
  });
});
