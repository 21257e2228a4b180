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
//!
//! # Hosts
//! A thread may set a [`Host`] of its own ([`set_thread_host`]): a one-shot
//! job scheduled *from that thread* is handed to the host instead (a test
//! framework's fake `setTimeout`, which runs it when the test advances its
//! clock). Jobs still pending when the host is taken away are not lost: a
//! background write moves to its thread, to run at once; a timeout is
//! dropped, as a fake `setTimeout` is when the fake clock is uninstalled.
//!
//! # Lock order
//! `Timer::queue` and a host's job slots are leaves ([`crate`]), never held
//! while a job runs or is dropped; the queue is taken under a manager's
//! `auto_save` slot when an auto-save starts. The thread's
//! host list is thread-local and never held while a host or a job runs.

use std::cell::RefCell;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use crate::sync::{Rank, RankedMutex};

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
    queue: RankedMutex<Queue>,
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
            queue: RankedMutex::with_default(Rank::Leaf),
            wake: Condvar::new(),
        }));
        // A thread that cannot start leaves its jobs queued, never run: the
        // callers' synchronous paths (flush, shutdown) still work.
        let _ = thread::Builder::new().name(name.into()).spawn(move || {
            if lane == Lane::Writes {
                crate::store::mark_background_writer_thread();
            }
            run(timer)
        });
        timer
    })
}

fn run(timer: &'static Timer) {
    let mut queue = timer.queue.lock();
    loop {
        let now = Instant::now();
        let next_due = queue.heap.peek().map(|Reverse(e)| e.due);
        match next_due {
            None => {
                queue = queue.wait(&timer.wake);
            }
            Some(due) if due > now => {
                queue = queue.wait_timeout(&timer.wake, due - now);
            }
            Some(_) => {
                let Some(Reverse(entry)) = queue.heap.pop() else {
                    continue;
                };
                if !entry.active.load(Ordering::Acquire) {
                    // What a stopped job holds goes outside the lock.
                    drop(queue);
                    drop(entry);
                    queue = timer.queue.lock();
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
                queue = timer.queue.lock();
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

/// Runs one-shot jobs scheduled on the thread that set it, instead of the
/// background threads (see [Hosts](self#hosts)).
pub trait Host {
    /// Runs `job` after `delay`, on this thread.
    fn after(&self, delay: Duration, job: Box<dyn FnOnce()>);
}

/// A job handed to a host: run by the host, or taken back when the host goes.
type Slot = Arc<RankedMutex<Option<Box<dyn FnOnce() + Send>>>>;

#[derive(Default)]
struct ThreadHost {
    host: Option<Rc<dyn Host>>,
    /// Jobs handed to the host and not run yet, with their lane.
    pending: Vec<(Lane, Slot)>,
}

thread_local! {
    static HOST: RefCell<ThreadHost> = RefCell::new(ThreadHost::default());
}

/// Sets (or, with `None`, removes) the host of the calling thread. When it
/// is removed, background writes it still held move to their thread.
pub fn set_thread_host(host: Option<Rc<dyn Host>>) {
    let orphans = HOST.with(|h| {
        let mut h = h.borrow_mut();
        let had = h.host.is_some();
        h.host = host;
        if had && h.host.is_none() {
            std::mem::take(&mut h.pending)
        } else {
            Vec::new()
        }
    });
    for (lane, slot) in orphans {
        let job = slot.lock().take();
        if let (Lane::Writes, Some(job)) = (lane, job) {
            after_on(Lane::Writes, Duration::ZERO, job);
        }
    }
}

/// Whether the calling thread has a host.
pub fn has_thread_host() -> bool {
    HOST.with(|h| h.borrow().host.is_some())
}

/// Hands `job` to the calling thread's host; gives it back when there is none.
fn to_host(
    lane: Lane,
    delay: Duration,
    job: Box<dyn FnOnce() + Send>,
) -> Option<Box<dyn FnOnce() + Send>> {
    let slot: Slot = Arc::new(RankedMutex::new(Rank::Leaf, Some(job)));
    let host = HOST.with(|h| {
        let mut h = h.borrow_mut();
        let host = h.host.clone()?;
        h.pending.retain(|(_, s)| s.lock().is_some());
        h.pending.push((lane, slot.clone()));
        Some(host)
    });
    let Some(host) = host else {
        return slot.lock().take();
    };
    host.after(
        delay,
        Box::new(move || {
            let job = slot.lock().take();
            if let Some(job) = job {
                let _ = catch_unwind(AssertUnwindSafe(job));
            }
        }),
    );
    None
}

fn schedule(lane: Lane, delay: Duration, job: Job) -> TimerHandle {
    let active = Arc::new(AtomicBool::new(true));
    let handle = TimerHandle {
        active: active.clone(),
    };
    // A deadline beyond what `Instant` can hold never comes: nothing to schedule.
    let Some(due) = Instant::now().checked_add(delay) else {
        return handle;
    };
    let job = match job {
        Job::Once(job) if has_thread_host() => {
            // The host runs it unless the handle was cancelled first.
            let active = active.clone();
            let guarded: Box<dyn FnOnce() + Send> = Box::new(move || {
                if active.swap(false, Ordering::AcqRel) {
                    job();
                }
            });
            match to_host(lane, delay, guarded) {
                None => return handle,
                Some(job) => Job::Once(job),
            }
        }
        job => job,
    };
    {
        let timer = timer(lane);
        push(&mut timer.queue.lock(), due, active, job);
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
        || crate::CoreError::out_of_range(name, expected, crate::js_number::js_display(ms));
    if !valid {
        return Err(refused());
    }
    if ms == f64::INFINITY {
        return Ok(Duration::MAX);
    }
    Duration::try_from_secs_f64(ms.max(0.0) / 1000.0).map_err(|_| refused())
}

/// Holds the timer thread ([`Lane::Timers`]) in a job of its own until the
/// guard is dropped: jobs scheduled and cancelled meanwhile cannot run in
/// between, however busy the machine, and when it is released the thread
/// runs what is due in deadline order. For tests that cancel a short timer
/// or compare two deadlines.
#[cfg(test)]
pub(crate) fn hold_timer_thread() -> impl Drop {
    struct Held(std::sync::mpsc::Sender<()>);
    impl Drop for Held {
        fn drop(&mut self) {
            let _ = self.0.send(());
        }
    }
    let (started_tx, started) = std::sync::mpsc::channel();
    let (release, released) = std::sync::mpsc::channel::<()>();
    after(Duration::ZERO, move || {
        let _ = started_tx.send(());
        let _ = released.recv();
    });
    let _ = started.recv();
    Held(release)
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell as Cell;

    type Given = (Duration, Box<dyn FnOnce()>);

    /// A host that keeps what it is given, for the test to run.
    #[derive(Default)]
    struct Held(Cell<Vec<Given>>);
    impl Host for Held {
        fn after(&self, delay: Duration, job: Box<dyn FnOnce()>) {
            self.0.borrow_mut().push((delay, job));
        }
    }

    #[test]
    fn a_thread_with_a_host_hands_it_its_one_shot_jobs() {
        let held = Rc::new(Held::default());
        set_thread_host(Some(held.clone()));
        let ran = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let count = |ran: &Arc<std::sync::atomic::AtomicUsize>| {
            let ran = ran.clone();
            move || {
                ran.fetch_add(1, Ordering::SeqCst);
            }
        };
        after_on(Lane::Writes, Duration::from_millis(100), count(&ran));
        let stopped = after(Duration::from_millis(5), count(&ran));
        stopped.cancel();
        assert_eq!(held.0.borrow().len(), 2);
        assert_eq!(held.0.borrow()[0].0, Duration::from_millis(100));
        for (_, job) in held.0.borrow_mut().drain(..) {
            job();
        }
        // The write ran, on this thread, when the host ran it; the cancelled
        // timeout did not.
        assert_eq!(ran.load(Ordering::SeqCst), 1);
        // Removed with jobs pending: the write moves to its thread, the
        // timeout is dropped.
        let (tx, rx) = std::sync::mpsc::channel();
        after_on(Lane::Writes, Duration::from_secs(3600), move || {
            let _ = tx.send(thread::current().name().map(String::from));
        });
        after(Duration::from_millis(1), count(&ran));
        set_thread_host(None);
        let on = rx.recv_timeout(Duration::from_secs(10)).unwrap();
        assert_eq!(on.as_deref(), Some("msw-session-writer"));
        held.0.borrow_mut().drain(..).for_each(|(_, job)| job());
        assert_eq!(ran.load(Ordering::SeqCst), 1, "a moved job runs once");
        assert!(!has_thread_host());
    }

    use super::*;
    use std::sync::mpsc;

    #[test]
    fn runs_jobs_in_deadline_order() {
        let (tx, rx) = mpsc::channel();
        let tx2 = tx.clone();
        let held = hold_timer_thread();
        after(Duration::from_millis(30), move || tx.send(2).unwrap());
        after(Duration::from_millis(1), move || tx2.send(1).unwrap());
        drop(held);
        let got: Vec<i32> = rx.iter().take(2).collect();
        assert_eq!(got, vec![1, 2]);
    }

    #[test]
    fn cancelled_jobs_do_not_run() {
        // The timer thread is held while the test schedules and cancels (the
        // cancel used to race a 1 ms deadline).
        let held = hold_timer_thread();
        let (tx, rx) = mpsc::channel();
        let tx2 = tx.clone();
        let handle = after(Duration::from_millis(1), move || {
            tx.send("cancelled").unwrap()
        });
        handle.cancel();
        after(Duration::from_millis(2), move || tx2.send("ran").unwrap());
        drop(held);
        assert_eq!(rx.recv().unwrap(), "ran");
        assert!(rx.try_recv().is_err());
        assert!(!handle.is_active());
    }

    #[test]
    fn repeating_jobs_repeat_until_cancelled() {
        let (tx, rx) = mpsc::channel();
        let tx = std::sync::Mutex::new(tx);
        let handle = every(Duration::from_millis(1), move || {
            let _ = tx.lock().unwrap().send(());
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
