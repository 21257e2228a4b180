// `npm run demo -- --ci`: a run killed with SIGKILL half-way, then found
// crashed, resumed from its checkpoints and finished; one session cancelled.
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

import { isReference, packageRoot, sessionsDir, tempDirs } from "./helpers.js";

const tempDir = tempDirs();

describe.skipIf(isReference)("npm run demo -- --ci", () => {
  it("resumes every killed session from its checkpoint; the files say what happened", async () => {
    const dir = tempDir();
    const child = spawn(process.execPath, [path.join(packageRoot, "demo", "demo.mjs"), "--ci", "--dir", dir]);
    let stdout = "";
    child.stdout.on("data", (d) => (stdout += d));
    const code = await new Promise((resolve) => child.on("close", resolve));
    expect(code).toBe(0);
    expect(stdout.match(/^resumed hash dataset-\d at file \d+\/24/gm)).toHaveLength(4);
    const states = fs
      .readdirSync(sessionsDir(dir))
      .filter((f) => f.endsWith(".json"))
      .map((f) => JSON.parse(fs.readFileSync(path.join(sessionsDir(dir), f), "utf8")));
    expect(states).toHaveLength(4);
    const statuses = states.map((s) => s.status).sort();
    expect(statuses).toEqual(["cancelled", "completed", "completed", "completed"]);
    for (const s of states) {
      // The checkpoint and the progress agree, resumed or not.
      expect(s.context.hashes).toHaveLength(s.context.nextIndex);
      expect(s.progress.completedSteps).toBe(s.context.nextIndex);
      if (s.status === "completed") expect(s.context.nextIndex).toBe(24);
    }
  });
});
