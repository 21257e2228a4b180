//! Session ids, checked before they become part of a path.

use crate::error::{CoreError, Result};

/// The longest id accepted, in bytes (the file name adds `.json`).
pub const MAX_ID_LEN: usize = 200;

/// A session id that is a plain file name: not empty, not `.` or `..`, no
/// `/`, `\` or NUL, at most [`MAX_ID_LEN`] bytes. Such an id always names a
/// file directly inside the sessions folder.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SessionId(String);

impl SessionId {
    /// Checks `id`.
    ///
    /// ```
    /// use msw_session_core::SessionId;
    /// assert!(SessionId::parse("5b1c-42").is_ok());
    /// assert!(SessionId::parse("../../etc/passwd").is_err());
    /// ```
    pub fn parse(id: &str) -> Result<Self> {
        let plain = !id.is_empty()
            && id.len() <= MAX_ID_LEN
            && id != "."
            && id != ".."
            && !id.contains(['/', '\\', '\0']);
        if plain {
            Ok(Self(id.to_string()))
        } else {
            Err(CoreError::InvalidSessionId { id: id.to_string() })
        }
    }

    /// A new random id (a UUID v4, as `crypto.randomUUID()` makes).
    pub fn random() -> Self {
        Self(uuid::Uuid::new_v4().to_string())
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for SessionId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_anything_but_a_plain_file_name() {
        for bad in [
            "",
            ".",
            "..",
            "a/b",
            "..\\x",
            "a\0b",
            &"x".repeat(MAX_ID_LEN + 1),
        ] {
            let err = SessionId::parse(bad).unwrap_err();
            assert_eq!(err.code(), "ERR_INVALID_SESSION_ID");
        }
        for good in [
            "a",
            "...",
            "a.b",
            "ünï",
            "5b1c2f3e-0000-4000-8000-000000000000",
        ] {
            assert_eq!(SessionId::parse(good).unwrap().as_str(), good);
        }
        assert_eq!(SessionId::random().as_str().len(), 36);
    }
}
