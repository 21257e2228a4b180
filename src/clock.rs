//! A test's fake clock, as the JavaScript side finds it at each call.
//!
//! `lib/clock.js` looks for the fake clock of a test framework (vitest's
//! and jest's fake timers, both `@sinonjs/fake-timers`) before each call
//! that reads the time or schedules a timer (its `synced`), and tells this
//! thread about it with [`use_test_clock`]: the time the fake `Date` shows
//! becomes the thread's time ([`clock::set_thread_time`]), and one-shot
//! timers scheduled on this thread (timeouts, background writes) go to the
//! fake `setTimeout` through a [`timer::Host`]. Called with neither, the
//! thread is back on the system clock and the background threads.
//!
//! # Invariants
//! - Everything here is thread-local: a worker's fake clock is its own.
//! - A job handed to the fake `setTimeout` runs on this thread, when the
//!   test advances its clock; the host holds no lock while it calls
//!   JavaScript.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use msw_session_core::{clock, timer};
use napi::bindgen_prelude::{Function, Unknown};
use napi::{Env, JsValue};
use napi_derive::napi;

use crate::js_function::JsFunction;

/// Hands jobs to `schedule(run, ms)`, a JavaScript function that calls
/// `run` after `ms` on the test's fake clock.
struct FakeTimers {
    schedule: JsFunction,
    /// The env of this thread (the host never leaves it).
    env: Env,
}

impl timer::Host for FakeTimers {
    fn after(&self, delay: Duration, job: Box<dyn FnOnce()>) {
        let job = Cell::new(Some(job));
        let Ok(run) =
            self.env
                .create_function_from_closure::<(), (), _>("mswSessionTimer", move |_| {
                    if let Some(job) = job.take() {
                        job();
                    }
                    Ok(())
                })
        else {
            return;
        };
        let Ok(ms) = self.env.create_double(delay.as_secs_f64() * 1000.0) else {
            return;
        };
        let (run, ms) = (run.raw(), ms.raw());
        let _ = self.schedule.call(|_| [run, ms]);
    }
}

/// Sets this thread's clock for the calls that follow: `now_ms` is the
/// time the test's fake `Date` shows (`NaN`: the system clock), and
/// `schedule`, when given, runs timers on the test's fake `setTimeout`.
#[napi(ts_args_type = "nowMs: number, schedule?: (run: () => void, ms: number) => void")]
pub fn use_test_clock(
    env: Env,
    now_ms: f64,
    schedule: Option<Function<'_, Unknown<'_>, ()>>,
) -> napi::Result<()> {
    clock::set_thread_time((!now_ms.is_nan()).then_some(now_ms));
    match schedule {
        Some(function) if !timer::has_thread_host() => {
            let host = FakeTimers {
                schedule: JsFunction::new(&env, &function)?,
                env,
            };
            timer::set_thread_host(Some(Rc::new(host)));
        }
        None if timer::has_thread_host() => timer::set_thread_host(None),
        _ => {}
    }
    Ok(())
}
