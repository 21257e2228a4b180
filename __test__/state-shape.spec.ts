// Contract §1 "Progress" and "Store", issue 20 point 6: state objects have the reference's keys in
// the reference's order. Random call sequences run side by side on the package and on the
// reference module: `getState()`, what listeners receive, and the `progress` objects of the
// session files must have the same keys, in the same order, `undefined` ones included (the
// reference's `getState()` is `{ ...state }`, its updates `{ ...state, ...partial, updatedAt }`).
// Timestamps and session ids are masked; `owner` is the package's one documented addition to a
// file, and D5 (resume keeps `eta`) and D9 (progress stays within 100) are allowed for.
import fs from "node:fs";
import { describe, expect, it } from "vitest";
import * as pkg from "msw-session";
import { MINUTE, isReference, isoAgo, makeState, referenceEntry, sessionFile, tempDirs } from "./helpers";

const ref: typeof pkg = await import(/* @vite-ignore */ referenceEntry);

const tempDir = tempDirs();

/** How many random call sequences each test runs. */
const SEQUENCES = 160;

/** mulberry32: a small seeded PRNG, numbers in [0, 1). */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The tracker methods a sequence calls. */
type Tracker = Pick<pkg.ProgressTracker, "start" | "setProgress" | "completeStep" | "complete" | "fail" | "cancel" | "setEta" | "getState">;

/** One call of a sequence, with a label for failure messages. */
interface Call {
  label: string;
  run(tracker: Tracker): void;
}

/** 1 to 12 random tracker calls, each with and without its optional argument. */
function randomCalls(random: () => number): Call[] {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)];
  const calls: Call[] = [];
  const count = 1 + Math.floor(random() * 12);
  for (let i = 0; i < count; i++) {
    const percent = pick([0, 12.5, 40, 99.9, 100, 150, -5]);
    const total = pick([0, 1, 3, 6]);
    const eta = new Date(Date.UTC(2026, 10, 24, 12, 0, i));
    calls.push(
      pick<Call>([
        { label: "start()", run: (t) => t.start() },
        { label: `start(${total})`, run: (t) => t.start(total) },
        { label: `setProgress(${percent})`, run: (t) => t.setProgress(percent) },
        { label: `setProgress(${percent}, "step ${i}")`, run: (t) => t.setProgress(percent, `step ${i}`) },
        { label: "completeStep()", run: (t) => t.completeStep() },
        { label: `completeStep("step ${i}")`, run: (t) => t.completeStep(`step ${i}`) },
        { label: "complete()", run: (t) => t.complete() },
        { label: `fail("error ${i}")`, run: (t) => t.fail(`error ${i}`) },
        { label: "cancel()", run: (t) => t.cancel() },
        { label: `cancel("reason ${i}")`, run: (t) => t.cancel(`reason ${i}`) },
        { label: "setEta(…)", run: (t) => t.setEta(eta) },
      ]),
    );
  }
  return calls;
}

/** A copy with what legitimately differs masked, keys kept in their places. */
function masked(state: object): Record<string, unknown> {
  const copy: Record<string, unknown> = { ...state };
  for (const key of ["sessionId", "startedAt", "updatedAt"]) if (key in copy) copy[key] = "masked";
  // D9: the reference's completeStep can report more than 100.
  if (typeof copy.progress === "number") copy.progress = Math.min(copy.progress, 100);
  return copy;
}

/** `actual` has `expected`'s keys, in its order, with its values (`undefined` ones included). */
function expectSameShape(actual: object, expected: object, label: string): void {
  const [a, e] = [masked(actual), masked(expected)];
  expect(Object.keys(a), label).toEqual(Object.keys(e));
  expect(a, label).toStrictEqual(e);
  expect(JSON.stringify(a), label).toBe(JSON.stringify(e));
}

/** The keys of `state` that hold `undefined`. */
function undefinedKeys(state: object): string[] {
  return Object.entries(state)
    .filter(([, value]) => value === undefined)
    .map(([key]) => key);
}

/** The parsed session file of `id` under `base`. */
function fileOf(base: string, id: string): Record<string, any> {
  return JSON.parse(fs.readFileSync(sessionFile(base, id), "utf8"));
}

describe("state objects have the reference's keys, in its order", () => {
  it(`getState() and listener states, over ${SEQUENCES} random call sequences`, () => {
    for (let seed = 1; seed <= SEQUENCES; seed++) {
      const calls = randomCalls(prng(seed));
      const mine = new pkg.ProgressTracker("s-1", "index");
      const theirs = new ref.ProgressTracker("s-1", "index");
      const heard: [object[], object[]] = [[], []];
      mine.onProgress((state) => heard[0].push(state));
      theirs.onProgress((state) => heard[1].push(state));
      let label = `seed ${seed}: new`;
      expectSameShape(mine.getState(), theirs.getState(), label);
      for (const call of calls) {
        call.run(mine);
        call.run(theirs);
        label += `, ${call.label}`;
        expectSameShape(mine.getState(), theirs.getState(), label);
      }
      expect(heard[0].length, label).toBe(calls.length);
      heard[0].forEach((state, i) => expectSameShape(state, heard[1][i], `${label} (listener, change ${i + 1})`));
    }
  });

  it(`session files, manager listeners and resumed sessions, over ${SEQUENCES} random call sequences`, () => {
    const [mineBase, theirBase, mineResumes, theirResumes] = [tempDir(), tempDir(), tempDir(), tempDir()];
    const mine = new pkg.SessionManager({ basePath: mineBase, persistIntervalMs: 0 });
    const theirs = new ref.SessionManager({ basePath: theirBase });
    // A resume needs a folder where the session's owner (this process) has no file.
    const mineResumer = new pkg.SessionManager({ basePath: mineResumes, persistIntervalMs: 0 });
    const theirResumer = new ref.SessionManager({ basePath: theirResumes });
    const heard: [object[], object[]] = [[], []];
    mine.onProgress((state) => heard[0].push(state));
    theirs.onProgress((state) => heard[1].push(state));

    for (let seed = 1; seed <= SEQUENCES; seed++) {
      const random = prng(seed);
      const calls = randomCalls(random);
      const a = mine.createSession("index", { seed });
      const b = theirs.createSession("index", { seed });
      let label = `seed ${seed}: createSession`;
      const compareFiles = () => {
        const [fa, fb] = [fileOf(mineBase, a.id), fileOf(theirBase, b.id)];
        expect(Object.keys(fa).filter((key) => key !== "owner"), label).toEqual(Object.keys(fb));
        expectSameShape(fa.progress, fb.progress, `${label} (file)`);
      };
      compareFiles();
      for (const call of calls) {
        call.run(a.progress);
        call.run(b.progress);
        label += `, ${call.label}`;
        compareFiles();
      }

      if (random() < 0.5) {
        // resumeSession rebuilds the tracker: `start(total)`, then `setProgress(p, step)`.
        const crashed = (file: Record<string, any>) => {
          const { owner: _owner, ...rest } = file;
          return { ...rest, status: "crashed" as const, crashedAt: new Date().toISOString() };
        };
        const [ca, cb] = [crashed(fileOf(mineBase, a.id)), crashed(fileOf(theirBase, b.id))];
        const ra = mineResumer.resumeSession(ca);
        const rb = theirResumer.resumeSession(cb);
        expect(ra, label).toBeDefined();
        const [sa, sb] = [ra!.progress.getState(), rb!.progress.getState()];
        // D5: the package keeps the crashed state's eta, after the reference's keys.
        const kept = !isReference && ca.progress.eta !== undefined ? ["eta"] : [];
        expect(Object.keys(sa), `${label}, resumed`).toEqual([...Object.keys(sb), ...kept]);
        expect(undefinedKeys(sa), `${label}, resumed`).toEqual(undefinedKeys(sb));
        ra!.progress.setProgress(50);
        rb!.progress.setProgress(50);
        const [fa, fb] = [fileOf(mineResumes, ra!.id), fileOf(theirResumes, rb!.id)];
        expect(Object.keys(fa.progress), `${label}, resumed, setProgress(50) (file)`).toEqual([...Object.keys(fb.progress), ...kept]);
      }

      const end = Math.floor(random() * 4);
      if (end === 1) (mine.completeSession(a.id), theirs.completeSession(b.id), (label += ", completeSession"));
      if (end === 2) (mine.failSession(a.id, "failed"), theirs.failSession(b.id, "failed"), (label += ", failSession"));
      if (end === 3) (mine.cancelSession(a.id), theirs.cancelSession(b.id), (label += ", cancelSession"));
      compareFiles();
    }

    expect(heard[0].length).toBe(heard[1].length);
    heard[0].forEach((state, i) => expectSameShape(state, heard[1][i], `manager listener, change ${i + 1}`));
    for (const manager of [mine, theirs, mineResumer, theirResumer]) manager.shutdown();
  }, 60_000); // some 2,000 file writes on each side

  it("a state saved by the store keeps its progress keys' order, unknown ones included", () => {
    const [mineBase, theirBase] = [tempDir(), tempDir()];
    const state = makeState("odd-order", { updatedAt: isoAgo(MINUTE) });
    const { sessionId, operation, status, progress, currentStep, totalSteps, completedSteps, startedAt, updatedAt } = state.progress;
    // Optional keys among the base ones, and a field neither module knows between them.
    state.progress = { completedSteps, sessionId, operation, later: { kept: [1] }, status, progress, currentStep, startedAt, totalSteps, updatedAt };
    new pkg.SessionStateStore(mineBase).save(state);
    new ref.SessionStateStore(theirBase).save(state);
    const text = (base: string) => fs.readFileSync(sessionFile(base, "odd-order"), "utf8");
    expect(text(mineBase)).toBe(text(theirBase));
    const [found] = new pkg.SessionStateStore(mineBase).findCrashedSessions(0);
    expect(Object.keys(found.progress)).toEqual(Object.keys(state.progress));
    expect(new pkg.SessionStateStore(mineBase).load("odd-order")).toStrictEqual(state);
  });
});
