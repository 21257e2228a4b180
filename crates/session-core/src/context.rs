//! A session's context and its checkpoints: the context read through a
//! [`ContextProvider`] where it lives, the last read kept as text with the
//! tracker state read right after it, and how each kind of save reads it
//! (`Read`).
//!
//! # Invariants
//! - The context is kept as the text `JSON.stringify` printed
//!   ([`ContextText`]), with the tracker state and version read right after
//!   it (a *checkpoint*), so a write can always pair a context with its own
//!   progress.
//! - The context is *stale* when progress was made on its thread since it
//!   was last read, without reading it: the context may have changed with
//!   that progress. Only a read anew on its thread, or a catch-up
//!   (`ContextCell::catch_up`), makes it fresh again.
//! - A context is read (which runs user code) with no lock of the package
//!   held; a read started from inside a read of the same context (a
//!   `toJSON` that flushes) uses the last context read instead.
//! - Nothing outside this module changes a checkpoint: every change is one
//!   of `ContextCell`'s methods, which keep the above.
//!
//! # Lock order
//! `last` and `provider` are leaves ([`crate`]): nothing is taken inside
//! them (the tracker state of a checkpoint is read before `last` is taken),
//! and the provider is asked only [`ContextProvider::readable_here`] under
//! its lock.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::clock;
use crate::error::{CoreError, Result, Thrown};
use crate::id::SessionId;
use crate::progress::{ProgressState, ProgressTracker};
use crate::state::ContextText;
use crate::sync::{Rank, RankedMutex};

/// Why a context could not be serialized.
#[derive(Debug)]
pub struct ReadError {
    /// The message of what the serializer threw.
    pub message: String,
    /// What it threw, kept with the error this read becomes.
    pub thrown: Option<Thrown>,
}

impl From<String> for ReadError {
    fn from(message: String) -> Self {
        Self {
            message,
            thrown: None,
        }
    }
}

/// Reads a session's context where it lives (a JavaScript object, say).
pub trait ContextProvider: Send + Sync {
    /// The context as JSON text, read now; `Ok(None)` when it cannot be read
    /// on this thread; `Err` when it cannot be serialized. Runs user code:
    /// called with no lock of the core held.
    fn read(&self) -> std::result::Result<Option<String>, ReadError>;

    /// Whether [`read`](Self::read) can read the context on the calling
    /// thread (its own thread). Called under a leaf lock: must answer
    /// without running user code.
    fn readable_here(&self) -> bool {
        true
    }

    /// Runs `job` on the context's own thread, later; a job for a thread
    /// that is gone is dropped.
    fn post(&self, job: Box<dyn FnOnce() + Send>) {
        job();
    }
}

/// How a save reads the context, named by the saves it is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Read {
    /// A save a caller waits for (create aside: `cancel_session`,
    /// `complete_session`, `fail_session`, `save_all`, the reads of a
    /// flush): the context is read anew, and one that cannot be serialized
    /// fails the save with that error.
    ForCaller,
    /// A save whose failure nobody hears, made on the context's thread (a
    /// progress update, the background writer or a catch-up run there): the
    /// context is read anew; one that cannot be serialized keeps the last
    /// good one.
    Unheard,
    /// A save that does not read the context: off its thread (a served
    /// cancellation request), right after it was read (a flush's writes),
    /// at creation (the text given is the first read) or at teardown (a
    /// dropped writer). The last context read is written, with the tracker
    /// as it is now.
    WithoutReading,
    /// The background writer's save: the last context read, with the
    /// tracker as it was read with it when the context is stale, else as it
    /// is now, so a file's progress never runs ahead of its context.
    Background,
}

impl Read {
    /// Whether a save of this kind reads the context anew.
    fn reads(self) -> bool {
        matches!(self, Read::ForCaller | Read::Unheard)
    }
}

/// A session's context, read through its provider: at every save made on
/// its own thread, and on a progress update at most once per persist
/// interval (a read serializes the whole context). Its state is private:
/// see the [module](self) for what its methods keep.
pub(crate) struct ContextCell {
    /// The last context read: the current checkpoint.
    last: RankedMutex<LastRead>,
    /// Where the context lives; taken away when the session finishes
    /// ([`release`](Self::release)), so that a finished session holds no
    /// reference into JavaScript while its handle waits to be collected.
    /// A leaf lock, held only to clone or take the `Arc`, or to ask
    /// [`ContextProvider::readable_here`].
    provider: RankedMutex<Option<Arc<dyn ContextProvider>>>,
    /// Set while the provider runs, so that a save started by user code
    /// from inside it (a `toJSON` that flushes) uses the last context read.
    reading: AtomicBool,
}

/// A checkpoint: the context as last read, and the tracker with it.
struct LastRead {
    /// The context as `JSON.stringify` printed it.
    json: ContextText,
    /// When it was read ([`clock::monotonic_ms`]).
    read_at: f64,
    /// The tracker's state and version right after it was read.
    paired: Option<(ProgressState, u64)>,
    /// Progress was made on the context's thread since it was read, without
    /// reading it: the context may have changed with it.
    stale: bool,
    /// How many times the context was read (0: the text given), so that a
    /// write knows whether the context it would write is already written.
    generation: u64,
}

/// What a save writes of the context: the last read, which read it is, and
/// (for a background write of a stale context) the tracker state read with
/// it.
pub(crate) struct Checkpoint {
    pub(crate) json: ContextText,
    pub(crate) generation: u64,
    pub(crate) paired: Option<(ProgressState, u64)>,
}

impl ContextCell {
    /// A context first given as the text `json` (checked to be an object),
    /// read later through `provider`.
    pub(crate) fn new(
        json: String,
        provider: Option<Box<dyn ContextProvider>>,
        id: &SessionId,
    ) -> Result<Self> {
        Ok(Self {
            last: RankedMutex::new(
                Rank::Leaf,
                LastRead {
                    json: context_text(json, id)?,
                    read_at: clock::monotonic_ms(),
                    paired: None,
                    stale: false,
                    generation: 0,
                },
            ),
            provider: RankedMutex::new(Rank::Leaf, provider.map(Arc::from)),
            reading: AtomicBool::new(false),
        })
    }

    /// Makes the text given at creation the first checkpoint, paired with
    /// `tracker` as it starts (before the session's first write).
    pub(crate) fn first_checkpoint(&self, tracker: &ProgressTracker) {
        let start = tracker.snapshot();
        self.last.lock().paired = Some(start);
    }

    /// Where the context lives, while the session is live.
    pub(crate) fn provider(&self) -> Option<Arc<dyn ContextProvider>> {
        self.provider.lock().clone()
    }

    /// Whether the context can be read on the calling thread (asked on
    /// every progress update: no `Arc` is cloned for it, and the provider's
    /// answer runs no user code).
    pub(crate) fn readable_here(&self) -> bool {
        self.provider
            .lock()
            .as_ref()
            .is_some_and(|p| p.readable_here())
    }

    /// Lets go of the provider and of the tracker state paired with the
    /// last read: the context is not read again. Dropped outside the lock
    /// (dropping a JavaScript reference may post to its thread).
    pub(crate) fn release(&self) {
        let provider = self.provider.lock().take();
        self.last.lock().paired = None;
        drop(provider);
    }

    /// The context as last read, as JSON text.
    pub(crate) fn last_json(&self) -> String {
        self.last.lock().json.as_str().to_string()
    }

    /// Reads the context anew when `how` reads and it can be read here, and
    /// makes it the checkpoint, paired with `tracker` as it is right after;
    /// `Ok(false)` when it was not read. A context that cannot be
    /// serialized is an error for [`Read::ForCaller`] only.
    pub(crate) fn read_anew(
        &self,
        id: &SessionId,
        how: Read,
        tracker: &ProgressTracker,
    ) -> Result<bool> {
        let read = match self.provider() {
            Some(provider) if how.reads() && !self.reading.swap(true, Ordering::AcqRel) => {
                // Cleared however the read ends (a panic included), so a
                // failed read never leaves the context unreadable.
                struct Done<'a>(&'a AtomicBool);
                impl Drop for Done<'_> {
                    fn drop(&mut self) {
                        self.0.store(false, Ordering::Release);
                    }
                }
                let _done = Done(&self.reading);
                provider.read()
            }
            _ => Ok(None),
        };
        let json = match read {
            Ok(Some(json)) => json,
            Ok(None) => return Ok(false),
            Err(e) if how == Read::ForCaller => {
                return Err(CoreError::context(id, e.message, e.thrown))
            }
            Err(_) => return Ok(false),
        };
        let json = match context_text(json, id) {
            Ok(json) => json,
            Err(err) if how == Read::ForCaller => return Err(err),
            Err(_) => return Ok(false),
        };
        crate::interleave::point("context: read, progress not yet paired");
        // Taken after the read (which may run listeners) and outside `last`.
        let paired = tracker.snapshot();
        let mut last = self.last.lock();
        if last.json != json {
            last.json = json;
        }
        last.read_at = clock::monotonic_ms();
        last.paired = Some(paired);
        last.stale = false;
        last.generation += 1;
        Ok(true)
    }

    /// After a progress update: reads the context when it was last read
    /// `interval` ago or more (so a thread busy with updates still
    /// checkpoints every interval), else marks it stale. An update on
    /// another thread changes nothing: the context is not there.
    pub(crate) fn on_update(&self, id: &SessionId, interval: Duration, tracker: &ProgressTracker) {
        if !self.readable_here() {
            return;
        }
        let since = clock::monotonic_ms() - self.last.lock().read_at;
        // A clock set back (a test's fake clock) counts as time passed.
        if (since >= interval.as_secs_f64() * 1000.0 || since < 0.0)
            && self.read_anew(id, Read::Unheard, tracker).unwrap_or(false)
        {
            return;
        }
        self.last.lock().stale = true;
        crate::interleave::point("update: checkpoint marked stale");
    }

    /// On the context's thread, once a stale checkpoint was written: reads
    /// the context anew and, read or not, makes it fresh, so that the next
    /// background write writes the tracker as it is then (a context that
    /// cannot be read holds the file's progress back no longer).
    pub(crate) fn catch_up(&self, id: &SessionId, tracker: &ProgressTracker) {
        let _ = self.read_anew(id, Read::Unheard, tracker);
        self.last.lock().stale = false;
    }

    /// The context to write and, for a background write of a stale
    /// context, the tracker state read with it.
    pub(crate) fn to_write(&self, how: Read) -> Checkpoint {
        let last = self.last.lock();
        let paired = if how == Read::Background && last.stale {
            last.paired.clone()
        } else {
            None
        };
        Checkpoint {
            json: last.json.clone(),
            generation: last.generation,
            paired,
        }
    }

    /// Whether a write of read `generation` wrote the context as it is: it
    /// is the last read, and no progress was made on the context's thread
    /// since.
    pub(crate) fn is_written_by(&self, generation: u64) -> bool {
        let last = self.last.lock();
        !last.stale && last.generation <= generation
    }

    /// Whether progress was made on the context's thread since it was last
    /// read.
    pub(crate) fn is_stale(&self) -> bool {
        self.last.lock().stale
    }
}

/// `json` as a context, checked to be an object (what `JSON.stringify`
/// prints for one starts with `{`).
pub(crate) fn context_text(json: String, id: &SessionId) -> Result<ContextText> {
    ContextText::new(json).ok_or_else(|| {
        CoreError::context(
            id,
            "the context must serialize to a JSON object".into(),
            None,
        )
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::sync::atomic::AtomicU64;
    use std::sync::{Mutex, Weak};
    use std::thread::ThreadId;

    /// A job posted to a context's thread.
    pub(crate) type Job = Box<dyn FnOnce() + Send>;

    /// A context `{"n": n}` that lives on one thread (its home, which a
    /// test may move): read there only, as the binding's provider is; its
    /// reads are counted, a read fails while `failing`, and jobs posted to
    /// its thread wait until the test runs them.
    #[derive(Default)]
    pub(crate) struct Fake {
        home: Mutex<Option<ThreadId>>,
        pub(crate) n: AtomicU64,
        pub(crate) failing: AtomicBool,
        pub(crate) reads: AtomicU64,
        posted: Mutex<Vec<Job>>,
        /// A cell to save from inside a read, as a `toJSON` that flushes.
        reenter: Mutex<Option<(Weak<ContextCell>, ProgressTracker)>>,
    }

    impl Fake {
        /// A context at home on the calling thread.
        pub(crate) fn here() -> Arc<Self> {
            let fake = Arc::new(Self::default());
            fake.move_here();
            fake
        }

        /// Makes the calling thread the context's home.
        pub(crate) fn move_here(&self) {
            *self.home.lock().unwrap() = Some(std::thread::current().id());
        }

        pub(crate) fn provider(self: &Arc<Self>) -> Box<dyn ContextProvider> {
            Box::new(Provider(self.clone()))
        }

        /// The jobs posted to the context's thread so far.
        pub(crate) fn take_posted(&self) -> Vec<Job> {
            std::mem::take(&mut *self.posted.lock().unwrap())
        }

        pub(crate) fn has_posted(&self) -> bool {
            !self.posted.lock().unwrap().is_empty()
        }

        fn at_home(&self) -> bool {
            *self.home.lock().unwrap() == Some(std::thread::current().id())
        }
    }

    struct Provider(Arc<Fake>);

    impl ContextProvider for Provider {
        fn read(&self) -> std::result::Result<Option<String>, ReadError> {
            let fake = &self.0;
            if !fake.at_home() {
                return Ok(None);
            }
            fake.reads.fetch_add(1, Ordering::SeqCst);
            let reenter = fake.reenter.lock().unwrap().clone();
            if let Some((cell, tracker)) = reenter {
                let cell = cell.upgrade().unwrap();
                let id = SessionId::parse("inner").unwrap();
                assert!(!cell.read_anew(&id, Read::ForCaller, &tracker).unwrap());
            }
            if fake.failing.load(Ordering::SeqCst) {
                return Err("Converting circular structure to JSON".to_string().into());
            }
            Ok(Some(format!("{{\"n\":{}}}", fake.n.load(Ordering::SeqCst))))
        }

        fn readable_here(&self) -> bool {
            self.0.at_home()
        }

        fn post(&self, job: Job) {
            self.0.posted.lock().unwrap().push(job);
        }
    }

    fn id() -> SessionId {
        SessionId::parse("s1").unwrap()
    }

    fn cell(fake: &Arc<Fake>) -> (ContextCell, ProgressTracker) {
        let tracker = ProgressTracker::new("s1".into(), "op".into());
        let cell = ContextCell::new("{\"n\":0}".into(), Some(fake.provider()), &id()).unwrap();
        cell.first_checkpoint(&tracker);
        (cell, tracker)
    }

    fn written(cell: &ContextCell, how: Read) -> (String, Option<f64>) {
        let checkpoint = cell.to_write(how);
        (
            checkpoint.json.as_str().to_string(),
            checkpoint.paired.map(|(p, _)| p.progress),
        )
    }

    #[test]
    fn a_failed_read_fails_a_save_for_a_caller_and_keeps_the_last_good_context_otherwise() {
        let fake = Fake::here();
        let (cell, tracker) = cell(&fake);
        fake.n.store(1, Ordering::SeqCst);
        assert!(cell.read_anew(&id(), Read::ForCaller, &tracker).unwrap());
        fake.failing.store(true, Ordering::SeqCst);
        let err = cell
            .read_anew(&id(), Read::ForCaller, &tracker)
            .unwrap_err();
        assert_eq!(err.code(), "ERR_CONTEXT_NOT_SERIALIZABLE");
        assert!(err.to_string().contains("circular"), "{err}");
        assert!(!cell.read_anew(&id(), Read::Unheard, &tracker).unwrap());
        assert_eq!(cell.last_json(), "{\"n\":1}");
        // A context that is not an object is refused the same way.
        assert!(ContextCell::new("[1]".into(), None, &id()).is_err());
        // A failed read leaves the context readable.
        fake.failing.store(false, Ordering::SeqCst);
        fake.n.store(2, Ordering::SeqCst);
        assert!(cell.read_anew(&id(), Read::Unheard, &tracker).unwrap());
        assert_eq!(cell.last_json(), "{\"n\":2}");
    }

    #[test]
    fn a_context_is_read_at_home_only_and_never_by_saves_that_do_not_read() {
        let fake = Fake::here();
        let (cell, tracker) = cell(&fake);
        for how in [Read::WithoutReading, Read::Background] {
            assert!(!cell.read_anew(&id(), how, &tracker).unwrap());
        }
        std::thread::scope(|s| {
            s.spawn(|| {
                assert!(!cell.readable_here());
                assert!(!cell.read_anew(&id(), Read::ForCaller, &tracker).unwrap());
            });
        });
        assert_eq!(fake.reads.load(Ordering::SeqCst), 0);
        assert!(cell.readable_here());
        cell.release();
        assert!(!cell.readable_here());
        assert!(!cell.read_anew(&id(), Read::ForCaller, &tracker).unwrap());
        assert!(cell.provider().is_none());
    }

    #[test]
    fn a_save_from_inside_a_read_uses_the_last_context() {
        let fake = Fake::here();
        let tracker = ProgressTracker::new("s1".into(), "op".into());
        let cell =
            Arc::new(ContextCell::new("{\"n\":0}".into(), Some(fake.provider()), &id()).unwrap());
        *fake.reenter.lock().unwrap() = Some((Arc::downgrade(&cell), tracker.clone()));
        fake.n.store(5, Ordering::SeqCst);
        assert!(cell.read_anew(&id(), Read::ForCaller, &tracker).unwrap());
        assert_eq!(fake.reads.load(Ordering::SeqCst), 1);
        assert_eq!(cell.last_json(), "{\"n\":5}");
        // Not left "reading" after a read that panics either.
        *fake.reenter.lock().unwrap() = None;
        let panicking = ContextCell::new("{}".into(), Some(Box::new(Panics)), &id()).unwrap();
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            panicking.read_anew(&id(), Read::Unheard, &tracker)
        }));
        assert!(caught.is_err());
        assert!(!panicking.reading.load(Ordering::SeqCst));
    }

    struct Panics;
    impl ContextProvider for Panics {
        fn read(&self) -> std::result::Result<Option<String>, ReadError> {
            panic!("a serializer that panics")
        }
    }

    #[test]
    fn an_update_checkpoints_once_per_interval_and_marks_the_context_stale_between() {
        let fake = Fake::here();
        let (cell, tracker) = clock::with_time(0.0, || cell(&fake));
        let interval = Duration::from_millis(100);
        let step = |n: u64, ms: f64| {
            fake.n.store(n, Ordering::SeqCst);
            clock::with_time(ms, || {
                tracker.set_progress(n as f64, None).unwrap();
                cell.on_update(&id(), interval, &tracker);
            });
        };
        step(1, 50.0);
        assert!(cell.is_stale());
        // A stale context is written by the background writer with the
        // progress read with it (0, the start), by others with the tracker
        // as it is.
        assert_eq!(
            written(&cell, Read::Background),
            ("{\"n\":0}".into(), Some(0.0))
        );
        assert_eq!(
            written(&cell, Read::WithoutReading),
            ("{\"n\":0}".into(), None)
        );
        step(2, 100.0);
        assert!(!cell.is_stale());
        assert_eq!(fake.reads.load(Ordering::SeqCst), 1);
        assert_eq!(written(&cell, Read::Background), ("{\"n\":2}".into(), None));
        // An update on another thread changes nothing: the context is not there.
        std::thread::scope(|s| {
            s.spawn(|| cell.on_update(&id(), interval, &tracker));
        });
        assert!(!cell.is_stale());
    }

    #[test]
    fn a_catch_up_makes_the_context_fresh_even_when_it_cannot_be_read() {
        let fake = Fake::here();
        let (cell, tracker) = clock::with_time(0.0, || cell(&fake));
        let interval = Duration::from_millis(100);
        clock::with_time(10.0, || {
            tracker.set_progress(10.0, None).unwrap();
            cell.on_update(&id(), interval, &tracker);
        });
        assert!(cell.is_stale());
        fake.failing.store(true, Ordering::SeqCst);
        cell.catch_up(&id(), &tracker);
        assert!(!cell.is_stale());
        assert_eq!(written(&cell, Read::Background), ("{\"n\":0}".into(), None));
        // Released, its paired progress goes too.
        cell.release();
        assert_eq!(written(&cell, Read::Background), ("{\"n\":0}".into(), None));
    }
}
