// @ts-check
// The MCP tasks extension (`io.modelcontextprotocol/tasks`, spec revision
// 2026-07-28) for servers on the SDK v2 (`@modelcontextprotocol/server`),
// with each task a session of the package (lib/task-sessions.js, the mapping
// it shares with the 1.x `SessionTaskStore`).
//
// `SessionTasks` is made once per process; `enable(server)` is called on each
// `McpServer` (one per HTTP request or stdio connection), so that every task
// state lives in the sessions folder, never in a server instance:
// - a task's record is in its session's file before its `CreateTaskResult`
//   is sent (the spec's durable creation), and read from it by `tasks/get`
//   in this process, another one on the folder, or after a restart;
// - a task whose server died while working reads `failed` at once, with a
//   JSON-RPC error saying so; one that was waiting for input stays
//   `input_required` with its requests, and the server that receives the
//   answers takes it over and runs its tool again with the answers given;
// - each task is bound to the caller's principal (the transport's auth info);
//   a task of another principal and a task that does not exist get the same
//   `-32602`; ids are the sessions' (UUID v4 from the OS's CSPRNG).
//
// The SDK is never imported here: errors are thrown as objects with an
// integer `code` (which the SDK sends as JSON-RPC errors), and the params
// schema of the three methods is a Standard Schema that accepts anything
// (each handler checks the capability first, then its params). The one SDK
// internal used is in `gateToolsCall`.
"use strict";

const { createHash } = require("node:crypto");
const { CancellationError } = require("../index.js");
const { DEFAULT_TTL, EXTENSION_KIND, TaskSessions, expiry, isTerminal, toolErrorResult } = require("./task-sessions.js");
const { trackRequest } = require("./track-request.js");

/** The extension's identifier. */
const EXTENSION_ID = EXTENSION_KIND;
/** Where a 2026-07-28 request carries the client's capabilities (the SDK lifts it into `ctx.mcpReq.envelope`). */
const CLIENT_CAPABILITIES = "io.modelcontextprotocol/clientCapabilities";
/** Where a notification of a `subscriptions/listen` stream names its subscription (the listen request's id). */
const SUBSCRIPTION_ID = "io.modelcontextprotocol/subscriptionId";
/** The JSON-RPC error codes the extension uses. */
const CODES = Object.freeze({ invalidParams: -32602, internalError: -32603, missingCapability: -32021 });
/** The task policies a tool can declare. */
const POLICIES = ["never", "optional", "required"];
/** The default `pollIntervalMs` of a task, in ms. */
const DEFAULT_POLL_INTERVAL_MS = 1000;
/** The text of the one error every task method gives for a task the caller cannot see. */
const NOT_FOUND = "Failed to retrieve task: Task not found";

/** A Standard Schema that accepts any params: each handler checks them itself, after the capability. */
const ANY_PARAMS = Object.freeze({ "~standard": Object.freeze({ version: 1, vendor: "msw-session", validate: (/** @type {unknown} */ value) => ({ value }) }) });

/**
 * A JSON-RPC error to throw from an SDK handler: an object with an integer `code`.
 * @param {number} code
 * @param {string} message
 * @param {unknown} [data]
 */
function rpcError(code, message, data) {
  const error = Object.assign(new Error(message), { code });
  if (data !== undefined) Object.assign(error, { data });
  return error;
}

/** The `-32021` error of a request that did not declare the extension. */
const missingCapability = () =>
  rpcError(CODES.missingCapability, "Missing required client capability", { requiredCapabilities: { extensions: { [EXTENSION_ID]: {} } } });

/**
 * Whether a request's per-request `_meta` envelope (the SDK lifts it into
 * `ctx.mcpReq.envelope`; a listen's, read before the SDK, is its `_meta`)
 * declares the extension in its client capabilities.
 * @param {any} envelope
 */
function declaresTasks(envelope) {
  const extensions = envelope?.[CLIENT_CAPABILITIES]?.extensions;
  return extensions !== null && typeof extensions === "object" && extensions[EXTENSION_ID] !== undefined;
}

/**
 * Whether a task may be seen by a request of `principal` (undefined: a
 * request without auth info): only by the principal that created it.
 * @param {import("./task-sessions.js").FoundTask} found
 * @param {string | undefined} principal
 */
const seenBy = (found, principal) => (found.record.principal ?? null) === (principal ?? null);

/**
 * @param {string} name
 * @param {unknown} value
 * @param {boolean} nullable
 */
function checkMs(name, value, nullable) {
  if ((nullable && value === null) || (Number.isSafeInteger(value) && /** @type {number} */ (value) > 0)) return;
  throw Object.assign(new TypeError(`options.${name} must be a whole number of ms above 0${nullable ? " or null" : ""}`), { code: "ERR_INVALID_ARG_TYPE" });
}

/**
 * The JSON-RPC error a work threw (an integer `code` and a message), else undefined.
 * @param {any} error
 */
function asRpcError(error) {
  if (error === null || typeof error !== "object" || !Number.isSafeInteger(error.code)) return undefined;
  /** @type {{ code: number, message: string, data?: unknown }} */
  const rpc = { code: error.code, message: typeof error.message === "string" ? error.message : String(error.message) };
  if (error.data !== undefined) rpc.data = error.data;
  return rpc;
}

/**
 * A result as a task stores it: a `CallToolResult` with `resultType: "complete"`.
 * @param {unknown} result
 */
function storedResult(result) {
  const object = result !== null && typeof result === "object" ? /** @type {Record<string, unknown>} */ (result) : { content: [{ type: "text", text: String(result) }] };
  return { ...object, resultType: "complete" };
}

/**
 * The default principal of a request: its auth info's `clientId`, with
 * `extra.sub` when there is one; without a `clientId`, a digest of its token
 * (never the token itself, which a task file would then hold).
 */
const defaultPrincipal = (/** @type {any} */ authInfo) => {
  if (!authInfo) return undefined;
  const sub = authInfo.extra?.sub;
  if (typeof authInfo.clientId === "string") return typeof sub === "string" ? `${authInfo.clientId}\u0000${sub}` : authInfo.clientId;
  if (typeof authInfo.token === "string") return `token:${createHash("sha256").update(authInfo.token).digest("hex")}`;
  return undefined;
};

/**
 * The one SDK internal this module uses: McpServer's `tools/call` handler,
 * wrapped so that `gate(request, ctx)` may throw a JSON-RPC error first
 * (McpServer turns every throw of a tool into an `isError` result, so a
 * required-task tool's `-32021` must be thrown before it). Throws at once
 * when the SDK keeps its handlers elsewhere (a version this was not tested
 * with), so that nothing silently answers `isError` instead of `-32021`.
 * @param {any} server an McpServer with its tools registered
 * @param {(request: any, ctx: any) => void} gate
 */
function gateToolsCall(server, gate) {
  const handlers = server?.server?._requestHandlers;
  const original = handlers instanceof Map ? handlers.get("tools/call") : undefined;
  if (typeof original !== "function") {
    throw new Error("msw-session/mcp: McpServer's tools/call handler is not in server.server._requestHandlers, where @modelcontextprotocol/server 2.4 keeps it; this SDK version is not supported by SessionTasks#enable");
  }
  server.server.setRequestHandler("tools/call", (/** @type {any} */ request, /** @type {any} */ ctx) => {
    gate(request, ctx);
    return original(request, ctx);
  });
}

class SessionTasks {
  /** @type {TaskSessions} */
  #tasks;
  /** @type {number | null} */
  #defaultTtlMs;
  /** @type {number | null} */
  #maxTtlMs;
  /** @type {number} */
  #pollIntervalMs;
  /** @type {(authInfo: any) => string | undefined} */
  #principal;
  /** @type {Map<string, { name: string, config: any, policy: string, handler: Function, before?: Function }>} */
  #tools = new Map();
  /** @type {Map<string, Map<string, { promise: Promise<any>, resolve: (value: any) => void, reject: (error: unknown) => void }>>} input waits, by task and key */
  #waits = new Map();
  /** @type {Set<string>} the tasks whose tool runs in this process */
  #running = new Set();
  /** @type {Set<{ subscriptions: Map<unknown, Set<string>>, send: (message: any) => Promise<void> }>} the transports of `listen`, with their subscriptions */
  #subscribers = new Set();

  /**
   * @param {import("../mcp.js").SessionTasksOptions} [options]
   */
  constructor(options = {}) {
    if (options === null || typeof options !== "object") throw Object.assign(new TypeError("options must be an object"), { code: "ERR_INVALID_ARG_TYPE" });
    const { defaultTtlMs = DEFAULT_TTL, maxTtlMs = null, pollIntervalMs = DEFAULT_POLL_INTERVAL_MS, principal = defaultPrincipal } = options;
    checkMs("defaultTtlMs", defaultTtlMs, true);
    checkMs("maxTtlMs", maxTtlMs, true);
    checkMs("pollIntervalMs", pollIntervalMs, false);
    if (typeof principal !== "function") throw Object.assign(new TypeError("options.principal must be a function of the auth info"), { code: "ERR_INVALID_ARG_TYPE" });
    this.#defaultTtlMs = defaultTtlMs;
    this.#maxTtlMs = maxTtlMs;
    this.#pollIntervalMs = pollIntervalMs;
    this.#principal = principal;
    this.#tasks = new TaskSessions(options, (record) => record.kind === EXTENSION_KIND, {
      ttlFromCreation: true,
      // After the change is whole (the write, the session ended or released).
      onChange: (taskId) => {
        if (this.#subscribers.size > 0) queueMicrotask(() => this.#publish(taskId));
      },
    });
    // Tasks past their ttl whose server is gone have no timer left: remove them now.
    this.#tasks.all();
  }

  /**
   * Registers a tool on every server `enable` is called on afterwards.
   * `config` is `McpServer#registerTool`'s, plus `task` (`"never"`,
   * `"optional"` or `"required"`; default `"optional"`) and `before`.
   * @param {string} name
   * @param {any} config
   * @param {(args: any, task: any) => any} handler
   */
  registerTool(name, config, handler) {
    if (typeof name !== "string" || name === "") throw Object.assign(new TypeError("name must be a non-empty string"), { code: "ERR_INVALID_ARG_TYPE" });
    if (config === null || typeof config !== "object") throw Object.assign(new TypeError("config must be an object"), { code: "ERR_INVALID_ARG_TYPE" });
    if (typeof handler !== "function") throw Object.assign(new TypeError("handler must be a function"), { code: "ERR_INVALID_ARG_TYPE" });
    const { task: policy = "optional", before, ...sdkConfig } = config;
    if (!POLICIES.includes(policy)) throw Object.assign(new TypeError(`config.task must be one of ${POLICIES.join(", ")}`), { code: "ERR_INVALID_ARG_VALUE" });
    if (before !== undefined && typeof before !== "function") throw Object.assign(new TypeError("config.before must be a function"), { code: "ERR_INVALID_ARG_TYPE" });
    if (this.#tools.has(name)) throw Object.assign(new Error(`Tool ${name} is already registered`), { code: "ERR_INVALID_ARG_VALUE" });
    this.#tools.set(name, { name, config: sdkConfig, policy, handler, before });
  }

  /**
   * Enables the extension on a v2 `McpServer` (before it is connected):
   * advertises it, answers `tasks/get`, `tasks/update` and `tasks/cancel`,
   * registers the tools of `registerTool`, and answers `-32021` for a
   * required-task tool called without the extension. Returns the server.
   * @template S
   * @param {S} server
   * @returns {S}
   */
  enable(server) {
    const mcp = /** @type {any} */ (server);
    if (!mcp || typeof mcp.registerTool !== "function" || typeof mcp.server?.setRequestHandler !== "function") {
      throw Object.assign(new TypeError("enable(server): server must be an McpServer of @modelcontextprotocol/server 2.x"), { code: "ERR_INVALID_ARG_TYPE" });
    }
    mcp.server.registerCapabilities({ extensions: { [EXTENSION_ID]: {} } });
    mcp.server.setRequestHandler("tasks/get", { params: ANY_PARAMS }, (/** @type {any} */ params, /** @type {any} */ ctx) => this.#onGet(params, ctx));
    mcp.server.setRequestHandler("tasks/update", { params: ANY_PARAMS }, (/** @type {any} */ params, /** @type {any} */ ctx) => this.#onUpdate(params, ctx));
    mcp.server.setRequestHandler("tasks/cancel", { params: ANY_PARAMS }, (/** @type {any} */ params, /** @type {any} */ ctx) => this.#onCancel(params, ctx));
    if (this.#tools.size === 0) return server;
    for (const tool of this.#tools.values()) {
      const callback = tool.config.inputSchema
        ? (/** @type {any} */ args, /** @type {any} */ ctx) => this.#call(tool, args, ctx)
        : (/** @type {any} */ ctx) => this.#call(tool, undefined, ctx);
      mcp.registerTool(tool.name, tool.config, callback);
    }
    gateToolsCall(mcp, (request, ctx) => {
      const tool = this.#tools.get(request?.params?.name);
      if (tool?.policy === "required" && !declaresTasks(ctx?.mcpReq?.envelope)) throw missingCapability();
    });
    return server;
  }

  /**
   * A tool call: a task when the tool's policy and the request allow it, else the work inline.
   * @param {any} tool
   * @param {any} args
   * @param {any} ctx
   */
  async #call(tool, args, ctx) {
    const asTask = tool.policy !== "never" && declaresTasks(ctx?.mcpReq?.envelope);
    /** @type {unknown} */
    let prepared;
    if (tool.before) {
      prepared = await tool.before(args, ctx);
      // A multi round-trip answer (input needed before the task exists) goes back as it is.
      if (prepared !== null && typeof prepared === "object" && /** @type {any} */ (prepared).resultType === "input_required") return prepared;
    }
    if (!asTask) return this.#inline(tool, args, prepared, ctx);
    return this.#create(tool, args, prepared, ctx);
  }

  /**
   * Runs a tool's work as a plain call, with a session of its own (removed
   * when the call ends) whose token the client's cancel cancels.
   * @param {any} tool
   * @param {any} args
   * @param {unknown} prepared
   * @param {any} ctx
   */
  async #inline(tool, args, prepared, ctx) {
    const manager = this.#tasks.manager;
    const session = manager.createSession(`mcp tools/call ${tool.name}`, {});
    session.progress.start();
    // The SDK v2's request context in the shape trackRequest reads (the 1.x `extra`'s).
    const request = ctx?.mcpReq;
    const stop = trackRequest({ signal: request?.signal, _meta: request?._meta, sendNotification: request?.notify }, session, { manager });
    const task = {
      id: undefined,
      session,
      token: session.cancellation.token,
      prepared,
      authInfo: ctx?.http?.authInfo,
      input: () => Promise.reject(new Error(`Tool ${tool.name} asked for input outside a task: the request did not declare the tasks extension`)),
    };
    try {
      return await tool.handler(args, task);
    } finally {
      stop();
      this.#tasks.forget(session.id);
    }
  }

  /**
   * Creates a task (on disk before this returns) and starts its work.
   * @param {any} tool
   * @param {any} args
   * @param {unknown} prepared
   * @param {any} ctx
   */
  #create(tool, args, prepared, ctx) {
    const ttl = this.#ttl();
    const createdAt = new Date().toISOString();
    const record = {
      kind: EXTENSION_KIND,
      status: "working",
      ttl,
      pollInterval: this.#pollIntervalMs,
      createdAt,
      lastUpdatedAt: createdAt,
      tool: tool.name,
      arguments: args ?? null,
      prepared: prepared ?? null,
      principal: this.#principalOf(ctx) ?? null,
      inputRequests: {},
      inputResponses: {},
      // Set before the session exists, so that the file createSession writes has it.
      expiresAt: expiry(ttl),
    };
    const session = this.#tasks.create(`mcp tools/call ${tool.name}`, record);
    // The creation result is the task's seed state, taken before its work can change it.
    const created = { resultType: "task", taskId: session.id, status: record.status, createdAt, lastUpdatedAt: createdAt, ttlMs: ttl, pollIntervalMs: record.pollInterval };
    this.#start(session, tool, record, ctx?.http?.authInfo);
    return created;
  }

  /** The ttl of a new task: the default, at most `maxTtlMs`. */
  #ttl() {
    const ttl = this.#defaultTtlMs;
    return this.#maxTtlMs !== null && (ttl === null || ttl > this.#maxTtlMs) ? this.#maxTtlMs : ttl;
  }

  /**
   * The principal of a request, from its transport's auth info.
   * @param {any} ctx
   * @returns {string | undefined}
   */
  #principalOf(ctx) {
    const authInfo = ctx?.http?.authInfo;
    const principal = authInfo ? this.#principal(authInfo) : undefined;
    return principal === undefined || principal === null ? undefined : String(principal);
  }

  /**
   * Runs a task's tool in this process, and stores how it ended.
   * @param {import("../index.js").Session} session
   * @param {any} tool
   * @param {any} record
   * @param {any} authInfo
   */
  #start(session, tool, record, authInfo) {
    const taskId = session.id;
    const token = session.cancellation.token;
    let inputs = 0;
    const task = {
      id: taskId,
      session,
      token,
      prepared: record.prepared ?? undefined,
      authInfo,
      input: (/** @type {any} */ request, /** @type {string | undefined} */ key) => this.#input(taskId, request, key ?? `input-${++inputs}`),
    };
    this.#running.add(taskId);
    // However the token is cancelled (tasks/cancel here or in another server, `msw-session cancel`,
    // the ttl), a work waiting for input gets a CancellationError.
    const stopWaits = token.onCancelled((reason) => this.#dropWaits(taskId, new CancellationError(reason ?? "cancelled")));
    const run = async () => {
      /** @type {any} */
      let outcome;
      try {
        outcome = { result: await tool.handler(record.arguments ?? undefined, task) };
      } catch (error) {
        outcome = { error };
      }
      this.#running.delete(taskId);
      stopWaits();
      this.#dropWaits(taskId, undefined);
      try {
        this.#settleRun(taskId, token, outcome);
      } catch {
        this.#tasks.abandon(taskId);
      }
    };
    void run();
  }

  /**
   * Stores how a task's work ended: its result (`completed`, `isError` too),
   * a JSON-RPC error (`failed`), or `cancelled` once its token is.
   * @param {string} taskId
   * @param {import("../index.js").CancellationToken} token
   * @param {{ result?: unknown, error?: unknown }} outcome
   */
  #settleRun(taskId, token, outcome) {
    const found = this.#tasks.read(taskId);
    // Ended meanwhile (cancelled, past its ttl): nothing left to store.
    if (!found || !found.live || isTerminal(found.record.status)) return;
    const { record } = found;
    if ("error" in outcome) {
      const { error } = outcome;
      if (error instanceof CancellationError || token.isCancelled) {
        this.#tasks.finish(taskId, found, "cancelled", token.reason ?? (error instanceof Error ? error.message : String(error)));
        return;
      }
      const rpc = asRpcError(error);
      if (rpc) {
        record.error = rpc;
        this.#tasks.finish(taskId, found, "failed", rpc.message);
        return;
      }
      record.result = storedResult(toolErrorResult(error));
    } else if (token.isCancelled) {
      this.#tasks.finish(taskId, found, "cancelled", token.reason);
      return;
    } else record.result = storedResult(outcome.result);
    record.inputRequests = {};
    this.#tasks.finish(taskId, found, "completed", undefined);
  }

  /**
   * A work's request for input: its answer, at once when it was already
   * given (a task taken over after a restart runs again), else when a
   * `tasks/update` brings it. The task is `input_required` meanwhile.
   * @param {string} taskId
   * @param {any} request an `inputRequests` entry (`{ method: "elicitation/create", params }`, ...)
   * @param {string} key unique over the task's lifetime
   */
  async #input(taskId, request, key) {
    if (request === null || typeof request !== "object" || typeof request.method !== "string") {
      throw Object.assign(new TypeError("input(request): request must be an input request ({ method, params })"), { code: "ERR_INVALID_ARG_TYPE" });
    }
    const found = this.#tasks.read(taskId);
    if (!found?.live) throw new CancellationError("the task has ended");
    const { record } = found;
    if (Object.hasOwn(record.inputResponses, key)) return record.inputResponses[key];
    let wait = this.#waits.get(taskId)?.get(key);
    if (!wait) {
      /** @type {any} */
      const pending = {};
      pending.promise = new Promise((resolve, reject) => Object.assign(pending, { resolve, reject }));
      wait = /** @type {any} */ (pending);
      if (!this.#waits.has(taskId)) this.#waits.set(taskId, new Map());
      /** @type {Map<string, any>} */ (this.#waits.get(taskId)).set(key, wait);
    }
    if (!Object.hasOwn(record.inputRequests, key)) {
      record.inputRequests[key] = request;
      record.status = "input_required";
      record.lastUpdatedAt = new Date().toISOString();
      this.#tasks.save(taskId);
    }
    return /** @type {any} */ (wait).promise;
  }

  /**
   * Ends a task's input waits: with `error`, or (undefined) quietly.
   * @param {string} taskId
   * @param {unknown} error
   */
  #dropWaits(taskId, error) {
    const waits = this.#waits.get(taskId);
    this.#waits.delete(taskId);
    if (!waits || error === undefined) return;
    for (const wait of waits.values()) wait.reject(error);
  }

  /**
   * The task a request may see: capability first, then the id and the principal.
   * @param {any} params
   * @param {any} ctx
   */
  #visible(params, ctx) {
    if (!declaresTasks(ctx?.mcpReq?.envelope)) throw missingCapability();
    const taskId = params?.taskId;
    if (typeof taskId !== "string") throw rpcError(CODES.invalidParams, "Invalid params: taskId must be a string");
    const found = this.#tasks.read(taskId);
    if (!found || !seenBy(found, this.#principalOf(ctx))) throw rpcError(CODES.invalidParams, NOT_FOUND);
    return { taskId, found };
  }

  /**
   * @param {any} params
   * @param {any} ctx
   */
  #onGet(params, ctx) {
    const { taskId, found } = this.#visible(params, ctx);
    return this.#snapshot(taskId, found);
  }

  /**
   * `tasks/update`: the answers to outstanding input requests (others are
   * ignored), written before the work sees them.
   * @param {any} params
   * @param {any} ctx
   */
  #onUpdate(params, ctx) {
    let { taskId, found } = this.#visible(params, ctx);
    const responses = ctx?.mcpReq?.inputResponses ?? params?.inputResponses;
    const status = this.#status(found).status;
    if (status !== "input_required" || responses === null || typeof responses !== "object") return {};
    const answered = Object.keys(responses).filter((key) => Object.hasOwn(found.record.inputRequests, key));
    if (answered.length === 0) return {};
    if (!found.live) {
      const adopted = this.#adopt(taskId, found);
      if (!adopted) throw rpcError(CODES.internalError, `Task ${taskId} is run by another server process; send tasks/update to the server that runs it`);
      found = adopted;
    }
    const { record } = found;
    for (const key of answered) {
      record.inputResponses[key] = responses[key];
      delete record.inputRequests[key];
    }
    if (Object.keys(record.inputRequests).length === 0) record.status = "working";
    record.lastUpdatedAt = new Date().toISOString();
    this.#tasks.save(taskId);
    const waits = this.#waits.get(taskId);
    for (const key of answered) {
      const wait = waits?.get(key);
      waits?.delete(key);
      wait?.resolve(record.inputResponses[key]);
    }
    this.#resume(taskId, found);
    return {};
  }

  /**
   * `tasks/cancel`: cancels the task's token here, or asks the process that
   * runs it; an ended task is acknowledged as it is.
   * @param {any} params
   * @param {any} ctx
   */
  async #onCancel(params, ctx) {
    let { taskId, found } = this.#visible(params, ctx);
    const { status, died } = this.#status(found);
    if (isTerminal(status)) return {};
    if (!found.live && !died && found.ownerState !== "crashed") {
      await this.#tasks.cancelElsewhere(taskId, "cancelled by tasks/cancel");
      return {};
    }
    if (!found.live) {
      const adopted = this.#adopt(taskId, found);
      if (!adopted) return {};
      found = adopted;
    }
    // Cancels its token: a work waiting for input gets a CancellationError (see `#start`).
    this.#tasks.finish(taskId, found, "cancelled", "cancelled by tasks/cancel");
    return {};
  }

  /**
   * Takes over a task waiting for input whose server died.
   * @param {string} taskId
   * @param {import("./task-sessions.js").FoundTask} found
   */
  #adopt(taskId, found) {
    if (found.ownerState !== "crashed") return undefined;
    if (!this.#tasks.adopt(found)) return undefined;
    return this.#tasks.read(taskId);
  }

  /**
   * Runs again the tool of a task taken over here, once nothing it asked is outstanding.
   * @param {string} taskId
   * @param {any} found
   */
  #resume(taskId, found) {
    if (this.#running.has(taskId) || !found.live) return;
    const tool = this.#tools.get(found.record.tool);
    if (!tool) {
      found.record.error = { code: CODES.internalError, message: `Tool ${found.record.tool} is not registered on this server, so its task cannot go on` };
      this.#tasks.finish(taskId, found, "failed", found.record.error.message);
      return;
    }
    this.#start(found.live, tool, found.record, undefined);
  }

  /**
   * The status of a task now: a task waiting for input keeps waiting when its
   * server died (another takes it over); any other unfinished one is `failed`.
   * @param {import("./task-sessions.js").FoundTask} found
   */
  #status(found) {
    const status = this.#tasks.status(found);
    if (status.died && found.record.status === "input_required") return { status: "input_required", statusMessage: found.record.statusMessage, died: true };
    return status;
  }

  /**
   * A task's wire form (`tasks/get`'s DetailedTask): integer `ttlMs` and
   * `pollIntervalMs`, `inputRequests` when `input_required`, `result` when
   * `completed`, `error` when `failed`.
   * @param {string} taskId
   * @param {import("./task-sessions.js").FoundTask} found
   */
  #snapshot(taskId, found) {
    const { record } = found;
    const { status, statusMessage, died } = this.#status(found);
    // A working task's message follows its session's progress, and so does its last update.
    const progressAt = status === "working" ? found.state.progress?.updatedAt : undefined;
    /** @type {Record<string, unknown>} */
    const task = {
      taskId,
      status,
      createdAt: record.createdAt,
      lastUpdatedAt: typeof progressAt === "string" && progressAt > record.lastUpdatedAt ? progressAt : record.lastUpdatedAt,
      ttlMs: record.ttl,
      pollIntervalMs: record.pollInterval,
    };
    if (statusMessage !== undefined) task.statusMessage = statusMessage;
    if (status === "input_required") task.inputRequests = record.inputRequests;
    else if (status === "completed") task.result = record.result ?? storedResult({ content: [] });
    else if (status === "failed") {
      task.error = died || !record.error ? { code: CODES.internalError, message: statusMessage ?? "the task failed" } : record.error;
    }
    return task;
  }

  /**
   * A stdio transport (the SDK's `StdioServerTransport`) wrapped for
   * `serveStdio(factory, { transport })`, so that a client's
   * `subscriptions/listen` for task ids gets `notifications/tasks`: the SDK
   * answers `subscriptions/listen` itself and drops `taskIds` (see the README),
   * so the wrapper reads them on their way in, answers `-32021` for a request
   * without the extension, adds the task ids it honours (those the caller may
   * see) to the SDK's acknowledgement, sends each one's current state, then
   * its state after each change this process makes, stamped with the
   * subscription id, until the client cancels the listen.
   * @template T
   * @param {T} transport
   * @returns {T}
   */
  listen(transport) {
    const inner = /** @type {any} */ (transport);
    if (!inner || typeof inner.send !== "function" || typeof inner.start !== "function") {
      throw Object.assign(new TypeError("listen(transport): transport must be an MCP transport (start, send, close)"), { code: "ERR_INVALID_ARG_TYPE" });
    }
    /** @type {Map<unknown, Set<string>>} listen request id → task ids */
    const subscriptions = new Map();
    const subscriber = { subscriptions, send: (/** @type {any} */ message) => inner.send(message) };
    this.#subscribers.add(subscriber);
    /** @type {any} */
    const wrapped = {
      onmessage: undefined,
      onerror: undefined,
      onclose: undefined,
      get sessionId() {
        return inner.sessionId;
      },
      start: () => inner.start(),
      close: () => {
        this.#subscribers.delete(subscriber);
        return inner.close();
      },
      setProtocolVersion: (/** @type {string} */ version) => inner.setProtocolVersion?.(version),
      send: async (/** @type {any} */ message, /** @type {any} */ options) => {
        const id = message?.method === "notifications/subscriptions/acknowledged" ? message.params?._meta?.[SUBSCRIPTION_ID] : undefined;
        const taskIds = id === undefined ? undefined : subscriptions.get(id);
        if (taskIds === undefined) {
          // The end of a listen (its result): its subscription ends.
          if (message && "result" in message && subscriptions.has(message.id)) subscriptions.delete(message.id);
          return inner.send(message, options);
        }
        const notifications = { ...message.params.notifications, taskIds: [...taskIds] };
        await inner.send({ ...message, params: { ...message.params, notifications } }, options);
        // Each task's state now, to this subscription, so that a task that ended before the listen is not missed.
        for (const taskId of taskIds) this.#publish(taskId, { subscriber, id });
      },
    };
    inner.onerror = (/** @type {unknown} */ error) => wrapped.onerror?.(error);
    inner.onclose = () => {
      this.#subscribers.delete(subscriber);
      wrapped.onclose?.();
    };
    inner.onmessage = (/** @type {any} */ message, /** @type {any} */ extra) => {
      const taskIds = message?.method === "subscriptions/listen" && "id" in message ? message.params?.notifications?.taskIds : undefined;
      if (Array.isArray(taskIds)) {
        if (!declaresTasks(message.params?._meta)) {
          const { code, message: text, data } = /** @type {Error & { code: number, data?: unknown }} */ (missingCapability());
          void inner.send({ jsonrpc: "2.0", id: message.id, error: { code, message: text, data } }).catch(() => {});
          return;
        }
        // stdio has no auth info: the tasks made without it.
        const visible = taskIds.filter((taskId) => {
          const found = this.#tasks.read(taskId);
          return found !== undefined && seenBy(found, undefined);
        });
        subscriptions.set(message.id, new Set(visible));
      } else if (message?.method === "notifications/cancelled") subscriptions.delete(message.params?.requestId);
      wrapped.onmessage?.(message, extra);
    };
    return wrapped;
  }

  /**
   * Sends a task's state as `notifications/tasks` to each subscription for it
   * (only to subscription `only.id` of `only.subscriber`, when given). A closed
   * transport is not an error.
   * @param {string} taskId
   * @param {{ subscriber: { subscriptions: Map<unknown, Set<string>>, send: (message: any) => Promise<void> }, id: unknown }} [only]
   */
  #publish(taskId, only) {
    /** @type {any} */
    let task;
    for (const subscriber of only ? [only.subscriber] : this.#subscribers) {
      for (const [id, taskIds] of subscriber.subscriptions) {
        if (!taskIds.has(taskId) || (only && id !== only.id)) continue;
        if (task === undefined) {
          const found = this.#tasks.read(taskId);
          if (!found) return;
          task = this.#snapshot(taskId, found);
        }
        const params = { ...task, _meta: { [SUBSCRIPTION_ID]: id } };
        void Promise.resolve(subscriber.send({ jsonrpc: "2.0", method: "notifications/tasks", params })).catch(() => {});
      }
    }
  }

  /** Removes the tasks created here and stops their ttl timers. */
  cleanup() {
    this.#tasks.cleanup();
  }

  /** Stops the ttl timers and writes what is pending; the tasks stay on disk. */
  close() {
    this.#tasks.close();
  }
}

module.exports = { CODES, EXTENSION_ID, SessionTasks, gateToolsCall };
