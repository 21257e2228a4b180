// Issue: the MCP tasks extension (`io.modelcontextprotocol/tasks`, 2026-07-28) on SDK v2 servers,
// "the official client": examples/mcp-tasks-server.mjs (SessionTasks of msw-session/mcp) as a
// child process over stdio, driven by @modelcontextprotocol/ext-tasks 0.2.2 on
// @modelcontextprotocol/client 2.4.0 pinned to 2026-07-28 (the glue: fixtures/ext-tasks-client.mjs).
// callTool → settle() gets the result; cancel gives the cancelled outcome, and the server's task
// is cancelled too; an input_required round trip completes; recovery: a task reference persisted
// by one client process is resumed by another after the server was killed with SIGKILL and
// restarted: a task finished before the kill returns its result, one working at the kill reads
// failed at once, and one waiting for input is answered and completed by the new server.
import fs from "node:fs";
import path from "node:path";
import { spawn } from "node:child_process";
import {
  createApplicationInputHandler,
  resultFromTaskOutcome,
  TaskCancelledError,
  TaskFailedError,
  type ApplicationInputHandler,
} from "@modelcontextprotocol/ext-tasks/client";
import { afterEach, describe, expect, it } from "vitest";
import { childProcesses, isReference, packageRoot, tempDirs, UUID, waitFor } from "./helpers";
import { openTaskSession, taskFile } from "./fixtures/ext-tasks-client.mjs";

const tempDir = tempDirs();
const CLIENT = path.join(packageRoot, "__test__", "fixtures", "ext-tasks-client.mjs");
/** A loaded 2-core machine runs several node processes per test: generous, never asserted. */
const SLOW = 120_000;

type Open = Awaited<ReturnType<typeof openTaskSession>>;
/** The sessions opened in this process, and every server pid (ours and the client processes'). */
const opened: Open[] = [];
const serverPids: number[] = [];
/** The folders where client processes write their server's pid. */
const pidDirs: string[] = [];

/** Whether `pid` is a running process (a zombie is not). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
  try {
    return !/^\d+ \(.*\) Z/s.test(fs.readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch (error) {
    // No /proc (macOS): kill(0) said it runs. Gone meanwhile: it does not.
    return (error as NodeJS.ErrnoException).code !== "ENOENT";
  }
}

// After-hooks run in reverse: childProcesses' (below) kills the client processes first, then this
// one every server (the client processes' too, by their pid files), then tempDirs' removes the folders.
afterEach(async () => {
  for (const open of opened.splice(0)) await open.close();
  for (const dir of pidDirs.splice(0)) {
    for (const name of fs.existsSync(dir) ? fs.readdirSync(dir) : []) {
      if (/^server-.*\.pid$/.test(name)) serverPids.push(Number(fs.readFileSync(path.join(dir, name), "utf8")));
    }
  }
  for (const pid of serverPids.splice(0)) {
    // (Never 0 or below: process.kill would signal a whole process group.)
    if (!(Number.isSafeInteger(pid) && pid > 0) || !alive(pid)) continue;
    process.kill(pid, "SIGKILL");
    await waitFor(() => !alive(pid));
  }
}, 60_000);
const children = childProcesses();

/** The example tasks server on `base`, and an ext-tasks session on it (closed after the test). */
async function open(base: string, onInputRequest?: ApplicationInputHandler["handle"]): Promise<Open> {
  const session = await openTaskSession({ base, onInputRequest, onServerPid: (pid: number) => serverPids.push(pid) });
  opened.push(session);
  return session;
}

/** An input handler that answers each elicitation with `answer(inputId)`, noting what it was asked. */
function answering(answer: (inputId: string | undefined) => Record<string, string | number | boolean | string[]>) {
  const asked: { kind: string; inputId?: string; scope: string; taskId?: string; message: string }[] = [];
  const handler = createApplicationInputHandler({
    elicitation: async (request, context) => {
      const { message } = request.params as { message: string };
      asked.push({ kind: request.kind, inputId: context.inputId, scope: context.scope, taskId: context.taskId, message });
      return { action: "accept", content: answer(context.inputId) };
    },
    sampling: async () => {
      throw new Error("no sampling in this test");
    },
    roots: async () => ({ roots: [] }),
  });
  return { asked, handler };
}

/** Calls a tool that must be a task; returns the execution and its task id. */
async function callTask(session: Open["session"], name: string, args: Record<string, string | number | boolean> = {}) {
  const execution = await session.callTool(name, args, { task: { preference: "require" } });
  expect(execution.kind).toBe("task");
  if (execution.kind !== "task") throw new Error(`${name} was not a task`);
  expect(execution.handle.taskId).toMatch(UUID);
  return { execution, taskId: execution.handle.taskId };
}

/** Settles an execution, with the status of every task snapshot it observed, in order. */
async function settle(execution: { settle: Awaited<ReturnType<typeof callTask>>["execution"]["settle"] }) {
  const seen: string[] = [];
  const { outcome, lastTask } = await execution.settle({ onEvent: (event) => void (event.type === "task" && seen.push(event.task.status)) });
  return { outcome, lastTask, seen };
}

const text = (value: string) => [{ type: "text", text: value }];

/** Runs `node fixtures/ext-tasks-client.mjs <role> <base> <dir>`; resolves with the JSON it printed. */
async function clientProcess(role: string, base: string, dir: string): Promise<any> {
  if (!pidDirs.includes(dir)) pidDirs.push(dir);
  const child = spawn(process.execPath, [CLIENT, role, base, dir], { cwd: packageRoot, stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.once("close", (c, s) => resolve([c, s])));
  expect(code, `client process ${role} ended with ${code} ${signal ?? ""}:\n${stdout}\n--- stderr\n${stderr}`).toBe(0);
  return JSON.parse(stdout.trim().split("\n").at(-1)!);
}

describe.skipIf(isReference)("the official tasks client (@modelcontextprotocol/ext-tasks) and the example tasks server over stdio", () => {
  it(
    "callTool → settle(): a task, on disk from its creation, completes with the tool's result; a never-task tool answers at once",
    async () => {
      const base = tempDir();
      const { session } = await open(base);
      expect(session.capabilities).toMatchObject({ execution: true, cancellation: true, inputResponses: true });

      const { execution, taskId } = await callTask(session, "slow_compute", { seconds: 1 });
      // Durable creation: the task's session file was written before its CreateTaskResult was sent.
      const created = taskFile(base, taskId);
      expect(created?.context?.mcpTask).toMatchObject({ kind: "io.modelcontextprotocol/tasks", tool: "slow_compute", arguments: { seconds: 1 } });
      const { outcome, lastTask, seen } = await settle(execution);
      expect(outcome.status).toBe("completed");
      if (outcome.status !== "completed") throw new Error("not completed");
      expect(outcome.result).toMatchObject({ resultType: "complete", content: text("slow_compute: done after 1 s") });
      expect((outcome.result as { isError?: boolean }).isError).toBeFalsy();
      expect(outcome.task).toMatchObject({ taskId, status: "completed", suggestedPollIntervalMs: 20 });
      expect(lastTask?.status).toBe("completed");
      // The CreateTaskResult said working; the last snapshot completed.
      expect(seen[0]).toBe("working");
      expect(seen.at(-1)).toBe("completed");
      expect(resultFromTaskOutcome(outcome)).toBe(outcome.result);

      // The session file says so too, with the result the client got.
      await waitFor(() => taskFile(base, taskId)?.status === "completed");
      const file = taskFile(base, taskId);
      expect(file.context.mcpTask.status).toBe("completed");
      expect(file.context.mcpTask.result.content).toEqual(text("slow_compute: done after 1 s"));

      // `greet` is never a task: an immediate result, no session file left behind.
      const files = fs.readdirSync(path.join(base, ".msw", "sessions")).sort();
      const greet = await session.callTool("greet", { name: "Ada" });
      expect(greet.kind).toBe("immediate");
      const greeted = await greet.settle();
      expect(greeted.outcome).toMatchObject({ status: "completed", result: { content: text("Hello, Ada!") } });
      expect(fs.readdirSync(path.join(base, ".msw", "sessions")).sort()).toEqual(files);
    },
    SLOW,
  );

  it(
    "a tool's isError result is a completed outcome; a tool's JSON-RPC error is a failed one with its code",
    async () => {
      const base = tempDir();
      const { session } = await open(base);

      const failing = await callTask(session, "failing_job");
      const failed = await settle(failing.execution);
      expect(failed.outcome.status).toBe("completed");
      expect(resultFromTaskOutcome(failed.outcome)).toMatchObject({ resultType: "complete", isError: true, content: text("failing_job: the job failed") });

      const protocol = await callTask(session, "protocol_error_job");
      const errored = await settle(protocol.execution);
      expect(errored.outcome.status).toBe("failed");
      if (errored.outcome.status !== "failed") throw new Error("not failed");
      expect(errored.outcome.error).toBeInstanceOf(TaskFailedError);
      expect(errored.outcome.error.code).toBe(-32603);
      expect(errored.outcome.error.message).toBe("protocol_error_job: the job hit an internal error");
      expect(errored.outcome.task).toMatchObject({ taskId: protocol.taskId, status: "failed" });
      expect(() => resultFromTaskOutcome(errored.outcome)).toThrow(TaskFailedError);

      await waitFor(() => taskFile(base, protocol.taskId)?.status === "failed");
      expect(taskFile(base, protocol.taskId).context.mcpTask).toMatchObject({
        status: "failed",
        error: { code: -32603, message: "protocol_error_job: the job hit an internal error" },
      });
    },
    SLOW,
  );

  it(
    "cancel: the outcome is cancelled, and the server's task is cancelled too (its work stopped, no result stored)",
    async () => {
      const base = tempDir();
      const { session } = await open(base);
      const { execution, taskId } = await callTask(session, "slow_compute", { seconds: 60 });
      // Its tool runs (its first step is in its session file); a fresh tasks/get says working.
      await waitFor(() => taskFile(base, taskId)?.progress?.currentStep === "second 1 of 60");
      expect((await session.task(taskId).snapshot()).status).toBe("working");

      await execution.cancel();
      const { outcome } = await settle(execution);
      expect(outcome.status).toBe("cancelled");
      expect(() => resultFromTaskOutcome(outcome)).toThrow(TaskCancelledError);

      // ext-tasks ends the execution at the server's ack (V2 cancellation is cooperative); the
      // server itself must have cancelled the task: its session is cancelled (with it the token
      // the tool waits on), no result was stored, and a fresh tasks/get says cancelled.
      await waitFor(() => taskFile(base, taskId)?.status === "cancelled");
      const file = taskFile(base, taskId);
      expect(file.progress.status).toBe("cancelled");
      expect(file.context.mcpTask).toMatchObject({ status: "cancelled", statusMessage: "cancelled by tasks/cancel" });
      expect(file.context.mcpTask.result).toBeUndefined();
      expect((await session.task(taskId).snapshot()).status).toBe("cancelled");
    },
    SLOW,
  );

  it(
    "input_required: the client's handler answers through tasks/update and the task completes (one request, two at once, and one before the task)",
    async () => {
      const base = tempDir();
      const { asked, handler } = answering((inputId): Record<string, string | boolean> => (inputId === "name" ? { name: "Ada" } : { confirm: true }));
      const { session } = await open(base, handler);

      const confirm = await callTask(session, "confirm_delete", { filename: "notes.txt" });
      const confirmed = await settle(confirm.execution);
      expect(confirmed.outcome).toMatchObject({ status: "completed", result: { content: text("Deleted notes.txt") } });
      expect(confirmed.seen).toContain("input_required");
      expect(asked).toEqual([{ kind: "elicitation", inputId: "confirm", scope: "task", taskId: confirm.taskId, message: "Delete notes.txt?" }]);
      await waitFor(() => taskFile(base, confirm.taskId)?.status === "completed");
      expect(taskFile(base, confirm.taskId).context.mcpTask.inputResponses).toEqual({ confirm: { action: "accept", content: { confirm: true } } });

      asked.length = 0;
      const multi = await callTask(session, "multi_input");
      const answered = await settle(multi.execution);
      expect(answered.outcome).toMatchObject({ status: "completed", result: { content: text("name: Ada, confirmed: true") } });
      expect(asked.map((a) => [a.inputId, a.scope, a.taskId, a.message]).sort()).toEqual([
        ["confirm", "task", multi.taskId, "Go on?"],
        ["name", "task", multi.taskId, "Your name?"],
      ]);

      // Input needed before the task exists (multi round-trip on the call), then a task.
      asked.length = 0;
      const before = await callTask(session, "test_tool_with_task");
      const greeted = await settle(before.execution);
      expect(greeted.outcome).toMatchObject({ status: "completed", result: { content: text("Hello, Ada!") } });
      expect(asked).toEqual([{ kind: "elicitation", inputId: "name", scope: "request", taskId: undefined, message: "Your name?" }]);
    },
    SLOW,
  );

  it(
    "recovery: references persisted by one client process, the server killed (SIGKILL) and restarted; another process resumes them: finished → its result, working → failed at once",
    async () => {
      const base = tempDir();
      const dir = tempDir();
      const a = await clientProcess("persist", base, dir);
      // Process A waited for its server to exit after the SIGKILL, while one task was finished
      // and the other working.
      expect(alive(a.serverPid)).toBe(false);
      expect(taskFile(base, a.finished.taskId).context.mcpTask.status).toBe("completed");
      expect(a.workingFile.context.mcpTask.status).toBe("working");
      expect(a.workingFile.owner.pid).toBe(a.serverPid);
      const refs = JSON.parse(fs.readFileSync(path.join(dir, "refs.json"), "utf8"));
      for (const ref of [refs.finished, refs.working]) {
        expect(ref).toMatchObject({ endpointId: a.endpointId, generation: "v2", originalOperation: "tools/call" });
        expect(ref.taskId).toMatch(UUID);
      }

      const b = await clientProcess("resume", base, dir);
      expect(b.endpointId).toBe(a.endpointId);
      expect(b.serverPid).not.toBe(a.serverPid);
      // The finished task: its result, from the first tasks/get.
      expect(b.finished).toMatchObject({ status: "completed", taskStatus: "completed", result: { resultType: "complete", content: text("finished: done after 1 s") } });
      expect(b.finished.seen).toEqual(["completed"]);
      // The working one: failed, with a JSON-RPC error naming the dead server, from the first
      // tasks/get (no working snapshot before it: not after some timeout).
      expect(b.working).toMatchObject({ status: "failed", taskStatus: "failed", isTaskFailedError: true });
      expect(b.working.error.code).toBe(-32603);
      expect(b.working.error.message).toBe(`The server process that ran this task (pid ${a.serverPid}) exited while the task was working.`);
      expect(b.working.seen).toEqual(["failed"]);
    },
    SLOW,
  );

  it(
    "recovery: a task waiting for input when its server was killed is resumed by another client process, answered, and completed by the new server",
    async () => {
      const base = tempDir();
      const dir = tempDir();
      const a = await clientProcess("persist-input", base, dir);
      expect(alive(a.serverPid)).toBe(false);
      const waited = a.waitingFile.context.mcpTask;
      expect(waited.status).toBe("input_required");
      expect(waited.inputResponses).toEqual({});
      expect(Object.keys(waited.inputRequests)).toEqual(["confirm"]);

      const b = await clientProcess("resume-input", base, dir);
      const { taskId } = a.waiting;
      // The same outstanding request, under the same key, reached the new client.
      expect(b.asked).toEqual([
        {
          kind: "elicitation",
          inputId: "confirm",
          scope: "task",
          taskId,
          message: waited.inputRequests.confirm.params.message,
          requestedSchema: waited.inputRequests.confirm.params.requestedSchema,
        },
      ]);
      expect(b.waiting).toMatchObject({ status: "completed", taskStatus: "completed", result: { content: text("Deleted notes.txt") } });
      expect(b.waiting.seen[0]).toBe("input_required");
      // The new server took the task over (its session is owned by it) and ran the tool again
      // with the answer.
      await waitFor(() => taskFile(base, taskId)?.status === "completed");
      const file = taskFile(base, taskId);
      expect(file.owner.pid).toBe(b.serverPid);
      expect(file.context.mcpTask).toMatchObject({
        status: "completed",
        inputRequests: {},
        inputResponses: { confirm: { action: "accept", content: { confirm: true } } },
        result: { content: text("Deleted notes.txt") },
      });
    },
    SLOW,
  );
});
