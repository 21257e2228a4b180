//! Background threads that run delayed and repeating jobs: one for timers
//! (timeout tokens, auto-save ticks) and one for background file writes, so
//! that a slow disk never delays a timeout.
//!
//! Each thread is started on first use and sleeps on a condition variable until
//! the earliest deadline. A job runs on this thread, so it must only touch
//! thread-safe state and hand anything else to an [`Executor`](crate::Executor).
//! Cancelling a [`TimerHandle`] stops a job that has not run yet (and every
//! later run of a repeating one); an entry is dropped, with what it holds, at
//! its next deadline.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use crate::sync::lock;

/// Stops a scheduled job when cancelled. Dropping the handle does not cancel.
#[derive(Clone, Debug)]
pub struct TimerHandle {
    active: Arc<AtomicBool>,
}

impl TimerHandle {
    /// Stops the job; harmless when it already ran or was cancelled.
    pub fn cancel(&self) {
        self.active.store(false, Ordering::Release);
    }

    /// Whether the job may still run.
    pub fn is_active(&self) -> bool {
        self.active.load(Ordering::Acquire)
    }
}

enum Job {
    Once(Box<dyn FnOnce() + Send>),
    Every(Duration, Arc<dyn Fn() + Send + Sync>),
}

struct Entry {
    due: Instant,
    seq: u64,
    active: Arc<AtomicBool>,
    job: Job,
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        (self.due, self.seq) == (other.due, other.seq)
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Entry {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.due, self.seq).cmp(&(other.due, other.seq))
    }
}

#[derive(Default)]
struct Queue {
    heap: BinaryHeap<Reverse<Entry>>,
    seq: u64,
}

struct Timer {
    queue: Mutex<Queue>,
    wake: Condvar,
}

/// Which background thread runs a job.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lane {
    /// Timeouts and periodic ticks: short jobs only.
    Timers,
    /// Background writes of session files.
    Writes,
}

fn timer(lane: Lane) -> &'static Timer {
    static TIMERS: OnceLock<&'static Timer> = OnceLock::new();
    static WRITES: OnceLock<&'static Timer> = OnceLock::new();
    let (slot, name) = match lane {
        Lane::Timers => (&TIMERS, "msw-session-timer"),
        Lane::Writes => (&WRITES, "msw-session-writer"),
    };
    slot.get_or_init(|| {
        let timer: &'static Timer = Box::leak(Box::new(Timer {
            queue: Mutex::new(Queue::default()),
            wake: Condvar::new(),
        }));
        // A thread that cannot start leaves its jobs queued, never run: the
        // callers' synchronous paths (flush, shutdown) still work.
        let _ = thread::Builder::new()
            .name(name.into())
            .spawn(move || run(timer));
        timer
    })
}

fn run(timer: &'static Timer) {
    let mut queue = lock(&timer.queue);
    loop {
        let now = Instant::now();
        let next_due = queue.heap.peek().map(|Reverse(e)| e.due);
        match next_due {
            None => {
                queue = timer.wake.wait(queue).unwrap_or_else(|p| p.into_inner());
            }
            Some(due) if due > now => {
                queue = timer
                    .wake
                    .wait_timeout(queue, due - now)
                    .unwrap_or_else(|p| p.into_inner())
                    .0;
            }
            Some(_) => {
                let Some(Reverse(entry)) = queue.heap.pop() else {
                    continue;
                };
                if !entry.active.load(Ordering::Acquire) {
                    continue;
                }
                drop(queue);
                let again = match entry.job {
                    Job::Once(job) => {
                        entry.active.store(false, Ordering::Release);
                        let _ = catch_unwind(AssertUnwindSafe(job));
                        None
                    }
                    Job::Every(period, job) => {
                        let _ = catch_unwind(AssertUnwindSafe(|| job()));
                        Some((period, job))
                    }
                };
                queue = lock(&timer.queue);
                if let Some((period, job)) = again {
                    if entry.active.load(Ordering::Acquire) {
                        if let Some(due) = Instant::now().checked_add(period) {
                            push(&mut queue, due, entry.active, Job::Every(period, job));
                        }
                    }
                }
            }
        }
    }
}

fn push(queue: &mut Queue, due: Instant, active: Arc<AtomicBool>, job: Job) {
    queue.seq += 1;
    let seq = queue.seq;
    queue.heap.push(Reverse(Entry {
        due,
        seq,
        active,
        job,
    }));
}

fn schedule(lane: Lane, delay: Duration, job: Job) -> TimerHandle {
    let active = Arc::new(AtomicBool::new(true));
    let handle = TimerHandle {
        active: active.clone(),
    };
    // A deadline beyond what `Instant` can hold never comes: nothing to schedule.
    if let Some(due) = Instant::now().checked_add(delay) {
        let timer = timer(lane);
        push(&mut lock(&timer.queue), due, active, job);
        timer.wake.notify_one();
    }
    handle
}

/// Runs `job` once on the timer thread after `delay`.
pub fn after(delay: Duration, job: impl FnOnce() + Send + 'static) -> TimerHandle {
    after_on(Lane::Timers, delay, job)
}

/// Runs `job` once on the thread of `lane` after `delay`.
pub fn after_on(lane: Lane, delay: Duration, job: impl FnOnce() + Send + 'static) -> TimerHandle {
    schedule(lane, delay, Job::Once(Box::new(job)))
}

/// Runs `job` on the timer thread every `period` (the first run after one
/// period) until the handle is cancelled.
pub fn every(period: Duration, job: impl Fn() + Send + Sync + 'static) -> TimerHandle {
    schedule(Lane::Timers, period, Job::Every(period, Arc::new(job)))
}

/// Converts the JavaScript millisecond count `ms` of the argument `name`
/// into a duration. `valid` says whether `ms` is what `name` must be
/// (`expected`); a count that is not, or that is finite but too large for a
/// `Duration` (above about 1.8e22 ms), is refused with one
/// `ERR_OUT_OF_RANGE` error. `+Infinity` becomes `Duration::MAX`, which
/// stands for "never".
pub fn millis(
    name: &'static str,
    expected: &'static str,
    ms: f64,
    valid: bool,
) -> crate::Result<Duration> {
    let refused =
        || crate::CoreError::out_of_range(name, expected, crate::progress::js_display(ms));
    if !valid {
        return Err(refused());
    }
    if ms == f64::INFINITY {
        return Ok(Duration::MAX);
    }
    Duration::try_from_secs_f64(ms.max(0.0) / 1000.0).map_err(|_| refused())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    #[test]
    fn runs_jobs_in_deadline_order() {
        let (tx, rx) = mpsc::channel();
        let tx2 = tx.clone();
        after(Duration::from_millis(30), move || tx.send(2).unwrap());
        after(Duration::from_millis(1), move || tx2.send(1).unwrap());
        let got: Vec<i32> = rx.iter().take(2).collect();
        assert_eq!(got, vec![1, 2]);
    }

    #[test]
    fn cancelled_jobs_do_not_run() {
        let (tx, rx) = mpsc::channel();
        let tx2 = tx.clone();
        let handle = after(Duration::from_millis(1), move || {
            tx.send("cancelled").unwrap()
        });
        handle.cancel();
        after(Duration::from_millis(20), move || tx2.send("ran").unwrap());
        assert_eq!(rx.recv().unwrap(), "ran");
        assert!(rx.try_recv().is_err());
        assert!(!handle.is_active());
    }

    #[test]
    fn repeating_jobs_repeat_until_cancelled() {
        let (tx, rx) = mpsc::channel();
        let tx = Mutex::new(tx);
        let handle = every(Duration::from_millis(1), move || {
            let _ = lock(&tx).send(());
        });
        for _ in 0..3 {
            rx.recv().unwrap();
        }
        handle.cancel();
        assert!(!handle.is_active());
    }

    #[test]
    fn never_is_never_scheduled() {
        let handle = after(
            millis("ms", "x", f64::INFINITY, true).unwrap(),
            || unreachable!(),
        );
        assert!(handle.is_active());
        assert_eq!(
            millis("ms", "x", 1.5, true).unwrap(),
            Duration::from_micros(1500)
        );
    }

    #[test]
    fn counts_too_large_for_a_duration_are_out_of_range() {
        for huge in [1e308, f64::MAX, 1.9e22] {
            let err = millis("timeoutMs", "a number >= 0", huge, true).unwrap_err();
            assert_eq!(err.code(), "ERR_OUT_OF_RANGE");
            assert!(err.to_string().contains("timeoutMs"), "{err}");
        }
        assert!(millis("ms", "x", 1e21, true).is_ok());
        let err = millis("timeoutMs", "a number >= 0", -1.0, false).unwrap_err();
        assert_eq!(
            err.to_string(),
            "The \"timeoutMs\" argument must be a number >= 0. Received -1"
        );
    }
}
