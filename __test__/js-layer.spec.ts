// The hand-written JavaScript layer of the main entry (index.js and lib/): every file type-checked, shipped and
// checked by tsc; the loader's message names the per-platform packages that package.json builds.
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { isReference, packageRoot } from "./helpers";

const libFiles = fs
  .readdirSync(path.join(packageRoot, "lib"))
  .filter((f) => f.endsWith(".js"))
  .map((f) => `lib/${f}`);
const pkg = JSON.parse(fs.readFileSync(path.join(packageRoot, "package.json"), "utf8"));

describe.skipIf(isReference)("the JavaScript layer", () => {
  it("every file starts with // @ts-check, and tsconfig.json and package.json `files` take in lib/", () => {
    for (const file of ["index.js", ...libFiles]) {
      expect(fs.readFileSync(path.join(packageRoot, file), "utf8").split("\n")[0], file).toBe("// @ts-check");
    }
    expect(pkg.files).toContain("lib/");
    const tsconfig = fs.readFileSync(path.join(packageRoot, "tsconfig.json"), "utf8");
    expect(tsconfig).toContain('"include": ["lib/**/*.js"]');
  });

  it("the loader's failure message lists the package of every target in package.json, and only those", () => {
    const { loadFailure, platformOf } = createRequire(import.meta.url)("../lib/loader.js");
    const platforms = (pkg.napi.targets as string[]).map(platformOf);
    // The per-platform packages the release makes: one folder each under npm/.
    expect([...platforms].sort()).toEqual(fs.readdirSync(path.join(packageRoot, "npm")).sort());
    const listed = /msw-session-<platform> \(([^)]*)\)/.exec(loadFailure())![1];
    expect(listed.split(", ")).toEqual(platforms);
  });
});
