//! The crate's one kind of lock, [`RankedMutex`]: a mutex with a place in
//! the lock order ([`Rank`], written out in the crate's docs, [`crate`]),
//! checked in debug builds; and a relaxed counter (for
//! [`live`](crate::live)).
//!
//! # Ranks
//! Every lock of the core is a [`RankedMutex`] with a [`Rank`]. A thread
//! may take a lock only when its rank is higher than the rank of every lock
//! the thread holds: locks are taken down the order, never up it, and two
//! locks of one rank are never held together. In debug builds (every
//! `cargo test`) each thread keeps the ranks it holds, and taking a lock
//! against the order panics at once, naming both ranks, whether or not the
//! interleaving that would deadlock ever happens. In release builds the
//! rank is not stored and nothing is checked: a `RankedMutex` is a `Mutex`.
//! In the crate's own test build a lock also tells the interleaving tests'
//! scheduler who holds it ([`crate::interleave`]).
//!
//! # Poisoning
//! Listeners run outside every lock and inside `catch_unwind`, so a lock can
//! only be poisoned by a panic in the few lines that hold it, which assign
//! whole values. The data behind a poisoned lock is therefore still
//! consistent, and it is used as it is rather than reported to JavaScript as
//! a crash.

use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicIsize, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

/// A lock's place in the crate's lock order ([`crate`]), outermost first: a
/// lock is taken only while every lock held has a lower rank.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Rank {
    /// A manager's `auto_save` slot: held while its timer is started,
    /// which takes a timer's queue.
    AutoSaveSlot,
    /// `Writer::batch`: held while a batch of dirty sessions is written.
    Batch,
    /// `Session::written`: held while one session's file is written.
    Written,
    /// The state locks of a tracker and of a token, and a cancellation
    /// source's links: they take a listener list, and post to listeners
    /// at home on other threads, while held.
    Notifier,
    /// A listener list ([`Listeners`](crate::listeners::Listeners)).
    ListenerList,
    /// Every other lock: held for a few assignments (or one system call),
    /// with no other lock taken inside it.
    Leaf,
    /// The table of cancelled flags ([`cancel_flags`](crate::cancel_flags)):
    /// a token may be dropped under any lock, so this comes last.
    FlagTable,
}

/// A mutex with a place in the lock order (see [the module](self)).
pub(crate) struct RankedMutex<T> {
    #[cfg(debug_assertions)]
    rank: Rank,
    mutex: Mutex<T>,
}

impl<T: Default> RankedMutex<T> {
    /// A lock of `rank` holding `T::default()`.
    pub(crate) fn with_default(rank: Rank) -> Self {
        Self::new(rank, T::default())
    }
}

impl<T> RankedMutex<T> {
    /// A lock of `rank` holding `value`.
    #[cfg_attr(not(debug_assertions), allow(unused_variables))]
    pub(crate) const fn new(rank: Rank, value: T) -> Self {
        Self {
            #[cfg(debug_assertions)]
            rank,
            mutex: Mutex::new(value),
        }
    }

    /// Locks, recovering the guard of a poisoned lock. In debug builds,
    /// panics when the calling thread holds a lock of this rank or a higher
    /// one.
    pub(crate) fn lock(&self) -> RankedGuard<'_, T> {
        #[cfg(debug_assertions)]
        let held = Held::take(self.rank);
        #[cfg(not(debug_assertions))]
        let held = Held;
        #[cfg(not(test))]
        let guard = self.mutex.lock().unwrap_or_else(PoisonError::into_inner);
        #[cfg(test)]
        let (guard, model) = self.lock_in_model();
        RankedGuard {
            guard,
            held,
            #[cfg(test)]
            model,
        }
    }

    /// The lock, taken as the interleaving tests need it
    /// ([`crate::interleave`]): a thread of a model that finds it held by
    /// a thread the scheduler paused gives its turn back until it is free.
    #[cfg(test)]
    fn lock_in_model(&self) -> (MutexGuard<'_, T>, crate::interleave::model::Locked) {
        use std::sync::TryLockError;
        let address = &self.mutex as *const Mutex<T> as usize;
        let guard = loop {
            match self.mutex.try_lock() {
                Ok(guard) => break guard,
                Err(TryLockError::Poisoned(poisoned)) => break poisoned.into_inner(),
                Err(TryLockError::WouldBlock) => {
                    if !crate::interleave::model::blocked_on(address) {
                        break self.mutex.lock().unwrap_or_else(PoisonError::into_inner);
                    }
                }
            }
        };
        (guard, crate::interleave::model::Locked::new(address))
    }
}

/// The guard of a [`RankedMutex`]; gives its rank back when dropped.
pub(crate) struct RankedGuard<'a, T> {
    guard: MutexGuard<'a, T>,
    /// Declared after `guard`, so the rank is given back once the lock is.
    #[allow(dead_code)] // Kept for its `Drop` (debug builds).
    held: Held,
    /// The record of the lock in an interleaving test's run.
    #[cfg(test)]
    #[allow(dead_code)] // Kept for its `Drop`.
    model: crate::interleave::model::Locked,
}

impl<'a, T> RankedGuard<'a, T> {
    /// Waits on `condvar`, releasing the lock meanwhile (the rank stays
    /// taken: the thread takes nothing else while it waits).
    pub(crate) fn wait(self, condvar: &Condvar) -> Self {
        self.rewrap(|guard| condvar.wait(guard).unwrap_or_else(PoisonError::into_inner))
    }

    /// [`wait`](Self::wait), for `timeout` at most.
    pub(crate) fn wait_timeout(self, condvar: &Condvar, timeout: Duration) -> Self {
        self.rewrap(|guard| {
            condvar
                .wait_timeout(guard, timeout)
                .unwrap_or_else(PoisonError::into_inner)
                .0
        })
    }

    /// This guard with its mutex guard passed through `wait` (a condition
    /// variable's wait, which hands the same lock back), its rank and model
    /// record kept.
    fn rewrap(self, wait: impl FnOnce(MutexGuard<'a, T>) -> MutexGuard<'a, T>) -> Self {
        let RankedGuard {
            guard,
            held,
            #[cfg(test)]
            model,
        } = self;
        RankedGuard {
            guard: wait(guard),
            held,
            #[cfg(test)]
            model,
        }
    }
}

impl<T> Deref for RankedGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.guard
    }
}

impl<T> DerefMut for RankedGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.guard
    }
}

/// A rank the calling thread holds (nothing in release builds).
#[cfg(not(debug_assertions))]
struct Held;

/// A rank the calling thread holds, given back when dropped.
#[cfg(debug_assertions)]
struct Held(Rank);

#[cfg(debug_assertions)]
thread_local! {
    /// The ranks the thread holds, in the order taken (so, ascending).
    static HELD: std::cell::RefCell<Vec<Rank>> = const { std::cell::RefCell::new(Vec::new()) };
}

#[cfg(debug_assertions)]
impl Held {
    /// Takes `rank` for the calling thread; panics when it holds that rank
    /// or a higher one.
    fn take(rank: Rank) -> Held {
        let _ = HELD.try_with(|held| {
            let mut held = held.borrow_mut();
            if let Some(&top) = held.last() {
                if rank <= top {
                    drop(held);
                    panic!(
                        "lock order: a {rank:?} lock taken while this thread holds a \
                         {top:?} lock (see the lock order in the crate's docs)"
                    );
                }
            }
            held.push(rank);
        });
        Held(rank)
    }

    /// The ranks the calling thread holds, in the order taken.
    #[cfg(test)]
    fn ranks() -> Vec<Rank> {
        HELD.with(|held| held.borrow().clone())
    }
}

#[cfg(debug_assertions)]
impl Drop for Held {
    fn drop(&mut self) {
        // Guards may be dropped in any order: the rank goes wherever it is.
        let _ = HELD.try_with(|held| {
            let mut held = held.borrow_mut();
            if let Some(at) = held.iter().rposition(|r| *r == self.0) {
                held.remove(at);
            }
        });
    }
}

/// One kind of entry that is counted.
pub(crate) struct Counter(AtomicIsize);

impl Counter {
    pub(crate) const fn new() -> Self {
        Self(AtomicIsize::new(0))
    }

    pub(crate) fn up(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn down(&self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }

    /// The current count.
    pub fn get(&self) -> isize {
        self.0.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_order_as_written_can_be_taken_down() {
        let locks = [
            Rank::AutoSaveSlot,
            Rank::Batch,
            Rank::Written,
            Rank::Notifier,
            Rank::ListenerList,
            Rank::Leaf,
        ]
        .map(|rank| RankedMutex::new(rank, ()));
        let guards: Vec<_> = locks.iter().map(RankedMutex::lock).collect();
        #[cfg(debug_assertions)]
        assert_eq!(Held::ranks().len(), 6);
        // Given back in any order; then the order starts over.
        drop(guards);
        #[cfg(debug_assertions)]
        assert!(Held::ranks().is_empty());
        let _leaf = locks[5].lock();
        drop(_leaf);
        let _batch = locks[1].lock();
    }

    #[test]
    #[cfg_attr(not(debug_assertions), ignore = "ranks are checked in debug builds")]
    #[should_panic(expected = "lock order: a Batch lock taken while this thread holds a Written")]
    fn taking_a_lock_up_the_order_panics() {
        let batch = RankedMutex::new(Rank::Batch, ());
        let written = RankedMutex::new(Rank::Written, ());
        let _written = written.lock();
        let _batch = batch.lock();
    }

    #[test]
    #[cfg_attr(not(debug_assertions), ignore = "ranks are checked in debug builds")]
    #[should_panic(expected = "lock order: a Leaf lock taken while this thread holds a Leaf")]
    fn two_leaves_are_never_held_together() {
        let (a, b) = (
            RankedMutex::new(Rank::Leaf, 1),
            RankedMutex::new(Rank::Leaf, 2),
        );
        let _a = a.lock();
        let _b = b.lock();
    }

    #[test]
    fn a_panic_under_a_lock_gives_its_rank_back_and_the_data_stays_usable() {
        let m = std::sync::Arc::new(RankedMutex::new(Rank::Written, 7));
        let m2 = m.clone();
        let _ = std::panic::catch_unwind(move || {
            let _g = m2.lock();
            panic!("in the lock");
        });
        #[cfg(debug_assertions)]
        assert!(Held::ranks().is_empty());
        assert_eq!(*m.lock(), 7);
    }

    #[test]
    fn a_thread_paused_under_a_lock_makes_the_others_wait_their_turn() {
        let holder = |lock: &RankedMutex<Vec<&str>>| {
            let mut held = lock.lock();
            held.push("holder in");
            crate::interleave::point("under the lock");
            held.push("holder out");
        };
        let other = |lock: &RankedMutex<Vec<&str>>| {
            crate::interleave::point("before the lock");
            lock.lock().push("other");
        };
        let runs = crate::interleave::model::explore(
            None,
            || RankedMutex::new(Rank::Leaf, Vec::new()),
            &[&holder, &other],
            |lock, trace| {
                let seen = lock.lock().clone();
                assert!(
                    seen == ["holder in", "holder out", "other"]
                        || seen == ["other", "holder in", "holder out"],
                    "{seen:?}\n{trace}"
                );
            },
        );
        assert!(runs >= 3, "{runs}");
    }
}
