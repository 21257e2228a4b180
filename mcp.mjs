// The ESM entry of msw-session/mcp: the CommonJS module's exports, one instance.
import mcp from "./mcp.js";

export const { SessionTaskStore, SessionTasks, trackRequest } = mcp;
