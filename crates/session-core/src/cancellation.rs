//! Cooperative cancellation: a [`CancellationToken`] that operations check and
//! a [`CancellationSource`] that the controller cancels.
//!
//! # Invariants
//! - A token is cancelled at most once; the first reason wins.
//! - The shared flag ([`SharedFlag`]) turns from 0 to 1 after the reason is
//!   stored, under the state lock, so whoever sees the flag set can read the
//!   reason.
//! - Each callback runs exactly once: either when the token is cancelled, or
//!   at once when registered on a token that already is. The list is emptied
//!   by the cancellation, so callbacks (and what they hold) are released.
//!
//! # Lock order
//! The state lock (`reason`) is a `Notifier` in the crate's order
//! ([`crate`]): `cancel` takes the callback list under it and posts to
//! callbacks at home on other threads before releasing it, and
//! `on_cancelled` adds to the list under it; the other callbacks run after
//! it is released. A source's `links` and `timer` are leaves: `dispose`
//! takes the links out before it removes them from their parents.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use crate::cancel_flags::FlagSlot;
use crate::listeners::{self, FnListener, Listener, ListenerId, Listeners};
use crate::sync::{Rank, RankedMutex};
use crate::timer::{self, TimerHandle};

struct Inner {
    flag: FlagSlot,
    reason: RankedMutex<Option<Option<String>>>,
    callbacks: Listeners<Option<String>>,
}

/// The read side of cancellation. Clones share the same state.
#[derive(Clone)]
pub struct CancellationToken {
    inner: Arc<Inner>,
}

impl Default for CancellationToken {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for CancellationToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CancellationToken")
            .field("cancelled", &self.is_cancelled())
            .finish()
    }
}

impl CancellationToken {
    /// A token that is not cancelled.
    ///
    /// ```
    /// let token = msw_session_core::CancellationToken::new();
    /// assert!(!token.is_cancelled());
    /// ```
    pub fn new() -> Self {
        Self {
            inner: Arc::new(Inner {
                flag: FlagSlot::new(),
                reason: RankedMutex::new(Rank::Notifier, None),
                callbacks: Listeners::default(),
            }),
        }
    }

    /// Whether cancellation has been requested.
    pub fn is_cancelled(&self) -> bool {
        self.inner.flag.flag().load(Ordering::Acquire) != 0
    }

    /// The reason of the cancellation: `None` while not cancelled,
    /// `Some(None)` when cancelled without a reason.
    pub fn reason(&self) -> Option<Option<String>> {
        self.inner.reason.lock().clone()
    }

    /// Registers a callback for the cancellation. On a token already cancelled
    /// the callback is delivered at once and `None` is returned (there is
    /// nothing left to remove).
    pub fn on_cancelled(&self, callback: Arc<dyn Listener<Option<String>>>) -> Option<ListenerId> {
        // The callback is added under the state lock, so a concurrent
        // `cancel` either sees it in the list or has already stored a reason.
        let reason = {
            let stored = self.inner.reason.lock();
            match &*stored {
                Some(reason) => reason.clone(),
                None => return Some(self.inner.callbacks.add(callback)),
            }
        };
        listeners::deliver(&callback, &reason);
        None
    }

    /// Removes a callback registered with [`on_cancelled`](Self::on_cancelled).
    pub fn remove_callback(&self, id: ListenerId) -> bool {
        self.inner.callbacks.remove(id)
    }

    /// Cancels the token; returns `false` (and changes nothing) when it
    /// already was. Callbacks at home on other threads are posted to them;
    /// the others run here, in registration order, after the state lock is
    /// released.
    ///
    /// ```
    /// let token = msw_session_core::CancellationToken::new();
    /// assert!(token.cancel(Some("stop".into())));
    /// assert!(!token.cancel(Some("again".into())));
    /// assert_eq!(token.reason(), Some(Some("stop".to_string())));
    /// ```
    pub fn cancel(&self, reason: Option<String>) -> bool {
        let here = listeners::current_thread_id();
        let callbacks = {
            let mut stored = self.inner.reason.lock();
            if stored.is_some() {
                return false;
            }
            *stored = Some(reason.clone());
            self.inner.flag.flag().store(1, Ordering::Release);
            let callbacks = self.inner.callbacks.take();
            listeners::post_remote(&callbacks, &reason, here);
            callbacks
        };
        listeners::call_local(&callbacks, &reason, here);
        true
    }

    /// The memory that holds the cancelled flag (0 or 1), for readers that
    /// cannot call into Rust cheaply, such as a JavaScript `Int32Array`.
    pub fn shared_flag(&self) -> SharedFlag {
        SharedFlag {
            token: self.inner.clone(),
        }
    }
}

/// Keeps a token's flag alive and gives its address. The flag is an aligned
/// 32-bit integer, 0 until the token is cancelled and 1 after; it never
/// changes back.
pub struct SharedFlag {
    token: Arc<Inner>,
}

impl SharedFlag {
    /// The flag's page in [`cancel_flags`](crate::cancel_flags) and its
    /// place in it; the slot is this token's while this `SharedFlag` (or any
    /// clone of the token) lives.
    pub fn place(&self) -> (usize, usize) {
        self.token.flag.place()
    }

    /// Whether the flag is set.
    pub fn is_set(&self) -> bool {
        self.token.flag.flag().load(Ordering::Acquire) != 0
    }
}

/// The write side of cancellation: owns a token and cancels it. A source
/// may be linked to parent tokens (it is cancelled when any of them is) and
/// may own a timer; [`dispose`](Self::dispose) releases both. Clones share
/// the token, the links and the timer.
#[derive(Clone)]
pub struct CancellationSource {
    token: CancellationToken,
    links: Arc<RankedMutex<Vec<(CancellationToken, ListenerId)>>>,
    timer: Arc<RankedMutex<Option<TimerHandle>>>,
}

impl std::fmt::Debug for CancellationSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CancellationSource")
            .field("token", &self.token)
            .finish()
    }
}

impl Default for CancellationSource {
    fn default() -> Self {
        Self {
            token: CancellationToken::new(),
            links: Arc::new(RankedMutex::new(Rank::Leaf, Vec::new())),
            timer: Arc::new(RankedMutex::new(Rank::Leaf, None)),
        }
    }
}

impl CancellationSource {
    /// A source with a fresh token.
    pub fn new() -> Self {
        Self::default()
    }

    /// A source whose token is `token` (a session's, say).
    pub fn from_token(token: CancellationToken) -> Self {
        Self {
            token,
            ..Self::default()
        }
    }

    /// A source cancelled when any parent is — at once, when one already is
    /// — with that parent's reason. Cancelling it never cancels a parent.
    ///
    /// ```
    /// use msw_session_core::{CancellationSource, CancellationToken};
    /// let parent = CancellationToken::new();
    /// let child = CancellationSource::linked(std::slice::from_ref(&parent));
    /// child.cancel(None);
    /// assert!(!parent.is_cancelled());
    /// let child = CancellationSource::linked(std::slice::from_ref(&parent));
    /// parent.cancel(Some("shutdown".into()));
    /// assert_eq!(child.token().reason(), Some(Some("shutdown".into())));
    /// ```
    pub fn linked(parents: &[CancellationToken]) -> Self {
        let source = Self::new();
        for parent in parents {
            source.link(parent);
        }
        source
    }

    /// Links this source to one more parent.
    pub fn link(&self, parent: &CancellationToken) {
        // The parent holds the child until it is cancelled or the link is
        // disposed: a child nobody else references still hears its parent
        // (and runs its callbacks), as with .NET's linked token sources.
        let child = self.token.clone();
        let listener = Arc::new(FnListener(move |reason: &Option<String>| {
            child.cancel(reason.clone());
        }));
        if let Some(id) = parent.on_cancelled(listener) {
            self.links.lock().push((parent.clone(), id));
        }
    }

    /// Releases the links to parents and stops the timer; the token keeps
    /// its state.
    pub fn dispose(&self) {
        // Taken out first: a parent's list is not taken under `links`.
        let links = std::mem::take(&mut *self.links.lock());
        for (parent, id) in links {
            parent.remove_callback(id);
        }
        let timer = self.timer.lock().take();
        if let Some(timer) = timer {
            timer.cancel();
        }
    }

    /// A source that cancels its token after `delay`, on the timer thread,
    /// with `reason`. The returned handle stops the timer.
    ///
    /// ```
    /// use std::time::Duration;
    /// let (source, _timer) = msw_session_core::CancellationSource::with_timeout(
    ///     Duration::from_millis(1), "Timeout after 1ms".into());
    /// while !source.token().is_cancelled() { std::thread::yield_now(); }
    /// ```
    pub fn with_timeout(delay: std::time::Duration, reason: String) -> (Self, TimerHandle) {
        let source = Self::new();
        // The timer holds the token until it fires or is stopped, so that
        // callbacks registered on a token nobody else references still run.
        let token = source.token.clone();
        let handle = timer::after(delay, move || {
            token.cancel(Some(reason));
        });
        *source.timer.lock() = Some(handle.clone());
        (source, handle)
    }

    /// Like [`with_timeout`](Self::with_timeout) with a JavaScript
    /// millisecond count: NaN and negative counts are refused, `Infinity`
    /// never fires.
    pub fn with_timeout_ms(ms: f64, reason: String) -> crate::Result<(Self, TimerHandle)> {
        let delay = timer::millis("timeoutMs", "a number >= 0", ms, ms >= 0.0)?;
        Ok(Self::with_timeout(delay, reason))
    }

    /// The token of this source.
    pub fn token(&self) -> &CancellationToken {
        &self.token
    }

    /// Cancels the token (see [`CancellationToken::cancel`]).
    pub fn cancel(&self, reason: Option<String>) -> bool {
        self.token.cancel(reason)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::listeners::FnListener;
    use std::sync::Mutex;
    use std::time::Duration;

    type Log = Arc<Mutex<Vec<String>>>;

    fn recorder() -> (Log, impl Fn(&str) -> Arc<dyn Listener<Option<String>>>) {
        let log = Arc::new(Mutex::new(Vec::new()));
        let l2 = log.clone();
        (log, move |name: &str| {
            let log = l2.clone();
            let name = name.to_string();
            Arc::new(FnListener(move |r: &Option<String>| {
                log.lock()
                    .unwrap()
                    .push(format!("{name}:{}", r.as_deref().unwrap_or("-")))
            })) as Arc<dyn Listener<Option<String>>>
        })
    }

    #[test]
    fn callbacks_run_once_in_order_with_the_first_reason() {
        let token = CancellationToken::new();
        let (log, make) = recorder();
        token.on_cancelled(make("a"));
        token.on_cancelled(Arc::new(FnListener(|_: &Option<String>| {
            panic!("bad callback")
        })));
        let removed = token.on_cancelled(make("removed")).unwrap();
        token.on_cancelled(make("b"));
        assert!(token.remove_callback(removed));
        assert!(token.cancel(Some("first".into())));
        assert!(!token.cancel(Some("second".into())));
        assert_eq!(*log.lock().unwrap(), vec!["a:first", "b:first"]);
        token.on_cancelled(make("late"));
        assert_eq!(log.lock().unwrap().last().unwrap(), "late:first");
        assert!(token.is_cancelled());
        assert!(token.shared_flag().is_set());
    }

    #[test]
    fn callbacks_may_reenter_the_token() {
        let token = CancellationToken::new();
        let t2 = token.clone();
        let seen = Arc::new(Mutex::new(None));
        let s2 = seen.clone();
        token.on_cancelled(Arc::new(FnListener(move |_: &Option<String>| {
            *s2.lock().unwrap() = Some((t2.is_cancelled(), t2.reason()));
            t2.cancel(Some("inner".into()));
        })));
        token.cancel(None);
        assert_eq!(*seen.lock().unwrap(), Some((true, Some(None))));
        assert_eq!(token.reason(), Some(None));
    }

    #[test]
    fn timeout_cancels_from_the_timer_thread() {
        let (source, _) = CancellationSource::with_timeout(Duration::from_millis(2), "late".into());
        let flag = source.token().shared_flag();
        while !flag.is_set() {
            std::thread::yield_now();
        }
        assert_eq!(source.token().reason(), Some(Some("late".into())));
    }

    #[test]
    fn timeouts_refuse_nan_and_negative_counts() {
        for bad in [f64::NAN, -1.0] {
            let err = CancellationSource::with_timeout_ms(bad, "x".into()).unwrap_err();
            assert_eq!(err.code(), "ERR_OUT_OF_RANGE");
            assert!(err.to_string().contains("\"timeoutMs\""));
        }
        let (never, _) = CancellationSource::with_timeout_ms(f64::INFINITY, "x".into()).unwrap();
        assert!(!never.token().is_cancelled());
    }

    #[test]
    fn linked_sources_follow_any_parent_and_dispose_unlinks() {
        let (a, b) = (CancellationToken::new(), CancellationToken::new());
        let child = CancellationSource::linked(&[a.clone(), b.clone()]);
        b.cancel(Some("b".into()));
        assert_eq!(child.token().reason(), Some(Some("b".into())));
        a.cancel(Some("a".into()));
        assert_eq!(child.token().reason(), Some(Some("b".into())));
        let already = CancellationSource::linked(std::slice::from_ref(&a));
        assert_eq!(already.token().reason(), Some(Some("a".into())));
        let parent = CancellationToken::new();
        let disposed = CancellationSource::linked(std::slice::from_ref(&parent));
        disposed.dispose();
        parent.cancel(None);
        assert!(!disposed.token().is_cancelled());
        // Held, so that the timeout cannot fire before the dispose.
        let held = crate::timer::hold_timer_thread();
        let (timed, _) = CancellationSource::with_timeout(Duration::from_millis(50), "t".into());
        timed.dispose();
        drop(held);
        let (probe, _) = CancellationSource::with_timeout(Duration::from_millis(100), "p".into());
        while !probe.token().is_cancelled() {
            std::thread::yield_now();
        }
        assert!(!timed.token().is_cancelled());
    }

    #[test]
    fn a_cancelled_timer_never_fires() {
        // Held, so that the 1 ms deadline cannot fire before the cancel.
        let held = crate::timer::hold_timer_thread();
        let (source, handle) =
            CancellationSource::with_timeout(Duration::from_millis(1), "x".into());
        handle.cancel();
        drop(held);
        let (probe, _) =
            CancellationSource::with_timeout(Duration::from_millis(20), "probe".into());
        while !probe.token().is_cancelled() {
            std::thread::yield_now();
        }
        assert!(!source.token().is_cancelled());
    }
}
