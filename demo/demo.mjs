// `npm run demo`: the main job of msw-session in miniature.
//
// Three sessions run in one manager: one completes, one is cancelled, and a
// third is started by a child process that is killed with SIGKILL half-way.
// The parent then finds the crashed session, resumes it from its file and
// completes it. The state files are printed along the way.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { SessionManager, formatProgress } from "../index.mjs";

const basePath = process.argv[3] ?? fs.mkdtempSync(path.join(os.tmpdir(), "msw-session-demo-"));
const sessionsDir = path.join(basePath, ".msw", "sessions");

if (process.argv[2] === "--child") {
  // The child: start a session, do half the work, die without a word.
  const manager = new SessionManager({ basePath, persistIntervalMs: 0 });
  const session = manager.createSession("reindex corpus", { cursor: 0, corpus: "docs/" });
  session.progress.start(6);
  for (let i = 1; i <= 3; i++) {
    session.context.cursor = i * 100;
    session.progress.completeStep(`batch ${i}`);
  }
  process.kill(process.pid, "SIGKILL");
}

const manager = new SessionManager({ basePath });
manager.onProgress((state) => console.log(`  ${formatProgress(state)}  (${state.status})`));

function showFile(id) {
  const file = path.join(sessionsDir, `${id}.json`);
  const state = JSON.parse(fs.readFileSync(file, "utf8"));
  console.log(`  ${path.relative(basePath, file)}: status=${state.status} progress=${state.progress.progress}% ` +
    `context=${JSON.stringify(state.context)}`);
}

console.log(`Sessions folder: ${sessionsDir}\n`);

console.log("1. A session that completes");
const build = manager.createSession("build index", { files: 4 });
build.progress.start(4);
for (const file of ["a.md", "b.md", "c.md", "d.md"]) build.progress.completeStep(file);
manager.completeSession(build.id);
showFile(build.id);

console.log("\n2. A session that is cancelled");
const upload = manager.createSession("upload bundle", { bytes: 0 });
upload.cancellation.token.onCancelled((reason) => console.log(`  token cancelled: ${reason}`));
upload.progress.start(10);
upload.progress.completeStep("part 1");
upload.context.bytes = 1_048_576;
manager.cancelSession(upload.id, "user pressed Ctrl-C");
console.log(`  upload.cancellation.isCancelled = ${upload.cancellation.isCancelled}`);
showFile(upload.id);

console.log("\n3. A session whose process is killed with SIGKILL half-way");
const child = spawnSync(process.execPath, [fileURLToPath(import.meta.url), "--child", basePath], {
  stdio: "inherit",
});
console.log(`  child ended by ${child.signal}`);
// The child held the session's lock; the OS released it when the child died,
// so the crash is seen at once (the reference waited for 60 s of silence).
const crashed = manager.findCrashedSessions();
for (const state of crashed) {
  console.log(`  found crashed: ${state.operation} at ${state.progress.progress}% ` +
    `(step ${state.progress.completedSteps}/${state.progress.totalSteps}, cursor ${state.context.cursor})`);
  const resumed = manager.resumeSession(state);
  console.log("  resumed in this process:");
  while (resumed.progress.getState().completedSteps < 6) {
    resumed.context.cursor += 100;
    resumed.progress.completeStep(`batch ${resumed.progress.getState().completedSteps + 1}`);
  }
  manager.completeSession(resumed.id);
  showFile(resumed.id);
}

manager.shutdown();
console.log(`\nState files left in ${sessionsDir}:`);
for (const name of fs.readdirSync(sessionsDir).sort()) console.log(`  ${name}`);
if (process.argv[3] === undefined && !process.env.KEEP) fs.rmSync(basePath, { recursive: true, force: true });
