#!/usr/bin/env node
// The other process of bench/inspect.mjs's getTask figure: creates a working
// task in a SessionTaskStore (msw-session/mcp) over the folder argv[2], prints
// its id on one line, and lives until its stdin closes (or it is killed).
//
//   node bench/task-owner.mjs <folder>
import { SessionTaskStore } from "../mcp.mjs";

const store = new SessionTaskStore({ basePath: process.argv[2], persistIntervalMs: 0, defaultTtl: null });
const task = await store.createTask({ ttl: null }, 1, { method: "tools/call", params: { name: "bench" } });
process.stdin.on("end", () => {
  store.close();
  process.exit(0);
});
process.stdin.resume();
console.log(task.taskId);
