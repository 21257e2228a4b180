#!/usr/bin/env node
// msw-session: look at and steer the sessions in a folder.
//
//   msw-session ls [--dir D] [--json]
//   msw-session show <id> [--dir D] [--json]
//   msw-session watch [--dir D] [--json]
//   msw-session cancel <id> [reason] [--dir D]
//   msw-session cleanup [--older-than 7d] [--dir D] [--json]
//
// Exit codes: 0 ok, 1 not found (no such session, or no live owner to
// cancel), 2 usage. Colour only on a terminal and without NO_COLOR.
import fs from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";

import { SessionStateStore, formatProgress, requestCancellation } from "../index.mjs";

const USAGE = `Usage: msw-session <command> [options]

Commands:
  ls                       list the sessions: id, operation, status, progress, step, age, owner
  show <id>                the full state of one session
  watch                    a live view of every session, until Ctrl-C
  cancel <id> [reason]     ask the session's owner (any process here) to cancel it
  cleanup [--older-than D] remove finished sessions older than D (default 7d; units s, m, h, d)

Options:
  --dir <path>   the folder that holds .msw/ (default: the current folder)
  --json         machine-readable output (ls, show, watch, cleanup)
  -h, --help     this text

Exit codes: 0 ok, 1 not found, 2 usage.`;

class UsageError extends Error {}

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

/** Every readable session with its owner's state: alive, crashed or "-". */
function readAll(store) {
  const crashed = new Set(store.findCrashedSessions().map((s) => s.id));
  const rows = [];
  for (const id of store.listSessions()) {
    const state = store.load(id);
    if (!state) continue;
    const owner = state.status !== "active" ? "-" : crashed.has(id) ? "crashed" : "alive";
    rows.push({ ...state, ownerState: owner });
  }
  rows.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  return rows;
}

/** Estimated time left from the time spent so far, as `mm:ss`, or "". */
function eta(state) {
  const p = state.progress.progress;
  if (state.status !== "active" || !(p > 0) || p >= 100) return "";
  const elapsed = Date.parse(state.progress.updatedAt) - Date.parse(state.progress.startedAt);
  const left = (elapsed * (100 - p)) / p / 1000;
  if (!Number.isFinite(left)) return "";
  return `${Math.floor(left / 60)}:${String(Math.round(left % 60)).padStart(2, "0")}`;
}

/** A table with padded columns; the header dimmed. */
function table(header, rows) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) => cells.map((c, i) => String(c).padEnd(widths[i])).join("  ").trimEnd();
  return [paint(2, line(header)), ...rows.map(line)].join("\n");
}

function renderRows(rows, now, withEta) {
  const header = ["ID", "OPERATION", "STATUS", "PROGRESS", "STEP", "AGE", "OWNER"];
  if (withEta) header.push("ETA");
  const body = rows.map((s) => {
    const status = s.ownerState === "crashed" ? "crashed" : s.status;
    const bar = formatProgress({ ...s.progress, operation: "", currentStep: undefined }).trimEnd();
    const cells = [
      s.id.slice(0, 8),
      s.operation,
      status,
      bar,
      s.progress.currentStep ?? "",
      formatAge(now - Date.parse(s.updatedAt)),
      s.ownerState,
    ];
    if (withEta) cells.push(eta(s));
    return cells;
  });
  const text = table(header, body);
  if (!color) return text;
  return text
    .split("\n")
    .map((line, i) => {
      if (i === 0) return line;
      const row = rows[i - 1];
      const status = row.ownerState === "crashed" ? "crashed" : row.status;
      return line.replace(` ${status} `, ` ${paint(STATUS_COLORS[status] ?? 0, status)} `);
    })
    .join("\n");
}

function findOne(store, id) {
  const ids = store.listSessions().filter((s) => s === id || s.startsWith(id));
  return ids.length === 1 ? store.load(ids[0]) : undefined;
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
    return values.help ? 0 : 2;
  }
  const dir = path.resolve(values.dir);
  const store = new SessionStateStore(dir);
  const out = (text) => process.stdout.write(`${text}\n`);

  switch (command) {
    case "ls": {
      if (rest.length) throw new UsageError("ls takes no arguments");
      const rows = readAll(store);
      if (values.json) out(JSON.stringify(rows.map(({ ownerState, ...s }) => ({ ...s, owner: s.owner, ownerState })), null, 2));
      else out(rows.length ? renderRows(rows, Date.now(), false) : "no sessions");
      return 0;
    }
    case "show": {
      if (rest.length !== 1) throw new UsageError("show takes one session id");
      const state = findOne(store, rest[0]);
      if (!state) {
        process.stderr.write(`msw-session: no session ${rest[0]} in ${dir}\n`);
        return 1;
      }
      if (values.json) out(JSON.stringify(state, null, 2));
      else {
        out(`${paint(1, state.operation)}  ${state.id}`);
        out(`  ${formatProgress(state.progress)}`);
        out(`  status    ${state.status}${state.progress.error ? ` (${state.progress.error})` : ""}`);
        if (state.progress.totalSteps !== undefined) {
          out(`  steps     ${state.progress.completedSteps ?? 0}/${state.progress.totalSteps}`);
        }
        out(`  created   ${state.createdAt}`);
        out(`  updated   ${state.updatedAt}`);
        if (state.owner) out(`  owner     pid ${state.owner.pid} on ${state.owner.host} since ${state.owner.since}`);
        out(`  context   ${JSON.stringify(state.context)}`);
      }
      return 0;
    }
    case "cancel": {
      if (rest.length < 1 || rest.length > 2) throw new UsageError("cancel takes a session id and an optional reason");
      const state = findOne(store, rest[0]);
      const asked = state ? requestCancellation(state.id, rest[1], { basePath: dir }) : false;
      if (!asked) {
        process.stderr.write(`msw-session: no live owner for session ${rest[0]} in ${dir}\n`);
        return 1;
      }
      out(`asked the owner of ${state.id} to cancel it`);
      return 0;
    }
    case "cleanup": {
      if (rest.length) throw new UsageError("cleanup takes no arguments");
      // Without --older-than, the package's default age (7 days).
      const olderThan = values["older-than"];
      const removed = store.cleanup(olderThan === undefined ? undefined : parseAge(olderThan));
      out(values.json ? JSON.stringify({ removed }) : `removed ${removed} session${removed === 1 ? "" : "s"}`);
      return 0;
    }
    case "watch": {
      if (rest.length) throw new UsageError("watch takes no arguments");
      watch(store, dir, values.json);
      return undefined;
    }
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

/** Redraws on every change in the folder (and each second, for ages and ETAs). */
function watch(store, dir, json) {
  const sessionsDir = path.join(dir, ".msw", "sessions");
  const draw = () => {
    const rows = readAll(store);
    if (json) {
      process.stdout.write(`${JSON.stringify({ at: new Date().toISOString(), sessions: rows })}\n`);
      return;
    }
    const text = rows.length ? renderRows(rows, Date.now(), true) : "no sessions";
    process.stdout.write(process.stdout.isTTY ? `\x1b[H\x1b[2J${text}\n` : `${text}\n\n`);
  };
  let pending = false;
  const schedule = () => {
    if (pending) return;
    pending = true;
    setTimeout(() => {
      pending = false;
      draw();
    }, 50);
  };
  // A read command creates nothing (folders are the core's, made private on
  // the first write): until the folder exists, the once-a-second redraw
  // looks for it, and watches it from when it appears.
  let watching = false;
  const watchWhenThere = () => {
    if (watching) return;
    try {
      fs.watch(sessionsDir, schedule);
      watching = true;
    } catch {
      // Not there yet.
    }
  };
  watchWhenThere();
  setInterval(() => {
    watchWhenThere();
    draw();
  }, 1000);
  process.once("SIGINT", () => process.exit(0));
  draw();
}

try {
  const code = main(process.argv.slice(2));
  if (code !== undefined) process.exitCode = code;
} catch (error) {
  if (error instanceof UsageError) {
    process.stderr.write(`msw-session: ${error.message}\n\n${USAGE}\n`);
    process.exitCode = 2;
  } else {
    process.stderr.write(`msw-session: ${error.message}\n`);
    process.exitCode = 1;
  }
}
