// @ts-check
/**
 * Argument type checks and the errors they throw (coded as Node's own), the
 * `JSON.stringify` of a value handed to the core, and `CancellationError`.
 * Value checks (NaN, ranges, ids, state shape) are the core's.
 */
"use strict";

const { native } = require("./loader.js");

/**
 * @param {unknown} value
 * @returns {string}
 */
function describe(value) {
  if (value === null) return "null";
  if (value === undefined) return "undefined";
  if (typeof value === "function") return `function ${value.name || "<anonymous>"}`;
  if (typeof value === "object") {
    const name = value.constructor && value.constructor.name;
    return name ? `an instance of ${name}` : "an object";
  }
  let shown = typeof value === "string" ? JSON.stringify(value) : String(value);
  if (shown.length > 40) shown = `${shown.slice(0, 37)}...`;
  return `type ${typeof value} (${shown})`;
}

/**
 * @template {Error} E
 * @param {E} error
 * @param {string} code
 * @returns {E & { code: string }}
 */
function withCode(error, code) {
  return Object.assign(error, { code });
}

/**
 * @param {string} name
 * @param {string} expected
 * @param {unknown} value
 */
function invalidArgType(name, expected, value) {
  return withCode(
    new TypeError(`The "${name}" argument must be ${expected}. Received ${describe(value)}`),
    "ERR_INVALID_ARG_TYPE",
  );
}

/** @param {unknown} value @param {string} name @returns {asserts value is string} */
function checkString(value, name) {
  if (typeof value !== "string") throw invalidArgType(name, "of type string", value);
}

/** @param {unknown} value @param {string} name @returns {asserts value is string | undefined} */
function checkOptionalString(value, name) {
  if (value !== undefined && typeof value !== "string") {
    throw invalidArgType(name, "of type string or undefined", value);
  }
}

/** @param {unknown} value @param {string} name @returns {asserts value is number} */
function checkNumber(value, name) {
  if (typeof value !== "number") throw invalidArgType(name, "of type number", value);
}

/** @param {unknown} value @param {string} name @returns {asserts value is Function} */
function checkFunction(value, name) {
  if (typeof value !== "function") throw invalidArgType(name, "of type function", value);
}

/** @param {unknown} value @param {string} name @returns {asserts value is Record<string, unknown>} */
function checkObject(value, name) {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw invalidArgType(name, "an object", value);
  }
}

/**
 * `JSON.stringify(value)`, with a refusal turned into a coded `TypeError`.
 * @param {unknown} value
 * @param {string} name
 * @returns {string}
 */
function stringify(value, name) {
  try {
    return JSON.stringify(value);
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    const error = native.argumentNotSerializable(name, reason);
    Object.defineProperty(error, "cause", { value: cause, writable: true, configurable: true });
    throw error;
  }
}

/** Thrown by `throwIfCancelled`. */
class CancellationError extends Error {
  /** @param {string} [reason] */
  constructor(reason) {
    if (typeof reason === "symbol") checkOptionalString(reason, "reason");
    super(reason || "Operation was cancelled");
    this.name = "CancellationError";
    /** @readonly @type {string | undefined} */
    this.reason = reason;
  }
}

module.exports = {
  invalidArgType,
  checkString,
  checkOptionalString,
  checkNumber,
  checkFunction,
  checkObject,
  stringify,
  CancellationError,
};
