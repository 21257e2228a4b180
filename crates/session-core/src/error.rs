//! The one error type of the core, with the stable `code` JavaScript sees
//! for each ([`CoreError::code`], decided here); the binding picks each
//! variant's JavaScript error class, in one place.

use std::fmt;
use std::io;
use std::path::PathBuf;

/// A result with a [`CoreError`].
pub type Result<T, E = CoreError> = std::result::Result<T, E>;

/// Everything that can go wrong in the core.
#[derive(Debug)]
pub enum CoreError {
    /// A number is NaN, negative or otherwise out of range. JS: `RangeError`,
    /// `ERR_OUT_OF_RANGE`.
    OutOfRange {
        /// The argument's name, as the API documents it.
        name: &'static str,
        /// What the argument must be.
        expected: &'static str,
        /// The value received, printed.
        received: String,
    },
    /// An id that is not a plain file name. JS: `TypeError`,
    /// `ERR_INVALID_SESSION_ID`.
    InvalidSessionId {
        /// The id received.
        id: String,
    },
    /// A malformed session state. JS: `TypeError`, `ERR_INVALID_SESSION_STATE`.
    InvalidState {
        /// The path of the offending field (`progress.status`), or `.`.
        path: String,
        /// What is wrong with it.
        message: String,
    },
    /// A context (or a state holding one) that cannot be stored as JSON.
    /// JS: `TypeError`, `ERR_CONTEXT_NOT_SERIALIZABLE`.
    ContextNotSerializable {
        /// Whose context was refused.
        of: ContextOf,
        /// Why (the message of the `JSON.stringify` error).
        message: String,
        /// What the serializer threw, kept with this error (the binding
        /// gives it to JavaScript as the error's `cause`).
        thrown: Option<Thrown>,
    },
    /// The file system refused. JS: `Error`, `ERR_SESSION_IO`.
    Io {
        /// What was being done ("write session file", "create folder", …).
        action: &'static str,
        /// The path involved.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
    /// A folder of the sessions folder that another user controls, or a
    /// symbolic link (see [`folder_safety`](crate::folder_safety)). JS:
    /// `Error`, `ERR_UNSAFE_FOLDER`.
    UnsafeFolder(crate::folder_safety::Refusal),
    /// A bug: a listener or the core panicked where it must not. JS: `Error`,
    /// `ERR_INTERNAL`.
    Internal(String),
    /// Several sessions could not be saved (every other one was). JS: the
    /// class and `code` of the first failure, with every failure in `errors`.
    Sessions {
        /// Each session that could not be saved, with why, in save order.
        failures: Vec<(String, CoreError)>,
    },
}

/// A value that user code threw (a JavaScript exception), opaque to the
/// core: the binding puts it in and takes it out.
#[derive(Clone)]
pub struct Thrown(pub std::sync::Arc<dyn std::any::Any + Send + Sync>);

impl fmt::Debug for Thrown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Thrown(..)")
    }
}

/// Whose context a [`CoreError::ContextNotSerializable`] refused.
#[derive(Debug)]
pub enum ContextOf {
    /// The context of a live session, read at a save.
    Session(String),
    /// A value given as the argument of that name (`context`, `state`).
    Argument(String),
}

impl CoreError {
    /// The stable code JavaScript sees in `error.code`.
    pub fn code(&self) -> &'static str {
        match self {
            CoreError::OutOfRange { .. } => "ERR_OUT_OF_RANGE",
            CoreError::InvalidSessionId { .. } => "ERR_INVALID_SESSION_ID",
            CoreError::InvalidState { .. } => "ERR_INVALID_SESSION_STATE",
            CoreError::ContextNotSerializable { .. } => "ERR_CONTEXT_NOT_SERIALIZABLE",
            CoreError::Io { .. } => "ERR_SESSION_IO",
            CoreError::UnsafeFolder(_) => "ERR_UNSAFE_FOLDER",
            CoreError::Internal(_) => "ERR_INTERNAL",
            CoreError::Sessions { failures } => failures
                .first()
                .map_or("ERR_INTERNAL", |(_, first)| first.code()),
        }
    }

    /// One error for the failures of a save that attempted every session:
    /// `Ok` for none, the error itself for one, [`CoreError::Sessions`] for
    /// more.
    pub(crate) fn from_failures(mut failures: Vec<(String, CoreError)>) -> Result<()> {
        match failures.len() {
            0 => Ok(()),
            1 => Err(failures.remove(0).1),
            _ => Err(CoreError::Sessions { failures }),
        }
    }

    pub(crate) fn io(action: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        CoreError::Io {
            action,
            path: path.into(),
            source,
        }
    }

    /// The context of session `id` cannot be stored, because of `message`.
    pub(crate) fn context(id: &impl fmt::Display, message: String, thrown: Option<Thrown>) -> Self {
        CoreError::ContextNotSerializable {
            of: ContextOf::Session(id.to_string()),
            message,
            thrown,
        }
    }

    /// The argument `name` cannot be stored as JSON, because of `message`
    /// (what `JSON.stringify` threw).
    pub fn argument_not_serializable(name: String, message: String) -> Self {
        CoreError::ContextNotSerializable {
            of: ContextOf::Argument(name),
            message,
            thrown: None,
        }
    }

    pub(crate) fn out_of_range(
        name: &'static str,
        expected: &'static str,
        received: impl fmt::Display,
    ) -> Self {
        CoreError::OutOfRange {
            name,
            expected,
            received: received.to_string(),
        }
    }
}

impl fmt::Display for CoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CoreError::OutOfRange {
                name,
                expected,
                received,
            } => write!(
                f,
                "The \"{name}\" argument must be {expected}. Received {received}"
            ),
            CoreError::InvalidSessionId { id } => write!(
                f,
                "Invalid session id {id:?}: an id must be a plain file name \
                 (not empty, not \".\" or \"..\", no \"/\", \"\\\" or NUL, at most 200 bytes)"
            ),
            CoreError::InvalidState { path, message } => {
                write!(f, "Invalid session state at \"{path}\": {message}")
            }
            CoreError::ContextNotSerializable { of, message, .. } => {
                match of {
                    ContextOf::Session(id) => write!(f, "The context of session {id}")?,
                    ContextOf::Argument(name) => write!(f, "The \"{name}\" argument")?,
                }
                write!(f, " cannot be stored as JSON: {message}")
            }
            CoreError::Io {
                action,
                path,
                source,
            } => write!(f, "Cannot {action} \"{}\": {source}", path.display()),
            CoreError::UnsafeFolder(refusal) => refusal.fmt(f),
            CoreError::Internal(message) => write!(f, "Internal error in msw-session: {message}"),
            CoreError::Sessions { failures } => {
                write!(
                    f,
                    "{} sessions could not be saved (the others were):",
                    failures.len()
                )?;
                for (id, error) in failures {
                    write!(f, "\n- {id}: {error}")?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for CoreError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            CoreError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}
