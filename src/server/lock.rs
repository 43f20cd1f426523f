//! Single instance: an exclusive `flock` on a lock file, which the kernel drops when the
//! process dies, so it can never go stale. The lock's descriptor is handed across re-exec,
//! so the lock is held without a gap for the life of the PID.
//!
//! The file holds the holder's PID on its first line, then what the server records about its
//! last reload (`reload.rs` owns that text), so `forkblog reload` finds both in one place.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use nix::fcntl::{Flock, FlockArg};

/// Exit status of `forkblog serve` when another instance holds the lock. A systemd unit lists
/// it in `RestartPreventExitStatus=` so that a duplicate start never becomes a restart loop.
pub const EXIT_ALREADY_RUNNING: u8 = 3;

/// A held lock.
pub struct Lock {
    file: Flock<File>,
}

/// Why the lock could not be taken.
#[derive(Debug)]
pub enum LockError {
    /// Another process holds it; its PID as written in the file, when readable.
    Held(Option<u32>),
    /// The file could not be opened or locked.
    Io(io::Error),
}

impl std::fmt::Display for LockError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LockError::Held(Some(pid)) => write!(f, "already running as PID {pid}"),
            LockError::Held(None) => write!(f, "already running (PID unknown)"),
            LockError::Io(e) => write!(f, "{e}"),
        }
    }
}

impl Lock {
    /// Takes the lock at `path` without waiting, and writes this PID into the file.
    pub fn acquire(path: &Path) -> Result<Lock, LockError> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o644)
            .custom_flags(libc::O_CLOEXEC)
            .open(path)
            .map_err(|e| {
                LockError::Io(io::Error::new(
                    e.kind(),
                    format!("opening lock file {}: {e}", path.display()),
                ))
            })?;
        Lock::take(file, true)
    }

    /// Re-takes the lock on a descriptor inherited from the previous image (a no-op for the
    /// kernel: the open file description already holds it).
    /// The PID is unchanged across exec, so the file is left as the previous image wrote it.
    pub fn adopt(fd: OwnedFd) -> Result<Lock, LockError> {
        Lock::take(File::from(fd), false)
    }

    fn take(file: File, write_pid: bool) -> Result<Lock, LockError> {
        match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
            Ok(file) if !write_pid => Ok(Lock { file }),
            Ok(mut file) => {
                let written = file
                    .set_len(0)
                    .and_then(|()| file.rewind())
                    .and_then(|()| writeln!(file, "{}", std::process::id()));
                if let Err(e) = written {
                    log::warn!("could not write the PID into the lock file: {e}");
                }
                Ok(Lock { file })
            }
            Err((mut file, nix::errno::Errno::EWOULDBLOCK)) => {
                let mut text = String::new();
                let pid = file
                    .read_to_string(&mut text)
                    .ok()
                    .and_then(|_| text.lines().next()?.trim().parse().ok());
                Err(LockError::Held(pid))
            }
            Err((_, errno)) => Err(LockError::Io(io::Error::other(format!("flock: {errno}")))),
        }
    }

    /// Rewrites the file as this PID followed by `state`. Emptied first, then written with one
    /// `pwrite`, so a reader sees the old text, nothing, or the new text; `reload.rs` ends its
    /// text with a marker so that a reader can tell the whole from a part.
    pub fn record(&self, state: &str) -> io::Result<()> {
        use std::os::unix::fs::FileExt;
        let text = format!("{}\n{state}", std::process::id());
        self.file.set_len(0)?;
        self.file.write_all_at(text.as_bytes(), 0)
    }

    /// The locked file's descriptor (handed to the next image).
    pub fn fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.file.as_fd()
    }
}
