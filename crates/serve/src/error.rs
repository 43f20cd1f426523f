//! The one error type of starting, reloading and serving: what was being done, why it failed,
//! and the exit status it maps to.

use std::fmt;

use super::lock::EXIT_ALREADY_RUNNING;

/// A failure with its context, printed as `doing what: why`.
#[derive(Debug)]
pub struct Error {
    /// What was being done ("binding 127.0.0.1:8080").
    pub doing: String,
    /// Why it failed.
    pub cause: String,
    /// The exit status `serve` ends with.
    pub code: u8,
}

impl Error {
    /// A failure of `doing` because of `cause` (exit status 1).
    pub fn new(doing: impl Into<String>, cause: impl fmt::Display) -> Error {
        Error {
            doing: doing.into(),
            cause: cause.to_string(),
            code: 1,
        }
    }

    /// Another instance holds the lock (exit status 3).
    pub fn already_running(doing: impl Into<String>, cause: impl fmt::Display) -> Error {
        Error {
            code: EXIT_ALREADY_RUNNING,
            ..Error::new(doing, cause)
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.doing, self.cause)
    }
}

impl std::error::Error for Error {}

/// Adds context to any displayable error: `result.doing("binding 127.0.0.1:8080")?`.
pub trait Doing<T> {
    /// Names what was being done when this failed.
    fn doing(self, what: impl Into<String>) -> Result<T, Error>;
}

impl<T, E: fmt::Display> Doing<T> for Result<T, E> {
    fn doing(self, what: impl Into<String>) -> Result<T, Error> {
        self.map_err(|e| Error::new(what, e))
    }
}
