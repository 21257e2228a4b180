// The declarations of the ESM entry (index.mjs), for TypeScript's "node16"/"nodenext" and
// "bundler" resolution of `import … from "msw-session"`. index.mjs re-exports the objects of the
// CommonJS index.js, so these are the same declarations: index.d.ts is the one source of truth.
export * from "./index.js";
