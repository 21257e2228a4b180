// A sessions folder that another user controls is refused (issue 25), as OpenSSH refuses a loose
// ~/.ssh. Two users act in child processes started with `setpriv --reuid … --clear-groups`:
// `daemon` plays the other user of a shared folder, `nobody` the victim. That needs root and
// Linux; elsewhere (or where setpriv is refused) the cases are skipped with the reason in their
// names. This process (root here) checks too: root refuses a folder another user owns.
import { execFileSync, spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { SessionStateStore, SessionManager, attachSession, requestCancellation } from "msw-session";
import { SessionTaskStore } from "msw-session/mcp";
import { expectError, isReference, makeState, packageEntry, packageRoot, isoAgo, DAY, tempDirs } from "./helpers";

const tempDir = tempDirs();

const fixture = path.join(path.dirname(fileURLToPath(import.meta.url)), "fixtures", "p-folder-user.mjs");
const packageUrl = pathToFileURL(packageEntry).href;
const BIN = path.join(packageRoot, "bin", "msw-session.mjs");

interface User {
  name: string;
  uid: number;
  gid: number;
}

/** A local account's ids, or undefined when it does not exist. */
function account(name: string): User | undefined {
  try {
    const ids = (flag: string) => Number(execFileSync("id", [flag, name], { encoding: "utf8" }).trim());
    return { name, uid: ids("-u"), gid: ids("-g") };
  } catch {
    return undefined;
  }
}

/** Why the two-user cases cannot run here, or "" when they can. */
function whyNot(): string {
  if (process.platform !== "linux") return "not Linux";
  if (isReference) return "the reference has no folder checks";
  if (process.getuid?.() !== 0) return "not root (setpriv --reuid needs it)";
  if (!account("daemon") || !account("nobody")) return "no daemon or nobody account";
  const probe = spawnSync("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", process.execPath, "-e", "0"]);
  if (probe.error || probe.status !== 0) return `setpriv refused (${probe.error?.message ?? probe.stderr})`;
  return "";
}

const reason = whyNot();
const daemon = account("daemon")!;
const nobody = account("nobody")!;

/** Runs `args` as `user` (its uid and gid, no supplementary groups). */
function asUser(user: User, args: string[]) {
  return spawnSync("setpriv", [`--reuid=${user.uid}`, `--regid=${user.gid}`, "--clear-groups", process.execPath, ...args], {
    encoding: "utf8",
  });
}

/** The fixture's action, as `user`: what it reported. */
function act(user: User, action: string, base: string, args: unknown = {}): any {
  const r = asUser(user, [fixture, packageUrl, action, base, JSON.stringify(args)]);
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

/** A base folder anyone may write in, as a shared checkout or workspace is. */
function sharedBase(): string {
  const base = tempDir();
  fs.chmodSync(base, 0o777);
  return base;
}

const title = (name: string) => (reason ? `${name} (skipped: ${reason})` : name);

/** The refusal a child reported. */
function expectRefused(result: any, folder: string, what: string | RegExp) {
  expect(result).toMatchObject({ ok: false, code: "ERR_UNSAFE_FOLDER", path: folder });
  expect(result.message).toContain(`"${folder}"`);
  if (typeof what === "string") expect(result.message).toContain(what);
  else expect(result.message).toMatch(what);
  expect(result.message).toContain("trustFolder: true");
}

describe.skipIf(reason !== "")("a sessions folder another user controls", () => {
  it(title("a folder owned by another user is refused, by that user's victim and by root; nothing is written"), () => {
    const base = sharedBase();
    expect(act(daemon, "create", base)).toMatchObject({ ok: true });
    const msw = path.join(base, ".msw");
    const before = fs.readdirSync(path.join(msw, "sessions"));
    expectRefused(act(nobody, "create", base), msw, `owned by uid ${daemon.uid}, not by the current user (uid ${nobody.uid})`);
    expectRefused(act(nobody, "store", base), msw, "owned by uid");
    expect(fs.readdirSync(path.join(msw, "sessions"))).toEqual(before);
    // Root's own checks refuse it too.
    for (const open of [
      () => new SessionStateStore(base),
      () => new SessionManager({ basePath: base }),
      () => attachSession("x", { basePath: base }),
      () => requestCancellation("x", undefined, { basePath: base }),
      () => new SessionTaskStore({ basePath: base }),
    ]) {
      const err = expectError(open, { type: Error, code: "ERR_UNSAFE_FOLDER", message: `owned by uid ${daemon.uid}` });
      expect(err.path).toBe(msw);
    }
  });

  it(title("a group-writable folder is refused"), () => {
    const base = sharedBase();
    act(nobody, "mkdir", base, [[".msw", 0o700], [".msw/sessions", 0o770]]);
    expectRefused(act(nobody, "create", base), path.join(base, ".msw", "sessions"), "writable by group (mode 0770)");
  });

  it(title("a world-writable folder is refused, as the daemon's 0777 folder of the issue is"), () => {
    const base = sharedBase();
    act(nobody, "mkdir", base, [[".msw", 0o700], [".msw/sessions", 0o700], [".msw/sessions/requests", 0o707]]);
    expectRefused(act(nobody, "create", base), path.join(base, ".msw", "sessions", "requests"), "writable by others (mode 0707)");
    const shared = sharedBase();
    act(daemon, "mkdir", shared, [[".msw", 0o777], [".msw/sessions", 0o777]]);
    expectRefused(act(nobody, "create", shared), path.join(shared, ".msw"), "owned by uid");
    expect(fs.readdirSync(path.join(shared, ".msw", "sessions"))).toEqual([]);
  });

  it(title("a symlinked .msw is refused, even to a folder of the user's own"), () => {
    const base = sharedBase();
    act(nobody, "mkdir", base, [["mine", 0o700]]);
    act(daemon, "symlink", base, { target: "mine", link: ".msw" });
    expectRefused(act(nobody, "create", base), path.join(base, ".msw"), "it is a symbolic link");
    expect(fs.readdirSync(path.join(base, "mine"))).toEqual([]);
  });

  it(title("a planted session file is never reported or resumed: it is moved aside, not deleted"), () => {
    const planted = makeState("planted-1", {
      status: "active",
      updatedAt: isoAgo(DAY),
      context: { nextUrl: "https://attacker.example/payload", outputPath: "/home/victim/.bashrc" },
    });
    const sessions = (base: string) => path.join(base, ".msw", "sessions");

    // In the shared folder the victim trusts on purpose: another user's file is still refused.
    const shared = sharedBase();
    act(daemon, "mkdir", shared, [[".msw", 0o777], [".msw/sessions", 0o777]]);
    expect(act(daemon, "plant", shared, planted)).toMatchObject({ ok: true });
    const trusted = act(nobody, "scan", shared, { trustFolder: true, resume: { ...planted, status: "crashed" } });
    expect(trusted).toMatchObject({ ok: true, crashed: [], resumed: [] });
    expect(trusted.corrupt).toEqual([path.join(sessions(shared), "planted-1.json.corrupt")]);
    expect(fs.readFileSync(trusted.corrupt[0], "utf8")).toContain("attacker.example");

    // In the victim's own private folder, a file another user (root, here) put there.
    const own = sharedBase();
    act(nobody, "mkdir", own, [[".msw", 0o700], [".msw/sessions", 0o700]]);
    fs.writeFileSync(path.join(sessions(own), "planted-1.json"), JSON.stringify(planted));
    const scanned = act(nobody, "scan", own);
    expect(scanned).toMatchObject({ ok: true, crashed: [], resumed: [] });
    expect(scanned.corrupt).toEqual([path.join(sessions(own), "planted-1.json.corrupt")]);

  });

  it(title("the opt-in: trustFolder uses a folder another user owns; the CLI exits 5 without --trust-folder"), () => {
    const base = sharedBase();
    act(daemon, "mkdir", base, [[".msw", 0o777], [".msw/sessions", 0o777]]);
    const created = act(nobody, "create", base, { trustFolder: true });
    expect(created).toMatchObject({ ok: true });
    const file = path.join(base, ".msw", "sessions", `${created.id}.json`);
    expect(fs.statSync(file).uid).toBe(nobody.uid);
    expect(act(nobody, "store", base, { trustFolder: true })).toEqual({ ok: true, ids: [created.id] });

    const refused = asUser(nobody, [BIN, "ls", "--dir", base]);
    expect(refused.status).toBe(5);
    expect(refused.stdout).toBe("");
    expect(refused.stderr).toContain(`msw-session: Refusing the session folder "${path.join(base, ".msw")}": it is owned by uid ${daemon.uid}`);
    expect(refused.stderr).toContain("--trust-folder");
    const listed = asUser(nobody, [BIN, "ls", "--dir", base, "--json", "--trust-folder"]);
    expect(listed.status, listed.stderr).toBe(0);
    expect(JSON.parse(listed.stdout).map((s: { id: string }) => s.id)).toEqual([created.id]);
  });
});

describe.skipIf(isReference)("trustFolder", () => {
  it("is type-checked wherever it is taken", () => {
    const base = tempDir();
    const bad = { basePath: base, trustFolder: "yes" as unknown as boolean };
    for (const call of [
      () => new SessionStateStore(base, bad),
      () => new SessionManager(bad),
      () => attachSession("x", bad),
      () => requestCancellation("x", undefined, bad),
    ]) {
      expectError(call, { type: TypeError, code: "ERR_INVALID_ARG_TYPE", message: "options.trustFolder" });
    }
  });

  it("lets this user's own folder through unchanged, and a group-writable one through only when asked", () => {
    const base = tempDir();
    const store = new SessionStateStore(base);
    store.save(makeState("mine"));
    expect(store.listSessions()).toEqual(["mine"]);
    fs.chmodSync(path.join(base, ".msw"), 0o770);
    if (process.platform === "win32") return; // modes: see the Windows access-list checks
    expectError(() => new SessionStateStore(base), { type: Error, code: "ERR_UNSAFE_FOLDER", message: "writable by group" });
    expect(new SessionStateStore(base, { trustFolder: true }).listSessions()).toEqual(["mine"]);
  });
});
