// Contract §1 "Store": SessionStateStore files, loading, listing, crash detection and cleanup,
// and the package's fixes D6 (ids that are not plain file names are refused) and D1 (the status
// `cancelled`, as the store reads it). Corrupt files (D3), owners (D4) and file modes (D11) are in
// persistence.spec.ts.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { SessionStateStore } from "msw-session";
import {
  DAY,
  ISO_TIMESTAMP,
  MINUTE,
  expectError,
  isReference,
  isoAgo,
  makeState,
  packageEntry,
  sessionFile,
  sessionFiles,
  sessionsDir,
  tempDirs,
} from "./helpers";

const tempDir = tempDirs();

describe("SessionStateStore save/load/remove", () => {
  it("save writes pretty JSON (2-space indent) at <basePath>/.msw/sessions/<id>.json", () => {
    const base = tempDir();
    const store = new SessionStateStore(base);
    const state = makeState("abc");
    store.save(state);
    const text = fs.readFileSync(sessionFile(base, "abc"), "utf8");
    const parsed = JSON.parse(text);
    expect(parsed).toEqual(state);
    // pretty-printed exactly as JSON.stringify(…, null, 2) prints what it holds
    expect(text.trimEnd()).toBe(JSON.stringify(parsed, null, 2));
    expect(text.startsWith('{\n  "')).toBe(true);
  });

  it("save creates the folders when needed and overwrites an existing file", () => {
    const base = path.join(tempDir(), "not", "yet");
    const store = new SessionStateStore(base);
    store.save(makeState("s1", { operation: "first" }));
    store.save(makeState("s1", { operation: "second" }));
    expect(store.load("s1")?.operation).toBe("second");
    expect(sessionFiles(base)).toEqual(["s1.json"]);
  });

  it("load returns what save wrote, including crashedAt", () => {
    const base = tempDir();
    const store = new SessionStateStore(base);
    const state = makeState("s2", { status: "crashed", crashedAt: "2026-11-24T13:00:00.000Z" });
    store.save(state);
    expect(store.load("s2")).toEqual(state);
  });

  it("load returns undefined for a missing session", () => {
    const store = new SessionStateStore(tempDir());
    expect(store.load("nope")).toBeUndefined();
  });

  it("load returns undefined for a file that is not JSON", () => {
    const base = tempDir();
    fs.mkdirSync(sessionsDir(base), { recursive: true });
    fs.writeFileSync(sessionFile(base, "torn"), '{"id": "torn", "opera');
    expect(new SessionStateStore(base).load("torn")).toBeUndefined();
  });

  it("remove deletes the file and returns true, then false", () => {
    const base = tempDir();
    const store = new SessionStateStore(base);
    store.save(makeState("gone"));
    expect(store.remove("gone")).toBe(true);
    expect(fs.existsSync(sessionFile(base, "gone"))).toBe(false);
    expect(store.remove("gone")).toBe(false);
    expect(store.load("gone")).toBeUndefined();
  });

  it("ids that are plain file names with dots are accepted", () => {
    const base = tempDir();
    const store = new SessionStateStore(base);
    store.save(makeState("release-1.2..3"));
    expect(store.load("release-1.2..3")?.id).toBe("release-1.2..3");
    expect(fs.existsSync(sessionFile(base, "release-1.2..3"))).toBe(true);
  });

  it("basePath defaults to process.cwd()", () => {
    const base = tempDir();
    const cwd = process.cwd();
    let store: SessionStateStore;
    process.chdir(base);
    try {
      store = new SessionStateStore();
    } finally {
      process.chdir(cwd);
    }
    store.save(makeState("here"));
    expect(fs.existsSync(sessionFile(base, "here"))).toBe(true);
    expect(fs.existsSync(sessionFile(cwd, "here"))).toBe(false);
  });
});

describe.skipIf(isReference)("D6: an id that is not a plain file name is refused", () => {
  it("D6: load('../../x') refuses to read outside the folder", () => {
    const base = tempDir();
    const store = new SessionStateStore(base);
    // where the reference would read: <base>/.msw/sessions/../../x.json
    const outside = path.join(base, "x.json");
    fs.writeFileSync(outside, JSON.stringify(makeState("x")));
    expectError(() => store.load("../../x"), { type: TypeError, code: "ERR_INVALID_SESSION_ID" });
    expect(fs.existsSync(outside)).toBe(true);
  });

  it("D6: remove('../../x') refuses to delete outside the folder", () => {
    const base = tempDir();
    const store = new SessionStateStore(base);
    store.save(makeState("inside"));
    const outside = path.join(base, "x.json");
    fs.writeFileSync(outside, "keep me");
    expectError(() => store.remove("../../x"), { type: TypeError, code: "ERR_INVALID_SESSION_ID" });
    expect(fs.readFileSync(outside, "utf8")).toBe("keep me");
    expect(store.listSessions()).toEqual(["inside"]);
  });

  it("D6: save({ id: '../x' }) refuses to write outside the folder", () => {
    const base = tempDir();
    const store = new SessionStateStore(base);
    expectError(() => store.save(makeState("../x")), { type: TypeError, code: "ERR_INVALID_SESSION_ID" });
    expect(fs.existsSync(path.join(base, ".msw", "x.json"))).toBe(false);
    // a refused call changes nothing, not even the folders
    expect(fs.readdirSync(base)).toEqual([]);
  });

  it.each([
    ["empty", ""],
    [".", "."],
    ["..", ".."],
    ["a slash", "a/b"],
    ["a leading slash", "/etc/passwd"],
    ["a backslash", "a\\b"],
    ["a NUL", "a\0b"],
  ])("D6: an id with %s is refused by save, load and remove", (_label, id) => {
    const base = tempDir();
    const store = new SessionStateStore(base);
    store.save(makeState("inside"));
    const expected = { type: TypeError, code: "ERR_INVALID_SESSION_ID" };
    expectError(() => store.load(id), expected);
    expectError(() => store.remove(id), expected);
    expectError(() => store.save(makeState(id)), expected);
    expect(store.listSessions()).toEqual(["inside"]);
    expect(fs.readdirSync(sessionsDir(base))).toEqual(["inside.json"]);
  });
});

describe("SessionStateStore listSessions", () => {
  it("is empty when the folder does not exist", () => {
    expect(new SessionStateStore(tempDir()).listSessions()).toEqual([]);
  });

  it("lists the ids of the .json files only", () => {
    const base = tempDir();
    const store = new SessionStateStore(base);
    store.save(makeState("one"));
    store.save(makeState("two"));
    fs.writeFileSync(path.join(sessionsDir(base), "notes.txt"), "not a session");
    expect(store.listSessions().sort()).toEqual(["one", "two"]);
  });
});

describe("SessionStateStore findCrashedSessions", () => {
  function seed(base: string) {
    const store = new SessionStateStore(base);
    store.save(makeState("active-old", { updatedAt: isoAgo(2 * MINUTE) }));
    store.save(makeState("active-fresh", { updatedAt: isoAgo(0) }));
    store.save(makeState("completed-old", { status: "completed", updatedAt: isoAgo(2 * MINUTE) }));
    store.save(makeState("failed-old", { status: "failed", updatedAt: isoAgo(2 * MINUTE) }));
    return store;
  }

  it("returns only active sessions not updated for longer than 60 s by default, as crashed copies", () => {
    const base = tempDir();
    const store = seed(base);
    const saved = store.load("active-old");
    const before = Date.now();
    const crashed = store.findCrashedSessions();
    expect(crashed).toHaveLength(1);
    const [found] = crashed;
    expect(found).toEqual({ ...saved, status: "crashed", crashedAt: expect.stringMatching(ISO_TIMESTAMP) });
    expect(Date.parse(found.crashedAt!)).toBeGreaterThanOrEqual(before);
    // the file itself is left as it was
    expect(store.load("active-old")).toEqual(saved);
  });

  it("uses the threshold it is given", () => {
    const store = seed(tempDir());
    expect(store.findCrashedSessions(DAY)).toEqual([]);
    expect(
      store
        .findCrashedSessions(MINUTE / 2)
        .map((s) => s.id)
        .sort(),
    ).toEqual(["active-old"]);
    const stale = makeState("active-10min", { updatedAt: isoAgo(10 * MINUTE) });
    store.save(stale);
    expect(
      store
        .findCrashedSessions(5 * MINUTE)
        .map((s) => s.id)
        .sort(),
    ).toEqual(["active-10min"]);
  });

  it("finds every crashed session of a large folder, each once", () => {
    // 1,000 files: the package's scan reads them in batches, on threads, and
    // hands them over one batch at a time.
    const base = tempDir();
    const store = new SessionStateStore(base);
    const ids: string[] = [];
    for (let i = 0; i < 1000; i++) {
      const id = `s-${String(i).padStart(4, "0")}`;
      const status = i % 7 === 0 ? "completed" : "active";
      store.save(makeState(id, { status, updatedAt: isoAgo(2 * MINUTE) }));
      if (status === "active") ids.push(id);
    }
    const found = store.findCrashedSessions();
    expect(found.map((s) => s.id).sort()).toEqual(ids);
    expect(found.every((s) => s.status === "crashed" && ISO_TIMESTAMP.test(s.crashedAt!))).toBe(true);
  });

  it.skipIf(isReference || process.platform !== "linux")(
    "reading session files leaves their access time as it was",
    () => {
      const base = tempDir();
      const store = new SessionStateStore(base);
      store.save(makeState("a", { updatedAt: isoAgo(2 * MINUTE) }));
      const file = sessionFile(base, "a");
      // An access time before the change time: a plain read would update it
      // (`relatime`, Linux's default).
      const longAgo = new Date("2000-01-01T00:00:00.000Z");
      fs.utimesSync(file, longAgo, fs.statSync(file).mtime);
      expect(store.load("a")?.id).toBe("a");
      expect(store.findCrashedSessions().map((s) => s.id)).toEqual(["a"]);
      expect(fs.statSync(file).atimeMs).toBe(longAgo.getTime());
    },
  );

  it.skipIf(isReference || process.platform !== "linux" || process.getuid?.() !== 0)(
    "reads the files of another user, which may not be opened without an access time",
    () => {
      // Run as root, the test reads as `nobody` (uid 65534) files root owns:
      // Linux refuses O_NOATIME on them, and the store opens them plainly.
      // The folder is root's, so `nobody` must trust it (issue 25), and a file
      // of another user is read by the crash scan but never loaded or
      // reported; `nobody` cannot move it aside in root's folder, so it stays.
      const base = tempDir();
      const store = new SessionStateStore(base);
      store.save(makeState("theirs", { updatedAt: isoAgo(2 * MINUTE) }));
      for (const folder of [base, path.join(base, ".msw"), sessionsDir(base)]) fs.chmodSync(folder, 0o755);
      fs.chmodSync(sessionFile(base, "theirs"), 0o644);
      const script = [
        `import { SessionStateStore } from ${JSON.stringify(packageEntry)};`,
        `const store = new SessionStateStore(${JSON.stringify(base)}, { trustFolder: true });`,
        `console.log(JSON.stringify([store.load("theirs")?.id, store.findCrashedSessions().map((s) => s.id)]));`,
        `try { new SessionStateStore(${JSON.stringify(base)}); } catch (e) { console.log(e.code); }`,
      ].join("\n");
      const run = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
        uid: 65534,
        gid: 65534,
        encoding: "utf8",
      });
      expect(run.stderr).toBe("");
      const [read, refused] = run.stdout.trim().split("\n");
      expect(JSON.parse(read)).toEqual([null, []]);
      expect(refused).toBe("ERR_UNSAFE_FOLDER");
      expect(sessionFiles(base)).toEqual(["theirs.json"]);
    },
  );

  it("skips files it cannot read and returns [] without a folder", () => {
    const base = tempDir();
    expect(new SessionStateStore(base).findCrashedSessions()).toEqual([]);
    const store = seed(base);
    fs.writeFileSync(sessionFile(base, "torn"), "{");
    expect(store.findCrashedSessions().map((s) => s.id)).toEqual(["active-old"]);
  });
});

describe("SessionStateStore cleanup", () => {
  function seed(base: string) {
    const store = new SessionStateStore(base);
    store.save(makeState("completed-10d", { status: "completed", updatedAt: isoAgo(10 * DAY) }));
    store.save(makeState("failed-10d", { status: "failed", updatedAt: isoAgo(10 * DAY) }));
    store.save(makeState("active-10d", { updatedAt: isoAgo(10 * DAY) }));
    store.save(makeState("completed-1d", { status: "completed", updatedAt: isoAgo(DAY) }));
    store.save(makeState("active-now"));
    return store;
  }

  it("removes finished sessions older than 7 days by default and returns the count", () => {
    const store = seed(tempDir());
    expect(store.cleanup()).toBe(2);
    expect(store.listSessions().sort()).toEqual(["active-10d", "active-now", "completed-1d"]);
    expect(store.cleanup()).toBe(0);
  });

  it("uses the age it is given, and never removes active sessions", () => {
    const store = seed(tempDir());
    expect(store.cleanup(0.5)).toBe(3);
    expect(store.listSessions().sort()).toEqual(["active-10d", "active-now"]);
  });

  it("returns 0 without a folder", () => {
    expect(new SessionStateStore(tempDir()).cleanup()).toBe(0);
  });

  it.skipIf(isReference)("D1: a cancelled session is finished: never found crashed, removed by cleanup once old", () => {
    const base = tempDir();
    const store = new SessionStateStore(base);
    store.save(makeState("c", { status: "cancelled", updatedAt: "2000-01-01T00:00:00.000Z" }));
    expect(store.findCrashedSessions(0)).toEqual([]);
    expect(store.cleanup()).toBe(1);
  });
});
