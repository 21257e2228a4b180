//! Listener lists and the rule that decides on which thread a listener runs.
//!
//! # Invariants
//! - A listener is called outside every lock of the core, so it may call back
//!   into the object that notified it (re-entrancy) without deadlock.
//! - A listener bound to a home thread ([`Listener::home`]) is *called* only on
//!   that thread. A change made on any other thread *posts* the event to it;
//!   posting happens while the notifying object still holds its state lock, so
//!   events posted to one home thread arrive in the order the changes were made.
//! - A listener that panics is isolated: the panic is caught and the remaining
//!   listeners still run.
//! - Listeners run in registration order.
//!
//! # Lock order
//! The list's lock is a `ListenerList` in the crate's order ([`crate`]),
//! taken under a tracker's or a token's state lock and taking nothing: a
//! notification takes a snapshot and calls the listeners with no lock held
//! (it posts to remote ones under the notifier's state lock, see
//! `post_remote`), and a removed listener is dropped after the lock.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::{self, ThreadId};

use crate::sync::{Rank, RankedMutex};

/// Something that hears events of type `E`.
pub trait Listener<E>: Send + Sync {
    /// Delivers the event on the current thread. Called only when
    /// [`home`](Listener::home) is `None` or the current thread.
    fn call(&self, event: &E);

    /// The thread this listener must run on, if any.
    fn home(&self) -> Option<ThreadId> {
        None
    }

    /// Queues the event for the home thread. Must not block and must not run
    /// user code; called while the notifier holds its state lock.
    fn post(&self, event: &E) {
        self.call(event);
    }
}

/// Runs jobs somewhere else — on a JavaScript thread, say. Used for work that
/// must happen on a particular thread, such as auto-save, which needs the JS
/// thread to read in-place context changes.
pub trait Executor: Send + Sync {
    /// Queues `job`; it may be dropped without running when the target is gone.
    fn execute(&self, job: Box<dyn FnOnce() + Send>);
}

/// Identifies a registered listener, for removal.
pub type ListenerId = u64;

type Entry<E> = (ListenerId, Arc<dyn Listener<E>>);

/// A list of listeners at one moment; cheap to take (one reference count),
/// since every change of the list makes a new one.
pub type Snapshot<E> = Arc<Vec<Entry<E>>>;

/// An ordered, removable list of listeners.
pub struct Listeners<E> {
    entries: RankedMutex<Snapshot<E>>,
    next_id: AtomicU64,
}

impl<E> Default for Listeners<E> {
    fn default() -> Self {
        Self {
            entries: RankedMutex::new(Rank::ListenerList, Arc::new(Vec::new())),
            next_id: AtomicU64::new(1),
        }
    }
}

impl<E> Listeners<E> {
    /// Appends a listener and returns its id.
    pub fn add(&self, listener: Arc<dyn Listener<E>>) -> ListenerId {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        Arc::make_mut(&mut self.entries.lock()).push((id, listener));
        id
    }

    /// Removes a listener; `false` when it was not registered (or already removed).
    pub fn remove(&self, id: ListenerId) -> bool {
        let mut entries = self.entries.lock();
        let Some(index) = entries.iter().position(|(entry_id, _)| *entry_id == id) else {
            return false;
        };
        let removed = Arc::make_mut(&mut entries).remove(index);
        // Dropped after the lock: the last reference to a listener may be
        // user code's to let go of.
        drop(entries);
        drop(removed);
        true
    }

    /// Removes every listener, returning them in order.
    pub fn take(&self) -> Snapshot<E> {
        std::mem::take(&mut *self.entries.lock())
    }

    /// The listeners in order, at this moment.
    pub fn snapshot(&self) -> Snapshot<E> {
        self.entries.lock().clone()
    }

    /// How many listeners are registered.
    pub fn len(&self) -> usize {
        self.entries.lock().len()
    }

    /// Whether no listener is registered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The first phase of a notification, run under the notifier's state lock:
/// posts the event to every listener whose home is another thread than `here`.
pub(crate) fn post_remote<E>(listeners: &[Entry<E>], event: &E, here: ThreadId) {
    for (_, listener) in listeners {
        if listener.home().is_some_and(|home| home != here) {
            let _ = catch_unwind(AssertUnwindSafe(|| listener.post(event)));
        }
    }
}

/// The second phase, run once the lock is released: calls, in order, every
/// listener without a home or at home on `here`, isolating panics.
pub(crate) fn call_local<E>(listeners: &[Entry<E>], event: &E, here: ThreadId) {
    for (_, listener) in listeners {
        if listener.home().is_none_or(|home| home == here) {
            let _ = catch_unwind(AssertUnwindSafe(|| listener.call(event)));
        }
    }
}

/// The id of the calling thread. `thread::current()` clones a reference-
/// counted handle on every call; this reads a thread-local once it is set.
pub fn current_thread_id() -> ThreadId {
    thread_local! {
        static HERE: ThreadId = thread::current().id();
    }
    HERE.with(|id| *id)
}

/// Both phases at once, for a notifier without a state lock.
pub(crate) fn notify<E>(listeners: &[Entry<E>], event: &E) {
    let here = current_thread_id();
    post_remote(listeners, event, here);
    call_local(listeners, event, here);
}

/// Delivers one event to one listener on the right thread.
pub(crate) fn deliver<E>(listener: &Arc<dyn Listener<E>>, event: &E) {
    notify(&[(0, listener.clone())], event);
}

/// A listener made of a closure, with no home thread.
pub struct FnListener<F>(pub F);

impl<E, F: Fn(&E) + Send + Sync> Listener<E> for FnListener<F> {
    fn call(&self, event: &E) {
        (self.0)(event)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;
    use std::sync::Mutex;

    struct Remote {
        home: ThreadId,
        tx: Mutex<mpsc::Sender<u32>>,
    }

    impl Listener<u32> for Remote {
        fn call(&self, _: &u32) {
            panic!("a remote listener must not be called off its home thread");
        }
        fn home(&self) -> Option<ThreadId> {
            Some(self.home)
        }
        fn post(&self, event: &u32) {
            self.tx.lock().unwrap().send(*event).unwrap();
        }
    }

    #[test]
    fn calls_in_order_and_isolates_panics() {
        let list = Listeners::<u32>::default();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let s1 = seen.clone();
        list.add(Arc::new(FnListener(move |e: &u32| {
            s1.lock().unwrap().push(*e)
        })));
        list.add(Arc::new(FnListener(|_: &u32| panic!("listener bug"))));
        let s3 = seen.clone();
        let id = list.add(Arc::new(FnListener(move |e: &u32| {
            s3.lock().unwrap().push(e + 100)
        })));
        notify(&list.snapshot(), &1);
        assert_eq!(*seen.lock().unwrap(), vec![1, 101]);
        assert!(list.remove(id));
        assert!(!list.remove(id));
        assert_eq!(list.len(), 2);
    }

    #[test]
    fn posts_to_listeners_at_home_elsewhere() {
        let (tx, rx) = mpsc::channel();
        let home = thread::spawn(|| thread::current().id()).join().unwrap();
        let listener: Arc<dyn Listener<u32>> = Arc::new(Remote {
            home,
            tx: Mutex::new(tx),
        });
        deliver(&listener, &7);
        deliver(&listener, &8);
        assert_eq!(rx.try_iter().collect::<Vec<_>>(), vec![7, 8]);
    }
}
