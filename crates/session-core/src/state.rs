//! The session file format: `.msw/sessions/<id>.json`, pretty-printed JSON
//! with the reference module's field names.
//!
//! Files written by the reference module are read as they are, and files
//! written here are read by it. Fields this version does not know are kept
//! (in `extra`) and written back unchanged.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::{CoreError, Result};
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

/// One session file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionState {
    /// The session id (also the file name).
    pub id: String,
    /// What the session does.
    pub operation: String,
    /// The stored status.
    pub status: SessionStatus,
    /// The tracker's state.
    pub progress: ProgressState,
    /// Operation-specific data, as `JSON.stringify` produced it.
    pub context: Value,
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
    /// Parses a state from JSON text, naming the offending field on error.
    pub fn from_json(text: &str) -> Result<Self> {
        let text = crate::js_text::json_in(text);
        let de = &mut serde_json::Deserializer::from_str(&text);
        let state: SessionState = serde_path_to_error::deserialize(de).map_err(|err| {
            let path = err.path().to_string();
            CoreError::InvalidState {
                path,
                message: err.into_inner().to_string(),
            }
        })?;
        if !state.context.is_object() {
            return Err(CoreError::InvalidState {
                path: "context".into(),
                message: "must be an object".into(),
            });
        }
        Ok(state)
    }

    /// The file's text: JSON indented by two spaces, as
    /// `JSON.stringify(state, null, 2)` writes it (lone surrogates as
    /// `\udXXX` escapes, see [`js_text`](crate::js_text)).
    pub fn to_pretty_json(&self) -> String {
        // Serializing plain data with string keys cannot fail.
        crate::js_text::json_out(serde_json::to_string_pretty(self).unwrap_or_default())
    }
}

/// Numbers written as JavaScript writes them where it matters: a whole
/// number without a trailing `.0`.
pub(crate) mod json_number {
    use serde::{Deserialize, Deserializer, Serializer};

    /// Largest magnitude below which a whole `f64` is printed as an integer.
    const WHOLE_LIMIT: f64 = 9_007_199_254_740_992.0;

    pub fn serialize<S: Serializer>(value: &f64, serializer: S) -> Result<S::Ok, S::Error> {
        if value.fract() == 0.0 && value.abs() < WHOLE_LIMIT {
            serializer.serialize_i64(*value as i64)
        } else {
            serializer.serialize_f64(*value)
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<f64, D::Error> {
        f64::deserialize(deserializer)
    }

    pub mod option {
        use super::*;

        pub fn serialize<S: Serializer>(
            value: &Option<f64>,
            serializer: S,
        ) -> Result<S::Ok, S::Error> {
            match value {
                Some(v) => super::serialize(v, serializer),
                None => serializer.serialize_none(),
            }
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(
            deserializer: D,
        ) -> Result<Option<f64>, D::Error> {
            Option::<f64>::deserialize(deserializer)
        }
    }
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
    fn names_the_offending_field() {
        let bad = REFERENCE_FILE.replace("\"status\": \"running\"", "\"status\": \"sleeping\"");
        let err = SessionState::from_json(&bad).unwrap_err();
        assert_eq!(err.code(), "ERR_INVALID_SESSION_STATE");
        assert!(err.to_string().contains("progress.status"), "{err}");
        let err = SessionState::from_json("{\"id\": 1}").unwrap_err();
        assert!(err.to_string().contains("\"id\""), "{err}");
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
