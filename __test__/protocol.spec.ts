// The positional protocol (src/protocol.rs) has one source: the layouts are read here from the
// Rust that builds them, and every other place that spells one out must agree, in count, names
// and order: the `ts_args_type` strings of src/manager.rs and src/tracker.rs, the generated
// binding.d.ts, the JavaScript that reads the values (lib/trackers.js), and the public
// `ProgressState`, `ProgressStatus` and `ProgressEstimate` of index.d.ts. A layout changed in one
// place only fails here.
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { isReference, packageRoot } from "./helpers";

const read = (file: string) => fs.readFileSync(path.join(packageRoot, file), "utf8");
const camel = (snake: string) => snake.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

/** The body of `fn <name>` in Rust source: from its signature to the first `}` at the start of a line. */
function rustFn(source: string, name: string): string {
  const start = source.search(new RegExp(`fn ${name}\\b`));
  expect(start, `fn ${name} in src/protocol.rs`).toBeGreaterThanOrEqual(0);
  return source.slice(start, source.indexOf("\n}", start));
}

/** The items of a Rust array constant `const <name>: [<type>; N] = [ ... ];`. */
function rustArray(source: string, name: string): string[] {
  const match = new RegExp(`const ${name}: \\[\\w+; (\\d+)\\] = \\[([^\\]]*)\\]`).exec(source);
  expect(match, `const ${name} in src/protocol.rs`).not.toBeNull();
  const items = match![2].split(",").map((s) => s.trim()).filter(Boolean);
  expect(items.length, `${name}: its declared length`).toBe(Number(match![1]));
  return items;
}

/** The layouts, as src/protocol.rs builds them. */
function layouts() {
  const rs = read("src/protocol.rs");
  const statuses = rustArray(rs, "STATUSES").map((s) => s.replace("ProgressStatus::", "").toLowerCase());
  const optional = rustArray(rs, "OPTIONAL").map((k) => {
    const name = k.replace("Key::", "");
    return name[0].toLowerCase() + name.slice(1);
  });

  // changing_args: one value per line of its array, `shape(s)` or a field `s.<field>`.
  const changingBody = rustFn(rs, "changing_args");
  const changing = [...changingBody.matchAll(/^\s*js_\w+\(env, (?:(shape)\(s\)|(?:Some\(&)?s\.(\w+)[^,]*)\),?$/gm)].map(
    (m) => m[1] ?? camel(m[2]),
  );
  const changingCount = Number(/const CHANGING_ARGS: usize = (\d+);/.exec(rs)?.[1]);
  expect(changing.length, "changing_args: its values, one a line").toBe(changingCount);

  // state_args: `args[i] = ...(&s.<field>)` for the first ones, then changing_args from `args[n..]`.
  const stateBody = rustFn(rs, "state_args");
  const fixed: string[] = [];
  for (const m of stateBody.matchAll(/args\[(\d+)\] = \w+\(env, Some\(&s\.(\w+)\)\);/g)) fixed[Number(m[1])] = camel(m[2]);
  const rest = Number(/args\[(\d+)\.\.\]\.copy_from_slice\(&changing_args\(env, s\)\)/.exec(stateBody)?.[1]);
  expect(rest, "state_args: where changing_args starts").toBe(fixed.length);
  const stateCount = /const STATE_ARGS: usize = (\d+) \+ CHANGING_ARGS;/.exec(rs);
  expect(Number(stateCount?.[1]), "STATE_ARGS: the arguments before changing_args").toBe(fixed.length);
  const state = [...fixed, ...changing];

  const estimate = [...rustFn(rs, "estimate_tuple").matchAll(/^\s*(?:if )?e\.(\w+)/gm)].map((m) => camel(m[1]));
  return { statuses, optional, changing, state, estimate };
}

/** The parameter names and types of a TypeScript function type's parameter list. */
function tsParams(list: string): { name: string; type: string }[] {
  return list.split(", ").map((p) => {
    const [name, type] = p.split(": ");
    return { name, type };
  });
}

/** The parameter list of `<member>(<param>: (<list>) => ...` within `export declare class <cls> {...}`. */
function dtsCallback(dts: string, cls: string, member: string): string {
  const start = dts.indexOf(`export declare class ${cls} {`);
  expect(start, `class ${cls} in binding.d.ts`).toBeGreaterThanOrEqual(0);
  const body = dts.slice(start, dts.indexOf("\n}", start));
  const match = new RegExp(`\\n  ${member}(?:<T>)?\\(\\w+: \\(([^)]*)\\) =>`).exec(body);
  expect(match, `${cls}.${member} in binding.d.ts`).not.toBeNull();
  return match![1];
}

/** The `ts_args_type` of the napi method `fn <name>` in a Rust file of the binding. */
function tsArgsType(file: string, name: string): string {
  const rs = read(file);
  const fn = rs.search(new RegExp(`pub fn ${name}\\b`));
  expect(fn, `pub fn ${name} in ${file}`).toBeGreaterThanOrEqual(0);
  const attribute = rs.lastIndexOf("#[napi(", fn);
  const match = /ts_args_type = "\w+: \(([^)]*)\) =>/.exec(rs.slice(attribute, fn));
  expect(match, `ts_args_type of ${name} in ${file}`).not.toBeNull();
  return match![1];
}

/** The parameter names of a JavaScript function, its inline JSDoc types left out. */
function jsParams(fn: (...args: never[]) => unknown): string[] {
  const source = fn.toString().replace(/\/\*[\s\S]*?\*\//g, "");
  const list = /^[^(]*\(([^)]*)\)/.exec(source)![1];
  return list
    .split(",")
    .map((p) => p.trim())
    .filter(Boolean);
}

describe.skipIf(isReference)("one source for the positional protocol (src/protocol.rs)", () => {
  let L: ReturnType<typeof layouts>;
  beforeAll(() => {
    L = layouts();
  });

  it("the layouts read from src/protocol.rs are whole", () => {
    expect(L.state.slice(L.state.length - L.changing.length)).toEqual(L.changing);
    expect(L.state).toContain("shape");
    for (const key of L.optional) expect(L.changing, `optional key ${key} among changing_args`).toContain(key);
    expect(L.estimate).toHaveLength(4);
  });

  it("the Rust listener and builder types (ts_args_type) and binding.d.ts spell the same layouts", () => {
    const dts = read("binding.d.ts");
    const places: [string, string, string[]][] = [
      ["src/manager.rs on_progress", tsArgsType("src/manager.rs", "on_progress"), L.state],
      ["src/tracker.rs on_progress", tsArgsType("src/tracker.rs", "on_progress"), L.changing],
      ["src/tracker.rs state", tsArgsType("src/tracker.rs", "state"), L.state],
      ["binding.d.ts NativeManager.onProgress", dtsCallback(dts, "NativeManager", "onProgress"), L.state],
      ["binding.d.ts NativeTracker.onProgress", dtsCallback(dts, "NativeTracker", "onProgress"), L.changing],
      ["binding.d.ts NativeTracker.state", dtsCallback(dts, "NativeTracker", "state"), L.state],
    ];
    for (const [where, list, layout] of places) {
      const params = tsParams(list);
      expect(params.map((p) => p.name), where).toEqual(layout);
      // An optional key may be absent: its parameter may be `undefined`, and only then.
      for (const p of params) expect(p.type.endsWith(" | undefined"), `${where}: ${p.name}: ${p.type}`).toBe(L.optional.includes(p.name));
    }
  });

  it("the JavaScript readers (lib/trackers.js) take the layouts' parameters, in order, and build the right keys", () => {
    const trackers = createRequire(import.meta.url)("../lib/trackers.js");
    expect(jsParams(trackers.buildState), "buildState").toEqual(L.state);
    const received: Record<string, unknown>[] = [];
    const listeners = new Map([[1, (state: Record<string, unknown>) => received.push(state)]]);
    const fixed = L.state.slice(0, L.state.length - L.changing.length);
    const tracker = trackers.trackerListener(listeners, ...fixed);
    expect(jsParams(tracker), "trackerListener's listener").toEqual(L.changing);
    const manager = trackers.stateListener(listeners);
    expect(manager.length, "stateListener's listener: its parameter count").toBe(L.state.length);

    // Every key present, each positional value its own name: each must land on the key of that name.
    const status = L.statuses.indexOf("failed");
    const shape = L.optional.reduce((bits, _, i) => bits | ((i + 1) << (3 + 3 * i)), status);
    const args = L.state.map((name) => (name === "shape" ? shape : name));
    const expected = {
      ...Object.fromEntries(L.state.filter((n) => n !== "shape").map((n) => [n, n])),
      status: "failed",
    };
    received.push(trackers.buildState(...args));
    tracker(...args.slice(fixed.length));
    manager(...args);
    for (const state of received) expect(state).toEqual(expected);
    // The optional keys come last, in the order OPTIONAL gives them.
    expect(Object.keys(received[0]).slice(-L.optional.length)).toEqual(L.optional);
  });

  it("index.d.ts: ProgressState has the layout's fields (status for shape), optional as OPTIONAL says; ProgressStatus the statuses", () => {
    const dts = read("index.d.ts");
    const body = /export interface ProgressState \{([\s\S]*?)\n\}/.exec(dts)![1];
    const fields = [...body.matchAll(/^ {2}(\w+)(\??):/gm)].map((m) => ({ name: m[1], optional: m[2] === "?" }));
    const expected = L.state.map((n) => (n === "shape" ? "status" : n));
    expect(fields.map((f) => f.name).sort()).toEqual([...expected].sort());
    expect(fields.filter((f) => f.optional).map((f) => f.name).sort()).toEqual([...L.optional].sort());

    const union = /export type ProgressStatus = ([^;]*);/.exec(dts)![1];
    expect(union.split(" | ").map((s) => JSON.parse(s))).toEqual(L.statuses);
    const { native } = createRequire(import.meta.url)("../lib/loader.js");
    expect(native.statusNames()).toEqual(L.statuses);
  });

  it("the estimate tuple: lib/trackers.js reads each element the layout has, by its index", () => {
    const source = read("lib/trackers.js");
    const read_ = [...source.matchAll(/(\w+): (?:new Date\()?e\[(\d)\]/g)].map((m) => ({ key: m[1], index: Number(m[2]) }));
    expect(read_.map((r) => r.index).sort()).toEqual(L.estimate.map((_, i) => i));
    for (const { key, index } of read_) {
      if (L.estimate.includes(key)) expect(index, `estimate ${key}`).toBe(L.estimate.indexOf(key));
    }
    const dts = read("index.d.ts");
    const body = /export interface ProgressEstimate \{([\s\S]*?)\n\}/.exec(dts)![1];
    expect([...body.matchAll(/^ {2}(\w+):/gm)].map((m) => m[1]).sort()).toEqual(read_.map((r) => r.key).sort());
  });
});
