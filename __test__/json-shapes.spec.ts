// Issue 20, point 5: every session file that `JSON.parse` accepts is read as `JSON.parse` reads
// it, by `load`, `listSessions`, `findCrashedSessions`, `cleanup` and the CLI, whatever its
// shape: minified, tabs, CRLF, reordered keys, `\uXXXX` escapes anywhere (keys included),
// duplicate keys (the last value, at the first key's place), unicode, lone surrogates, numbers
// beyond a double's range in the context, deep nesting. A file is moved aside only when
// `JSON.parse` rejects it (after Node's UTF-8 decoding, as `readFileSync(path, "utf-8")` does) or
// its state has the wrong shape, and it keeps its exact bytes.
//
// The oracle is `JSON.parse` itself. The files come from a generator below, seeded and
// deterministic: the same files on every run. The valid-shape tests also run on the reference
// (`MSW_IMPL=reference`), which reads files with plain `JSON.parse`; the CLI and the fuzz loop of
// damaged files (quarantine, `corruptFiles`) are the package's alone.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { SessionStateStore } from "msw-session";
import { DAY, ISO_TIMESTAMP, isReference, packageRoot, sessionFile, sessionsDir, tempDirs } from "./helpers";

const tempDir = tempDirs();
const BIN = path.join(packageRoot, "bin", "msw-session.mjs");

/** `updatedAt` of stale sessions: long past every threshold used here. */
const OLD = new Date(Date.now() - 10 * DAY).toISOString();
/** `updatedAt` of fresh sessions: in the future, so never stale whatever the test's pace. */
const FRESH = new Date(Date.now() + DAY).toISOString();

// ---------------------------------------------------------------------------
// A seeded PRNG (mulberry32): the same sequence on every run.

type Random = () => number;

function prng(seed: number): Random {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pick = <T>(rnd: Random, items: readonly T[]): T => items[Math.floor(rnd() * items.length)];
const chance = (rnd: Random, p: number) => rnd() < p;

// ---------------------------------------------------------------------------
// JSON documents with every freedom JSON text has: a member list (keys may repeat), number
// literals as written, and a writer that chooses whitespace, escapes and order.

type Doc =
  | { kind: "obj"; members: [string, Doc][] }
  | { kind: "arr"; items: Doc[] }
  | { kind: "str"; value: string }
  | { kind: "raw"; text: string };

const str = (value: string): Doc => ({ kind: "str", value });
const raw = (text: string): Doc => ({ kind: "raw", text });
const obj = (members: [string, Doc][]): Doc => ({ kind: "obj", members });
const arr = (items: Doc[]): Doc => ({ kind: "arr", items });

/** A number literal for `n`, in one of the forms JSON allows for it. */
function num(rnd: Random, n: number): Doc {
  const plain = String(n);
  if (!Number.isInteger(n) || chance(rnd, 0.5)) return raw(plain);
  return raw(pick(rnd, [`${plain}.0`, `${plain}e0`, `${plain}E+0`, `${plain}.000e-0`, `${n * 10}e-1`]));
}

/** Pieces of strings: unicode, escapes JSON must write, lone surrogates, the js_text plane. */
const PIECES = [
  "plain",
  "é ü ß",
  "中文",
  "😀",
  "\u2028\u2029",
  "\u{10FFFF}",
  "\u{10F7FF}",
  "\u{10F800}x",
  "\u{10FFFD}",
  "\ud83d",
  "\ude00",
  "a\ud800b",
  "\u0000\u001f",
  '"\\/',
  "\uFEFF",
  "\t\r\n",
  "}]{[,:",
  "\\u0073tatus",
];

function text(rnd: Random, pieces = 3): string {
  let s = "";
  const n = Math.floor(rnd() * pieces);
  for (let i = 0; i < n; i++) s += pick(rnd, PIECES);
  return s;
}

/** A free-form value (a context's), up to `depth` levels. */
function freeForm(rnd: Random, depth: number): Doc {
  const r = rnd();
  if (depth <= 0 || r < 0.45) {
    return pick(rnd, [
      () => str(text(rnd)),
      () => num(rnd, Math.floor(rnd() * 1000) - 500),
      () => raw(pick(rnd, ["0.1", "-0", "1e400", "-1e400", "1e-400", "123456789012345678901234567890", "2.5E-3"])),
      () => raw(pick(rnd, ["true", "false", "null"])),
    ])();
  }
  if (r < 0.7) return arr(Array.from({ length: Math.floor(rnd() * 4) }, () => freeForm(rnd, depth - 1)));
  const keys = ["a", "b", "status", "crashedAt", "ключ", "😀", "\ud83d", "10", "2", "", 'q"k', "__proto__", "x y"];
  return obj(Array.from({ length: Math.floor(rnd() * 5) }, () => [pick(rnd, keys), freeForm(rnd, depth - 1)] as [string, Doc]));
}

/** Nesting `depth` levels deep: arrays, objects, or both. */
function deep(rnd: Random, depth: number): Doc {
  let doc: Doc = str("bottom");
  for (let i = 0; i < depth; i++) doc = chance(rnd, 0.5) ? arr([doc]) : obj([["k", doc]]);
  return doc;
}

const STATUSES = [
  { status: "active", updatedAt: OLD },
  { status: "active", updatedAt: FRESH },
  { status: "completed", updatedAt: OLD },
  { status: "failed", updatedAt: OLD },
  { status: "cancelled", updatedAt: OLD },
  { status: "completed", updatedAt: FRESH },
] as const;

/** A session state as a document: the reference's fields, and sometimes others'. */
function stateDoc(rnd: Random, id: string, createdAt: string): Doc {
  const { status, updatedAt } = pick(rnd, STATUSES);
  const operation = `op ${text(rnd, 2)}`;
  const progress: [string, Doc][] = [
    ["sessionId", str(id)],
    ["operation", str(operation)],
    ["status", str(status === "active" ? pick(rnd, ["running", "pending"]) : status)],
    ["progress", num(rnd, Math.floor(rnd() * 101))],
  ];
  if (chance(rnd, 0.5)) progress.push(["currentStep", str(`step ${text(rnd, 2)}`)]);
  if (chance(rnd, 0.5)) progress.push(["totalSteps", num(rnd, 5)], ["completedSteps", num(rnd, 2)]);
  progress.push(["startedAt", str(createdAt)], ["updatedAt", str(updatedAt)]);
  if (chance(rnd, 0.2)) progress.push(["error", str(text(rnd))]);
  if (chance(rnd, 0.2)) progress.push(["note", freeForm(rnd, 3)]);
  const contextMembers: [string, Doc][] = Array.from({ length: Math.floor(rnd() * 5) }, (_, i) => [
    pick(rnd, ["cursor", "files", "status", "crashedAt", "😀", "\udfff", `k${i}`, "10", "__proto__"]),
    freeForm(rnd, 4),
  ]);
  // Deeper than serde_json builds (128), far less than JSON.parse reads.
  if (chance(rnd, 0.08)) contextMembers.push(["deep", deep(rnd, 150 + Math.floor(rnd() * 300))]);
  const members: [string, Doc][] = [
    ["id", str(id)],
    ["operation", str(operation)],
    ["status", str(status)],
    ["progress", obj(progress)],
    ["context", obj(contextMembers)],
    ["createdAt", str(createdAt)],
    ["updatedAt", str(updatedAt)],
  ];
  if (chance(rnd, 0.15)) members.push(["crashedAt", str(OLD)]);
  if (chance(rnd, 0.15)) {
    // An owner on another host: not checkable, so staleness decides, as for the reference.
    members.push(["owner", obj([["pid", raw("1")], ["host", str("elsewhere.invalid")], ["instance", str("x")], ["since", str(OLD)]])]);
  }
  if (chance(rnd, 0.2)) members.push(["futureField", freeForm(rnd, 3)]);
  return obj(members);
}

/** Values of a member written before the one that counts: any JSON, since the later value wins. */
const DECOYS: Doc[] = [str("x"), raw("0"), raw("null"), obj([]), arr([]), str("completed"), str("active"), raw("1e400")];

/**
 * The same document reshaped: members reordered, earlier duplicates with any value added (the
 * later value wins), and at the top level later duplicates with another valid value (which win).
 */
function reshape(rnd: Random, doc: Doc, top: boolean, stats: Stats): Doc {
  if (doc.kind === "arr") return arr(doc.items.map((item) => reshape(rnd, item, false, stats)));
  if (doc.kind !== "obj") return doc;
  let members = doc.members.map(([k, v]) => [k, reshape(rnd, v, false, stats)] as [string, Doc]);
  if (chance(rnd, 0.4)) {
    for (let i = members.length - 1; i > 0; i--) {
      const j = Math.floor(rnd() * (i + 1));
      [members[i], members[j]] = [members[j], members[i]];
    }
  }
  if (chance(rnd, 0.4) && members.length > 0) {
    const n = 1 + Math.floor(rnd() * 3);
    for (let d = 0; d < n; d++) {
      const at = Math.floor(rnd() * members.length);
      const [key] = members[at];
      const before = Math.floor(rnd() * (at + 1));
      members = [...members.slice(0, before), [key, pick(rnd, DECOYS)], ...members.slice(before)];
    }
    if (top) stats.topDuplicates++;
  }
  if (top && chance(rnd, 0.3)) {
    // Later duplicates that win: another valid status, another time.
    const extra: [string, Doc][] = [];
    if (chance(rnd, 0.5)) extra.push(["status", str(pick(rnd, ["active", "completed", "failed"]))]);
    if (chance(rnd, 0.5)) extra.push(["updatedAt", str(pick(rnd, [OLD, FRESH]))]);
    if (chance(rnd, 0.3)) extra.push(["crashedAt", str(FRESH)]);
    for (const member of extra) members.splice(Math.floor(rnd() * (members.length + 1)), 0, member);
    if (extra.length > 0) stats.topDuplicates++;
  }
  return obj(members);
}

interface Style {
  indent: string | null;
  newline: string;
  colon: string;
  comma: string;
  /** Chance of writing a char that needs no escape as an escape. */
  escapes: number;
  upperHex: boolean;
}

function randomStyle(rnd: Random): Style {
  const indent = pick(rnd, [null, null, "  ", "    ", "\t", " \t"]);
  return {
    indent,
    newline: pick(rnd, ["\n", "\r\n"]),
    colon: pick(rnd, [":", ": ", " : ", "\t:\t"]),
    comma: indent === null ? pick(rnd, [",", ", ", " ,\r\n "]) : ",",
    escapes: pick(rnd, [0, 0, 0.05, 0.3, 1]),
    upperHex: chance(rnd, 0.5),
  };
}

const hex = (unit: number, upper: boolean) => {
  const h = unit.toString(16).padStart(4, "0");
  return `\\u${upper ? h.toUpperCase() : h}`;
};

/** A JSON string literal for `value`: what must be escaped is, the rest now and then. */
function writeString(rnd: Random, value: string, style: Style): string {
  const SHORT: Record<string, string> = { '"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f" };
  let out = '"';
  for (let i = 0; i < value.length; i++) {
    const unit = value.charCodeAt(i);
    const high = unit >= 0xd800 && unit <= 0xdbff;
    const next = value.charCodeAt(i + 1);
    if (high && next >= 0xdc00 && next <= 0xdfff) {
      // A pair: both units escaped, or the char written as it is.
      out += chance(rnd, style.escapes) ? hex(unit, style.upperHex) + hex(next, style.upperHex) : value.slice(i, i + 2);
      i++;
      continue;
    }
    const c = value[i];
    if (unit >= 0xd800 && unit <= 0xdfff) out += hex(unit, style.upperHex);
    else if (c in SHORT) out += chance(rnd, 0.5) ? SHORT[c] : hex(unit, style.upperHex);
    else if (unit < 0x20) out += hex(unit, style.upperHex);
    else if (chance(rnd, style.escapes)) out += c === "/" && chance(rnd, 0.5) ? "\\/" : hex(unit, style.upperHex);
    else out += c;
  }
  return `${out}"`;
}

/** The text of a document; iterative, so that deep documents are written too. */
function writeDoc(rnd: Random, doc: Doc, style: Style): string {
  const parts: string[] = [];
  const line = (level: number) => (style.indent === null ? "" : style.newline + style.indent.repeat(level));
  type Task = { doc: Doc; level: number } | { text: string };
  const tasks: Task[] = [{ doc, level: 0 }];
  while (tasks.length > 0) {
    const task = tasks.pop()!;
    if ("text" in task) {
      parts.push(task.text);
      continue;
    }
    const { doc: d, level } = task;
    if (d.kind === "str") parts.push(writeString(rnd, d.value, style));
    else if (d.kind === "raw") parts.push(d.text);
    else {
      const [open, close] = d.kind === "obj" ? ["{", "}"] : ["[", "]"];
      const entries: Task[][] =
        d.kind === "obj"
          ? d.members.map(([k, v]) => [{ text: line(level + 1) + writeString(rnd, k, style) + style.colon }, { doc: v, level: level + 1 }])
          : d.items.map((v) => [{ text: line(level + 1) }, { doc: v, level: level + 1 }]);
      const sequence: Task[] = [{ text: open }];
      entries.forEach((entry, i) => {
        if (i > 0) sequence.push({ text: style.comma });
        sequence.push(...entry);
      });
      sequence.push({ text: entries.length > 0 ? line(level) + close : close });
      for (let i = sequence.length - 1; i >= 0; i--) tasks.push(sequence[i]);
    }
  }
  return parts.join("");
}

/** What the generator did, to check that it does what it promises. */
interface Stats {
  /** Files with a top-level key written more than once. */
  topDuplicates: number;
}

/** A session file in a random valid shape. */
function sessionText(rnd: Random, id: string, createdAt: string, stats: Stats): string {
  const style = randomStyle(rnd);
  const doc = chance(rnd, 0.7) ? reshape(rnd, stateDoc(rnd, id, createdAt), true, stats) : stateDoc(rnd, id, createdAt);
  const lead = pick(rnd, ["", "", "\n", "\r\n \t", " "]);
  const tail = pick(rnd, ["", "\n", "\r\n", "  \n\t"]);
  return lead + writeDoc(rnd, doc, style) + tail;
}

// ---------------------------------------------------------------------------
// The oracle and comparisons.

/** Whether a parsed value has the shape of a session state (the package's documented rule). */
function hasStateShape(value: any): boolean {
  const isObject = (v: unknown) => typeof v === "object" && v !== null && !Array.isArray(v);
  const isString = (v: unknown) => typeof v === "string";
  const optional = (v: unknown, check: (v: unknown) => boolean) => v === undefined || v === null || check(v);
  // A number literal beyond a double's range is read as ±Infinity: not a number of a state.
  const isNumber = (v: unknown) => typeof v === "number" && Number.isFinite(v);
  if (!isObject(value)) return false;
  const p = value.progress;
  return (
    isString(value.id) &&
    isString(value.operation) &&
    ["active", "completed", "failed", "cancelled", "crashed"].includes(value.status) &&
    isObject(p) &&
    isString(p.sessionId) &&
    isString(p.operation) &&
    ["pending", "running", "completed", "failed", "cancelled"].includes(p.status) &&
    isNumber(p.progress) &&
    optional(p.currentStep, isString) &&
    optional(p.totalSteps, isNumber) &&
    optional(p.completedSteps, isNumber) &&
    isString(p.startedAt) &&
    isString(p.updatedAt) &&
    optional(p.error, isString) &&
    optional(p.eta, isString) &&
    isObject(value.context) &&
    isString(value.createdAt) &&
    isString(value.updatedAt) &&
    optional(value.crashedAt, isString)
  );
}

/** What `JSON.parse` makes of a file's bytes, decoded as `readFileSync(path, "utf-8")` does. */
function parseFile(bytes: Buffer): { ok: true; value: any } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(bytes.toString("utf8")) };
  } catch {
    return { ok: false };
  }
}

/**
 * The first difference between two parsed JSON values, key order included (`toEqual` ignores
 * it), or null. Iterative, for values nested deeper than the stack allows to recurse.
 */
function firstDifference(a: unknown, b: unknown): string | null {
  const stack: [unknown, unknown, number, string][] = [[a, b, 0, "$"]];
  while (stack.length > 0) {
    const [x, y, depth, key] = stack.pop()!;
    if (Object.is(x, y)) continue;
    const where = `at depth ${depth}, key ${JSON.stringify(key)}`;
    if (typeof x !== "object" || typeof y !== "object" || x === null || y === null) {
      return `${where}: ${String(JSON.stringify(x))?.slice(0, 200)} ≠ ${String(JSON.stringify(y))?.slice(0, 200)}`;
    }
    if (Array.isArray(x) !== Array.isArray(y)) return `${where}: an array and an object`;
    const kx = Object.keys(x);
    const ky = Object.keys(y);
    if (kx.length !== ky.length || kx.some((k, i) => k !== ky[i])) {
      return `${where}: keys ${JSON.stringify(kx)} ≠ ${JSON.stringify(ky)}`;
    }
    for (const k of kx) stack.push([(x as any)[k], (y as any)[k], depth + 1, k]);
  }
  return null;
}

/** What the reference returns for a crashed state: `{ ...state, status: "crashed", crashedAt }`. */
const markedAs = (state: object, crashedAt: unknown) => ({ ...state, status: "crashed", crashedAt });

/** Writes the files (name → bytes) into a new folder's sessions folder; returns the base path. */
function folderWith(files: Map<string, Buffer>): string {
  const base = tempDir();
  fs.mkdirSync(sessionsDir(base), { recursive: true });
  for (const [id, bytes] of files) fs.writeFileSync(sessionFile(base, id), bytes);
  return base;
}

/** The sessions folder's entries with their bytes. */
function snapshot(base: string): Map<string, Buffer> {
  const dir = sessionsDir(base);
  return new Map(
    fs
      .readdirSync(dir)
      .filter((name) => fs.statSync(path.join(dir, name)).isFile())
      .sort()
      .map((name) => [name, fs.readFileSync(path.join(dir, name))]),
  );
}

/** The files of a folder made by {@link folderWith}, as {@link snapshot} lists them. */
const asFiles = (files: Map<string, Buffer>) => new Map([...files].map(([id, b]) => [`${id}.json`, b]));

/** The names of the files that differ between two snapshots (in one, or with other bytes). */
function changedFiles(a: Map<string, Buffer>, b: Map<string, Buffer>): string[] {
  const names = new Set([...a.keys(), ...b.keys()]);
  return [...names].filter((name) => !a.get(name)?.equals(b.get(name) ?? Buffer.alloc(0)) || !b.has(name)).sort();
}

function cli(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const run = spawnSync(process.execPath, [BIN, ...args], {
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1" },
    // Deep contexts, pretty-printed, take room.
    maxBuffer: 1 << 30,
  });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

// ---------------------------------------------------------------------------
// The corpus of valid shapes.

const CORPUS_SIZE = 160;

function corpus(seed: number, stats: Stats = { topDuplicates: 0 }): Map<string, Buffer> {
  const rnd = prng(seed);
  const files = new Map<string, Buffer>();
  for (let i = 0; i < CORPUS_SIZE; i++) {
    const id = `shape-${String(i).padStart(3, "0")}`;
    // Distinct creation times, so that `ls` sorts them one way only.
    const createdAt = new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString();
    files.set(id, Buffer.from(sessionText(rnd, id, createdAt, stats), "utf8"));
  }
  return files;
}

describe("files in every valid shape are read as JSON.parse reads them", () => {
  const stats: Stats = { topDuplicates: 0 };
  const files = corpus(20, stats);
  const parsed = new Map([...files].map(([id, bytes]) => [id, JSON.parse(bytes.toString("utf8"))]));

  it("the generator writes the shapes it promises, and JSON.parse reads them all", () => {
    const texts = [...files.values()].map((b) => b.toString("utf8"));
    const some = (re: RegExp) => texts.filter((t) => re.test(t)).length;
    expect(some(/\r\n/)).toBeGreaterThan(10);
    expect(some(/^\s*\{"/)).toBeGreaterThan(10); // minified
    expect(some(/\n\t"/)).toBeGreaterThan(10); // tabs
    // A status key with at least one escape in it.
    const statusKey = /"(?:\\u0073|s)(?:\\u0074|t)(?:\\u0061|a)(?:\\u0074|t)(?:\\u0075|u)(?:\\u0073|s)"/g;
    expect(texts.filter((t) => (t.match(statusKey) ?? []).some((k) => k !== '"status"')).length).toBeGreaterThan(10);
    expect(some(/\\ud[89ab][0-9a-f]{2}(?!\\ud[c-f])/i)).toBeGreaterThan(10); // lone surrogates
    expect(some(/\u{10FFFF}|\u{10F7FF}/u)).toBeGreaterThan(10);
    expect(stats.topDuplicates).toBeGreaterThan(20);
    expect([...parsed.values()].filter(hasStateShape).length).toBe(CORPUS_SIZE);
    expect([...parsed.values()].filter((v) => v.status === "active" && v.updatedAt === OLD).length).toBeGreaterThan(10);
  });

  it("load returns what JSON.parse returns, key order included, and changes no file", () => {
    const base = folderWith(files);
    const store = new SessionStateStore(base);
    for (const [id, value] of parsed) {
      expect(firstDifference(store.load(id), value), id).toBeNull();
    }
    expect(changedFiles(snapshot(base), asFiles(files))).toEqual([]);
    expect(store.listSessions().sort()).toEqual([...files.keys()]);
  });

  it("findCrashedSessions returns { ...JSON.parse(file), status: 'crashed', crashedAt } for each stale active file", () => {
    const base = folderWith(files);
    const store = new SessionStateStore(base);
    const found = store.findCrashedSessions(60_000);
    const expected = [...parsed].filter(([, v]) => v.status === "active" && v.updatedAt === OLD).map(([id]) => id);
    expect(found.map((s) => s.id).sort()).toEqual(expected);
    for (const state of found) {
      expect(state.crashedAt).toMatch(ISO_TIMESTAMP);
      expect(firstDifference(state, markedAs(parsed.get(state.id)!, state.crashedAt)), state.id).toBeNull();
    }
    expect(changedFiles(snapshot(base), asFiles(files))).toEqual([]);
  });

  it("cleanup removes exactly the old finished sessions and leaves the other files' bytes", () => {
    const base = folderWith(files);
    const store = new SessionStateStore(base);
    const old = [...parsed].filter(([, v]) => v.status !== "active" && v.updatedAt === OLD).map(([id]) => id);
    expect(old.length).toBeGreaterThan(10);
    expect(store.cleanup(7)).toBe(old.length);
    const kept = [...files].filter(([id]) => !old.includes(id)).map(([id, b]) => [`${id}.json`, b] as [string, Buffer]);
    expect(changedFiles(snapshot(base), new Map(kept))).toEqual([]);
  });

  it.skipIf(isReference)("the CLI's ls --json and show --json print what JSON.parse reads", () => {
    const base = folderWith(files);
    const crashed = new Set([...parsed].filter(([, v]) => v.status === "active" && v.updatedAt === OLD).map(([id]) => id));
    // What the CLI prints: the state and its owner's state, through JSON.stringify. These files
    // have no owner record: an active one is crashed once stale, and until then its owner
    // cannot be judged (unknown).
    const row = (id: string) => {
      const state = parsed.get(id)!;
      const ownerState = state.status !== "active" ? "finished" : crashed.has(id) ? "crashed" : "unknown";
      return JSON.parse(JSON.stringify({ ...state, ownerState }));
    };
    const ls = cli(["ls", "--dir", base, "--json"]);
    expect(ls.stderr).toBe("");
    expect(ls.code).toBe(0);
    const expected = [...parsed.keys()].sort((a, b) => parsed.get(a).createdAt.localeCompare(parsed.get(b).createdAt)).map(row);
    expect(firstDifference(JSON.parse(ls.stdout), expected)).toBeNull();
    const rnd = prng(7);
    for (let i = 0; i < 4; i++) {
      const id = pick(rnd, [...files.keys()]);
      const show = cli(["show", id, "--dir", base, "--json"]);
      expect(show.code, show.stderr).toBe(0);
      expect(firstDifference(JSON.parse(show.stdout), row(id)), id).toBeNull();
    }
    expect(changedFiles(snapshot(base), asFiles(files))).toEqual([]);
  });

  it("a status key spelled with escapes, or written twice, is the status JSON.parse reads", () => {
    // The two cases of the issue, spelled out.
    const at = OLD;
    const progress = `{"sessionId":"e","operation":"op","status":"running","progress":1,"startedAt":"${at}","updatedAt":"${at}"}`;
    const escaped = `{"id":"e","operation":"op","st\\u0061tus":"active","progress":${progress},"context":{},"createdAt":"${at}","updatedAt":"${at}"}`;
    const twice = `{"id":"d","status":"completed","operation":"op","progress":${progress.replace('"e"', '"d"')},"context":{"a":1,"a":2},"createdAt":"${at}","updatedAt":"${at}","status":"active"}`;
    const base = folderWith(
      new Map([
        ["e", Buffer.from(escaped)],
        ["d", Buffer.from(twice)],
      ]),
    );
    const store = new SessionStateStore(base);
    expect(store.load("d")).toEqual(JSON.parse(twice));
    const found = store.findCrashedSessions();
    expect(found.map((s) => [s.id, s.status])).toEqual([
      ["d", "crashed"],
      ["e", "crashed"],
    ]);
    for (const state of found) {
      const file = state.id === "e" ? escaped : twice;
      expect(firstDifference(state, markedAs(JSON.parse(file), state.crashedAt))).toBeNull();
    }
    expect(snapshot(base).size).toBe(2);
  });
});

// ---------------------------------------------------------------------------
// Damaged files.

/** One damaged variant of a valid file, and what was done to it. */
function damage(rnd: Random, bytes: Buffer): { kind: string; bytes: Buffer } {
  const at = () => Math.floor(rnd() * bytes.length);
  const kind = pick(rnd, ["truncate", "flip", "insert", "delete", "deep", "non-object", "wrong-shape"]);
  switch (kind) {
    case "truncate":
      return { kind, bytes: bytes.subarray(0, at()) };
    case "flip": {
      const copy = Buffer.from(bytes);
      const n = 1 + Math.floor(rnd() * 3);
      for (let i = 0; i < n; i++) copy[at()] ^= 1 + Math.floor(rnd() * 255);
      return { kind, bytes: copy };
    }
    case "insert": {
      const i = at();
      const piece = Buffer.from(pick(rnd, ["{", "[", '"', ",", "\\", "\u0000", ":", "}", "]", " ", "\u00e9"]));
      const withByte = chance(rnd, 0.2) ? Buffer.from([0xff]) : piece;
      return { kind, bytes: Buffer.concat([bytes.subarray(0, i), withByte, bytes.subarray(i)]) };
    }
    case "delete": {
      const i = at();
      return { kind, bytes: Buffer.concat([bytes.subarray(0, i), bytes.subarray(i + 1 + Math.floor(rnd() * 8))]) };
    }
    case "deep": {
      // The context nested far deeper than serde_json builds; balanced, or cut short.
      const depth = pick(rnd, [129, 1_000, 20_000, 100_000]);
      const open = chance(rnd, 0.5) ? "[" : '{"k":';
      const close = open === "[" ? "]" : "}";
      const nested = open.repeat(depth) + "1" + close.repeat(chance(rnd, 0.8) ? depth : depth - 1);
      const value = JSON.parse(bytes.toString("utf8"));
      const text = JSON.stringify({ ...value, context: { deep: "@@" } }).replace('"@@"', nested);
      return { kind, bytes: Buffer.from(text) };
    }
    case "non-object": {
      const text = pick(rnd, ["[]", "[1,2]", '"text"', "42", "null", "true", "", "   \n", "{}", '{"id":1}']);
      if (chance(rnd, 0.2)) return { kind, bytes: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), bytes]) }; // a BOM
      return { kind, bytes: Buffer.from(text) };
    }
    default: {
      const value = JSON.parse(bytes.toString("utf8"));
      const wrong = pick(rnd, [
        { context: [] },
        { context: null },
        { status: "sleeping" },
        { updatedAt: 0 },
        { progress: { ...value.progress, progress: "40" } },
        { progress: { ...value.progress, progress: 1e400 } },
        { id: undefined },
      ]);
      let text = JSON.stringify({ ...value, ...wrong });
      if ("progress" in wrong && wrong.progress?.progress === Infinity) text = text.replace(/"progress":null/, '"progress":1e400');
      return { kind, bytes: Buffer.from(text) };
    }
  }
}

describe.skipIf(isReference)("damaged files: nothing throws, hangs or loses a byte", () => {
  const CASES = 300;
  const rnd = prng(5);
  const sources = [...corpus(21).values()];
  const cases = Array.from({ length: CASES }, () => damage(rnd, pick(rnd, sources)));

  it("the damage covers every kind, readable results included", () => {
    const kinds = new Set(cases.map((c) => c.kind));
    expect(kinds.size).toBe(7);
    const readable = cases.filter((c) => {
      const read = parseFile(c.bytes);
      return read.ok && hasStateShape(read.value);
    });
    expect(readable.length).toBeGreaterThan(20);
    expect(readable.length).toBeLessThan(CASES - 50);
  });

  /**
   * Checks the one file `id` of `base` after a call: kept in place with its bytes when it was not
   * moved aside; moved aside with its bytes (and listed) when it was; and moved aside exactly
   * when `quarantine` says. Returns whether it is still in place.
   */
  function checkFile(base: string, id: string, bytes: Buffer, store: SessionStateStore, quarantine: boolean | "maybe", label: string): boolean {
    const file = sessionFile(base, id);
    const aside = `${file}.corrupt`;
    if (fs.existsSync(aside)) {
      expect(quarantine, `${label}: moved aside`).not.toBe(false);
      expect(fs.readFileSync(aside).equals(bytes), `${label}: bytes kept`).toBe(true);
      expect(fs.existsSync(file), label).toBe(false);
      expect((store as any).corruptFiles(), label).toEqual([aside]);
      return false;
    }
    expect(quarantine, `${label}: not moved aside`).not.toBe(true);
    if (fs.existsSync(file)) expect(fs.readFileSync(file).equals(bytes), `${label}: bytes kept`).toBe(true);
    return fs.existsSync(file);
  }

  it("load: the value JSON.parse reads, or undefined and the file moved aside with its bytes", () => {
    cases.forEach(({ kind, bytes }, i) => {
      const label = `case ${i} (${kind})`;
      const read = parseFile(bytes);
      const readable = read.ok && hasStateShape(read.value);
      const base = folderWith(new Map([["f", bytes]]));
      const store = new SessionStateStore(base);
      const loaded = store.load("f");
      if (readable) expect(firstDifference(loaded, read.value), label).toBeNull();
      else expect(loaded, label).toBeUndefined();
      expect(checkFile(base, "f", bytes, store, !readable, label), label).toBe(readable);
    });
  });

  it("findCrashedSessions: only states JSON.parse reads, marked as the reference marks them", () => {
    cases.forEach(({ kind, bytes }, i) => {
      const label = `case ${i} (${kind})`;
      const read = parseFile(bytes);
      const base = folderWith(new Map([["f", bytes]]));
      const store = new SessionStateStore(base);
      const found = store.findCrashedSessions(60_000);
      expect(found.length, label).toBeLessThanOrEqual(1);
      for (const state of found) {
        expect(read.ok, label).toBe(true);
        if (read.ok) expect(firstDifference(state, markedAs(read.value, state.crashedAt)), label).toBeNull();
      }
      const stale = read.ok && hasStateShape(read.value) && read.value.status === "active" && read.value.updatedAt === OLD && !read.value.owner;
      if (stale) expect(found.length, label).toBe(1);
      // Moved aside when JSON.parse rejects it; when its shape is wrong, only when the scan
      // needed the wrong part (status, updatedAt).
      const readable = read.ok && hasStateShape(read.value);
      checkFile(base, "f", bytes, store, !read.ok ? true : readable ? false : "maybe", label);
    });
  });

  it("cleanup: removes only an old finished state JSON.parse reads; moves aside what it rejects", () => {
    cases.forEach(({ kind, bytes }, i) => {
      const label = `case ${i} (${kind})`;
      const read = parseFile(bytes);
      const readable = read.ok && hasStateShape(read.value);
      const old = readable && read.value.status !== "active" && read.value.updatedAt === OLD;
      const base = folderWith(new Map([["f", bytes]]));
      const store = new SessionStateStore(base);
      const removed = store.cleanup(7);
      const inPlace = checkFile(base, "f", bytes, store, !readable, label);
      const kept = readable && (read.value.status === "active" || read.value.updatedAt === FRESH);
      if (old) expect([removed, inPlace], label).toEqual([1, false]);
      else if (kept) expect([removed, inPlace], label).toEqual([0, true]);
      // A damaged updatedAt: its age is the date parser's business, not this test's.
      else if (readable) expect(removed, label).toBe(inPlace ? 0 : 1);
      else expect(removed, label).toBe(0);
    });
  });
});
