// Run by jest (modern fake timers, CommonJS) in a project that installed msw-session.
const checks = require("./fake-timers.checks.cjs");

checks(require("msw-session"), { afterEach, beforeEach, expect, jest, test });
