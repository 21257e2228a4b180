// @ts-check
/**
 * A test framework's fake clock, as the core sees it.
 *
 * vitest's and jest's fake timers (both `@sinonjs/fake-timers`) mark each
 * global they replace with a `clock` property: a fake `Date` gives the core
 * its time, a fake `setTimeout` runs the core's timers of this thread. A
 * call into the core that reads the time or schedules a timer goes through
 * `synced`, which tells the core what is installed at that moment, so
 * installing or removing fake timers at any time takes effect at the next
 * call; a call that forgets it gives wrong times only under fake timers.
 */
"use strict";

const { native } = require("./loader.js");

/**
 * The longest delay a JavaScript timer holds (a longer one fires at once);
 * longer delays are scheduled in steps of it.
 */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** What the core of this thread was last told. */
const told = {
  /** Whether the last `syncClock` told the core about a fake clock. */
  fake: false,
};

/**
 * Runs `run` after `ms` on the global `setTimeout` of the moment it was
 * called (a test's fake one), then on the fake time: the core hands its
 * one-shot timers here while fake timers are installed.
 * @param {() => void} run
 * @param {number} ms
 */
function onFakeTimers(run, ms) {
  if (ms > MAX_TIMER_MS) {
    setTimeout(() => onFakeTimers(run, ms - MAX_TIMER_MS), MAX_TIMER_MS);
    return;
  }
  setTimeout(() => {
    syncClock();
    run();
  }, ms);
}

/**
 * Tells the core about a fake `Date` or `setTimeout` (see the module's
 * doc). With neither installed it costs two property reads.
 */
function syncClock() {
  const fakeDate = /** @type {any} */ (Date).clock !== undefined;
  const fakeTimers = fakeTimersInstalled();
  if (fakeDate || fakeTimers) {
    native.useTestClock(fakeDate ? Date.now() : NaN, fakeTimers ? onFakeTimers : undefined);
    told.fake = true;
  } else if (told.fake) {
    native.useTestClock(NaN, undefined);
    told.fake = false;
  }
}

/** Whether a test framework's fake `setTimeout` is installed now. */
function fakeTimersInstalled() {
  return /** @type {any} */ (setTimeout).clock !== undefined;
}

/**
 * `core` (a native handle, class or function), after the core has been told
 * about a test's fake clock: the one way to a native call that reads the
 * time or schedules a timer, as in `synced(this.#native).setProgress(p)` or
 * `new (synced(native.NativeTracker))(id, operation)`.
 * @template T
 * @param {T} core
 * @returns {T}
 */
function synced(core) {
  syncClock();
  return core;
}

module.exports = { synced, fakeTimersInstalled };
