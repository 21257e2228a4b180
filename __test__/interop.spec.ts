// Contract §1 "Store": files written by the reference are read by the package, and the other way
// round — a project can switch from one to the other with sessions on disk.
import fs from "node:fs";
import { describe, expect, it } from "vitest";
import * as pkg from "msw-session";
import { ISO_TIMESTAMP, MINUTE, isReference, isoAgo, makeState, readSession, referenceEntry, sessionFile, tempDirs } from "./helpers";

const hasReference = fs.existsSync(referenceEntry);
const ref: typeof pkg | undefined =
  !isReference && hasReference ? await import(/* @vite-ignore */ referenceEntry) : undefined;

const tempDir = tempDirs();

describe.skipIf(isReference || !hasReference)("interop with the reference module", () => {
  it("the two modules are different implementations (sanity)", () => {
    expect(ref!.SessionStateStore).not.toBe(pkg.SessionStateStore);
  });

  it("a file written by the reference store is loaded by the package store", () => {
    const base = tempDir();
    const state = makeState("from-ref", { crashedAt: "2026-11-24T12:30:00.000Z", status: "crashed" });
    new ref!.SessionStateStore(base).save(state);
    const store = new pkg.SessionStateStore(base);
    expect(store.listSessions()).toEqual(["from-ref"]);
    expect(store.load("from-ref")).toEqual(state);
  });

  it("a file written by the package store is loaded by the reference store", () => {
    const base = tempDir();
    const state = makeState("from-pkg");
    new pkg.SessionStateStore(base).save(state);
    expect(new ref!.SessionStateStore(base).load("from-pkg")).toEqual(state);
  });

  it("files written by the reference manager are loaded whole by the package", () => {
    const base = tempDir();
    const manager = new ref!.SessionManager({ basePath: base });
    const session = manager.createSession("index", { cursor: 3 });
    session.progress.start(4);
    session.progress.completeStep("read");
    session.progress.setEta(new Date("2030-01-01T00:00:00.000Z"));
    const onDisk = readSession(base, session.id);
    expect(new pkg.SessionStateStore(base).load(session.id)).toEqual(onDisk);
  });

  it("files written by the package manager are loaded whole by the reference", () => {
    const base = tempDir();
    const manager = new pkg.SessionManager({ basePath: base, persistIntervalMs: 0 });
    const session = manager.createSession("index", { cursor: 3 });
    session.progress.start(4);
    session.progress.completeStep("read");
    manager.cancelSession(session.id, "stop");
    const onDisk = readSession(base, session.id);
    expect(new ref!.SessionStateStore(base).load(session.id)).toEqual(onDisk);
  });

  it("a session the reference manager left behind is found crashed and resumed by the package", () => {
    const base = tempDir();
    const old = new ref!.SessionManager({ basePath: base });
    const session = old.createSession("import vault", { cursor: 120 });
    session.progress.start(10);
    session.progress.setProgress(40, "notes");
    // the process dies: its file stays "active" and ages
    const file = readSession(base, session.id);
    fs.writeFileSync(sessionFile(base, session.id), JSON.stringify({ ...file, updatedAt: isoAgo(5 * MINUTE) }, null, 2));

    const manager = new pkg.SessionManager({ basePath: base, persistIntervalMs: 0 });
    const crashed = manager.findCrashedSessions();
    expect(crashed).toHaveLength(1);
    expect(crashed[0]).toMatchObject({
      id: session.id,
      operation: "import vault",
      status: "crashed",
      crashedAt: expect.stringMatching(ISO_TIMESTAMP),
      context: { cursor: 120 },
      progress: { progress: 40, currentStep: "notes", totalSteps: 10 },
    });

    const resumed = manager.resumeSession(crashed[0])!;
    expect(resumed.id).toBe(session.id);
    resumed.progress.setProgress(50, "links");
    expect(new ref!.SessionStateStore(base).load(session.id)).toMatchObject({
      id: session.id,
      status: "active",
      context: { cursor: 120 },
      progress: { status: "running", progress: 50, currentStep: "links" },
    });
    manager.completeSession(session.id);
    expect(new ref!.SessionStateStore(base).findCrashedSessions(0)).toEqual([]);
  });
});
