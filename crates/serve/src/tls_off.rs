//! HTTPS not built in (the `https` feature off): the names the parent uses for TLS, with types
//! that cannot be made, so that every path serving HTTPS compiles to nothing and no TLS code is
//! in the binary. The command line refuses the TLS flags in such a build, so none of this is
//! ever asked for; what is asked anyway says why it cannot be done.

use std::io;
use std::os::fd::OwnedFd;
use std::path::PathBuf;

use super::status::Counters;

/// Why any of this is asked in vain.
const NOT_BUILT: &str = "this forkblog is built without HTTPS (Cargo feature `https`)";

/// Where a certificate and key would come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Files {
    pub cert: PathBuf,
    pub key: PathBuf,
    pub missing_ok: bool,
}

/// Nothing: a value of this type cannot exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Never {}

/// A certificate in service; there is never one.
#[derive(PartialEq, Eq)]
pub struct Certificate {
    pub not_before: i64,
    pub not_after: i64,
    never: Never,
}

impl Certificate {
    pub fn load(_: &Files) -> Result<Option<Certificate>, String> {
        Err(NOT_BUILT.into())
    }

    pub fn from_snapshot(_: crate::snapshot::View<'_>) -> Option<Certificate> {
        None
    }

    pub fn to_memfd(&self) -> io::Result<OwnedFd> {
        match self.never {}
    }

    pub fn memfd() -> io::Result<OwnedFd> {
        Err(io::Error::other(NOT_BUILT))
    }

    pub fn write_into(&self, _: &OwnedFd) -> io::Result<()> {
        match self.never {}
    }

    pub fn from_memfd(_: OwnedFd) -> io::Result<Certificate> {
        Err(io::Error::other(NOT_BUILT))
    }

    pub fn renew_at(&self) -> i64 {
        match self.never {}
    }

    pub fn may_give_way_to(&self, _: &Certificate, _: i64) -> bool {
        match self.never {}
    }
}

/// HTTPS as the parent would serve it; never served.
pub struct Https {
    pub certificate: Option<Certificate>,
    pub port: u16,
    pub hsts: bool,
    never: Never,
}

impl Https {
    pub fn new(_: Option<Certificate>, _: &Counters, _: u16, _: bool) -> io::Result<Https> {
        Err(io::Error::other(NOT_BUILT))
    }

    pub fn replace(&mut self, _: Certificate, _: &Counters) -> io::Result<()> {
        match self.never {}
    }

    pub fn redirect_port(&self) -> Option<u16> {
        match self.never {}
    }

    /// What a value of this type holds: nothing, so a call never returns.
    pub fn never(&self) -> ! {
        match self.never {}
    }
}

/// A certificate's expiry as a date, for the log.
pub fn date(unix: i64) -> String {
    unix.to_string()
}

/// Session tickets: none to rotate.
pub mod tickets {
    pub fn rotate_if_due(_: &crate::status::Counters, _: u64) -> std::io::Result<bool> {
        Ok(false)
    }
}
