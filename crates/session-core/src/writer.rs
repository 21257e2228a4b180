//! The writer of a manager: which sessions are dirty, the background writes
//! that put them on disk in batches, `flush`, and the errors of writes no
//! caller was there to hear.
//!
//! # When a session reaches the disk
//! - Explicit saves (`create_session`, `resume_session`, `cancel_session`,
//!   `complete_session`, `fail_session`, `save_all`, `flush`, `shutdown`)
//!   call `Writer::write` or `Writer::flush_failures` and write before
//!   they return.
//! - A tracker change calls `Writer::changed`: the session is marked dirty
//!   and the background write ([`Lane::Writes`]) writes the latest state of
//!   every dirty session at most `persist_interval` after the first change
//!   (coalescing what came between). With a zero interval the change is
//!   written before it returns.
//!
//! # Invariants
//! - A write never goes back in time: each session remembers the version of
//!   the state it last wrote and which read of the context it wrote with it
//!   (`Session::written`), and writes of one session are serialized by that
//!   lock, under which a write takes the context to write. A state written
//!   with the same read of the context is not written again unless forced.
//! - The background writer forgets a dirty session only when the file holds
//!   the tracker's last state with the context as it is (no progress on the
//!   context's thread since its last read, and that read written): a
//!   session whose older checkpoint was written stays dirty, for a catch-up
//!   or for the write that follows a read made meanwhile (a flush's).
//! - A context is read (which runs user code) before any lock is taken; the
//!   background writer reads only contexts that live on its thread, and
//!   writes the others as their last checkpoint (`Read::Background`), so a
//!   file's progress never runs ahead of its context. A session whose
//!   progress moved on since gets a read posted to its context's thread.
//! - A session whose write failed stays dirty: the next write of any kind
//!   retries it, and its error is kept (by session) until it is written or
//!   reported by a flush. One session that cannot be saved never stops the
//!   others.
//! - A writer that is dropped writes what is still dirty.
//!
//! # Lock order
//! `batch`, then `Session::written`, as the crate's lock order says
//! ([`crate`]); `dirty`, `background_errors` and the map of writers are
//! leaves (the live dirty sessions are taken out of `dirty` before their
//! contexts are asked anything).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock, Weak};
use std::time::Duration;

use indexmap::IndexMap;

use crate::context::Read;
use crate::error::{CoreError, Result};
use crate::progress::ProgressState;
use crate::session::{Session, Written};
use crate::state::ContextText;
use crate::store::SessionStore;
use crate::sync::{Rank, RankedMutex};
use crate::timer::{self, Lane};

/// The failures of a save, by session id, in save order.
pub(crate) type Failures = Vec<(String, CoreError)>;

/// Adds `error` for `id` unless `failures` already names that session.
pub(crate) fn push_failure(failures: &mut Failures, id: String, error: CoreError) {
    if !failures.iter().any(|(known, _)| *known == id) {
        failures.push((id, error));
    }
}

/// Sessions changed since their last write, or whose last write failed.
#[derive(Default)]
struct Dirty {
    /// Each session with the mark of the last time it was made dirty: the
    /// background write removes a session it wrote only when no change came
    /// since it looked (the mark is the same).
    sessions: IndexMap<String, (Weak<Session>, u64)>,
    /// The next mark.
    marks: u64,
    /// Whether a background write is scheduled (it writes every session
    /// here when it runs).
    scheduled: bool,
}

impl Dirty {
    /// Marks `session` dirty (once: a session changed twice is written
    /// once), with a new mark.
    fn insert(&mut self, session: &Arc<Session>) {
        self.marks += 1;
        let mark = self.marks;
        self.sessions
            .entry(session.id.to_string())
            .and_modify(|entry| entry.1 = mark)
            .or_insert_with(|| (Arc::downgrade(session), mark));
    }

    /// Takes every dirty session, for a write that writes them all.
    fn take(&mut self) -> Vec<Arc<Session>> {
        std::mem::take(&mut self.sessions)
            .into_values()
            .filter_map(|(session, _)| session.upgrade())
            .collect()
    }

    /// The live dirty sessions, without taking them.
    fn live(&self) -> Vec<Arc<Session>> {
        self.sessions
            .values()
            .filter_map(|(session, _)| session.upgrade())
            .collect()
    }
}

/// Writes the sessions of one manager to its store.
pub(crate) struct Writer {
    store: SessionStore,
    persist_interval: Duration,
    dirty: RankedMutex<Dirty>,
    /// Errors of writes nobody was there to hear (background writes,
    /// progress updates, served requests, auto-save), by session; an entry
    /// goes when that session is written, or when the next flush reports it.
    background_errors: RankedMutex<IndexMap<String, CoreError>>,
    /// Held while a batch of dirty sessions is taken and written, so that a
    /// flush waits for a background write in progress instead of finding
    /// the dirty set empty and returning before the disk has the changes.
    batch: RankedMutex<()>,
    /// Whether this writer holds one hold on the process's owner lock in
    /// its folder ([`crate::owner`]): taken before its first write (and its
    /// first after [`release_owner_lock`](Self::release_owner_lock)), given
    /// back when the manager shuts down (never when it is dropped).
    holding: AtomicBool,
}

impl Drop for Writer {
    fn drop(&mut self) {
        // A manager that goes away loses no change it can still write.
        let batch = self.dirty.lock().take();
        let _ = self.write_batch(&batch, Read::WithoutReading);
        // Its hold on the owner lock is kept: the sessions it wrote keep a
        // live owner while the process lives (a manager collected by
        // JavaScript's garbage collector never shut down).
    }
}

impl Writer {
    /// A writer to `store` whose disk lags a change by `persist_interval`
    /// at most; registered for [`flush_all`].
    pub(crate) fn new(store: SessionStore, persist_interval: Duration) -> Arc<Self> {
        let writer = Arc::new(Self {
            store,
            persist_interval,
            dirty: RankedMutex::with_default(Rank::Leaf),
            background_errors: RankedMutex::with_default(Rank::Leaf),
            batch: RankedMutex::new(Rank::Batch, ()),
            holding: AtomicBool::new(false),
        });
        let mut writers = writers().lock();
        writers.retain(|w| w.strong_count() > 0);
        writers.push(Arc::downgrade(&writer));
        writer
    }

    /// Makes this process a live owner in the writer's folder before a
    /// write that records it as the owner: takes the writer's hold on the
    /// owner lock unless it has it. Called under `Session::written`; takes
    /// only the leaf map of held locks.
    fn hold_owner_lock(&self) -> Result<()> {
        if !self.holding.load(Ordering::Acquire) {
            self.store.hold_process_lock()?;
            if self.holding.swap(true, Ordering::AcqRel) {
                // Another thread took it meanwhile: one hold per writer.
                self.store.release_process_lock();
            }
        }
        Ok(())
    }

    /// Gives back the writer's hold on the owner lock, if it has it (see
    /// [`crate::owner`]); its next write takes it again.
    pub(crate) fn release_owner_lock(&self) {
        if self.holding.swap(false, Ordering::AcqRel) {
            self.store.release_process_lock();
        }
    }

    /// Writes a session's current state. Unless `force`d, a state already
    /// written (same version) is not written again.
    pub(crate) fn write(&self, session: &Session, how: Read, force: bool) -> Result<()> {
        // The context is read before the write lock is taken: reading it runs
        // JavaScript, which may change the tracker and write again.
        session
            .context
            .read_anew(&session.id, how, &session.tracker)?;
        crate::interleave::point("write: context read, not yet written");
        let mut written = session.written.lock();
        // The checkpoint is taken under `written`: no write of an older read
        // of the context follows the write of a newer one.
        let checkpoint = session.context.to_write(how);
        let (progress, version) = (checkpoint.paired).unwrap_or_else(|| session.tracker.snapshot());
        if let Some(w) = *written {
            // Never back in time; and a state written with this read of the
            // context is written again only when `force`d.
            let done = w.version == version && w.generation >= checkpoint.generation;
            if w.version > version || (done && !force) {
                return Ok(());
            }
        }
        let generation = checkpoint.generation;
        self.save_locked(
            session,
            &mut written,
            checkpoint.json,
            progress,
            version,
            generation,
        )?;
        drop(written);
        let mut errors = self.background_errors.lock();
        if !errors.is_empty() {
            errors.shift_remove(session.id());
        }
        Ok(())
    }

    /// Writes the state `session` will have once its tracker is cancelled
    /// with `reason` ([`ProgressTracker::preview_cancel`]), before anyone
    /// can see the cancellation: an observer of the token reads `cancelled`
    /// from the file. The written version is the cancel's, so no write of
    /// an older state (a background write in progress) puts the file back.
    ///
    /// [`ProgressTracker::preview_cancel`]: crate::progress::ProgressTracker::preview_cancel
    pub(crate) fn write_cancelled(
        &self,
        session: &Session,
        reason: Option<String>,
        how: Read,
    ) -> Result<()> {
        session
            .context
            .read_anew(&session.id, how, &session.tracker)?;
        let mut written = session.written.lock();
        let checkpoint = session.context.to_write(how);
        let (progress, version) = session.tracker.preview_cancel(reason);
        let version = written.map_or(version, |w| w.version.max(version));
        let generation = checkpoint.generation;
        self.save_locked(
            session,
            &mut written,
            checkpoint.json,
            progress,
            version,
            generation,
        )
    }

    /// Saves `progress` and `context` as the session's state, with this
    /// process as a live owner, and records `version` and the context's
    /// read `generation` as written; called under the session's `written`
    /// lock (`written` is its guard).
    fn save_locked(
        &self,
        session: &Session,
        written: &mut Option<Written>,
        context: ContextText,
        progress: ProgressState,
        version: u64,
        generation: u64,
    ) -> Result<()> {
        self.hold_owner_lock()?;
        self.store.save(&session.to_state(context, progress))?;
        *written = Some(Written {
            version,
            generation,
        });
        Ok(())
    }

    /// Marks `session` to be written by the next write of any kind (without
    /// scheduling one: a failed write is retried when something else is
    /// written, not in a loop against a full disk).
    pub(crate) fn retry_later(&self, session: &Arc<Session>) {
        self.dirty.lock().insert(session);
    }

    /// Keeps the error of a write that no caller hears, for the next flush.
    pub(crate) fn keep_error(&self, id: String, error: CoreError) {
        self.background_errors.lock().insert(id, error);
    }

    /// Keeps the errors of writes that no caller hears, for the next flush.
    pub(crate) fn keep_errors(&self, failures: Failures) {
        if !failures.is_empty() {
            self.background_errors.lock().extend(failures);
        }
    }

    /// Forgets that `id` is dirty (its caller writes it now).
    pub(crate) fn forget_dirty(&self, id: &str) {
        self.dirty.lock().sessions.shift_remove(id);
    }

    /// Writes `session` now, in place of any write pending for it, reading
    /// the context as `how` says; a session whose write fails stays dirty for
    /// the next write of any kind.
    pub(crate) fn write_now(&self, session: &Arc<Session>, how: Read) -> Result<()> {
        self.forget_dirty(session.id());
        let written = self.write(session, how, true);
        if written.is_err() {
            self.retry_later(session);
        }
        written
    }

    /// Writes every session of `batch` that still exists; those that fail
    /// are marked for a retry and returned.
    fn write_batch(&self, batch: &[Arc<Session>], how: Read) -> Failures {
        let mut failures = Vec::new();
        for session in batch {
            if let Err(err) = self.write(session, how, false) {
                self.retry_later(session);
                failures.push((session.id.to_string(), err));
            }
        }
        failures
    }

    /// Called on every tracker change of a session.
    pub(crate) fn changed(self: &Arc<Self>, session: &Arc<Session>) {
        if self.persist_interval.is_zero() {
            // As in the reference, a failed write on a progress update does
            // not reach the caller; the next explicit save reports it.
            if let Err(err) = self.write(session, Read::Unheard, false) {
                self.retry_later(session);
                self.keep_error(session.id.to_string(), err);
            }
            return;
        }
        crate::interleave::point("update: tracker changed, context not told");
        // On the context's thread, read it (once per interval at most), so
        // the writer writes a context and progress taken together.
        session
            .context
            .on_update(&session.id, self.persist_interval, &session.tracker);
        self.mark_dirty(session);
    }

    /// Marks `session` dirty and schedules a background write.
    fn mark_dirty(self: &Arc<Self>, session: &Arc<Session>) {
        let schedule = {
            let mut dirty = self.dirty.lock();
            dirty.insert(session);
            !std::mem::replace(&mut dirty.scheduled, true)
        };
        crate::interleave::point("update: marked dirty, not yet scheduled");
        if schedule {
            let writer = Arc::downgrade(self);
            timer::after_on(Lane::Writes, self.persist_interval, move || {
                if let Some(writer) = writer.upgrade() {
                    writer.write_dirty();
                }
            });
        }
    }

    /// The background write: every dirty session, as its last checkpoint;
    /// errors are kept for the next flush. A session whose progress moved
    /// on since its context was read gets a read on the context's thread
    /// when that thread is free, and a write after it; until then it stays
    /// dirty, so that a flush (at exit, say, when that read will never run)
    /// reads its context and writes its latest state.
    fn write_dirty(self: &Arc<Self>) {
        // Run on a context's own thread (a test's fake timers run it there),
        // the write reads contexts first, outside every lock.
        let dirty = self.dirty.lock().live();
        let here: Vec<_> = dirty
            .into_iter()
            .filter(|s| s.context.readable_here())
            .collect();
        for session in &here {
            let _ = session
                .context
                .read_anew(&session.id, Read::Unheard, &session.tracker);
        }
        crate::interleave::point("background: contexts here read");
        let stale = {
            let _writing = self.batch.lock();
            let batch: Vec<(Arc<Session>, u64)> = {
                let mut dirty = self.dirty.lock();
                dirty.scheduled = false;
                dirty
                    .sessions
                    .retain(|_, (session, _)| session.strong_count() > 0);
                dirty
                    .sessions
                    .values()
                    .filter_map(|(session, mark)| Some((session.upgrade()?, *mark)))
                    .collect()
            };
            crate::interleave::point("background: batch taken");
            let mut written = Vec::new();
            let mut stale = Vec::new();
            for (session, mark) in batch {
                let result = self.write(&session, Read::Background, false);
                crate::interleave::point("background: session written, not yet judged");
                match result {
                    Err(err) => self.keep_error(session.id.to_string(), err),
                    Ok(()) if up_to_date(&session) => written.push((session.id.to_string(), mark)),
                    Ok(()) if session.context.is_stale() => stale.push(session),
                    // An older checkpoint was written, and the context was
                    // read anew since on its thread (by a flush waiting for
                    // this batch, say): it stays dirty for the write that
                    // follows that read.
                    Ok(()) => {}
                }
            }
            crate::interleave::point("background: batch written, dirty not cleaned");
            // Clean now: written, with no change marked since it was taken.
            let mut dirty = self.dirty.lock();
            for (id, mark) in written {
                if dirty.sessions.get(&id).is_some_and(|(_, now)| *now == mark) {
                    dirty.sessions.shift_remove(&id);
                }
            }
            stale
        };
        crate::interleave::point("background: before posting catch-ups");
        for session in stale {
            if let Some(provider) = session.context.provider() {
                let writer = Arc::downgrade(self);
                let weak = Arc::downgrade(&session);
                provider.post(Box::new(move || {
                    if let (Some(writer), Some(session)) = (writer.upgrade(), weak.upgrade()) {
                        writer.catch_up(&session);
                    }
                }));
            }
        }
    }

    /// On the context's thread: reads a stale context and schedules its
    /// write, so the disk catches up with progress made since.
    fn catch_up(self: &Arc<Self>, session: &Arc<Session>) {
        if !session.context.is_stale() || session.finished.load(Ordering::Acquire) {
            return;
        }
        crate::interleave::point("catch-up: checked stale");
        session.context.catch_up(&session.id, &session.tracker);
        self.mark_dirty(session);
    }

    /// Writes every dirty session, reading contexts anew, and returns what
    /// failed, with the errors of earlier unheard writes not retried with
    /// success since.
    pub(crate) fn flush_failures(&self) -> Failures {
        let mut failures = Vec::new();
        // Contexts are read first, outside every lock: a `toJSON` may call
        // back into the manager (even `flush`).
        let pending = self.dirty.lock().live();
        for session in &pending {
            if let Err(err) =
                session
                    .context
                    .read_anew(&session.id, Read::ForCaller, &session.tracker)
            {
                failures.push((session.id.to_string(), err));
            }
        }
        crate::interleave::point("flush: contexts read");
        {
            let _writing = self.batch.lock();
            let mut batch = self.dirty.lock().take();
            // A session whose context was refused stays dirty, unwritten.
            batch.retain(|session| {
                let refused = failures.iter().any(|(id, _)| id == session.id());
                if refused {
                    self.retry_later(session);
                }
                !refused
            });
            for (id, err) in self.write_batch(&batch, Read::WithoutReading) {
                push_failure(&mut failures, id, err);
            }
        }
        for (id, err) in std::mem::take(&mut *self.background_errors.lock()) {
            push_failure(&mut failures, id, err);
        }
        failures
    }

    /// [`flush_failures`](Self::flush_failures) as one error naming each
    /// session that failed.
    pub(crate) fn flush(&self) -> Result<()> {
        CoreError::from_failures(self.flush_failures())
    }

    fn dirty_count(&self) -> usize {
        self.dirty.lock().sessions.len()
    }
}

/// Whether the tracker's last state and the context as it is are the ones
/// written (a write of an older checkpoint leaves them behind).
fn up_to_date(session: &Session) -> bool {
    let written = session.written.lock();
    written.is_some_and(|w| {
        w.version >= session.tracker.snapshot().1 && session.context.is_written_by(w.generation)
    })
}

/// Every writer of the process, for [`flush_all`].
fn writers() -> &'static RankedMutex<Vec<Weak<Writer>>> {
    static WRITERS: OnceLock<RankedMutex<Vec<Weak<Writer>>>> = OnceLock::new();
    WRITERS.get_or_init(|| RankedMutex::with_default(Rank::Leaf))
}

/// The sessions waiting for a write over every writer of the process, and
/// how many writers (one per manager) live (see [`crate::live`]).
pub(crate) fn dirty_and_writers() -> (usize, usize) {
    let writers: Vec<_> = writers().lock().iter().filter_map(Weak::upgrade).collect();
    let dirty = writers.iter().map(|w| w.dirty_count()).sum();
    (dirty, writers.len())
}

/// Writes what every manager of the process has not written yet, waiting
/// for any background write in flight. Meant for process exit, where no
/// caller is left to hear an error: each session that could not be written
/// is returned as one line naming it, its file and why, for the caller to
/// print.
pub fn flush_all() -> Vec<String> {
    let writers: Vec<_> = writers().lock().iter().filter_map(Weak::upgrade).collect();
    let mut lines = Vec::new();
    for writer in writers {
        for (id, err) in writer.flush_failures() {
            lines.push(exit_failure(&writer.store, &id, &err));
        }
    }
    lines
}

/// The line that tells a session was not written at exit.
fn exit_failure(store: &SessionStore, id: &str, err: &CoreError) -> String {
    let file = crate::id::SessionId::parse(id)
        .map(|id| store.path_of(&id).display().to_string())
        .unwrap_or_else(|_| store.dir().display().to_string());
    format!("msw-session: session {id} was not saved at exit ({file}): {err}")
}

#[cfg(test)]
mod tests {
    //! The writer's unit tests, with a fake context ([`Fake`]) and the
    //! timer host; the concurrent ones search every interleaving of the
    //! writer's points ([`crate::interleave`]).
    //!
    //! # The interleavings searched
    //! Two threads: the background writer (`write_dirty`, on the writer's
    //! thread, where the context cannot be read) and the context's own
    //! thread (the JavaScript thread), which does, one after the other,
    //! what JavaScript does there:
    //! - updates racing a background batch (`updates_racing_a_batch`):
    //!   three updates (the first reads the context, the others leave it
    //!   stale);
    //! - a flush during a batch (`a_flush_during_a_batch`): two updates,
    //!   then `flush`;
    //! - a failed read (`a_failed_read_during_a_batch`): an update whose
    //!   read fails, a flush that reports it, a flush once it reads again;
    //! - a session finished mid-batch (`a_session_finished_mid_batch`): an
    //!   update, then what `complete_session` does.
    //!
    //! Every interleaving of the two threads' points with at most
    //! [`PREEMPTIONS`] switches away from a thread that could go on is run
    //! (a few hundred runs each). After each run: nothing is forgotten (a session whose
    //! last state is not on disk is dirty, with a background write
    //! scheduled or a catch-up posted), and once the scheduled write and
    //! the catch-ups have run, the disk holds the last state with the last
    //! context. Each scenario checks what its callers are promised when
    //! their call returns.
    //!
    //! Found by this search and fixed: a background write of an older
    //! checkpoint, while a flush read the context anew, forgot the session
    //! (the flush then found nothing to write and returned with the old
    //! state on disk); a write of a newer context with the version already
    //! written was skipped. Found and open (the ignored test): a background
    //! write between an update's change of the tracker and its marking the
    //! context stale writes the new progress with the old context, until
    //! the catch-up.
    use super::*;
    use crate::context::tests::Fake;
    use crate::interleave::model::explore;
    use crate::listeners::FnListener;
    use crate::progress::ProgressStatus;
    use crate::session::tests::session;
    use crate::state::SessionStatus;
    use std::cell::RefCell;
    use std::rc::Rc;
    use std::sync::atomic::Ordering::SeqCst;

    /// A writer of a fresh folder and one session on it, whose tracker's
    /// changes go to the writer as a manager's do (`SaveOnChange`).
    struct Model {
        _dir: tempfile::TempDir,
        writer: Arc<Writer>,
        session: Arc<Session>,
        fake: Arc<Fake>,
    }

    const INTERVAL: Duration = Duration::from_millis(100);

    /// The most switches away from a thread that could go on, per run:
    /// enough for each race found so far (one or two), and a search of
    /// seconds.
    const PREEMPTIONS: Option<usize> = Some(3);

    fn model() -> Model {
        let dir = tempfile::tempdir().unwrap();
        let writer = Writer::new(SessionStore::new(dir.path()), INTERVAL);
        let fake = Fake::here();
        let session = clock::with_time(0.0, || session("{\"n\":0}", Some(fake.provider())));
        writer.write(&session, Read::WithoutReading, true).unwrap();
        let (to, of) = (Arc::downgrade(&writer), Arc::downgrade(&session));
        session
            .tracker
            .on_progress(Arc::new(FnListener(move |_: &ProgressState| {
                if let (Some(writer), Some(session)) = (to.upgrade(), of.upgrade()) {
                    writer.changed(&session);
                }
            })));
        Model {
            _dir: dir,
            writer,
            session,
            fake,
        }
    }

    use crate::clock;

    impl Drop for Model {
        fn drop(&mut self) {
            // As a manager's shutdown does: the process keeps no open lock
            // file per run.
            self.writer.release_owner_lock();
        }
    }

    /// A host that keeps the jobs it is given (the test runs them).
    #[derive(Default)]
    struct Keep(RefCell<Vec<Box<dyn FnOnce()>>>);
    impl timer::Host for Keep {
        fn after(&self, _: Duration, job: Box<dyn FnOnce()>) {
            self.0.borrow_mut().push(job);
        }
    }

    impl Model {
        /// On the context's thread: makes it its home, with a host that
        /// keeps the background writes scheduled from it (what a test's
        /// fake timers do; a run's are never run).
        fn at_home(&self) {
            self.fake.move_here();
            timer::set_thread_host(Some(Rc::new(Keep::default())));
        }

        /// On the context's thread: the context changes in place, then the
        /// tracker takes step `n`, at `ms` on the thread's clock.
        fn step(&self, n: u64, ms: f64) {
            self.fake.n.store(n, SeqCst);
            clock::with_time(ms, || {
                self.session.tracker.set_progress(n as f64, None).unwrap()
            });
        }

        /// What `SessionManager::complete_session` does to a session.
        fn complete(&self) {
            self.fake.n.store(100, SeqCst);
            self.session.tracker.complete();
            self.writer
                .write_now(&self.session, Read::ForCaller)
                .unwrap();
            self.session.finished.store(true, Ordering::Release);
            self.session.context.release();
        }

        /// The file: its progress, its context's `n` and its status.
        fn on_disk(&self) -> (f64, u64, SessionStatus) {
            let state = self.writer.store.load(self.session.id()).unwrap().unwrap();
            let n = state.context["n"].as_u64().unwrap();
            (state.progress.progress, n, state.status)
        }

        fn written_version(&self) -> Option<u64> {
            self.session.written.lock().map(|w| w.version)
        }

        /// Nothing is forgotten: the last state is on disk, or the session
        /// is dirty with a write to come (scheduled, or after a catch-up
        /// posted to the context's thread).
        fn nothing_forgotten(&self, trace: &str) {
            let (_, version) = self.session.tracker.snapshot();
            if up_to_date(&self.session) {
                return;
            }
            let dirty = self.writer.dirty.lock();
            let due = dirty.sessions.contains_key(self.session.id());
            let scheduled = dirty.scheduled;
            drop(dirty);
            assert!(
                due && (scheduled || self.fake.has_posted()),
                "version {version} not written ({:?}), dirty {due}, scheduled \
                 {scheduled}, catch-up posted {}\n{trace}",
                self.written_version(),
                self.fake.has_posted()
            );
        }

        /// Runs what the run left to do, on a thread that is now the
        /// context's home: the background write it scheduled, then each
        /// catch-up posted and the write it schedules, until none is left;
        /// then the disk holds the last state with the last context.
        fn settle(&self, trace: &str) {
            std::thread::scope(|s| {
                s.spawn(|| {
                    let host = Rc::new(Keep::default());
                    self.fake.move_here();
                    timer::set_thread_host(Some(host.clone()));
                    if self.writer.dirty.lock().scheduled {
                        self.writer.write_dirty();
                    }
                    for _ in 0..10 {
                        let jobs: Vec<_> = self.fake.take_posted();
                        let kept: Vec<_> = host.0.borrow_mut().drain(..).collect();
                        if jobs.is_empty() && kept.is_empty() {
                            break;
                        }
                        jobs.into_iter().for_each(|job| job());
                        kept.into_iter().for_each(|job| job());
                    }
                    // The host is left in place: its jobs were run.
                });
            });
            let state = self.session.tracker.state();
            let (progress, n, status) = self.on_disk();
            assert_eq!(
                (progress, status),
                (state.progress, state.status.into()),
                "{trace}"
            );
            if state.status == ProgressStatus::Running || n != 100 {
                assert_eq!(n, self.fake.n.load(SeqCst), "{trace}");
            }
            assert_eq!(
                self.written_version(),
                Some(self.session.tracker.snapshot().1),
                "{trace}"
            );
        }
    }

    /// The background writer's thread: one background write.
    fn background(m: &Model) {
        m.writer.write_dirty();
    }

    fn check(m: &Model, trace: &str) {
        m.nothing_forgotten(trace);
        m.settle(trace);
    }

    #[test]
    fn updates_racing_a_batch() {
        let home = |m: &Model| {
            m.at_home();
            m.session.tracker.start(None).unwrap();
            for (n, ms) in [(1, 100.0), (2, 110.0), (3, 120.0)] {
                m.step(n, ms);
            }
        };
        let runs = explore(PREEMPTIONS, model, &[&background, &home], check);
        assert!(runs > 10, "{runs}");
    }

    /// Open: an update on the context's thread changes the tracker before
    /// it marks the context stale (`Writer::changed`, after the tracker's
    /// change); a background write between the two writes the last context
    /// read with the new progress. The file catches up (see the other
    /// tests), but until then its progress runs ahead of its context.
    #[test]
    #[ignore = "finds an open race: progress ahead of its context between an update and its staleness"]
    fn a_background_write_never_puts_progress_ahead_of_its_context() {
        let home = |m: &Model| {
            m.at_home();
            for (n, ms) in [(1, 100.0), (2, 110.0)] {
                m.step(n, ms);
            }
        };
        let background = |m: &Model| {
            m.writer.write_dirty();
            // Only this thread writes: the file is its write.
            let (progress, n, _) = m.on_disk();
            assert!(progress <= n as f64, "progress {progress} with context {n}");
        };
        explore(PREEMPTIONS, model, &[&background, &home], check);
    }

    #[test]
    fn a_flush_during_a_batch() {
        let home = |m: &Model| {
            m.at_home();
            m.step(1, 100.0);
            m.step(2, 110.0);
            m.writer.flush().unwrap();
            // A flush returns with the state as it was on disk, its
            // context read with it.
            assert_eq!(m.on_disk(), (2.0, 2, SessionStatus::Active));
        };
        let runs = explore(PREEMPTIONS, model, &[&background, &home], check);
        assert!(runs > 10, "{runs}");
    }

    #[test]
    fn a_failed_read_during_a_batch() {
        let home = |m: &Model| {
            m.at_home();
            m.fake.failing.store(true, SeqCst);
            m.step(1, 100.0);
            let err = m.writer.flush().unwrap_err();
            assert_eq!(err.code(), "ERR_CONTEXT_NOT_SERIALIZABLE");
            // Refused, not written: the context that could not be read is
            // not paired with progress made with it.
            assert_eq!(m.on_disk().1, 0);
            m.fake.failing.store(false, SeqCst);
            m.writer.flush().unwrap();
            assert_eq!(m.on_disk(), (1.0, 1, SessionStatus::Active));
        };
        let runs = explore(PREEMPTIONS, model, &[&background, &home], check);
        assert!(runs > 10, "{runs}");
    }

    #[test]
    fn a_session_finished_mid_batch() {
        let home = |m: &Model| {
            m.at_home();
            m.step(1, 100.0);
            m.complete();
            assert_eq!(m.on_disk(), (100.0, 100, SessionStatus::Completed));
        };
        let runs = explore(
            PREEMPTIONS,
            model,
            &[&background, &home],
            |m: &Model, trace: &str| {
                check(m, trace);
                // Never back in time: the file still says completed.
                assert_eq!(m.on_disk().2, SessionStatus::Completed, "{trace}");
            },
        );
        assert!(runs > 10, "{runs}");
    }
}
