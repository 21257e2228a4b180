// Run by jest (modern fake timers, ESM under --experimental-vm-modules) in a project that
// installed msw-session: the package as an ES module import loads it.
import { afterEach, beforeEach, expect, jest, test } from "@jest/globals";
import * as M from "msw-session";
import checks from "./fake-timers.checks.cjs";

checks(M, { afterEach, beforeEach, expect, jest, test });
