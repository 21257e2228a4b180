//! The session file format: `.msw/sessions/<id>.json`, pretty-printed JSON
//! with the reference module's field names.
//!
//! Files written by the reference module are read as they are, and files
//! written here are read by it. Fields this version does not know are kept
//! (in `extra`) and written back unchanged: at the end of the top-level
//! object, and in their places inside `progress`, whose keys keep the order
//! they were read or set in (see [`ProgressState`]). A file is read as
//! `JSON.parse` reads it, whoever wrote it ([`js_json`]); the store checks
//! the shape of the files it reads without building their free-form values,
//! so that no depth of nesting or number that `JSON.parse` reads is refused.

use std::borrow::Cow;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::error::{CoreError, Result};
use crate::js_json::{self, LastWins};
use crate::progress::{ProgressState, ProgressStatus};

/// The stored status of a session.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SessionStatus {
    /// Pending or running.
    Active,
    /// Finished successfully.
    Completed,
    /// Finished with an error.
    Failed,
    /// Stopped on request (the reference stored `completed` here).
    Cancelled,
    /// Found abandoned by its owner (only on copies returned by a crash scan).
    Crashed,
}

impl SessionStatus {
    /// Every status, in the order of the enum.
    pub const ALL: [SessionStatus; 5] = [
        SessionStatus::Active,
        SessionStatus::Completed,
        SessionStatus::Failed,
        SessionStatus::Cancelled,
        SessionStatus::Crashed,
    ];

    /// The name the files and JavaScript use (`"active"`).
    pub fn name(self) -> &'static str {
        match self {
            SessionStatus::Active => "active",
            SessionStatus::Completed => "completed",
            SessionStatus::Failed => "failed",
            SessionStatus::Cancelled => "cancelled",
            SessionStatus::Crashed => "crashed",
        }
    }

    /// The status of that name; an `ERR_OUT_OF_RANGE` error naming the
    /// argument `arg` for any other.
    pub fn from_name(arg: &'static str, name: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|s| s.name() == name)
            .ok_or_else(|| {
                CoreError::out_of_range(
                    arg,
                    "one of \"active\", \"completed\", \"failed\", \"cancelled\", \"crashed\"",
                    format!("{name:?}"),
                )
            })
    }
}

impl From<ProgressStatus> for SessionStatus {
    fn from(status: ProgressStatus) -> Self {
        match status {
            ProgressStatus::Pending | ProgressStatus::Running => SessionStatus::Active,
            ProgressStatus::Completed => SessionStatus::Completed,
            ProgressStatus::Failed => SessionStatus::Failed,
            ProgressStatus::Cancelled => SessionStatus::Cancelled,
        }
    }
}

/// One session file. The context is a parsed [`Value`] when a file is read,
/// and the text `JSON.stringify` printed ([`ContextText`]) when a live
/// session is written.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionState<C = Value> {
    /// The session id (also the file name).
    pub id: String,
    /// What the session does.
    pub operation: String,
    /// The stored status.
    pub status: SessionStatus,
    /// The tracker's state.
    pub progress: ProgressState,
    /// Operation-specific data, as `JSON.stringify` produced it.
    pub context: C,
    /// Creation time (ISO 8601).
    pub created_at: String,
    /// Time of writing (ISO 8601).
    pub updated_at: String,
    /// When a crash scan found the session (ISO 8601).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crashed_at: Option<String>,
    /// Fields written by someone else, kept as they are.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl SessionState {
    /// Parses a state from JSON text as `JSON.parse` reads it (a key written
    /// twice has its last value, at its first place; see [`js_json`]),
    /// naming the offending field on error.
    ///
    /// The free-form values (the context, fields written by others) are
    /// built as [`Value`]s, so one nested deeper than 127 levels, or holding
    /// a number beyond a double's range (`1e400`), is refused here although
    /// `JSON.parse` reads it. The store reads such a file all the same; only
    /// [`SessionStore::load`](crate::SessionStore::load) cannot build it.
    pub fn from_json(text: &str) -> Result<Self> {
        let text = crate::js_text::json_in(text);
        if !js_json::is_object(&text) {
            return Err(CoreError::InvalidState {
                path: ".".into(),
                message: "must be a JSON object".into(),
            });
        }
        let state = Self::deserialize_checked(&mut serde_json::Deserializer::from_str(&text))
            .or_else(|first| match serde_json::from_str::<Value>(&text) {
                // A key written twice (the derived impl refuses it): the
                // value holds the last value of each key, at its first
                // place, as JSON.parse does.
                Ok(value) => Self::deserialize_checked(value),
                Err(_) => Err(first),
            })?;
        if !state.context.is_object() {
            return Err(context_not_an_object());
        }
        Ok(state)
    }

    /// The state `de` holds, or an error naming the offending field.
    fn deserialize_checked<'de, D: Deserializer<'de>>(de: D) -> Result<Self> {
        serde_path_to_error::deserialize(de).map_err(|err| {
            let path = err.path().to_string();
            CoreError::InvalidState {
                path,
                message: err.into_inner().to_string(),
            }
        })
    }
}

fn context_not_an_object() -> CoreError {
    CoreError::InvalidState {
        path: "context".into(),
        message: "must be an object".into(),
    }
}

/// What the store reads of a session file and decides by (its status, age
/// and owner), the file checked first: as [`SessionState::from_json`] checks
/// a state, but as `JSON.parse` reads the file at any depth and range. The
/// free-form values (the context, fields written by others) are checked to
/// be JSON, and the context to be an object, without being built, so that
/// nothing `JSON.parse` reads is refused for its depth or its numbers (see
/// [`js_json`]).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct StoredState {
    /// What the session does.
    pub operation: String,
    /// The stored status.
    pub status: SessionStatus,
    /// Time of writing (ISO 8601, as written).
    pub updated_at: String,
    /// The JSON text of the `owner` field, when there is one (not `null`);
    /// read by [`Owner::read`](crate::owner::Owner::read).
    pub owner: Option<String>,
}

impl StoredState {
    /// Checks the text of a session file, as
    /// [`json_in`](crate::js_text::json_in) maps it.
    pub(crate) fn check(mapped: &str) -> Result<Self> {
        let shape: Shape = js_json::from_str(mapped).map_err(|err| CoreError::InvalidState {
            path: ".".into(),
            message: err.to_string(),
        })?;
        if !shape.context.get().starts_with('{') {
            return Err(context_not_an_object());
        }
        Ok(StoredState {
            operation: shape.operation.into_owned(),
            status: shape.status,
            updated_at: shape.updated_at.into_owned(),
            owner: shape.owner.map(|raw| raw.get().to_string()),
        })
    }
}

/// The fields of [`SessionState`], each checked as its derived
/// `Deserialize` checks it; the free-form ones kept as text. A field that
/// is not needed afterwards is only checked (`IsString`).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)] // Most fields are read only to check them.
struct Shape<'a> {
    id: IsString,
    #[serde(borrow)]
    operation: Cow<'a, str>,
    status: SessionStatus,
    progress: LastWins<ProgressShape>,
    #[serde(borrow)]
    context: &'a RawValue,
    created_at: IsString,
    #[serde(borrow)]
    updated_at: Cow<'a, str>,
    #[serde(default)]
    crashed_at: Option<IsString>,
    /// One of the fields written by others, kept in [`SessionState::extra`].
    #[serde(default, borrow)]
    owner: Option<&'a RawValue>,
}

/// The fields of [`ProgressState`], checked as its derived `Deserialize`
/// checks them (numbers as `json_number` reads them: any double).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)] // Read only to check them.
struct ProgressShape {
    session_id: IsString,
    operation: IsString,
    status: ProgressStatus,
    progress: f64,
    #[serde(default)]
    current_step: Option<IsString>,
    #[serde(default)]
    total_steps: Option<f64>,
    #[serde(default)]
    completed_steps: Option<f64>,
    started_at: IsString,
    updated_at: IsString,
    #[serde(default)]
    error: Option<IsString>,
    #[serde(default)]
    eta: Option<IsString>,
}

/// A JSON string, checked and not kept.
struct IsString;

impl<'de> Deserialize<'de> for IsString {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        struct IsStringVisitor;

        impl serde::de::Visitor<'_> for IsStringVisitor {
            type Value = IsString;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string")
            }

            fn visit_str<E: serde::de::Error>(self, _: &str) -> std::result::Result<IsString, E> {
                Ok(IsString)
            }
        }

        deserializer.deserialize_str(IsStringVisitor)
    }
}

impl<C> SessionState<C> {
    /// The same state with another context.
    pub fn with_context<D>(self, context: D) -> SessionState<D> {
        SessionState {
            id: self.id,
            operation: self.operation,
            status: self.status,
            progress: self.progress,
            context,
            created_at: self.created_at,
            updated_at: self.updated_at,
            crashed_at: self.crashed_at,
            extra: self.extra,
        }
    }
}

impl<C: Serialize> SessionState<C> {
    /// The file's text: JSON indented by two spaces, as
    /// `JSON.stringify(state, null, 2)` writes it (lone surrogates as
    /// `\udXXX` escapes, see [`js_text`](crate::js_text)).
    pub fn to_pretty_json(&self) -> String {
        // Serializing plain data with string keys cannot fail.
        crate::js_text::json_out(serde_json::to_string_pretty(self).unwrap_or_default())
    }
}

/// A context as the JSON text `JSON.stringify(context)` printed: kept and
/// written as it is, never parsed (a large context costs one copy per read,
/// and an indentation pass per write).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContextText(Arc<str>);

impl ContextText {
    /// Wraps the text of a JSON object printed by `JSON.stringify` (or by
    /// serde_json, unindented); `None` unless it is one.
    pub fn new(json: impl Into<Arc<str>>) -> Option<Self> {
        let json = json.into();
        json.starts_with('{').then_some(Self(json))
    }

    /// The text as JavaScript printed it.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Serialize for ContextText {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // As a field of the file's top-level object: indented one level, in
        // the mapped form that `to_pretty_json` turns back into JS text.
        let mapped = crate::js_text::json_in(&self.0);
        RawValue::from_string(indent(&mapped, 1))
            .map_err(serde::ser::Error::custom)?
            .serialize(serializer)
    }
}

/// Compact JSON text indented as `JSON.stringify(value, null, 2)` (and
/// serde_json's pretty printer) print a value nested `depth` levels deep:
/// one entry per line, two spaces per level, `": "` after keys, and empty
/// containers as `{}` and `[]`. Whitespace between tokens is dropped, and
/// strings are copied as they are.
fn indent(json: &str, depth: usize) -> String {
    let bytes = json.as_bytes();
    let mut out = Vec::with_capacity(bytes.len() + bytes.len() / 4);
    let mut level = depth;
    let newline = |out: &mut Vec<u8>, level: usize| {
        out.push(b'\n');
        out.resize(out.len() + 2 * level, b' ');
    };
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b'"' => {
                // Copy the string up to its closing quote, escapes included.
                let start = i;
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                i = (i + 1).min(bytes.len());
                out.extend_from_slice(&bytes[start..i]);
                continue;
            }
            b'{' | b'[' => {
                let close = if b == b'{' { b'}' } else { b']' };
                let mut next = i + 1;
                while next < bytes.len() && bytes[next].is_ascii_whitespace() {
                    next += 1;
                }
                out.push(b);
                if bytes.get(next) == Some(&close) {
                    out.push(close);
                    i = next + 1;
                    continue;
                }
                level += 1;
                newline(&mut out, level);
            }
            b'}' | b']' => {
                level = level.saturating_sub(1);
                newline(&mut out, level);
                out.push(b);
            }
            b',' => {
                out.push(b',');
                newline(&mut out, level);
            }
            b':' => out.extend_from_slice(b": "),
            b' ' | b'\t' | b'\n' | b'\r' => {}
            _ => out.push(b),
        }
        i += 1;
    }
    // Only ASCII was inserted, between whole tokens of valid UTF-8.
    String::from_utf8(out).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    const REFERENCE_FILE: &str = r#"{
  "id": "5b1c",
  "operation": "index",
  "status": "active",
  "progress": {
    "sessionId": "5b1c",
    "operation": "index",
    "status": "running",
    "progress": 50,
    "startedAt": "2026-11-24T12:00:00.000Z",
    "updatedAt": "2026-11-24T12:00:01.000Z",
    "totalSteps": 4,
    "completedSteps": 2,
    "currentStep": "b"
  },
  "context": {
    "file": "a.txt",
    "nested": [1, null, {"x": 1.5}]
  },
  "createdAt": "2026-11-24T12:00:00.000Z",
  "updatedAt": "2026-11-24T12:00:01.000Z",
  "futureField": {"kept": true}
}"#;

    #[test]
    fn reads_reference_files_and_keeps_unknown_fields() {
        let state = SessionState::from_json(REFERENCE_FILE).unwrap();
        assert_eq!(state.status, SessionStatus::Active);
        assert_eq!(state.progress.completed_steps, Some(2.0));
        let text = state.to_pretty_json();
        assert!(text.contains("\n  \"futureField\": {\n    \"kept\": true\n  }"));
        assert!(text.contains("\"progress\": 50,"));
        assert!(text.contains("\"x\": 1.5"));
        let again = SessionState::from_json(&text).unwrap();
        assert_eq!(again, state);
    }

    #[test]
    fn a_file_as_json_stringify_printed_it_is_written_back_byte_for_byte() {
        // The reference's order (keys where its updates first set them), an
        // unknown field inside `progress` and one at the top level.
        let mut value: Value = serde_json::from_str(REFERENCE_FILE).unwrap();
        let progress = value["progress"].as_object_mut().unwrap();
        let mut reordered = Map::new();
        for (key, v) in std::mem::take(progress) {
            reordered.insert(key.clone(), v);
            if key == "status" {
                reordered.insert("addedBySomeone".into(), serde_json::json!([1, {"a": 2}]));
            }
        }
        *progress = reordered;
        let text = serde_json::to_string_pretty(&value).unwrap();
        let state = SessionState::from_json(&text).unwrap();
        assert_eq!(state.to_pretty_json(), text);
    }

    #[test]
    fn a_trackers_keys_are_written_in_its_order_undefined_ones_left_out() {
        let tracker = crate::ProgressTracker::new("5b1c".into(), "index".into());
        tracker.start(None).unwrap();
        tracker.set_progress(10.0, Some("a".into())).unwrap();
        tracker.fail("boom".into());
        tracker.complete_step(None);
        let state = SessionState::from_json(REFERENCE_FILE).unwrap();
        let text = SessionState {
            progress: tracker.state(),
            ..state
        }
        .to_pretty_json();
        let value: Value = serde_json::from_str(&text).unwrap();
        let keys: Vec<&str> = value["progress"]
            .as_object()
            .unwrap()
            .keys()
            .map(|k| k.as_str())
            .collect();
        let mut expected = crate::progress::tests::BASE_NAMES.to_vec();
        expected.extend(["completedSteps", "error"]);
        assert_eq!(keys, expected);
    }

    #[test]
    fn reads_keys_as_json_parse_reads_them() {
        // Written twice: the last value, at the first place; the first value
        // may be of any type.
        let twice = REFERENCE_FILE
            .replacen(
                "\"status\": \"active\"",
                "\"status\": [1], \"st\\u0061tus\": \"failed\"",
                1,
            )
            .replacen(
                "\"progress\": 50",
                "\"progress\": \"x\", \"progress\": 60",
                1,
            );
        let state = SessionState::from_json(&twice).unwrap();
        assert_eq!(state.status, SessionStatus::Failed);
        assert_eq!(state.progress.progress, 60.0);
        let stored = StoredState::check(&twice).unwrap();
        assert_eq!(stored.status, SessionStatus::Failed);
        // An array is not a state, though a derived impl reads one.
        let array = r#"["a","op","active",{"sessionId":"a","operation":"op","status":"running","progress":0,"startedAt":"x","updatedAt":"x"},{},"x","x"]"#;
        assert!(SessionState::from_json(array).is_err());
        assert!(StoredState::check(array).is_err());
        // The check reads what the state reads, and more: depth and range.
        let deep = REFERENCE_FILE.replace(
            "\"kept\": true",
            &format!("\"kept\": {}1e400{}", "[".repeat(500), "]".repeat(500)),
        );
        assert!(SessionState::from_json(&deep).is_err());
        assert_eq!(
            StoredState::check(&deep).unwrap().status,
            SessionStatus::Active
        );
        for bad in [
            REFERENCE_FILE.replace("\"nested\"", "\"nested\": 1, \"x\""),
            REFERENCE_FILE
                .replacen("\"context\": {", "\"context\": [{", 1)
                .replacen("\n  },\n  \"createdAt", "\n  }],\n  \"createdAt", 1),
            REFERENCE_FILE.replace("\"progress\": 50", "\"progress\": 1e400"),
            REFERENCE_FILE.replace("\"currentStep\": \"b\"", "\"currentStep\": 2"),
            REFERENCE_FILE.replace("\"running\"", "\"active\""),
        ] {
            assert_eq!(
                SessionState::from_json(&bad).is_ok(),
                StoredState::check(&bad).is_ok(),
                "{bad}"
            );
        }
    }

    #[test]
    fn names_the_offending_field() {
        let bad = REFERENCE_FILE.replace("\"status\": \"running\"", "\"status\": \"sleeping\"");
        let err = SessionState::from_json(&bad).unwrap_err();
        assert_eq!(err.code(), "ERR_INVALID_SESSION_STATE");
        assert!(err.to_string().contains("progress.status"), "{err}");
        let err = SessionState::from_json("{\"id\": 1}").unwrap_err();
        assert!(err.to_string().contains("\"id\""), "{err}");
    }

    #[test]
    fn indents_as_the_pretty_printer_does() {
        let samples = [
            r#"{}"#,
            r#"{"a":1}"#,
            r#"{"a":[],"b":{},"c":[1,[2,[]],{"d":null}],"e":"x:,{}[]\"\\"}"#,
            r#"{"deep":{"er":{"est":[true,false,-1.5e-7]}},"u":"é😀\u0001"}"#,
            r#"{ "spaced" : [ 1 , 2 ] , "o" : { } }"#,
        ];
        for sample in samples {
            let value: Value = serde_json::from_str(sample).unwrap();
            let state = SessionState::from_json(REFERENCE_FILE).unwrap();
            let expected = state.clone().with_context(value).to_pretty_json();
            let got = state
                .with_context(ContextText::new(sample).unwrap())
                .to_pretty_json();
            assert_eq!(got, expected, "{sample}");
        }
    }

    #[test]
    fn context_text_keeps_what_javascript_printed() {
        // A lone surrogate as JSON.stringify escapes it, and a char of the
        // plane the string mapping uses: both written back as they came.
        let js = "{\"cut\":\"\\ud83d\",\"high\":\"\u{10FFFD}\"}";
        let state = SessionState::from_json(REFERENCE_FILE).unwrap();
        let text = state
            .with_context(ContextText::new(js).unwrap())
            .to_pretty_json();
        assert!(
            text.contains("\"cut\": \"\\ud83d\",\n    \"high\": \"\u{10FFFD}\"\n  }"),
            "{text}"
        );
        let back = SessionState::from_json(&text).unwrap();
        assert_eq!(crate::js_text::json_out(back.context.to_string()), js);
        assert!(ContextText::new("[1]").is_none());
    }

    #[test]
    fn maps_progress_status_to_stored_status() {
        assert_eq!(
            SessionStatus::from(ProgressStatus::Pending),
            SessionStatus::Active
        );
        assert_eq!(
            SessionStatus::from(ProgressStatus::Cancelled),
            SessionStatus::Cancelled
        );
    }
}
