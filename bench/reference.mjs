// Compiles the reference TypeScript module (MSW's src/session/) to ESM at
// bench time, with the installed `typescript` API, and imports it.
//
// Each `.ts` file is transpiled on its own (`ts.transpileModule`) into a
// temporary folder; nothing in the code is rewritten: the reference imports
// `./x.js`, which is exactly the name of each emitted file. A `package.json`
// with `"type": "module"` beside them makes Node load them as ES modules.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));

/** The reference folder: `../shared/reference/session` from the repository root. */
export const DEFAULT_REFERENCE_DIR = path.resolve(here, "..", "..", "shared", "reference", "session");

/** The files the reference module is made of; all must be present. */
export const REFERENCE_FILES = ["cancellation.ts", "progress.ts", "state-store.ts", "manager.ts", "index.ts"];

export class ReferenceMissingError extends Error {}

/**
 * Transpiles every `.ts` file of `dir` (not `.d.ts`) into a fresh temporary
 * folder and imports its `index.js`.
 *
 * @param {string} dir the folder holding the reference `.ts` files
 * @returns {Promise<{ module: Record<string, any>, outDir: string, files: string[], dispose: () => void }>}
 */
export async function loadReference(dir = DEFAULT_REFERENCE_DIR) {
  const source = path.resolve(dir);
  if (!fs.existsSync(source) || !fs.statSync(source).isDirectory()) {
    throw new ReferenceMissingError(`reference folder not found: ${source}`);
  }
  const missing = REFERENCE_FILES.filter((f) => !fs.existsSync(path.join(source, f)));
  if (missing.length > 0) {
    throw new ReferenceMissingError(`reference folder ${source} lacks ${missing.join(", ")}`);
  }

  // The repository's own typescript (a devDependency), not a global one.
  const require = createRequire(path.join(here, "..", "package.json"));
  const ts = require("typescript");

  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), "msw-session-reference-"));
  const files = fs
    .readdirSync(source)
    .filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"))
    .sort();
  for (const file of files) {
    const text = fs.readFileSync(path.join(source, file), "utf8");
    const out = ts.transpileModule(text, {
      fileName: file,
      reportDiagnostics: true,
      compilerOptions: {
        module: ts.ModuleKind.ESNext,
        target: ts.ScriptTarget.ES2022,
        strict: true,
        esModuleInterop: true,
        sourceMap: false,
      },
    });
    const errors = (out.diagnostics ?? []).filter((d) => d.category === ts.DiagnosticCategory.Error);
    if (errors.length > 0) {
      const message = errors.map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n")).join("\n");
      fs.rmSync(outDir, { recursive: true, force: true });
      throw new Error(`cannot transpile ${file}: ${message}`);
    }
    fs.writeFileSync(path.join(outDir, file.replace(/\.ts$/, ".js")), out.outputText);
  }
  fs.writeFileSync(path.join(outDir, "package.json"), JSON.stringify({ type: "module" }));

  const module = await import(pathToFileURL(path.join(outDir, "index.js")).href);
  return {
    module,
    outDir,
    files,
    typescriptVersion: ts.version,
    dispose: () => fs.rmSync(outDir, { recursive: true, force: true }),
  };
}
