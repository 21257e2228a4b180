// The ESM declarations of msw-session/mcp: the same as the CommonJS ones.
export * from "./mcp.js";
