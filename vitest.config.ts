import path from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const root = path.dirname(fileURLToPath(import.meta.url));

/** `MSW_IMPL=reference` runs the suite against the TypeScript module the package replaces. */
const useReference = process.env.MSW_IMPL === "reference";

const packageEntry = path.join(root, "index.mjs");
const referenceEntry = path.resolve(root, "..", "shared", "reference", "session", "index.ts");

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

export default defineConfig({
  resolve: {
    alias: [
      {
        find: /^msw-session$/,
        replacement: useReference ? referenceEntry : packageEntry,
      },
    ],
  },
  test: {
    root,
    include: ["__test__/**/*.spec.ts"],
    pool: "forks",
    testTimeout: 20000,
    server: {
      deps: {
        // Load the package's ESM entry with Node's own loader, as a consumer does, so that
        // it and the CommonJS `index.js` it re-exports are one module instance (a transformed
        // copy would give the native binding a second JS layer with its own classes).
        external: [new RegExp(`${escapeRegExp(packageEntry)}$`), new RegExp(`${escapeRegExp(path.join(root, "mcp.mjs"))}$`)],
      },
    },
  },
});
