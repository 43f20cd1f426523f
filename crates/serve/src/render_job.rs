//! The parent's side of rendering: the render worker started, watched and its snapshot taken.
//!
//! The worker is forked and executes the server's binary again (`forkblog render-worker`, a
//! hidden command the binary hands to the `render` crate), renders, writes the encoded snapshot
//! into a memfd the parent created (its fd 3), and exits; the parent then seals and maps the
//! memfd. All the allocation of rendering happens in the worker and vanishes with it, so the
//! parent's heap never holds a post. This crate knows the worker only by this protocol (its
//! command line and descriptors, both ends of which live here), never by its code.
//!
//! Executing the binary by path, rather than rendering in the fork, proves the binary a reload
//! would re-exec: a truncated or broken upgrade fails the render, and the running server keeps
//! the old site, instead of failing the re-exec with nothing left to serve. On failure the
//! worker writes its problems into the memfd instead, for the parent to log and record.
//!
//! On a reload the worker also gets the snapshot being replaced, sealed, on fd 4 (announced by
//! `FORKBLOG_PREVIOUS_SNAPSHOT=4`, which a worker of an older binary ignores), and takes from it
//! what did not change. The snapshot is written into the memfd as it is laid out, never held
//! whole.

use std::ffi::{CString, OsString};
use std::io::{self, Read, Seek};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nix::fcntl::{fcntl, FcntlArg, FdFlag, OFlag};
use nix::sys::signal::{kill, SigSet, Signal};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::{ForkResult, Pid};

use super::cgroup::MemoryCgroup;
use super::limits::RENDER_DEADLINE;
use super::snapshot::{self, Snapshot};
use crate::sys;

/// Whether problems in posts stop a render.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strictness {
    /// At start-up: skip broken posts (logged), fail only when nothing can be served.
    SkipBrokenPosts,
    /// On reload: any problem keeps the old site.
    AllOrNothing,
}

/// What a render adds for writing on one's own machine (`serve --watch`, `--drafts`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Preview {
    /// The live-reload script in every page (see `live.rs`).
    pub live: bool,
    /// Drafts included, labelled as such.
    pub drafts: bool,
}

impl Preview {
    /// The word that carries it on the worker's command line.
    pub fn word(self) -> &'static str {
        match (self.live, self.drafts) {
            (false, false) => "published",
            (false, true) => "drafts",
            (true, false) => "live",
            (true, true) => "live+drafts",
        }
    }

    pub fn from_word(word: &std::ffi::OsStr) -> Option<Preview> {
        let word = word.to_str()?;
        [false, true]
            .into_iter()
            .flat_map(|live| [false, true].map(|drafts| Preview { live, drafts }))
            .find(|p| p.word() == word)
    }
}

/// A render worker in flight.
pub struct RenderJob {
    /// The worker's PID, reaped by the supervisor like any child.
    pub pid: Pid,
    memfd: OwnedFd,
    started: Instant,
    /// The pipe the worker says on that the snapshot is written, before its exit (which takes
    /// milliseconds to free a render's memory): read end, non-blocking. `None` once read.
    rendered: Option<OwnedFd>,
    /// The server's memory cgroup (the worker's too) and its OOM-kill count at the start:
    /// a worker dead of SIGKILL while the count grew was killed for memory.
    memory: Option<(MemoryCgroup, u64)>,
}

/// The descriptor the worker finds the memfd on.
pub const WORKER_FD: i32 = 3;

/// The descriptor the worker finds the snapshot being replaced on, when there is one.
pub const PREVIOUS_FD: i32 = 4;

/// The descriptor the worker writes one byte to once the snapshot is written (a pipe's end).
pub const RENDERED_FD: i32 = 5;

/// Set in the worker's environment when [`RENDERED_FD`] is that pipe (a worker of an older
/// binary ignores it; the server then learns of the render from the worker's exit).
const RENDERED_ENV: &str = "FORKBLOG_RENDERED_FD";

/// Where the worker's descriptors wait, between fork and exec, while 3 to 5 are made free.
const PARKED_FROM: i32 = 16;

/// Set in the worker's environment when [`PREVIOUS_FD`] holds the snapshot being replaced. An
/// environment variable rather than an argument: a worker of an older binary ignores it and
/// renders everything, instead of refusing an argument it does not know.
const PREVIOUS_ENV: &str = "FORKBLOG_PREVIOUS_SNAPSHOT";

/// The name of the hidden command that runs a worker.
pub const WORKER_COMMAND: &str = "render-worker";

/// Forks a worker that executes `exe` to render `root` into a new memfd, reusing what it can
/// from `previous`, the snapshot being replaced (sealed: the worker can only read it).
pub fn spawn(
    exe: &Path,
    root: &Path,
    strictness: Strictness,
    preview: Preview,
    previous: Option<&Snapshot>,
) -> io::Result<RenderJob> {
    let memfd = snapshot::memfd()?;
    let cstring = |bytes: &[u8]| {
        CString::new(bytes).map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))
    };
    // Everything the worker's exec needs is built before the fork.
    let path = cstring(exe.as_os_str().as_bytes())?;
    let argv = vec![
        cstring(b"forkblog")?,
        cstring(WORKER_COMMAND.as_bytes())?,
        cstring(root.as_os_str().as_bytes())?,
        cstring(match strictness {
            Strictness::SkipBrokenPosts => b"skip-broken-posts",
            Strictness::AllOrNothing => b"all-or-nothing",
        })?,
        cstring(preview.word().as_bytes())?,
    ];
    let mut env = Vec::new();
    for (key, value) in std::env::vars_os() {
        let k = key.as_bytes();
        // The worker is no server: no handover, no systemd sockets or notifications.
        if k.starts_with(b"FORKBLOG_HANDOVER")
            || k.starts_with(b"LISTEN_")
            || k == b"NOTIFY_SOCKET"
            || k == PREVIOUS_ENV.as_bytes()
            || k == RENDERED_ENV.as_bytes()
        {
            continue;
        }
        env.push(cstring(&[k, b"=", value.as_bytes()].concat())?);
    }
    // A clone made before the fork: the worker's copy, closed here when this returns.
    let previous = previous.map(|s| s.fd().try_clone()).transpose()?;
    if previous.is_some() {
        env.push(cstring(format!("{PREVIOUS_ENV}={PREVIOUS_FD}").as_bytes())?);
    }
    let (rendered, rendered_end) = nix::unistd::pipe2(OFlag::O_CLOEXEC | OFlag::O_NONBLOCK)
        .map_err(|e| io::Error::other(format!("pipe for the render worker: {e}")))?;
    env.push(cstring(format!("{RENDERED_ENV}={RENDERED_FD}").as_bytes())?);
    let memory = MemoryCgroup::of_this_process().and_then(|cgroup| {
        let kills = cgroup.oom_kills()?;
        Some((cgroup, kills))
    });
    match sys::fork().map_err(|e| io::Error::other(format!("fork for rendering: {e}")))? {
        ForkResult::Child => {
            // Only stdio (stderr: diagnostics), the memfd as fd 3, the previous snapshot as
            // fd 4 and the pipe's end as fd 5 cross the exec.
            drop(rendered);
            let Ok(memfd) = place_worker_fds(memfd, previous, Some(rendered_end)) else {
                sys::exit_now(127)
            };
            sys::set_signal_dispositions(
                &[
                    Signal::SIGTERM,
                    Signal::SIGINT,
                    Signal::SIGHUP,
                    Signal::SIGUSR1,
                    Signal::SIGUSR2,
                    Signal::SIGCHLD,
                ],
                &[],
            );
            let _ = SigSet::empty().thread_set_mask();
            let error = match nix::unistd::execve(&path, &argv, &env) {
                Ok(never) => match never {},
                Err(errno) => errno,
            };
            // Tell the parent why, through the memfd it will read.
            let text = format!("cannot execute {}: {error}", exe.display());
            let _ = nix::unistd::write(&memfd, text.as_bytes());
            sys::exit_now(127)
        }
        // The worker's end is closed here (it is dropped), so the pipe ends with the worker.
        ForkResult::Parent { child } => Ok(RenderJob {
            pid: child,
            memfd,
            started: Instant::now(),
            rendered: Some(rendered),
            memory,
        }),
    }
}

/// In the forked worker before exec: the memfd on [`WORKER_FD`], `previous` on
/// [`PREVIOUS_FD`] and the pipe's end on [`RENDERED_FD`], without close-on-exec, every other
/// fd from 3 up closed. Only close and fcntl: no allocation, async-signal-safe as the time
/// after fork requires. Returns the memfd's handle (now fd 3), for reporting a failed exec
/// through it.
fn place_worker_fds(
    memfd: OwnedFd,
    previous: Option<OwnedFd>,
    rendered: Option<OwnedFd>,
) -> nix::Result<OwnedFd> {
    let raw = |fd: &Option<OwnedFd>| fd.as_ref().map_or(-1, AsRawFd::as_raw_fd);
    let mut keep = [memfd.as_raw_fd(), raw(&previous), raw(&rendered)];
    keep.sort_unstable();
    let mut from = 3;
    for fd in keep.into_iter().filter(|&fd| fd >= 3) {
        sys::close_range(from, fd - 1);
        from = fd + 1;
    }
    sys::close_range(from, i32::MAX);
    // Each moved up out of the way (its old number closed), then put on its number: with 3 up
    // to PARKED_FROM free, the lowest free number from a wanted one is that one.
    let park = |fd: OwnedFd| sys::dup_at_least(fd.as_fd(), PARKED_FROM);
    let (memfd, previous, rendered) = (
        park(memfd)?,
        previous.map(park).transpose()?,
        rendered.map(park).transpose()?,
    );
    let place = |fd: &OwnedFd, want: i32| -> nix::Result<OwnedFd> {
        let placed = sys::dup_at_least(fd.as_fd(), want)?;
        if placed.as_raw_fd() != want {
            return Err(nix::errno::Errno::EBADF);
        }
        fcntl(&placed, FcntlArg::F_SETFD(FdFlag::empty()))?;
        Ok(placed)
    };
    let placed = place(&memfd, WORKER_FD)?;
    // Left open for the exec; the process image ends with the exec or with exit_now. The
    // parked copies are close-on-exec.
    if let Some(previous) = &previous {
        std::mem::forget(place(previous, PREVIOUS_FD)?);
    }
    if let Some(rendered) = &rendered {
        std::mem::forget(place(rendered, RENDERED_FD)?);
    }
    Ok(placed)
}

/// What a render worker was asked, from its command line.
pub struct WorkerArgs {
    /// The site's root.
    pub root: PathBuf,
    pub strictness: Strictness,
    pub preview: Preview,
    /// `CERT KEY MISSING`, only from a server of an older version during an upgrade: that
    /// server finds the certificate at the end of the snapshot, so the worker carries it there.
    pub older_parent_tls: Option<[OsString; 3]>,
}

/// What a render worker finds on its descriptors, from the server that started it.
pub struct WorkerEnds {
    /// Where the snapshot goes (fd 3); on failure, the problems.
    pub memfd: OwnedFd,
    /// Where to say the snapshot is written, when the server asked (its pipe on fd 5).
    pub rendered: Option<OwnedFd>,
    /// The snapshot being replaced, when the server passed one: mapped read-only (sealed).
    pub previous: Option<Snapshot>,
}

/// `forkblog render-worker ROOT STRICTNESS PREVIEW`, read. A server of an older version may
/// leave out PREVIEW and add `CERT KEY MISSING`.
pub fn worker_args(args: &[OsString]) -> Result<WorkerArgs, String> {
    let strictness_of = |word: &OsString| match word.to_str() {
        Some("all-or-nothing") => Strictness::AllOrNothing,
        _ => Strictness::SkipBrokenPosts,
    };
    // The preview word is absent when an older server runs this binary's worker during an
    // upgrade: that server knows no preview, so the published site is what it wants.
    let published = || Some(Preview::default());
    let (root, strictness, preview, tls) = match args {
        [root, strictness] => (root, strictness, published(), None),
        [root, strictness, preview] => (root, strictness, Preview::from_word(preview), None),
        [root, strictness, cert, key, missing] => {
            (root, strictness, published(), Some([cert, key, missing]))
        }
        [root, strictness, preview, cert, key, missing] => (
            root,
            strictness,
            Preview::from_word(preview),
            Some([cert, key, missing]),
        ),
        _ => return Err(format!("{WORKER_COMMAND} is run by the server itself")),
    };
    let preview = preview.ok_or_else(|| {
        format!("{WORKER_COMMAND}: unknown preview mode (a binary of another version?)")
    })?;
    Ok(WorkerArgs {
        root: PathBuf::from(root),
        strictness: strictness_of(strictness),
        preview,
        older_parent_tls: tls.map(|t| t.map(OsString::clone)),
    })
}

/// In a render worker: takes the descriptors the server placed (see [`spawn`]).
pub fn worker_ends() -> Result<WorkerEnds, String> {
    let memfd = sys::adopt_inherited_fd(WORKER_FD)
        .map_err(|e| format!("{WORKER_COMMAND}: no memfd on fd {WORKER_FD}: {e}"))?;
    let rendered = std::env::var_os(RENDERED_ENV)
        .filter(|v| v.to_str() == Some(&RENDERED_FD.to_string()))
        .and_then(|_| sys::adopt_inherited_fd(RENDERED_FD).ok());
    let previous = std::env::var_os(PREVIOUS_ENV)
        .filter(|v| v.to_str() == Some(&PREVIOUS_FD.to_string()))
        .and_then(|_| match sys::adopt_inherited_fd(PREVIOUS_FD) {
            Ok(fd) => Snapshot::seal_and_map(fd)
                .map_err(|e| {
                    log::warn!("the previous snapshot is unusable ({e}); rendering everything")
                })
                .ok(),
            Err(e) => {
                log::warn!("no previous snapshot on fd {PREVIOUS_FD} ({e}); rendering everything");
                None
            }
        });
    Ok(WorkerEnds {
        memfd,
        rendered,
        previous,
    })
}

/// A render worker's failure report: what it wrote into the memfd, bounded.
fn report(memfd: &OwnedFd) -> String {
    let mut text = String::new();
    if let Ok(fd) = memfd.try_clone() {
        let mut file = std::fs::File::from(fd);
        let _ = file.rewind();
        let _ = file.take(64 * 1024).read_to_string(&mut text);
    }
    text.trim_end().to_string()
}

impl RenderJob {
    /// The pipe to poll for the worker's word that the snapshot is written, until it is read.
    pub fn rendered_fd(&self) -> Option<std::os::fd::BorrowedFd<'_>> {
        self.rendered.as_ref().map(|fd| fd.as_fd())
    }

    /// Reads the pipe once it polls readable: whether the worker said the snapshot is written
    /// (it then only exits; [`RenderJob::finish`] may be given a successful exit at once). The
    /// pipe is closed once it said anything or ended (a worker that failed, or of an older
    /// binary: its exit status tells).
    pub fn says_rendered(&mut self) -> bool {
        let Some(pipe) = &self.rendered else {
            return false;
        };
        let mut byte = [0u8; 1];
        match nix::unistd::read(pipe, &mut byte) {
            Err(nix::errno::Errno::EAGAIN | nix::errno::Errno::EINTR) => false,
            read => {
                self.rendered = None;
                matches!(read, Ok(1)) && byte == *b"1"
            }
        }
    }

    /// Turns the worker's exit status into a mapped snapshot.
    pub fn finish(self, status: WaitStatus) -> Result<Snapshot, String> {
        match status {
            WaitStatus::Exited(_, 0) => {
                let snapshot = Snapshot::seal_and_map(self.memfd).map_err(|e| e.to_string())?;
                log::info!(
                    "render worker finished in {:.1} ms",
                    self.started.elapsed().as_secs_f64() * 1000.0
                );
                Ok(snapshot)
            }
            WaitStatus::Exited(_, code) => match report(&self.memfd) {
                text if text.is_empty() => {
                    Err(format!("render failed (worker exit status {code})"))
                }
                text => Err(text),
            },
            // The OOM killer and the deadline both send SIGKILL: memory is asked first, as
            // a worker past its deadline may also have been killed for memory.
            WaitStatus::Signaled(_, Signal::SIGKILL, _) => Err(self
                .killed_for_memory()
                .or_else(|| self.killed_for_deadline())
                .unwrap_or_else(|| "the render worker died of SIGKILL".to_string())),
            WaitStatus::Signaled(_, signal, _) => Err(format!(
                "the render worker died of {signal} (a broken or truncated binary?)"
            )),
            other => Err(format!("render worker ended abnormally: {other:?}")),
        }
    }

    /// What to say of a worker dead of SIGKILL when its cgroup's OOM-kill count grew since it
    /// started (the OOM killer's signal is SIGKILL); `None` when it did not, or is unknown.
    fn killed_for_memory(&self) -> Option<String> {
        let (cgroup, before) = self.memory.as_ref()?;
        let after = cgroup.oom_kills().filter(|after| after > before)?;
        let limit = cgroup
            .limit()
            .map(|bytes| format!("; the limit is {} MiB", bytes >> 20))
            .unwrap_or_default();
        Some(format!(
            "the render worker was killed for memory by the OOM killer (oom_kill went from \
             {before} to {after} in {}{limit}): rendering this site needs more memory than the \
             server may use. Raise MemoryMax= (and MemoryHigh=) in the unit, or make the site \
             smaller (deploy/README.md, \"Memory and task budget\")",
            cgroup.events_file().display()
        ))
    }

    /// What to say of a worker dead of SIGKILL once past [`RENDER_DEADLINE`]: the server
    /// killed it for that ([`RenderJob::overdue`] is when it does).
    fn killed_for_deadline(&self) -> Option<String> {
        self.overdue().then(|| {
            format!(
                "the render worker ran past its deadline of {RENDER_DEADLINE:?} and was killed \
                 (a site this slow to render, or a stuck file system under it?)"
            )
        })
    }

    /// Whether the worker has run past [`RENDER_DEADLINE`].
    pub fn overdue(&self) -> bool {
        self.started.elapsed() > RENDER_DEADLINE
    }

    /// Waits for the worker (used at start-up, before the accept loop exists), killing it
    /// past [`RENDER_DEADLINE`].
    pub fn wait(self) -> Result<Snapshot, String> {
        loop {
            match waitpid(self.pid, Some(WaitPidFlag::WNOHANG)) {
                Ok(status @ (WaitStatus::Exited(..) | WaitStatus::Signaled(..))) => {
                    return self.finish(status)
                }
                Ok(_) | Err(nix::errno::Errno::EINTR) => {}
                Err(e) => return Err(format!("waiting for the render worker: {e}")),
            }
            if self.overdue() {
                let _ = kill(self.pid, Signal::SIGKILL);
                // Reported by `finish` like a worker the supervisor kills.
                return match waitpid(self.pid, None) {
                    Ok(status) => self.finish(status),
                    Err(e) => Err(format!("waiting for the render worker: {e}")),
                };
            }
            std::thread::sleep(Duration::from_millis(5)); // start-up only: nothing else to do
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A job for a worker that is not there, started `age` ago.
    fn job(age: Duration) -> RenderJob {
        let now = Instant::now();
        RenderJob {
            pid: Pid::from_raw(i32::MAX),
            memfd: snapshot::memfd().unwrap(),
            started: now.checked_sub(age).expect("a clock that far back"),
            rendered: None,
            memory: None,
        }
    }

    fn killed(job: RenderJob) -> String {
        let status = WaitStatus::Signaled(job.pid, Signal::SIGKILL, false);
        job.finish(status).err().expect("a killed worker fails")
    }

    #[test]
    fn a_worker_killed_past_its_deadline_is_said_to_be() {
        let text = killed(job(RENDER_DEADLINE + Duration::from_secs(1)));
        assert!(text.contains("deadline"), "{text}");
        assert!(!text.contains("binary"), "{text}");
        let text = killed(job(Duration::ZERO));
        assert!(!text.contains("deadline"), "{text}");
    }
}
