//! Single instance: an exclusive `flock` on a lock file, which the kernel drops when the
//! process dies, so it can never go stale. The lock's descriptor is handed across re-exec,
//! so the lock is held without a gap for the life of the PID.
//!
//! The file holds the holder's PID on its first line, then what the server records about its
//! last reload (`reload.rs` owns that text), so `forkblog reload` finds both in one place.
//!
//! Who may read it: `forkblog reload` only opens it to read (the PID, the record, a shared
//! `flock` probe), and it runs as root or as the server's user (systemd's `ExecReload=`). So the
//! file is set to 0644 whatever the umask (a unit's `UMask=0027` would otherwise make it 0640,
//! unreadable to that user when root created it), and a server started as root hands it to the
//! user it drops to, like the access log: it lies in that user's state directory, and a later
//! start as that user opens it read-write. Writing it after the drop needs no permission at
//! all: the server writes through the descriptor it opened before.

use std::fs::{File, OpenOptions, Permissions};
use std::io::{self, Read, Seek, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

use nix::fcntl::{Flock, FlockArg};

/// The lock file's mode: readable by whoever runs `forkblog reload` (see the top).
const MODE: u32 = 0o644;

/// Exit status of `forkblog serve` when another instance holds the lock. A systemd unit lists
/// it in `RestartPreventExitStatus=` so that a duplicate start never becomes a restart loop.
pub(crate) const EXIT_ALREADY_RUNNING: u8 = 3;

/// A held lock.
pub(crate) struct Lock {
    file: Flock<File>,
}

/// Why the lock could not be taken.
#[derive(Debug)]
pub(crate) enum LockError {
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
    pub(crate) fn acquire(path: &Path) -> Result<Lock, LockError> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(MODE)
            .custom_flags(libc::O_CLOEXEC)
            .open(path)
            .map_err(|e| {
                LockError::Io(io::Error::new(
                    e.kind(),
                    format!("opening lock file {}: {e}", path.display()),
                ))
            })?;
        let lock = Lock::take(file, true)?;
        // Set, not left to the umask; also repairs a file an older server left 0640. Only the
        // owner or root may: anyone else keeps the mode they find, and is warned.
        if let Err(e) = lock.file.set_permissions(Permissions::from_mode(MODE)) {
            log::warn!(
                "could not make the lock file {} readable ({MODE:o}) for `forkblog reload`: {e}",
                path.display()
            );
        }
        Ok(lock)
    }

    /// Hands the file to the user a root-started server drops to (see the top).
    pub(crate) fn hand_to(&self, uid: u32, gid: u32) -> io::Result<()> {
        nix::unistd::fchown(
            self.file.as_fd(),
            Some(nix::unistd::Uid::from_raw(uid)),
            Some(nix::unistd::Gid::from_raw(gid)),
        )
        .map_err(io::Error::from)
    }

    /// Re-takes the lock on a descriptor inherited from the previous image (a no-op for the
    /// kernel: the open file description already holds it).
    /// The PID is unchanged across exec, so the file is left as the previous image wrote it.
    pub(crate) fn adopt(fd: OwnedFd) -> Result<Lock, LockError> {
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
    pub(crate) fn record(&self, state: &str) -> io::Result<()> {
        use std::os::unix::fs::FileExt;
        let text = format!("{}\n{state}", std::process::id());
        self.file.set_len(0)?;
        self.file.write_all_at(text.as_bytes(), 0)
    }

    /// The locked file's descriptor (handed to the next image).
    pub(crate) fn fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.file.as_fd()
    }
}
