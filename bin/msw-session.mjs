#!/usr/bin/env node
// msw-session: look at and steer the sessions in a folder.
//
//   msw-session ls [--dir D] [--json]
//   msw-session show <id> [--dir D] [--json]
//   msw-session watch [--dir D] [--json]
//   msw-session cancel <id> [reason] [--dir D]
//   msw-session cleanup [--older-than 7d] [--dir D] [--json]
//
// Exit codes:
//   0  ok; also a folder without sessions (none yet, or no .msw/ at all), and
//      a reader that closed the pipe early (`| head`): the command ends quietly
//   1  not found: no such session, or no live owner to cancel
//   2  usage
//   3  no such folder: --dir does not exist, or is not a folder
//   4  any other error (the message says which: the disk refused, say)
//   5  unsafe folder: .msw or a folder in it is a symbolic link, owned by
//      another user, or writable by others (ERR_UNSAFE_FOLDER; nothing was
//      read or written); --trust-folder uses it anyway
//
// A read command (ls, show, watch) creates nothing: not the --dir folder,
// not .msw/ (the core makes its folders private on the first write).
// Colour only on a terminal and without NO_COLOR.
import fs from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";

import { ProgressTracker, SessionStateStore, formatProgress, requestCancellation } from "../index.mjs";

const USAGE = `Usage: msw-session <command> [options]

Commands:
  ls                       list the sessions: id, operation, status, progress, step, age, owner
                           (alive, crashed, unknown: another host's, not yet stale; - finished)
  show <id>                the full state of one session
  watch                    a live view of every session, until Ctrl-C
  cancel <id> [reason]     ask the session's owner (any process here) to cancel it
  cleanup [--older-than D] remove finished sessions older than D (default 7d; units s, m, h, d)

Options:
  --dir <path>   the folder that holds .msw/ (default: the current folder); it must exist
  --json         machine-readable output (ls, show, watch, cleanup); watch --json prints
                 one line at the start and one per change
  --trust-folder use a sessions folder that another user owns or may write in (risky:
                 that user can plant, replace or remove session files)
  -h, --help     this text

Exit codes:
  0  ok (also: no sessions in the folder, or the reader closed the pipe)
  1  not found: no such session, or no live owner to cancel
  2  usage
  3  no such folder: --dir does not exist, or is not a folder
  4  any other error (the disk refused, say)
  5  unsafe folder: .msw or a folder in it is a symbolic link, owned by another user,
     or writable by others (nothing was read or written; see --trust-folder)`;

class UsageError extends Error {}
/** A --dir that does not exist or is not a folder: exit 3. */
class FolderError extends Error {}

const EXIT = { ok: 0, notFound: 1, usage: 2, noFolder: 3, error: 4, unsafeFolder: 5 };

// A reader that stops early (`msw-session show <id> | head -3`) closes the
// pipe: the command ends quietly, as ls or git do.
process.stdout.on("error", (error) => {
  if (error.code === "EPIPE") process.exit(EXIT.ok);
  process.stderr.write(`msw-session: cannot write the output: ${error.message}\n`);
  process.exit(EXIT.error);
});

const color = process.stdout.isTTY && !process.env.NO_COLOR;
const paint = (code, text) => (color ? `\x1b[${code}m${text}\x1b[0m` : text);
const STATUS_COLORS = { active: 36, completed: 32, failed: 31, cancelled: 33, crashed: 35 };

/** "90s", "15m", "2h", "7d" → days. */
function parseAge(text) {
  const match = /^(\d+(?:\.\d+)?)([smhd])$/.exec(text);
  if (!match) throw new UsageError(`--older-than: expected a number and a unit (s, m, h, d), got "${text}"`);
  const seconds = { s: 1, m: 60, h: 3600, d: 86400 }[match[2]];
  return (Number(match[1]) * seconds) / 86400;
}

function formatAge(ms) {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86400) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

/**
 * The --dir folder, checked before any read: a mistyped path is an error
 * (exit 3), not an empty list. Nothing is created.
 */
function openStore(dir, trustFolder) {
  let stat;
  try {
    stat = fs.statSync(dir);
  } catch (error) {
    if (error.code === "ENOENT" || error.code === "ENOTDIR") throw new FolderError(`no such folder: ${dir}`);
    throw error;
  }
  if (!stat.isDirectory()) throw new FolderError(`not a folder: ${dir}`);
  return new SessionStateStore(dir, { trustFolder });
}

/**
 * " (no .msw folder there)" when the folder never held sessions, else "":
 * the sessions folder's path is the store's (`store.dir`), never spelled here.
 */
function whyEmpty(store) {
  return fs.existsSync(path.dirname(store.dir)) ? "" : " (no .msw folder there)";
}

/** What `ls` and `watch` print for a folder without sessions. */
const noSessions = (dir, store) => `no sessions in ${dir}${whyEmpty(store)}`;

/**
 * A row of ls, show and watch: the stored state with its owner's state,
 * `ownerState`, as the package's queries judge it ("alive", "crashed",
 * "unknown" for an owner that cannot be checked and is not yet stale,
 * "finished").
 */
const row = ({ state, ownerState }) => ({ ...state, ownerState });

/** The status to print: "crashed" when the owner is gone, else the stored one. */
const shownStatus = (row) => (row.ownerState === "crashed" ? "crashed" : row.status);

/** The owner column: the owner's state, "-" for a finished session. */
const shownOwner = (row) => (row.ownerState === "finished" ? "-" : row.ownerState);

/** Every readable session with its owner's state, each file read once, oldest first. */
function readAll(store) {
  const rows = store.listStates().map(row);
  rows.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  return rows;
}

/**
 * The session with that id (one file read), or else with that unique id
 * prefix (the folder listed), with its owner's state; or undefined.
 */
function readOne(store, id) {
  const found = store.inspect(id);
  if (found) return row(found);
  const ids = store.listSessions().filter((s) => s.startsWith(id));
  const prefixed = ids.length === 1 ? store.inspect(ids[0]) : undefined;
  return prefixed && row(prefixed);
}

/**
 * The estimated time left of each active session that `watch` follows, as
 * `mm:ss`, or "": the package's own estimator (`ProgressTracker#estimate`,
 * a smoothed rate), fed with each change of the session that `watch` sees.
 */
class Estimates {
  /** @type {Map<string, { tracker: ProgressTracker, seen: string }>} */
  #trackers = new Map();

  /** Feeds what `rows` show, forgets the sessions no longer active. */
  observe(rows) {
    const active = new Set();
    for (const r of rows) {
      if (r.status !== "active" || r.ownerState === "crashed") continue;
      active.add(r.id);
      let entry = this.#trackers.get(r.id);
      if (!entry) {
        entry = { tracker: new ProgressTracker(r.id, r.operation), seen: "" };
        this.#trackers.set(r.id, entry);
      }
      const p = r.progress;
      const seen = `${p.updatedAt} ${p.progress} ${p.completedSteps}`;
      if (seen === entry.seen) continue;
      entry.seen = seen;
      try {
        if (p.totalSteps > 0 && p.completedSteps !== undefined) entry.tracker.setSteps(p.completedSteps, p.totalSteps);
        else entry.tracker.setProgress(p.progress);
      } catch {
        // A file's numbers the tracker refuses (written by other code): no estimate from them.
      }
    }
    for (const id of this.#trackers.keys()) if (!active.has(id)) this.#trackers.delete(id);
  }

  /** The time left of session `id`, or "" until the rate is known. */
  left(id) {
    const estimate = this.#trackers.get(id)?.tracker.estimate();
    if (!estimate || !Number.isFinite(estimate.remainingMs)) return "";
    const left = Math.round(estimate.remainingMs / 1000);
    return `${Math.floor(left / 60)}:${String(left % 60).padStart(2, "0")}`;
  }
}

/** A table with padded columns; the header dimmed. */
function table(header, rows) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) => cells.map((c, i) => String(c).padEnd(widths[i])).join("  ").trimEnd();
  return [paint(2, line(header)), ...rows.map(line)].join("\n");
}

function renderRows(rows, now, estimates) {
  const header = ["ID", "OPERATION", "STATUS", "PROGRESS", "STEP", "AGE", "OWNER"];
  if (estimates) header.push("ETA");
  const body = rows.map((s) => {
    const status = shownStatus(s);
    const bar = formatProgress({ ...s.progress, operation: "", currentStep: undefined }).trimEnd();
    const cells = [
      s.id.slice(0, 8),
      s.operation,
      status,
      bar,
      s.progress.currentStep ?? "",
      formatAge(now - Date.parse(s.updatedAt)),
      shownOwner(s),
    ];
    if (estimates) cells.push(estimates.left(s.id));
    return cells;
  });
  const text = table(header, body);
  if (!color) return text;
  return text
    .split("\n")
    .map((line, i) => {
      if (i === 0) return line;
      const status = shownStatus(rows[i - 1]);
      return line.replace(` ${status} `, ` ${paint(STATUS_COLORS[status] ?? 0, status)} `);
    })
    .join("\n");
}

/** `show`: the full state; the status as `ls` gives it, the stored one beside it when they differ. */
function renderOne(state, out) {
  const status = shownStatus(state);
  const notes = [];
  if (status !== state.status) notes.push(`the file says ${state.status}; its owner is gone`);
  if (state.progress.error) notes.push(state.progress.error);
  out(`${paint(1, state.operation)}  ${state.id}`);
  out(`  ${formatProgress(state.progress)}`);
  out(`  status    ${status}${notes.length ? ` (${notes.join("; ")})` : ""}`);
  if (state.progress.totalSteps !== undefined) {
    out(`  steps     ${state.progress.completedSteps ?? 0}/${state.progress.totalSteps}`);
  }
  out(`  created   ${state.createdAt}`);
  out(`  updated   ${state.updatedAt}`);
  if (state.owner) {
    const alive = state.ownerState === "finished" ? "" : ` (${state.ownerState})`;
    out(`  owner     pid ${state.owner.pid} on ${state.owner.host} since ${state.owner.since}${alive}`);
  }
  out(`  context   ${JSON.stringify(state.context)}`);
}

function main(argv) {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        dir: { type: "string", default: process.cwd() },
        json: { type: "boolean", default: false },
        "older-than": { type: "string" },
        "trust-folder": { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
    });
  } catch (error) {
    throw new UsageError(error.message);
  }
  const { values, positionals } = parsed;
  const [command, ...rest] = positionals;
  if (values.help || !command) {
    (values.help ? process.stdout : process.stderr).write(`${USAGE}\n`);
    return values.help ? EXIT.ok : EXIT.usage;
  }
  const dir = path.resolve(values.dir);
  const trustFolder = values["trust-folder"];
  const out = (text) => process.stdout.write(`${text}\n`);

  switch (command) {
    case "ls": {
      if (rest.length) throw new UsageError("ls takes no arguments");
      const store = openStore(dir, trustFolder);
      const rows = readAll(store);
      if (values.json) out(JSON.stringify(rows, null, 2));
      else out(rows.length ? renderRows(rows, Date.now(), undefined) : noSessions(dir, store));
      return EXIT.ok;
    }
    case "show": {
      if (rest.length !== 1) throw new UsageError("show takes one session id");
      const store = openStore(dir, trustFolder);
      const state = readOne(store, rest[0]);
      if (!state) {
        process.stderr.write(`msw-session: no session ${rest[0]} in ${dir}${whyEmpty(store)}\n`);
        return EXIT.notFound;
      }
      if (values.json) out(JSON.stringify(state, null, 2));
      else renderOne(state, out);
      return EXIT.ok;
    }
    case "cancel": {
      if (rest.length < 1 || rest.length > 2) throw new UsageError("cancel takes a session id and an optional reason");
      const state = readOne(openStore(dir, trustFolder), rest[0]);
      const asked = state ? requestCancellation(state.id, rest[1], { basePath: dir, trustFolder }) : false;
      if (!asked) {
        process.stderr.write(`msw-session: no live owner for session ${rest[0]} in ${dir}\n`);
        return EXIT.notFound;
      }
      out(`asked the owner of ${state.id} to cancel it`);
      return EXIT.ok;
    }
    case "cleanup": {
      if (rest.length) throw new UsageError("cleanup takes no arguments");
      // Without --older-than, the package's default age (7 days).
      const olderThan = values["older-than"];
      const maxAgeDays = olderThan === undefined ? undefined : parseAge(olderThan);
      const removed = openStore(dir, trustFolder).cleanup(maxAgeDays);
      out(values.json ? JSON.stringify({ removed }) : `removed ${removed} session${removed === 1 ? "" : "s"}`);
      return EXIT.ok;
    }
    case "watch": {
      if (rest.length) throw new UsageError("watch takes no arguments");
      watch(openStore(dir, trustFolder), dir, values.json);
      return undefined;
    }
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

/**
 * The terminal view redraws on every change in the folder and each second
 * (for ages and ETAs); `--json` prints one line at the start and then one per
 * change, never the same sessions twice in a row.
 */
function watch(store, dir, json) {
  const sessionsDir = store.dir;
  const estimates = new Estimates();
  let last;
  const draw = () => {
    const rows = readAll(store);
    if (json) {
      const sessions = JSON.stringify(rows);
      if (sessions === last) return;
      last = sessions;
      process.stdout.write(`{"at":${JSON.stringify(new Date().toISOString())},"sessions":${sessions}}\n`);
      return;
    }
    estimates.observe(rows);
    const text = rows.length ? renderRows(rows, Date.now(), estimates) : noSessions(dir, store);
    process.stdout.write(process.stdout.isTTY ? `\x1b[H\x1b[2J${text}\n` : `${text}\n\n`);
  };
  const drawOrFail = () => {
    try {
      draw();
    } catch (error) {
      fail(error);
      process.exit();
    }
  };
  let pending = false;
  const schedule = () => {
    if (pending) return;
    pending = true;
    setTimeout(() => {
      pending = false;
      drawOrFail();
    }, 50);
  };
  // A read command creates nothing (folders are the core's, made private on
  // the first write): until the folder exists, the once-a-second look at the
  // sessions finds it, and watches it from when it appears (again, when it
  // was removed and made anew).
  let watcher;
  const watchWhenThere = () => {
    if (watcher) return;
    try {
      watcher = fs.watch(sessionsDir, schedule);
    } catch {
      return; // Not there yet.
    }
    watcher.on("error", () => {
      watcher.close();
      watcher = undefined;
    });
  };
  watchWhenThere();
  setInterval(() => {
    watchWhenThere();
    drawOrFail();
  }, 1000);
  process.once("SIGINT", () => process.exit(EXIT.ok));
  drawOrFail();
}

/** Reports an error on stderr and sets the exit code that names its kind. */
function fail(error) {
  if (error instanceof UsageError) {
    process.stderr.write(`msw-session: ${error.message}\n\n${USAGE}\n`);
    process.exitCode = EXIT.usage;
  } else if (error.code === "ERR_UNSAFE_FOLDER") {
    process.stderr.write(`msw-session: ${error.message} (here: --trust-folder)\n`);
    process.exitCode = EXIT.unsafeFolder;
  } else {
    process.stderr.write(`msw-session: ${error.message}\n`);
    process.exitCode = error instanceof FolderError ? EXIT.noFolder : EXIT.error;
  }
}

try {
  const code = main(process.argv.slice(2));
  if (code !== undefined) process.exitCode = code;
} catch (error) {
  fail(error);
}
