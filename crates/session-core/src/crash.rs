//! The crash scan: which sessions of a folder crashed, and how a crashed
//! session is marked. Whether a session crashed is decided in one place,
//! [`SessionStore::decide`], from its file's status, `updatedAt` and owner:
//! the scan ([`SessionStore::scan_crashed`]), the query of one session
//! ([`SessionStore::inspect`]), the listing with liveness
//! ([`SessionStore::list_states`]) and the recovery of crashed sessions
//! ([`SessionStore::fail_crashed`]) all ask it.
//!
//! A session crashed when its file says `active` and its owner is gone — at
//! once when the owner's lock shows it ([`owner`](crate::owner)), otherwise
//! (another host, a file without an owner, as the reference writes) when
//! `updatedAt` is more than the threshold before now. A live owner is never
//! reported.
//!
//! A crashed session is reported as the reference reports it, `{
//! ...JSON.parse(file), status: "crashed", crashedAt }`: its state with
//! `status` set to `crashed` and `crashedAt` to the time of the scan, every
//! other field and the order of the fields as in the file. The file is read
//! as `JSON.parse` reads it (keys with escapes, keys written twice: see
//! [`js_json`]), and marked in its own text
//! (`mark_crashed`, the one function that marks a crashed state, used
//! by the scan and by the tests alike): what the batch holds parses to that
//! value. Files this
//! package wrote take a fast path: their header is read by a derived impl,
//! and marking stops at their one `status`.
//!
//! # Threads
//! A scan ([`CrashScan`]) reads its files in batches on up to four threads
//! of its own (reading is most of the work) while the caller takes the
//! batches read so far: JavaScript parses one batch while the next is read.
//! The threads take no lock of the package and run no user code; each ends
//! after its last batch, or at its next batch once the scan is dropped.

use std::borrow::Cow;
use std::sync::mpsc::Receiver;
use std::sync::Arc;

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::clock;
use crate::error::{CoreError, Result};
use crate::id::SessionId;
use crate::js_json;
use crate::js_text;
use crate::owner::{Liveness, Owner};
use crate::state::SessionStatus;
use crate::store::{check_non_negative, SessionStore};

impl SessionStore {
    /// Starts a crash scan of this folder, with `stale_ms` as the threshold
    /// for owners that cannot be checked, judged at `now_ms`: its batches
    /// (arrays of the crashed sessions' states as `mark_crashed` marks
    /// them) come in the order of the sorted
    /// listing, each one JSON array, read ahead on threads while the caller
    /// parses the ones it has.
    pub fn scan_crashed(&self, stale_ms: f64, now_ms: i64) -> Result<CrashScan> {
        check_non_negative("staleThresholdMs", stale_ms)?;
        let job = Arc::new(Job {
            store: self.clone(),
            ids: self.list()?,
            // Each file is opened relative to the folder, not by its whole path.
            dir: std::fs::File::open(self.dir()).ok(),
            at: quoted(&clock::iso_from_ms(now_ms).unwrap_or_default()),
            stale_ms,
            now_ms,
        });
        Ok(CrashScan::start(job))
    }

    /// What the session file `text` of `id` says of a crash (a file that is
    /// not a session state is moved aside).
    fn judge(&self, id: &SessionId, text: &str, stale_ms: f64, now_ms: i64) -> Verdict {
        let mapped = js_text::json_in(text);
        let Some((header, once)) = self.header(id, &mapped) else {
            return Verdict::Not;
        };
        let owner = header.owner.and_then(|raw| Owner::read(raw.get()));
        let decision = self.decide(
            header.status,
            &header.updated_at,
            owner.as_ref(),
            stale_ms,
            now_ms,
        );
        match decision {
            Decision::Is(OwnerState::Crashed) => Verdict::Crashed {
                // The first `status` is the only one, and no `crashedAt`
                // follows: marking may stop there.
                stop_at_status: once && !header.crashed_at,
            },
            Decision::Is(_) => Verdict::Not,
            Decision::OwnerGone => Verdict::Recheck,
        }
    }

    /// Whether a session crashed: the one place that decides, used by the
    /// crash scan ([`scan_crashed`](Self::scan_crashed)), by
    /// [`inspect`](Self::inspect) and by [`list_states`](Self::list_states).
    ///
    /// A session file that says anything but `active` is
    /// [`Finished`](OwnerState::Finished) (a `crashed` status is only ever
    /// on a copy a scan returned; one saved back counts as finished, as
    /// `cleanup` counts it). An active one whose owner's lock is held is
    /// [`Alive`](OwnerState::Alive); whose owner is gone,
    /// [`Decision::OwnerGone`]: crashed once a second read still says
    /// `active` (the owner may have finished it just before it exited).
    /// An owner that cannot be checked (another host, no owner record, as
    /// the reference writes) is [`Crashed`](OwnerState::Crashed) once
    /// `updated_at` is more than `stale_ms` before `now_ms`, and
    /// [`Unknown`](OwnerState::Unknown) until then.
    pub(crate) fn decide(
        &self,
        status: SessionStatus,
        updated_at: &str,
        owner: Option<&Owner>,
        stale_ms: f64,
        now_ms: i64,
    ) -> Decision {
        if status != SessionStatus::Active {
            return Decision::Is(OwnerState::Finished);
        }
        match self.owner_liveness(owner) {
            Liveness::Alive => Decision::Is(OwnerState::Alive),
            Liveness::Gone => Decision::OwnerGone,
            Liveness::Unknown => {
                let stale =
                    clock::parse_iso_ms(updated_at).is_some_and(|t| (now_ms - t) as f64 > stale_ms);
                Decision::Is(if stale {
                    OwnerState::Crashed
                } else {
                    OwnerState::Unknown
                })
            }
        }
    }

    /// The status a session file states, `None` (and the file moved aside)
    /// when it is not a session state.
    pub(crate) fn status_of(&self, id: &SessionId, text: &str) -> Option<SessionStatus> {
        let mapped = js_text::json_in(text);
        self.header(id, &mapped).map(|(h, _)| h.status)
    }

    /// The deciding fields of a session file (as [`js_text::json_in`] maps
    /// it), read as `JSON.parse` reads them, and whether each of them is
    /// written once (as in every file this package writes); `None`, and the
    /// file moved aside, when it is not a session state.
    fn header<'a>(&self, id: &SessionId, mapped: &'a str) -> Option<(Header<'a>, bool)> {
        let header = js_json::from_object::<Header<'a>>(mapped).ok();
        if header.is_none() {
            self.quarantine(id);
        }
        header
    }
}

/// Files per batch of a crash scan: a batch is one JSON text for the caller
/// to parse, and the unit a reader thread takes.
const BATCH: usize = 64;

/// Reader threads of a crash scan at most (each takes every `n`-th batch).
const MAX_THREADS: usize = 4;

/// What a crash scan reads and how it judges.
struct Job {
    store: SessionStore,
    /// The ids of the folder's session files, sorted.
    ids: Vec<String>,
    /// The folder, open, when it could be opened.
    dir: Option<std::fs::File>,
    /// The time of the scan, as a JSON string literal.
    at: String,
    stale_ms: f64,
    now_ms: i64,
}

impl Job {
    fn batches(&self) -> usize {
        self.ids.len().div_ceil(BATCH)
    }

    /// The batch `k`: the crashed states among its files, marked, as one
    /// JSON array.
    fn batch(&self, k: usize) -> String {
        let ids = &self.ids[k * BATCH..((k + 1) * BATCH).min(self.ids.len())];
        let mut out = String::from("[");
        for state in ids.iter().filter_map(|id| self.marked(id)) {
            push_elements(&mut out, &state);
        }
        out.push(']');
        out
    }

    /// The state of session `id`, marked, when it crashed.
    fn marked(&self, id: &str) -> Option<String> {
        let (store, dir) = (&self.store, self.dir.as_ref());
        let id = SessionId::parse(id).ok()?;
        let verdict = store.with_text_in(dir, &id, |text| {
            match store.judge(&id, text, self.stale_ms, self.now_ms) {
                Verdict::Crashed { stop_at_status } => {
                    Some(Some(mark_crashed(text, &self.at, stop_at_status)))
                }
                Verdict::Recheck => Some(None),
                Verdict::Not => None,
            }
        })??;
        // The owner is gone: read again, outside the first read.
        let marked = verdict.or_else(|| {
            store.with_text_in(dir, &id, |text| {
                (store.status_of(&id, text) == Some(SessionStatus::Active))
                    .then(|| mark_crashed(text, &self.at, false))
            })?
        })?;
        // Another user's file is never reported (one lstat per session
        // that would be).
        (!store.refuse_foreign_in(dir, &id)).then_some(marked)
    }
}

/// A crash scan under way ([`SessionStore::scan_crashed`]): an iterator of
/// its batches, each the crashed states of one batch of files as one
/// JSON array, in the order of the listing (batches without one are
/// skipped). Dropping it early stops its threads at their next batch.
pub struct CrashScan {
    job: Arc<Job>,
    /// The next batch to hand out.
    next: usize,
    /// The reader threads' batches: thread `t` reads batches `t`, `t + n`,
    /// … and sends them, in order, on `readers[t]`. Empty when the scan
    /// reads on the caller's thread (one batch, or no thread started).
    readers: Vec<Receiver<String>>,
}

impl CrashScan {
    fn start(job: Arc<Job>) -> CrashScan {
        let threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(MAX_THREADS)
            .min(job.batches());
        let mut readers = Vec::new();
        if threads > 1 {
            for t in 0..threads {
                // Two batches ahead per thread at most.
                let (send, receive) = std::sync::mpsc::sync_channel(2);
                let job = Arc::clone(&job);
                let spawned = std::thread::Builder::new()
                    .name("msw-crash-scan".into())
                    .spawn(move || {
                        for k in (t..job.batches()).step_by(threads) {
                            let read = std::panic::AssertUnwindSafe(|| job.batch(k));
                            // A panic ends the thread; the scan reports it.
                            let Ok(batch) = std::panic::catch_unwind(read) else {
                                return;
                            };
                            // A send fails when the scan was dropped.
                            if send.send(batch).is_err() {
                                return;
                            }
                        }
                    });
                if spawned.is_err() {
                    // Threads started already stop at their first send.
                    readers.clear();
                    break;
                }
                readers.push(receive);
            }
        }
        CrashScan {
            job,
            next: 0,
            readers,
        }
    }
}

impl Iterator for CrashScan {
    type Item = Result<String>;

    fn next(&mut self) -> Option<Result<String>> {
        while self.next < self.job.batches() {
            let k = self.next;
            self.next += 1;
            let batch = if self.readers.is_empty() {
                self.job.batch(k)
            } else {
                match self.readers[k % self.readers.len()].recv() {
                    Ok(batch) => batch,
                    Err(_) => {
                        self.next = self.job.batches();
                        return Some(Err(CoreError::Internal(
                            "a crash scan's reader thread stopped".into(),
                        )));
                    }
                }
            };
            if batch.len() > 2 {
                return Some(Ok(batch));
            }
        }
        None
    }
}

/// Appends `elements` (one or more JSON values, comma-separated) to the
/// JSON array opened in `array` (`[` and what came before), with a comma
/// after an element already there.
fn push_elements(array: &mut String, elements: &str) {
    if array.len() > 1 {
        array.push(',');
    }
    array.push_str(elements);
}

/// What a first read of a session file says.
enum Verdict {
    /// Not a crashed session.
    Not,
    /// A crashed session; whether marking it may stop at its `status` (see
    /// [`mark`]).
    Crashed { stop_at_status: bool },
    /// Active, its owner gone: crashed if a second read still says active.
    Recheck,
}

/// What can be said of a session's owner, judged from its file by
/// [`SessionStore::decide`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OwnerState {
    /// Active, and its owner's lock is held: the owner is at work.
    Alive,
    /// Active, and its owner is gone (at once when its lock shows it; when
    /// it cannot be checked, once the file is older than the threshold).
    Crashed,
    /// Active, its owner cannot be checked (another host, or no owner
    /// record), and the file is not yet older than the threshold.
    Unknown,
    /// Not active: completed, failed or cancelled.
    Finished,
}

impl OwnerState {
    /// The name JavaScript sees (`"alive"`, `"crashed"`, `"unknown"`,
    /// `"finished"`).
    pub fn name(self) -> &'static str {
        match self {
            OwnerState::Alive => "alive",
            OwnerState::Crashed => "crashed",
            OwnerState::Unknown => "unknown",
            OwnerState::Finished => "finished",
        }
    }
}

/// What [`SessionStore::decide`] says of a session file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Decision {
    /// Settled.
    Is(OwnerState),
    /// Active, its owner gone: crashed if a second read of the file still
    /// says `active`, else finished.
    OwnerGone,
}

/// The fields of a session file that decide whether it crashed; the rest
/// is skipped without being built (at any depth, see [`js_json`]).
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Header<'a> {
    status: SessionStatus,
    #[serde(borrow)]
    updated_at: Cow<'a, str>,
    /// Read leniently: an owner of another shape is no owner.
    #[serde(default, borrow)]
    owner: Option<&'a RawValue>,
    /// Whether the state has a `crashedAt` (of any value), so that marking
    /// it knows whether to look for one.
    #[serde(default, deserialize_with = "present")]
    crashed_at: bool,
}

/// `true` for a field that is there, whatever its value.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<bool, D::Error> {
    serde::de::IgnoredAny::deserialize(d).map(|_| true)
}

/// A session state (JSON text of an object) marked crashed at `at_json`
/// (the time as a JSON string literal, [`quoted`]), as the reference marks
/// it with `{ ...JSON.parse(state), status:
/// "crashed", crashedAt }`: the top-level `status` and `crashedAt` values
/// replaced where they are, `crashedAt` added last when the state has none;
/// the rest of the text unchanged. Keys are matched as `JSON.parse` reads
/// them (`"st\u0061tus"` is `status`), and of a key written twice the
/// first place is kept and the later ones are dropped, as `JSON.parse`
/// and the spread do. A text that is not a JSON object is returned as it
/// is. With `stop_at_status` (the state was read and has one `status` and
/// no `crashedAt`, as every file this package writes), the scan of the top
/// level stops at `status` — a crash scan's fast path.
pub(crate) fn mark_crashed(state: &str, at_json: &str, stop_at_status: bool) -> String {
    let at = at_json;
    const STATUS: &str = "\"crashed\"";
    let until = stop_at_status.then_some("status");
    let Some(members) = top_level_members(state, until) else {
        return state.to_string();
    };
    // The object's closing brace (the text was read: nothing but space
    // follows it). Any other text is left alone.
    let close = state.trim_ascii_end().len().saturating_sub(1);
    let closed = members.last().map_or(1, |m| m.value.1) <= close;
    if !closed || state.as_bytes().get(close) != Some(&b'}') {
        return state.to_string();
    }
    let mut out = String::with_capacity(state.len() + at.len() + 16);
    // `state[..from]` is in `out`; `end` is the end of the last member.
    let mut from = 0;
    let mut end = 0;
    let (mut has_status, mut has_crashed_at) = (false, false);
    for member in &members {
        let (seen, value) = match &*member.key {
            "status" => (&mut has_status, STATUS),
            "crashedAt" => (&mut has_crashed_at, at),
            _ => {
                end = member.value.1;
                continue;
            }
        };
        if *seen {
            // Written before: dropped with the comma before it (the first
            // place holds the value).
            out.push_str(&state[from..end]);
        } else {
            *seen = true;
            out.push_str(&state[from..member.value.0]);
            out.push_str(value);
        }
        from = member.value.1;
        end = member.value.1;
    }
    out.push_str(&state[from..close]);
    if !has_crashed_at {
        if !members.is_empty() {
            out.push(',');
        }
        out.push_str("\"crashedAt\":");
        out.push_str(at);
    }
    out.push_str(&state[close..]);
    out
}

/// A string as a JSON string literal (the time [`mark_crashed`] takes).
pub(crate) fn quoted(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_default()
}

/// One `"key": value` of an object's top level: the key as `JSON.parse`
/// reads it, and the byte range of the value.
struct Member<'a> {
    key: Cow<'a, str>,
    value: (usize, usize),
}

/// The top-level members of the JSON object `text`, in order, up to the
/// first one named `until` when given; `None` when `text` is not one. It is
/// assumed to be JSON (it was read); other text gives some members or
/// `None`, never a panic.
fn top_level_members<'a>(text: &'a str, until: Option<&str>) -> Option<Vec<Member<'a>>> {
    let bytes = text.as_bytes();
    let mut i = skip_space(bytes, 0);
    if bytes.get(i) != Some(&b'{') {
        return None;
    }
    i += 1;
    let mut members = Vec::new();
    loop {
        i = skip_space(bytes, i);
        match bytes.get(i)? {
            b'}' => return Some(members),
            b',' => i = skip_space(bytes, i + 1),
            _ => {}
        }
        let key_end = skip_value(bytes, i)?;
        let key = key_of(text.get(i..key_end)?)?;
        i = skip_space(bytes, key_end);
        if bytes.get(i) != Some(&b':') {
            return None;
        }
        let start = skip_space(bytes, i + 1);
        let end = skip_value(bytes, start)?;
        let last = until.is_some_and(|until| key == until);
        members.push(Member {
            key,
            value: (start, end),
        });
        if last {
            return Some(members);
        }
        i = end;
    }
}

/// The key that the JSON string literal `literal` stands for: the text
/// between its quotes when it has no escape (the fast path), else decoded
/// (lone surrogates as [`js_text`] maps them).
fn key_of(literal: &str) -> Option<Cow<'_, str>> {
    let inner = literal.strip_prefix('"')?.strip_suffix('"')?;
    if !inner.contains('\\') {
        return Some(Cow::Borrowed(inner));
    }
    serde_json::from_str::<String>(&js_text::json_in(literal))
        .ok()
        .map(Cow::Owned)
}

fn skip_space(bytes: &[u8], mut i: usize) -> usize {
    while bytes.get(i).is_some_and(|b| b.is_ascii_whitespace()) {
        i += 1;
    }
    i
}

/// The end of the JSON value that starts at `i`; nested values are skipped
/// by counting brackets, without recursion, at any depth.
fn skip_value(bytes: &[u8], i: usize) -> Option<usize> {
    match bytes.get(i)? {
        b'"' => {
            let mut j = i + 1;
            loop {
                j += memchr::memchr2(b'"', b'\\', bytes.get(j..)?)?;
                if bytes[j] == b'"' {
                    return Some(j + 1);
                }
                j += 2;
            }
        }
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut j = i;
            loop {
                j += bytes
                    .get(j..)?
                    .iter()
                    .position(|&b| matches!(b, b'"' | b'{' | b'[' | b'}' | b']'))?;
                match bytes[j] {
                    b'"' => j = skip_value(bytes, j)?,
                    b'{' | b'[' => {
                        depth += 1;
                        j += 1;
                    }
                    _ => {
                        depth -= 1;
                        j += 1;
                        if depth == 0 {
                            return Some(j);
                        }
                    }
                }
            }
        }
        _ => {
            let len = bytes[i..]
                .iter()
                .position(|b| matches!(b, b',' | b'}' | b']') || b.is_ascii_whitespace())
                .unwrap_or(bytes.len() - i);
            (len > 0).then_some(i + len)
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    use crate::owner::Owner;
    use crate::state::SessionState;
    use crate::store::tests::{save_four, state};

    impl SessionStore {
        /// The crashed sessions of this folder, with `stale_ms` as the
        /// threshold for owners that cannot be checked, judged at `now_ms`: one
        /// JSON text, an array of their states as [`mark_crashed`] marks them.
        /// The whole of [`scan_crashed`](Self::scan_crashed), joined (for the
        /// tests; the binding takes the batches as they come).
        pub(crate) fn find_crashed(&self, stale_ms: f64, now_ms: i64) -> Result<String> {
            let mut out = String::from("[");
            for batch in self.scan_crashed(stale_ms, now_ms)? {
                let batch = batch?;
                push_elements(&mut out, &batch[1..batch.len() - 1]);
            }
            out.push(']');
            Ok(out)
        }
    }

    /// The states a scan reports, parsed.
    pub(crate) fn crashed(store: &SessionStore, stale_ms: f64, now_ms: i64) -> Vec<SessionState> {
        let text = store.find_crashed(stale_ms, now_ms).unwrap();
        let values: Vec<serde_json::Value> =
            serde_json::from_str(&js_text::json_in(&text)).unwrap();
        values
            .into_iter()
            .map(|v| serde_json::from_value(v).unwrap())
            .collect()
    }

    #[test]
    fn finds_stale_active_sessions_marked_and_leaves_their_files() {
        let dir = tempfile::tempdir().unwrap();
        let store = SessionStore::new(dir.path());
        let now = clock::now_ms();
        save_four(&store, now);
        let fresh = clock::iso_from_ms(now).unwrap();
        let found = crashed(&store, 60_000.0, now);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].id, "stale");
        assert_eq!(found[0].status, SessionStatus::Crashed);
        assert_eq!(found[0].crashed_at.as_deref(), Some(fresh.as_str()));
        assert_eq!(
            store.load("stale").unwrap().unwrap().status,
            SessionStatus::Active
        );
        for bad in [f64::NAN, -1.0] {
            assert_eq!(
                store.find_crashed(bad, now).unwrap_err().code(),
                "ERR_OUT_OF_RANGE"
            );
        }
    }

    #[test]
    fn a_live_owner_is_never_reported_and_a_gone_one_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let store = SessionStore::new(dir.path());
        let now = clock::now_ms();
        let long_ago = clock::iso_from_ms(now - 86_400_000).unwrap();
        let owned_by = |instance: &str| {
            let mut owner = Owner::this_process();
            owner.instance = instance.into();
            serde_json::to_value(owner).unwrap()
        };
        // A live owner, quiet for a day: another process holding its lock.
        let mut quiet = state("quiet", SessionStatus::Active, &long_ago);
        quiet.extra.insert("owner".into(), owned_by("live-owner"));
        std::fs::create_dir_all(store.owners_dir()).unwrap();
        let live = crate::owner::FileLock::try_acquire(&store.owner_lock_path("live-owner"), 0o600)
            .unwrap()
            .unwrap();
        // An owner that is gone (no lock held), updated just now.
        let mut gone = state(
            "gone",
            SessionStatus::Active,
            &clock::iso_from_ms(now).unwrap(),
        );
        gone.extra.insert("owner".into(), owned_by("dead-owner"));
        store.save(&quiet).unwrap();
        store.save(&gone).unwrap();
        let found = crashed(&store, 60_000.0, now);
        assert_eq!(
            found.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(),
            vec!["gone"]
        );
        drop(live);
        assert_eq!(crashed(&store, 60_000.0, now).len(), 2);
        // This process, once it holds its own lock, is a live owner too.
        store.hold_process_lock().unwrap();
        let mut mine = state("mine", SessionStatus::Active, &long_ago);
        mine.extra
            .insert("owner".into(), owned_by(crate::process::this_instance()));
        store.save(&mine).unwrap();
        assert!(crashed(&store, 0.0, now).iter().all(|s| s.id != "mine"));
    }

    #[test]
    fn a_scan_keeps_the_order_of_its_files_in_its_batches_and_can_be_dropped_early() {
        let dir = tempfile::tempdir().unwrap();
        let store = SessionStore::new(dir.path());
        let old = clock::iso_from_ms(clock::now_ms() - 86_400_000).unwrap();
        let count = 10 * BATCH + 3;
        for i in 0..count {
            // One batch without a crashed session in the middle: skipped.
            let status = if (2 * BATCH..3 * BATCH).contains(&i) {
                SessionStatus::Completed
            } else {
                SessionStatus::Active
            };
            store
                .save(&state(&format!("s{i:04}"), status, &old))
                .unwrap();
        }
        let now = clock::now_ms();
        let batches: Vec<String> = store
            .scan_crashed(60_000.0, now)
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(batches.len(), 10);
        let mut ids = Vec::new();
        for batch in &batches {
            let states: Vec<SessionState> = serde_json::from_str(&js_text::json_in(batch)).unwrap();
            assert!(!states.is_empty() && states.len() <= BATCH);
            ids.extend(states.into_iter().map(|s| s.id));
        }
        let expected: Vec<String> = (0..count)
            .filter(|i| !(2 * BATCH..3 * BATCH).contains(i))
            .map(|i| format!("s{i:04}"))
            .collect();
        assert_eq!(ids, expected);
        // The joined scan says the same.
        let joined: Vec<String> = crashed(&store, 60_000.0, now)
            .into_iter()
            .map(|s| s.id)
            .collect();
        assert_eq!(joined, expected);
        // A scan dropped after its first batch returns at once, and the next
        // scan is whole.
        let mut scan = store.scan_crashed(60_000.0, now).unwrap();
        assert_eq!(scan.next().unwrap().unwrap(), batches[0]);
        drop(scan);
        assert_eq!(crashed(&store, 60_000.0, now).len(), expected.len());
    }

    #[test]
    fn a_scan_of_an_empty_or_missing_folder_has_no_batch() {
        let dir = tempfile::tempdir().unwrap();
        let store = SessionStore::new(dir.path());
        assert!(store.scan_crashed(0.0, 0).unwrap().next().is_none());
        assert_eq!(store.find_crashed(0.0, 0).unwrap(), "[]");
        assert!(store.scan_crashed(-1.0, 0).is_err());
    }

    #[test]
    fn marking_replaces_status_and_crashed_at_in_place_and_keeps_the_rest() {
        let at = "2026-12-01T00:00:00.000Z";
        // The order of the fields stays; crashedAt goes last when absent.
        let state = "{\n  \"id\": \"a\",\n  \"status\": \"active\",\n  \"context\": {\"status\": \"active\", \"s\": \"}\\\"{\"},\n  \"n\": [1, {\"x\": null}]\n}";
        let marked = mark_crashed(state, &quoted(at), false);
        assert_eq!(
            marked,
            "{\n  \"id\": \"a\",\n  \"status\": \"crashed\",\n  \"context\": {\"status\": \"active\", \"s\": \"}\\\"{\"},\n  \"n\": [1, {\"x\": null}]\n,\"crashedAt\":\"2026-12-01T00:00:00.000Z\"}"
        );
        let value: serde_json::Value = serde_json::from_str(&marked).unwrap();
        assert_eq!(value["context"]["status"], "active");
        let keys: Vec<_> = value.as_object().unwrap().keys().cloned().collect();
        assert_eq!(keys, ["id", "status", "context", "n", "crashedAt"]);
        // A crashedAt already there is replaced where it is.
        assert_eq!(
            mark_crashed(
                "{\"crashedAt\":\"x\",\"status\":\"active\",\"z\":true}",
                &quoted(at),
                false
            ),
            format!("{{\"crashedAt\":\"{at}\",\"status\":\"crashed\",\"z\":true}}")
        );
        assert_eq!(
            mark_crashed("{}", &quoted(at), false),
            format!("{{\"crashedAt\":\"{at}\"}}")
        );
        assert_eq!(mark_crashed("[1]", &quoted(at), false), "[1]");
    }

    #[test]
    fn a_scan_replaces_a_crashed_at_already_in_the_file_where_it_is() {
        let dir = tempfile::tempdir().unwrap();
        let store = SessionStore::new(dir.path());
        let now = clock::now_ms();
        let old = clock::iso_from_ms(now - 86_400_000).unwrap();
        let mut earlier = state("again", SessionStatus::Active, &old);
        earlier.crashed_at = Some(old.clone());
        store.save(&earlier).unwrap();
        let text = store.find_crashed(60_000.0, now).unwrap();
        let found: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap();
        let at = clock::iso_from_ms(now).unwrap();
        assert_eq!(found[0]["crashedAt"], at.as_str());
        assert_eq!(text.matches("\"crashedAt\"").count(), 1);
    }

    #[test]
    fn a_marked_file_with_lone_surrogates_keeps_them() {
        let dir = tempfile::tempdir().unwrap();
        let store = SessionStore::new(dir.path());
        std::fs::create_dir_all(store.dir()).unwrap();
        let text = "{\"id\":\"x\",\"operation\":\"\\ud83d\",\"status\":\"active\",\"progress\":{\"sessionId\":\"x\",\"operation\":\"op\",\"status\":\"running\",\"progress\":0,\"completedSteps\":[],\"startedAt\":\"2020-01-01T00:00:00.000Z\",\"updatedAt\":\"2020-01-01T00:00:00.000Z\"},\"context\":{},\"createdAt\":\"2020-01-01T00:00:00.000Z\",\"updatedAt\":\"2020-01-01T00:00:00.000Z\"}";
        std::fs::write(store.dir().join("x.json"), text).unwrap();
        let found = store.find_crashed(0.0, clock::now_ms()).unwrap();
        assert!(found.contains("\"operation\":\"\\ud83d\""), "{found}");
        assert!(found.contains("\"status\":\"crashed\""), "{found}");
    }

    #[test]
    fn marking_reads_keys_as_json_parse_reads_them() {
        let at = "2026-12-01T00:00:00.000Z";
        // A status key spelled with an escape is the status, and is marked.
        assert_eq!(
            mark_crashed(r#"{"st\u0061tus":"active","a":1}"#, &quoted(at), false),
            format!(r#"{{"st\u0061tus":"crashed","a":1,"crashedAt":"{at}"}}"#)
        );
        // Keys written twice: the first place holds the value, the later
        // ones (which would override it) are dropped with their comma.
        let twice = "{\"status\":\"completed\",\r\n\t\"a\":1 , \"status\" : \"active\",\"crashedAt\":1,\"crash\\u0065dAt\":2}";
        assert_eq!(
            mark_crashed(twice, &quoted(at), false),
            format!("{{\"status\":\"crashed\",\r\n\t\"a\":1,\"crashedAt\":\"{at}\"}}")
        );
        // The fast path stops at the status, found through an escape too.
        let quoted_at = quoted(at);
        assert_eq!(
            mark_crashed(
                r#"{"a":1,"st\u0061tus":"active","b":{"status":1}}"#,
                &quoted_at,
                true
            ),
            format!(r#"{{"a":1,"st\u0061tus":"crashed","b":{{"status":1}},"crashedAt":"{at}"}}"#)
        );
        // A key with a lone surrogate is no status.
        assert_eq!(
            mark_crashed(r#"{"\ud800":1}"#, &quoted(at), false),
            format!(r#"{{"\ud800":1,"crashedAt":"{at}"}}"#)
        );
    }

    #[test]
    fn marking_text_that_is_not_json_never_panics() {
        let at = "2026-12-01T00:00:00.000Z";
        for text in [
            "",
            "{",
            "}",
            "{\"status\":{}",
            "{\"status\":\"a\"",
            "{\"a\":1}é",
            "{\"a\":]}",
            "{\"a\" 1}",
            "{\"status\":\"x\"}}",
            "{\"\\",
            "{\"a\":\"\\\"}",
            "[{]",
            "{\"a\":1,}",
        ] {
            let _ = mark_crashed(text, &quoted(at), false);
            let _ = mark_crashed(text, &quoted(at), true);
        }
        let mut rng = crate::shapes::Rng::new(9);
        let base = "{\"id\":\"x\",\"status\":\"active\",\"c\":{\"s\":[\"}\\\"{\",1e400]},\"crashedAt\":null}";
        for _ in 0..1_000 {
            let (_, bytes) = crate::shapes::damaged(&mut rng, base.as_bytes());
            let text = String::from_utf8_lossy(&bytes);
            let marked = mark_crashed(&text, &quoted(at), false);
            let _ = mark_crashed(&text, &quoted(at), true);
            // JSON stays JSON.
            if crate::shapes::is_json(&bytes) {
                assert!(crate::shapes::is_json(marked.as_bytes()), "{text}");
            }
        }
    }

    #[test]
    fn a_scan_reads_files_in_every_shape_as_json_parse_does() {
        use crate::shapes::{self, Rng, Style};
        let dir = tempfile::tempdir().unwrap();
        let store = SessionStore::new(dir.path());
        std::fs::create_dir_all(store.dir()).unwrap();
        let mut rng = Rng::new(2);
        let mut files = std::collections::BTreeMap::new();
        for i in 0..200 {
            let id = format!("s{i:03}");
            let status = rng.pick(&["active", "active", "completed"]);
            let state = shapes::state(&mut rng, &id, status, "2026-01-01T00:00:00.000Z");
            let text = shapes::write(&state, &Style::random(&mut rng), &mut rng);
            std::fs::write(store.dir().join(format!("{id}.json")), &text).unwrap();
            files.insert(id, text);
        }
        let now = clock::parse_iso_ms("2027-01-01T00:00:00.000Z").unwrap();
        let at = clock::iso_from_ms(now).unwrap();
        let found = store.find_crashed(60_000.0, now).unwrap();
        let found: Vec<serde_json::Value> =
            serde_json::from_str(&js_text::json_in(&found)).unwrap();
        let active: Vec<&String> = files
            .iter()
            .filter(|(_, text)| shapes::parse(text).unwrap()["status"] == "active")
            .map(|(id, _)| id)
            .collect();
        assert!(active.len() > 100);
        assert_eq!(
            found
                .iter()
                .map(|s| s["id"].as_str().unwrap())
                .collect::<Vec<_>>(),
            active
        );
        for state in found {
            // `{ ...JSON.parse(file), status: "crashed", crashedAt }`, in the
            // order of the keys: an existing key keeps its place.
            let mut expected = shapes::parse(&files[state["id"].as_str().unwrap()]).unwrap();
            expected["status"] = "crashed".into();
            expected["crashedAt"] = at.as_str().into();
            assert_eq!(state.to_string(), expected.to_string());
        }
        assert!(store.corrupt_files().unwrap().is_empty());
        for (id, text) in &files {
            let on_disk = std::fs::read_to_string(store.dir().join(format!("{id}.json"))).unwrap();
            assert_eq!(&on_disk, text);
        }
    }

    #[test]
    fn a_scan_reads_a_file_nested_deeper_than_serde_json_builds() {
        let dir = tempfile::tempdir().unwrap();
        let store = SessionStore::new(dir.path());
        let mut value = serde_json::to_value(crate::store::tests::state(
            "f",
            SessionStatus::Active,
            "2020-01-01T00:00:00.000Z",
        ))
        .unwrap();
        value["context"] = serde_json::json!({"deep": "@"});
        let nested = format!("{}1{}", "{\"k\":".repeat(50_000), "}".repeat(50_000));
        let text = value.to_string().replace("\"@\"", &nested);
        std::fs::create_dir_all(store.dir()).unwrap();
        std::fs::write(store.dir().join("f.json"), &text).unwrap();
        let at = "2026-12-01T00:00:00.000Z";
        let found = store
            .find_crashed(0.0, clock::parse_iso_ms(at).unwrap())
            .unwrap();
        let marked = format!("[{}]", mark_crashed(&text, &quoted(at), false));
        assert_eq!(found, marked);
        assert!(found.contains("\"status\":\"crashed\""));
        assert_eq!(
            std::fs::read_to_string(store.dir().join("f.json")).unwrap(),
            text
        );
    }
}
