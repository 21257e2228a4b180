// The README's code samples, run as Rust runs doctests (README, "The samples in this README"),
// and the checks of the docs: CONTRIBUTING.md's Layout names every Rust file, and every link of
// the Markdown files resolves.
//
// Every fenced block of README.md and CONTRIBUTING.md is accounted for:
// - A JavaScript or TypeScript block is a whole file whose first line names it
//   (`// main.mjs`). The blocks of one section (of one file) are one sample, written into a fresh folder
//   whose `node_modules/` links the package (`msw-session` → the package root) and every other
//   package the sample imports (from the root `node_modules/`). The first block is the entry:
//   - a JavaScript entry runs with `process.execPath`, cwd the folder, stdin empty;
//   - a TypeScript sample is type-checked by the repo's `tsc` (strict, Node16, the folder a
//     `"type": "module"` package) against the package's declarations; Node 20 cannot run
//     TypeScript, so the entry then runs as tsc compiled it;
//   - an entry named `*.test.*` runs under the repo's vitest, nested (`vitest run` in the folder).
//   Each must exit 0, and then `bin/msw-session.mjs ls --json --dir <folder>` must show no
//   session still active (an active session of a process that is gone is a crashed one).
// - A block marked ```` ```js no-run: <reason> ```` is not run, only checked (`node --check`, or
//   tsc); the reason is required and listed in the output.
// - Shell blocks (`sh`, `bash`, plain) are for a terminal: not run, listed. A `json` block must
//   parse.
// - Any other block (an unknown language or marker, a JS/TS block without a file name) fails.
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

import { commandRunner, expectSucceeded, isReference, nestedEnv, outputTail, packageRoot, tempDirs, windowsSkip } from "./helpers.js";

const tempDir = tempDirs();
/** The folder of the current test's command logs (see `commandRunner`). */
let logDir = "";
const run = commandRunner(() => logDir, () => nestedEnv());

/** The Markdown files whose code blocks are accounted for (and run, for a sample). */
const DOCS = ["README.md", "CONTRIBUTING.md"];
const CLI = path.join(packageRoot, "bin", "msw-session.mjs");
const TSC = path.join(packageRoot, "node_modules", "typescript", "bin", "tsc");
const VITEST = path.join(packageRoot, "node_modules", "vitest", "vitest.mjs");

const JS = new Set(["js", "mjs", "cjs", "javascript"]);
const TS = new Set(["ts", "mts", "cts", "typescript"]);
const SHELL = new Set(["sh", "bash", "shell", ""]);
const JSON_LANGS = new Set(["json"]);

interface Block {
  /** The Markdown file (relative to the package root). */
  file: string;
  /** The 1-based line of the opening fence. */
  line: number;
  lang: string;
  /** The info string after the language. */
  rest: string;
  code: string;
  /** The heading the block is under. */
  section: string;
  /** Which heading that is (the number of headings before it): the blocks under one make one sample. */
  sectionIndex: number;
}

/** Every fenced block of a Markdown text (of `file`), with the heading it is under. */
function fencedBlocks(text: string, file: string): Block[] {
  const lines = text.split("\n");
  const blocks: Block[] = [];
  let section = "(top)";
  let sectionIndex = 0;
  for (let i = 0; i < lines.length; i++) {
    const open = /^ {0,3}(`{3,}|~{3,})\s*(\S*)\s*(.*)$/.exec(lines[i]);
    if (!open) {
      const heading = /^#{1,6}\s+(.*)$/.exec(lines[i]);
      if (heading) {
        section = heading[1].trim();
        sectionIndex++;
      }
      continue;
    }
    const fence = open[1];
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !new RegExp(`^ {0,3}${fence[0]}{${fence.length},}\\s*$`).test(lines[i]); i++) body.push(lines[i]);
    if (i >= lines.length) throw new Error(`${file}:${start + 1}: a code block that is never closed`);
    blocks.push({ file, line: start + 1, lang: open[2].toLowerCase(), rest: open[3].trim(), code: `${body.join("\n")}\n`, section, sectionIndex });
  }
  return blocks;
}

interface SampleFile {
  name: string;
  code: string;
  line: number;
  ts: boolean;
}

interface Sample {
  file: string;
  section: string;
  sectionIndex: number;
  line: number;
  files: SampleFile[];
  /** Why the sample is not run, when a block says so. */
  noRun?: string;
}

/** What the test does with each block, for the listing; `problems` names each block it cannot place. */
function classify(blocks: Block[]): { samples: Sample[]; notRun: string[]; json: Block[]; problems: string[] } {
  const samples: Sample[] = [];
  const notRun: string[] = [];
  const json: Block[] = [];
  const problems: string[] = [];
  for (const block of blocks) {
    try {
      place(block);
    } catch (error) {
      problems.push((error as Error).message);
    }
  }
  return { samples, notRun, json, problems };

  function place(block: Block): void {
    const where = `${block.file}:${block.line} (${block.section})`;
    if (SHELL.has(block.lang) && !block.rest) {
      notRun.push(`${where}: ${block.lang || "plain"} block, for a terminal`);
      return;
    }
    if (JSON_LANGS.has(block.lang) && !block.rest) {
      json.push(block);
      return;
    }
    if (!JS.has(block.lang) && !TS.has(block.lang)) {
      throw new Error(`${where}: a \`${block.lang} ${block.rest}\` block: neither a sample (js, ts) nor a kind the test knows not to run`);
    }
    let noRun: string | undefined;
    if (block.rest) {
      const marker = /^no-run:\s*(\S.*)$/.exec(block.rest);
      if (!marker) throw new Error(`${where}: unknown info string "${block.rest}" (the one marker is \`no-run: <reason>\`, with its reason)`);
      noRun = marker[1];
    }
    const named = /^\/\/ ([\w@+-][\w@+./-]*\.([cm]?[jt]s))\b/.exec(block.code);
    if (!named || named[1].split("/").includes("..")) {
      throw new Error(`${where}: a sample's first line must name its file (\`// main.mjs\`); it is "${block.code.split("\n")[0]}"`);
    }
    const ts = named[2].endsWith("ts");
    if (ts !== TS.has(block.lang)) throw new Error(`${where}: a \`${block.lang}\` block named ${named[1]}`);
    const file: SampleFile = { name: named[1], code: block.code, line: block.line, ts };
    const last = samples.at(-1);
    if (last && last.file === block.file && last.sectionIndex === block.sectionIndex) {
      if (last.files.some((f) => f.name === file.name)) throw new Error(`${where}: ${file.name} twice in one sample`);
      last.files.push(file);
      if (noRun) last.noRun = last.noRun ? `${last.noRun}; ${noRun}` : noRun;
    } else {
      samples.push({ file: block.file, section: block.section, sectionIndex: block.sectionIndex, line: block.line, files: [file], noRun });
    }
  }
}

/** The packages a sample imports (bare specifiers), by package name. */
function importedPackages(sample: Sample): Set<string> {
  const names = new Set<string>();
  for (const file of sample.files) {
    for (const match of file.code.matchAll(/(?:\bfrom\s*|\bimport\s*\(?\s*|\brequire\s*\(\s*)["']([^"'./][^"']*)["']/g)) {
      const specifier = match[1];
      if (specifier.startsWith("node:")) continue;
      const parts = specifier.split("/");
      names.add(specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0]);
    }
  }
  return names;
}

/** Links `name` into `dir/node_modules/`: the package itself, or the root's installed copy. */
function linkPackage(dir: string, name: string): void {
  const target = name === "msw-session" ? packageRoot : path.join(packageRoot, "node_modules", name);
  if (!fs.existsSync(target)) throw new Error(`the sample imports ${name}, which is not installed at the package root`);
  const link = path.join(dir, "node_modules", name);
  fs.mkdirSync(path.dirname(link), { recursive: true });
  fs.symlinkSync(target, link, process.platform === "win32" ? "junction" : "dir");
}

const isTestFile = (name: string) => /\.(test|spec)\.[cm]?[jt]s$/.test(name);

/** The file that runs for a TypeScript entry: tsc's output for it, in `.tsc-out/`. */
const compiled = (name: string) => path.join(".tsc-out", name.replace(/\.([cm]?)ts$/, ".$1js"));

const blocks = DOCS.flatMap((file) => fencedBlocks(fs.readFileSync(path.join(packageRoot, file), "utf8"), file));
const { samples, notRun, json, problems } = classify(blocks);

describe.skipIf(isReference)("README samples", () => {
  it("accounts for every code block", () => {
    const listing = [
      ...samples.map(
        (s) =>
          `${s.file}:${s.line} (${s.section}): ${s.files.map((f) => f.name).join(" + ")}: ${
            s.noRun ? `NOT RUN (no-run: ${s.noRun}), only checked` : runsAs(s)
          }`,
      ),
      ...json.map((b) => `${b.file}:${b.line} (${b.section}): json block, parsed`),
      ...notRun,
    ];
    console.log(`Code blocks of ${DOCS.join(" and ")}:\n  ${listing.join("\n  ")}`);
    expect(problems, "blocks that are neither run nor marked").toEqual([]);
    expect(samples.filter((s) => s.file === "README.md").length).toBeGreaterThan(0);
    for (const block of json) expect(() => JSON.parse(block.code), `${block.file}:${block.line}`).not.toThrow();
  });

  const junctions = windowsSkip("junctions");
  for (const sample of samples) {
    const title = `${sample.section} (${sample.file}:${sample.line}): ${sample.files.map((f) => f.name).join(" + ")}`;
    it.skipIf(junctions.skip)(junctions.title(title), { timeout: 180_000 }, async () => {
      const dir = tempDir();
      logDir = tempDir();
      fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: "readme-sample", private: true, type: "module" }, null, 2));
      for (const file of sample.files) {
        const target = path.join(dir, file.name);
        fs.mkdirSync(path.dirname(target), { recursive: true });
        fs.writeFileSync(target, file.code);
      }
      const packages = importedPackages(sample);
      const hasTs = sample.files.some((f) => f.ts);
      if (hasTs) packages.add("@types/node");
      for (const name of packages) linkPackage(dir, name);
      const entry = sample.files[0];
      const opts = { cwd: dir, timeoutMs: 120_000 };

      if (hasTs) {
        const emit = !sample.noRun && !isTestFile(entry.name);
        fs.writeFileSync(
          path.join(dir, "tsconfig.json"),
          JSON.stringify(
            {
              compilerOptions: {
                strict: true,
                module: "Node16",
                moduleResolution: "Node16",
                target: "ES2022",
                types: ["node"],
                skipLibCheck: true,
                isolatedModules: true,
                ...(emit ? { outDir: ".tsc-out", rootDir: "." } : { noEmit: true }),
              },
              files: sample.files.filter((f) => f.ts).map((f) => f.name),
            },
            null,
            2,
          ),
        );
        expectSucceeded(await run(process.execPath, [TSC, "-p", "tsconfig.json"], opts));
      }
      for (const file of sample.files.filter((f) => !f.ts)) {
        expectSucceeded(await run(process.execPath, ["--check", file.name], opts));
      }
      if (sample.noRun) return;

      const result = isTestFile(entry.name)
        ? await run(process.execPath, [VITEST, "run", "--root", dir], opts)
        : await run(process.execPath, [entry.ts ? compiled(entry.name) : entry.name], opts);
      expectSucceeded(result);

      const ls = await run(process.execPath, [CLI, "ls", "--json", "--dir", dir], opts);
      expectSucceeded(ls);
      const rows: Array<{ id: string; status: string; ownerState: string }> = JSON.parse(ls.stdout);
      const left = rows.filter((r) => r.status === "active").map((r) => `${r.id} (${r.ownerState})`);
      expect(left, `sessions the sample left active or crashed; its output:\n${outputTail(result)}`).toEqual([]);
    });
  }
});

/** How a sample is run, for the listing. */
function runsAs(sample: Sample): string {
  const entry = sample.files[0];
  const check = sample.files.some((f) => f.ts) ? "type-checked by tsc, then " : "";
  if (isTestFile(entry.name)) return `${check}run under vitest`;
  return `${check}run: node ${entry.ts ? compiled(entry.name) : entry.name}`;
}

describe("CONTRIBUTING Layout", () => {
  it("names every Rust file of the repository", () => {
    const guide = fs.readFileSync(path.join(packageRoot, "CONTRIBUTING.md"), "utf8");
    const start = guide.indexOf("\n## Layout\n");
    expect(start, "CONTRIBUTING.md has a Layout section").toBeGreaterThan(-1);
    const end = guide.indexOf("\n## ", start + 1);
    const layout = guide.slice(start, end === -1 ? undefined : end);
    const rust: string[] = [];
    const walk = (dir: string) => {
      for (const entry of fs.readdirSync(path.join(packageRoot, dir), { withFileTypes: true })) {
        const rel = path.posix.join(dir, entry.name);
        if (entry.isDirectory() && !["target", "node_modules", ".git"].includes(entry.name)) walk(rel);
        else if (entry.name.endsWith(".rs")) rust.push(rel);
      }
    };
    walk(".");
    expect(rust.length).toBeGreaterThan(30);
    // Each file appears by the tail of its path the Layout's tree shows (`src/x.rs` under the core,
    // `x.rs` under the binding's `src/`, `build.rs` at the root).
    const missing = rust.filter((file) => {
      const parts = file.replace(/^\.\//, "").split("/");
      return ![parts.slice(-2).join("/"), parts.at(-1)!].some((tail) => layout.includes(tail));
    });
    expect(missing).toEqual([]);
  });
});

/** The Markdown files whose links are checked. */
const LINKED_DOCS = ["README.md", "CONTRIBUTING.md", "CHANGELOG.md", "BENCHMARKS.md"];

/** The lines of a Markdown text, each fenced block's lines (fences included) as `undefined`. */
function outsideFences(text: string): Array<string | undefined> {
  let fence: string | undefined;
  return text.split("\n").map((line) => {
    const mark = /^ {0,3}(`{3,}|~{3,})(.*)$/.exec(line);
    if (fence) {
      if (mark && mark[1][0] === fence[0] && mark[1].length >= fence.length && !mark[2].trim()) fence = undefined;
      return undefined;
    }
    if (mark) {
      fence = mark[1];
      return undefined;
    }
    return line;
  });
}

/** The anchors GitHub gives the headings of a Markdown text (github-slugger's rule, repeats numbered). */
function anchorsOf(text: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of outsideFences(text)) {
    const heading = line === undefined ? null : /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!heading) continue;
    const base = heading[1]
      .toLowerCase()
      .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, "")
      .replace(/ /g, "-");
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return anchors;
}

describe("Markdown links", () => {
  it("every relative link of the docs names a file that exists, and a heading of it that exists", () => {
    const broken: string[] = [];
    let checked = 0;
    for (const file of LINKED_DOCS) {
      const lines = outsideFences(fs.readFileSync(path.join(packageRoot, file), "utf8"));
      lines.forEach((line, i) => {
        // Links outside code: fenced blocks and inline code spans are not Markdown.
        const prose = (line ?? "").replace(/(`+)[^`]*?\1/g, "");
        for (const match of prose.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
          const target = match[1];
          if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:
          checked++;
          const [rel, anchor] = target.split("#") as [string, string | undefined];
          const linked = rel === "" ? file : path.posix.normalize(path.posix.join(path.posix.dirname(file), rel));
          const where = `${file}:${i + 1}: ${target}`;
          const full = path.join(packageRoot, linked);
          if (!fs.existsSync(full)) {
            broken.push(`${where}: no file ${linked}`);
            continue;
          }
          if (anchor !== undefined && !anchorsOf(fs.readFileSync(full, "utf8")).has(anchor)) {
            broken.push(`${where}: ${linked} has no heading #${anchor}`);
          }
        }
      });
    }
    expect(checked).toBeGreaterThan(20);
    expect(broken).toEqual([]);
  });
});
