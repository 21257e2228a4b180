// A full disk loses nothing. The sessions live on a small tmpfs mounted for this file (the tests
// run as root here; where mounting is refused they are skipped with a message). The disk is
// filled with a filler file until ENOSPC, then:
// - the failing call throws ERR_SESSION_IO naming the path (and the OS reason);
// - every earlier session file still parses and holds its earlier state (writes are atomic);
// - no temporary file (`.<id>.json.<pid>.<n>.tmp`, see "Persistence and crash safety") is left;
// - a session whose write failed is written by the next write, with no new update in between;
// - once space is freed the same manager works again, without a restart.
// Nothing sleeps: the background writer's failure is awaited through a sentinel session whose
// write is due after it (see the background-writer test), and reported by flush().
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it, type TestContext } from "vitest";
import { SessionManager, type SessionManagerOptions } from "msw-session";
import { expectError, isReference, readSession, sessionFile, sessionFiles, sessionsDir, tempDirs, UUID, waitFor } from "./helpers";

const tempDir = tempDirs();

/** Where the tmpfs is mounted; made in beforeAll. */
let mnt = "";
/** Why the tmpfs could not be mounted (the tests are skipped); empty once mounted. */
let notMounted = "not mounted yet";
const SIZE = "256k";

/** Skips the test, with the reason, when the tmpfs could not be mounted. */
function needsTmpfs(ctx: TestContext): void {
  ctx.skip(notMounted !== "", `needs a ${SIZE} tmpfs: ${notMounted}`);
}

/** The filler file that takes the free space of the tmpfs. */
const filler = () => path.join(mnt, "filler");

/** Appends to the filler until the tmpfs refuses with ENOSPC, and checks that no block is left. */
function fillDisk(): void {
  const fd = fs.openSync(filler(), "a");
  const chunk = Buffer.alloc(4096, 0x61);
  try {
    // 256 KiB is 64 chunks; the bound only keeps a misconfigured mount from filling /tmp
    for (let i = 0; ; i++) {
      if (i > 10_000) throw new Error(`the tmpfs at ${mnt} never filled up`);
      fs.writeSync(fd, chunk);
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOSPC") throw err;
  } finally {
    fs.closeSync(fd);
  }
  expect(fs.statfsSync(mnt).bavail, "free blocks after filling").toBe(0);
}

/** Deletes the filler: the tmpfs has its space again. */
function freeSpace(): void {
  fs.rmSync(filler(), { force: true });
}

const bases: string[] = [];
const managers: SessionManager[] = [];

/** A fresh basePath on the tmpfs. */
function tmpfsBase(): string {
  const base = fs.mkdtempSync(path.join(mnt, "case-"));
  bases.push(base);
  return base;
}

/** A manager that afterEach shuts down (after freeing space), so none writes after its test. */
function manager(options: SessionManagerOptions): SessionManager {
  const m = new SessionManager(options);
  managers.push(m);
  return m;
}

/** The text of every `*.json` entry of the sessions folder, by name. */
function jsonTexts(base: string): Map<string, string> {
  const texts = new Map<string, string>();
  for (const name of sessionFiles(base).filter((n) => n.endsWith(".json"))) {
    texts.set(name, fs.readFileSync(path.join(sessionsDir(base), name), "utf8"));
  }
  return texts;
}

/** Asserts that the session files are exactly `before`, byte for byte, and that each parses. */
function expectEarlierFilesIntact(base: string, before: Map<string, string>): void {
  const now = jsonTexts(base);
  expect([...now.keys()].sort(), "the session files").toEqual([...before.keys()].sort());
  for (const [name, text] of now) {
    expect(() => JSON.parse(text), `${name} parses`).not.toThrow();
    expect(text, `${name} is unchanged`).toBe(before.get(name));
  }
}

/**
 * Entries a failed write may have left behind: in the sessions folder anything but session files
 * (`<id>.json`), claim files (`<id>.lock`) and `owners/` — a temporary file
 * `.<id>.json.<pid>.<n>.tmp` above all; in `owners/` anything but `*.lock`; and any `*.tmp`
 * anywhere on the tmpfs.
 */
function strayEntries(base: string): string[] {
  const stray = sessionFiles(base).filter((name) => !(name === "owners" || name === "requests" || /^[^.][^/]*\.(json|lock)$/.test(name)));
  const owners = path.join(sessionsDir(base), "owners");
  if (fs.existsSync(owners)) {
    stray.push(...fs.readdirSync(owners).filter((n) => !n.endsWith(".lock")).map((n) => `owners/${n}`));
  }
  const tmp = (fs.readdirSync(mnt, { recursive: true }) as string[]).filter((n) => /\.tmp$/.test(n)).map((n) => `<mnt>/${n}`);
  return [...stray, ...tmp];
}

/** Asserts ERR_SESSION_IO for a full disk: the message names `where` and the OS reason, `path` holds it. */
function expectDiskFull(fn: () => unknown, where: string): Error & { path?: string } {
  const err = expectError(fn, { type: Error, code: "ERR_SESSION_IO", message: where });
  expect(err.message).toMatch(/no space left on device|ENOSPC/i);
  expect(typeof err.path).toBe("string");
  expect(err.path).toContain(where);
  expect(err.message).toContain(err.path);
  return err;
}

describe.skipIf(isReference)("a full disk", () => {
  beforeAll(() => {
    mnt = fs.mkdtempSync(path.join(os.tmpdir(), "msw-session-disk-full-"));
    try {
      execFileSync("mount", ["-t", "tmpfs", "-o", `size=${SIZE},mode=0700`, "tmpfs", mnt], { stdio: "pipe" });
      notMounted = "";
    } catch (err) {
      const stderr = String((err as { stderr?: Buffer }).stderr ?? "").replace(/\s+/g, " ").trim();
      notMounted = `mount -t tmpfs refused (${stderr || (err as Error).message})`;
      console.warn(`disk-full.spec.ts: skipping every test: ${notMounted}`);
    }
  });

  afterAll(() => {
    if (notMounted === "") {
      try {
        execFileSync("umount", [mnt], { stdio: "pipe" });
      } catch {
        // this process keeps its owner lock files open until it exits (by design): detach the
        // mount now, the kernel frees it when the last file is closed
        execFileSync("umount", ["-l", mnt], { stdio: "pipe" });
      }
    }
    if (mnt) fs.rmSync(mnt, { recursive: true, force: true });
  });

  afterEach(() => {
    if (notMounted !== "") return;
    freeSpace();
    for (const m of managers.splice(0)) {
      try {
        m.shutdown();
      } catch {
        // the test has failed already; the folder goes anyway
      }
    }
    for (const base of bases.splice(0)) fs.rmSync(base, { recursive: true, force: true });
  });

  it("createSession throws ERR_SESSION_IO naming the file, keeps no session and leaves no temporary file", (ctx) => {
    needsTmpfs(ctx);
    const base = tmpfsBase();
    const m = manager({ basePath: base, persistIntervalMs: 0 });
    const earlier = m.createSession("earlier", { n: 1 });
    earlier.progress.start(2);
    earlier.progress.completeStep("one");
    expect(m.completeSession(earlier.id)).toBe(true);
    const before = jsonTexts(base);
    expect([...before.keys()]).toEqual([`${earlier.id}.json`]);

    fillDisk();
    const err = expectDiskFull(() => m.createSession("refused", { n: 2 }), sessionsDir(base));
    // the file of the new session: <sessions>/<uuid>.json
    expect(path.dirname(err.path!)).toBe(sessionsDir(base));
    expect(path.basename(err.path!)).toMatch(new RegExp(`^${UUID.source.slice(1, -1)}\\.json$`));

    expect(m.getAllSessions()).toEqual([]);
    expect(m.getActiveSessions()).toEqual([]);
    expectEarlierFilesIntact(base, before);
    expect(fs.existsSync(err.path!)).toBe(false);
    expect(strayEntries(base)).toEqual([]);
    expect(readSession(base, earlier.id)).toMatchObject({ status: "completed", progress: { status: "completed", completedSteps: 1, progress: 100 } });
  });

  it("a progress update on a full disk: flush() and saveAllSessions() throw naming the file, earlier files keep their state", (ctx) => {
    needsTmpfs(ctx);
    const base = tmpfsBase();
    const m = manager({ basePath: base, persistIntervalMs: 0 });
    const done = m.createSession("done", { n: 0 });
    expect(m.completeSession(done.id)).toBe(true);
    const live = m.createSession("live", { phase: "before" });
    live.progress.start(4);
    live.progress.completeStep("one");
    const before = jsonTexts(base);
    expect(readSession(base, live.id).progress).toMatchObject({ status: "running", completedSteps: 1, currentStep: "one" });

    fillDisk();
    live.context.phase = "during";
    // the update itself does not throw (README: the next explicit save reports it)
    live.progress.setProgress(60, "blocked");
    const err = expectDiskFull(() => m.flush(), sessionFile(base, live.id));
    expect(err.path).toBe(sessionFile(base, live.id));
    expectEarlierFilesIntact(base, before);
    expect(strayEntries(base)).toEqual([]);

    const err2 = expectDiskFull(() => m.saveAllSessions(), sessionFile(base, live.id));
    expect(err2.path).toBe(sessionFile(base, live.id));
    expectEarlierFilesIntact(base, before);
    expect(strayEntries(base)).toEqual([]);

    // the files hold the earlier states; memory has the latest
    expect(readSession(base, live.id)).toMatchObject({
      status: "active",
      progress: { status: "running", progress: 25, completedSteps: 1, currentStep: "one" },
      context: { phase: "before" },
    });
    expect(readSession(base, done.id).status).toBe("completed");
    expect(m.getSession(live.id)).toBe(live);
    expect(live.progress.getState()).toMatchObject({ status: "running", progress: 60, currentStep: "blocked" });
  });

  it("persistIntervalMs: 0 — the session whose write failed is written by the next flush(), with no new update", (ctx) => {
    needsTmpfs(ctx);
    const base = tmpfsBase();
    const m = manager({ basePath: base, persistIntervalMs: 0 });
    const s = m.createSession("retry", { n: 0 });
    s.progress.start(4);

    fillDisk();
    s.context.n = 1;
    s.progress.setProgress(60, "latest");
    expectDiskFull(() => m.flush(), sessionFile(base, s.id));
    expect(readSession(base, s.id).progress.progress).toBe(0);

    freeSpace();
    // no update in between: the failed write is still owed
    m.flush();
    expect(readSession(base, s.id)).toMatchObject({
      status: "active",
      progress: { status: "running", progress: 60, currentStep: "latest" },
      context: { n: 1 },
    });
    expect(strayEntries(base)).toEqual([]);
  });

  it("the background writer — its failure is thrown by flush(), and the next flush() writes the latest state", async (ctx) => {
    needsTmpfs(ctx);
    const base = tmpfsBase();
    const m = manager({ basePath: base, persistIntervalMs: 100 });
    const s = m.createSession("background", { n: 0 });
    s.progress.start(4);
    m.flush();
    const before = jsonTexts(base);

    // A sentinel on another disk. Background writes run one at a time on one writer thread, in
    // the order they fall due: once the sentinel's later write is on disk, the writer has run
    // (and failed) the write of `s`.
    const sentinelBase = tempDir();
    const sentinelManager = manager({ basePath: sentinelBase, persistIntervalMs: 100 });
    const sentinel = sentinelManager.createSession("sentinel", {});

    fillDisk();
    s.context.n = 2;
    s.progress.setProgress(70, "background");
    sentinel.progress.setProgress(1, "written after s");
    await waitFor(() => readSession(sentinelBase, sentinel.id).progress.currentStep === "written after s");

    expectEarlierFilesIntact(base, before);
    expect(strayEntries(base)).toEqual([]);
    // the kept background failure
    const err = expectDiskFull(() => m.flush(), sessionFile(base, s.id));
    expect(err.path).toBe(sessionFile(base, s.id));
    expectEarlierFilesIntact(base, before);

    freeSpace();
    // no update in between
    m.flush();
    expect(readSession(base, s.id)).toMatchObject({
      status: "active",
      progress: { status: "running", progress: 70, currentStep: "background" },
      context: { n: 2 },
    });
    expect(strayEntries(base)).toEqual([]);
    expect(m.completeSession(s.id)).toBe(true);
    expect(readSession(base, s.id).status).toBe("completed");
    m.shutdown();
  });

  it("once space is freed the same manager works again: create, complete, shutdown()", (ctx) => {
    needsTmpfs(ctx);
    const base = tmpfsBase();
    const m = manager({ basePath: base, persistIntervalMs: 0 });
    const earlier = m.createSession("earlier", { n: 1 });

    fillDisk();
    expectDiskFull(() => m.createSession("refused", {}), sessionsDir(base));
    expect(m.getAllSessions()).toEqual([earlier]);

    freeSpace();
    const after = m.createSession("after", { ok: true });
    after.progress.start(2);
    after.progress.completeStep("a");
    after.progress.completeStep("b");
    expect(m.completeSession(after.id)).toBe(true);
    expect(readSession(base, after.id)).toMatchObject({
      status: "completed",
      progress: { status: "completed", progress: 100, completedSteps: 2, totalSteps: 2 },
      context: { ok: true },
    });
    expect(m.completeSession(earlier.id)).toBe(true);
    expect(readSession(base, earlier.id).status).toBe("completed");
    expect(() => m.shutdown()).not.toThrow();
    expect(sessionFiles(base).filter((n) => n.endsWith(".json")).sort()).toEqual([`${earlier.id}.json`, `${after.id}.json`].sort());
    expect(strayEntries(base)).toEqual([]);
  });

  it("completeSession on a full disk throws and keeps the session live; once freed it completes and shutdown() succeeds", (ctx) => {
    needsTmpfs(ctx);
    const base = tmpfsBase();
    const m = manager({ basePath: base, persistIntervalMs: 0 });
    const s = m.createSession("finish", { n: 1 });
    s.progress.start(1);
    const before = jsonTexts(base);

    fillDisk();
    expectDiskFull(() => m.completeSession(s.id), sessionFile(base, s.id));
    expect(m.getSession(s.id)).toBe(s);
    expectEarlierFilesIntact(base, before);
    expect(readSession(base, s.id).status).toBe("active");
    expect(strayEntries(base)).toEqual([]);

    freeSpace();
    expect(m.completeSession(s.id)).toBe(true);
    expect(readSession(base, s.id)).toMatchObject({ status: "completed", progress: { status: "completed", progress: 100 } });
    expect(m.getSession(s.id)).toBeUndefined();
    // everything is on disk: nothing is left to report
    expect(() => m.shutdown()).not.toThrow();
  });

  it("a 200 kB context that does not fit: createSession throws, earlier files intact, its space given back", (ctx) => {
    needsTmpfs(ctx);
    const base = tmpfsBase();
    const m = manager({ basePath: base, persistIntervalMs: 0 });
    const live = m.createSession("live", { small: true });
    live.progress.start(2);
    const done = m.createSession("done", {});
    expect(m.completeSession(done.id)).toBe(true);
    const before = jsonTexts(base);

    // leave 96 KiB: room for small files, not for a 200 kB one
    fillDisk();
    fs.truncateSync(filler(), fs.statSync(filler()).size - 96 * 1024);
    const free = fs.statfsSync(mnt).bavail;
    expect(free).toBeGreaterThan(0);
    const big = { blob: "x".repeat(200_000) };

    expectDiskFull(() => m.createSession("big", big), sessionsDir(base));
    expect(m.getAllSessions()).toEqual([live]);
    expectEarlierFilesIntact(base, before);
    expect(strayEntries(base)).toEqual([]);
    // the partial temporary file was deleted, not just hidden: every block is free again
    expect(fs.statfsSync(mnt).bavail).toBe(free);

    // a live session whose context grows past the free space keeps its earlier file whole
    live.context.blob = big.blob;
    live.progress.completeStep("grown");
    expectDiskFull(() => m.flush(), sessionFile(base, live.id));
    expectEarlierFilesIntact(base, before);
    expect(readSession(base, live.id).context).toEqual({ small: true });
    expect(strayEntries(base)).toEqual([]);
    expect(fs.statfsSync(mnt).bavail).toBe(free);

    // small writes still fit
    delete live.context.blob;
    live.progress.completeStep("shrunk");
    m.flush();
    expect(readSession(base, live.id)).toMatchObject({ progress: { completedSteps: 2, currentStep: "shrunk" }, context: { small: true } });
    const small = m.createSession("small", { n: 1 });
    expect(readSession(base, small.id).context).toEqual({ n: 1 });
    expect(strayEntries(base)).toEqual([]);
  });
});
