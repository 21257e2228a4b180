//! Deterministic interleavings: named points in the writer and the
//! checkpoint handshake where the crate's tests switch threads, and (in the
//! crate's test build only) the scheduler that does it.
//!
//! In builds other than the crate's own tests a point is an empty function,
//! inlined away, and locks take no detour.
//!
//! # How the tests use it
//! [`model::explore`] runs a few threads (the background writer, the
//! context's own thread doing updates, a flush, a finish) one at a time: a
//! thread runs until it reaches a [`point`], then the scheduler picks which
//! thread goes on. It runs the model once for every sequence of picks (a
//! depth-first search over the choices, as loom does, optionally bounded
//! by the number of preemptions), each time from a fresh setup, and checks
//! the invariants after each run. A thread that finds a lock held by a
//! thread paused by the scheduler (every lock of the core is a
//! [`RankedMutex`](crate::sync), which asks the scheduler) gives its turn
//! back until the holder has released it, so a pause under a lock never
//! deadlocks the search. A lock held by a thread outside the model (another
//! test) is simply waited for. Every run of one search takes the same
//! choices in the same states, so a failure names the interleaving that
//! broke the invariant.
//!
//! # The points
//! - `update: tracker changed, context not told`: an update changed the
//!   tracker and its session's writer has not heard of it yet.
//! - `context: read, progress not yet paired`: a context was read anew
//!   and the tracker state to pair it with is not taken yet.
//! - `update: checkpoint marked stale` / `update: marked dirty, not yet
//!   scheduled`: an update on the context's thread between its steps.
//! - `write: context read, not yet written`: a write read the context (or
//!   did not need to) and has not taken the session's `written` lock.
//! - `background: contexts here read`, `background: batch taken`,
//!   `background: session written, not yet judged`, `background: batch
//!   written, dirty not cleaned`, `background: before posting catch-ups`:
//!   the background write between its steps (the middle three under
//!   `batch`).
//! - `flush: contexts read`: a flush between its reads and its batch.
//! - `catch-up: checked stale`: a catch-up on the context's thread, before
//!   it reads.
//!
//! A race between two lines of code with no point between them is not
//! searched: a point goes wherever another thread's step could change what
//! the next line sees.
//!
//! The interleavings the writer's tests search are listed with them
//! ([`writer`](crate::writer)'s tests).

/// A point where the interleaving tests may run another thread; nothing
/// otherwise.
#[inline(always)]
pub(crate) fn point(name: &'static str) {
    #[cfg(test)]
    model::point(name);
    let _ = name;
}

#[cfg(test)]
pub(crate) mod model {
    use std::cell::RefCell;
    use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
    use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

    /// Where a thread of a run stands.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    enum Status {
        /// Paused at a point (or not started).
        At(&'static str),
        /// Waiting for the lock at this address, held by a paused thread.
        Blocked(usize),
        /// Finished.
        Done,
    }

    struct State {
        /// The thread that may run; `None` while the scheduler picks.
        turn: Option<usize>,
        status: Vec<Status>,
        /// The locks the threads of the run hold: (thread, address).
        held: Vec<(usize, usize)>,
    }

    struct Run {
        state: Mutex<State>,
        changed: Condvar,
    }

    impl Run {
        fn state(&self) -> MutexGuard<'_, State> {
            self.state.lock().unwrap_or_else(PoisonError::into_inner)
        }

        fn wait<'a>(&self, guard: MutexGuard<'a, State>) -> MutexGuard<'a, State> {
            self.changed
                .wait(guard)
                .unwrap_or_else(PoisonError::into_inner)
        }

        /// Waits for `me`'s turn.
        fn wait_turn(&self, me: usize) {
            let mut state = self.state();
            while state.turn != Some(me) {
                state = self.wait(state);
            }
        }

        /// Gives the turn back as `status`, and waits for the next one.
        fn pause(&self, me: usize, status: Status) {
            {
                let mut state = self.state();
                state.status[me] = status;
                state.turn = None;
                self.changed.notify_all();
            }
            self.wait_turn(me);
        }
    }

    thread_local! {
        /// The run the calling thread is a thread of, and its index.
        static CURRENT: RefCell<Option<(Arc<Run>, usize)>> = const { RefCell::new(None) };
    }

    fn current() -> Option<(Arc<Run>, usize)> {
        CURRENT
            .try_with(|current| current.borrow().clone())
            .ok()
            .flatten()
    }

    /// See [`super::point`].
    pub(crate) fn point(name: &'static str) {
        if let Some((run, me)) = current() {
            run.pause(me, Status::At(name));
        }
    }

    /// Called by a thread that found the lock at `address` held: `true`
    /// when a paused thread of its run holds it (it then got its turn
    /// back once the lock was free, and tries again); `false` when it
    /// should wait for the lock as usual.
    pub(crate) fn blocked_on(address: usize) -> bool {
        let Some((run, me)) = current() else {
            return false;
        };
        let in_run = run
            .state()
            .held
            .iter()
            .any(|&(thread, held)| held == address && thread != me);
        if in_run {
            run.pause(me, Status::Blocked(address));
        }
        in_run
    }

    /// A lock held by a thread of a run, recorded while it lives.
    pub(crate) struct Locked(Option<(Arc<Run>, usize, usize)>);

    impl Locked {
        pub(crate) fn new(address: usize) -> Self {
            Locked(current().map(|(run, me)| {
                run.state().held.push((me, address));
                (run, me, address)
            }))
        }
    }

    impl Drop for Locked {
        fn drop(&mut self) {
            if let Some((run, me, address)) = self.0.take() {
                let mut state = run.state();
                if let Some(at) = state.held.iter().position(|&h| h == (me, address)) {
                    state.held.remove(at);
                }
            }
        }
    }

    /// A thread of a model: what it does with the run's state.
    pub(crate) type Thread<'a, S> = &'a (dyn Fn(&S) + Sync);

    /// Runs `threads` on a fresh `setup()` once for every interleaving of
    /// their points (with at most `preemptions` switches away from a
    /// thread that could go on, when given), calling `check` after each
    /// run with the state and the interleaving. Returns how many runs
    /// there were.
    pub(crate) fn explore<S: Sync>(
        preemptions: Option<usize>,
        setup: impl Fn() -> S,
        threads: &[Thread<'_, S>],
        check: impl Fn(&S, &str),
    ) -> usize {
        // The choices of the run being made: (index taken, options).
        let mut choices: Vec<(usize, usize)> = Vec::new();
        let mut runs = 0;
        loop {
            runs += 1;
            let state = setup();
            let trace = run_once(&state, threads, &mut choices, preemptions);
            check(&state, &trace);
            drop(state);
            loop {
                match choices.last_mut() {
                    None => return runs,
                    Some((taken, options)) if *taken + 1 < *options => {
                        *taken += 1;
                        break;
                    }
                    Some(_) => {
                        choices.pop();
                    }
                }
            }
        }
    }

    /// One run, taking `choices` as far as they go and the first option
    /// after (recorded in `choices`); returns the interleaving.
    fn run_once<S: Sync>(
        state: &S,
        threads: &[Thread<'_, S>],
        choices: &mut Vec<(usize, usize)>,
        preemptions: Option<usize>,
    ) -> String {
        let n = threads.len();
        let run = Arc::new(Run {
            state: Mutex::new(State {
                turn: None,
                status: vec![Status::At("start"); n],
                held: Vec::new(),
            }),
            changed: Condvar::new(),
        });
        let mut trace = Vec::new();
        std::thread::scope(|scope| {
            let handles: Vec<_> = threads
                .iter()
                .enumerate()
                .map(|(me, thread)| {
                    let run = run.clone();
                    scope.spawn(move || {
                        CURRENT.with(|c| *c.borrow_mut() = Some((run.clone(), me)));
                        run.wait_turn(me);
                        let result = catch_unwind(AssertUnwindSafe(|| thread(state)));
                        CURRENT.with(|c| c.borrow_mut().take());
                        let mut state = run.state();
                        state.status[me] = Status::Done;
                        state.turn = None;
                        run.changed.notify_all();
                        drop(state);
                        result
                    })
                })
                .collect();
            let (mut depth, mut used, mut last) = (0, 0, None::<usize>);
            loop {
                let mut state = run.state();
                while state.turn.is_some() {
                    state = run.wait(state);
                }
                if state.status.iter().all(|s| *s == Status::Done) {
                    break;
                }
                let can_run = |i: usize| match state.status[i] {
                    Status::At(_) => true,
                    Status::Blocked(address) => !state
                        .held
                        .iter()
                        .any(|&(thread, held)| held == address && thread != i),
                    Status::Done => false,
                };
                // Going on with the thread that paused costs nothing; a
                // switch away from it is a preemption.
                let stay = last.filter(|&i| matches!(state.status[i], Status::At(_)));
                let mut options: Vec<usize> = stay.into_iter().collect();
                if stay.is_none() || preemptions.is_none_or(|most| used < most) {
                    options.extend((0..n).filter(|&i| Some(i) != stay && can_run(i)));
                }
                assert!(
                    !options.is_empty(),
                    "deadlock: {:?} holding {:?}\n{}",
                    state.status,
                    state.held,
                    trace.join("\n")
                );
                if depth == choices.len() {
                    choices.push((0, options.len()));
                }
                let (taken, count) = choices[depth];
                assert_eq!(
                    count,
                    options.len(),
                    "the model is not deterministic\n{}",
                    trace.join("\n")
                );
                depth += 1;
                let next = options[taken];
                if stay.is_some_and(|i| i != next) {
                    used += 1;
                }
                trace.push(format!("thread {next} from {:?}", state.status[next]));
                last = Some(next);
                state.turn = Some(next);
                run.changed.notify_all();
            }
            for handle in handles {
                if let Ok(Err(panic)) = handle.join() {
                    eprintln!("in the interleaving:\n{}", trace.join("\n"));
                    resume_unwind(panic);
                }
            }
        });
        trace.join("\n")
    }

    #[test]
    fn every_interleaving_of_two_threads_is_run() {
        // Each thread runs in three stretches (start to the first point,
        // between the points, after the second): C(6, 3) = 20 schedules,
        // which give the C(4, 2) = 6 orders of the four pushes.
        let seen = Mutex::new(std::collections::BTreeMap::new());
        let thread = |name: &'static str| {
            move |order: &Mutex<Vec<String>>| {
                for step in 0..2 {
                    order.lock().unwrap().push(format!("{name}{step}"));
                    super::point("step");
                }
            }
        };
        let (a, b) = (thread("a"), thread("b"));
        let runs = explore(
            None,
            || Mutex::new(Vec::new()),
            &[&a, &b],
            |order, _| {
                *seen
                    .lock()
                    .unwrap()
                    .entry(order.lock().unwrap().concat())
                    .or_insert(0) += 1;
            },
        );
        assert_eq!(runs, 20);
        assert_eq!(seen.lock().unwrap().len(), 6);
        // With no preemption, a thread that started runs to its end.
        let runs = explore(
            Some(0),
            || Mutex::new(Vec::new()),
            &[&a, &b],
            |order, _| {
                let order = order.lock().unwrap().concat();
                assert!(order == "a0a1b0b1" || order == "b0b1a0a1", "{order}");
            },
        );
        assert_eq!(runs, 2);
    }
}
