//! Rendering the site into a snapshot, in a short-lived worker process.
//!
//! The worker is forked and executes the server's binary again (`forkblog render-worker`, a
//! hidden command), renders, writes the encoded snapshot into a memfd the parent created (its
//! fd 3), and exits; the parent then seals and maps the memfd. All the allocation of rendering
//! happens in the worker and vanishes with it, so the parent's heap never holds a post.
//!
//! Executing the binary by path, rather than rendering in the fork, proves the binary a reload
//! would re-exec: a truncated or broken upgrade fails the render, and the running server keeps
//! the old site, instead of failing the re-exec with nothing left to serve. On failure the
//! worker writes its problems into the memfd instead, for the parent to log and record.

use std::ffi::CString;
use std::io::{self, Read, Seek};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::time::{Duration, Instant};

use nix::fcntl::{fcntl, FcntlArg, FdFlag};
use nix::sys::signal::{kill, SigSet, Signal};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::{ForkResult, Pid};

use super::encode;
use super::limits::RENDER_DEADLINE;
use super::snapshot::{self, Snapshot};
use super::tls;
use crate::site;
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
    fn word(self) -> &'static str {
        match (self.live, self.drafts) {
            (false, false) => "published",
            (false, true) => "drafts",
            (true, false) => "live",
            (true, true) => "live+drafts",
        }
    }

    fn from_word(word: &std::ffi::OsStr) -> Option<Preview> {
        let word = word.to_str()?;
        [false, true]
            .into_iter()
            .flat_map(|live| [false, true].map(|drafts| Preview { live, drafts }))
            .find(|p| p.word() == word)
    }
}

/// Renders `root` in this process and encodes the snapshot, logging every problem; with `tls`,
/// the certificate and key are read, checked and carried at the end of the snapshot.
pub fn render_bytes(
    root: &Path,
    strictness: Strictness,
    preview: Preview,
    tls: Option<&tls::Files>,
) -> Result<Vec<u8>, String> {
    let started = Instant::now();
    // The certificate first: a bad key fails the render before the work of rendering.
    let material = tls.map(tls::Material::load).transpose()?.flatten();
    let build = site::build_including_drafts(root, preview.drafts);
    for problem in &build.problems {
        log::error!("{problem}");
    }
    let site = match build.site {
        None => return Err(format!("nothing to serve from {}", root.display())),
        Some(_) if strictness == Strictness::AllOrNothing && !build.problems.is_empty() => {
            let mut text = format!("{} problem(s) in {}:", build.problems.len(), root.display());
            for problem in &build.problems {
                text.push_str(&format!("\n{problem}"));
            }
            return Err(text);
        }
        Some(site) => site,
    };
    let mut site = site;
    if preview.live {
        super::live::add_to(&mut site);
    }
    let render_micros = started.elapsed().as_micros() as u64;
    let mut bytes =
        encode::encode(&site, render_micros).map_err(|e| format!("encoding the site: {e}"))?;
    if let Some(material) = material {
        material.append_to(&mut bytes);
    }
    log::info!(
        "rendered {} posts, {} resources, {} KiB in {:.1} ms ({:.1} ms with encoding)",
        site.post_count,
        site.resources.len(),
        bytes.len() / 1024,
        render_micros as f64 / 1000.0,
        started.elapsed().as_secs_f64() * 1000.0
    );
    Ok(bytes)
}

/// A render worker in flight.
pub struct RenderJob {
    /// The worker's PID, reaped by the supervisor like any child.
    pub pid: Pid,
    memfd: OwnedFd,
    started: Instant,
}

/// The descriptor the worker finds the memfd on.
pub const WORKER_FD: i32 = 3;

/// The name of the hidden command that runs a worker.
pub const WORKER_COMMAND: &str = "render-worker";

/// Forks a worker that executes `exe` to render `root` (and check `tls`) into a new memfd.
pub fn spawn(
    exe: &Path,
    root: &Path,
    strictness: Strictness,
    preview: Preview,
    tls: Option<&tls::Files>,
) -> io::Result<RenderJob> {
    let memfd = snapshot::memfd()?;
    let cstring = |bytes: &[u8]| {
        CString::new(bytes).map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))
    };
    // Everything the worker's exec needs is built before the fork.
    let path = cstring(exe.as_os_str().as_bytes())?;
    let mut argv = vec![
        cstring(b"forkblog")?,
        cstring(WORKER_COMMAND.as_bytes())?,
        cstring(root.as_os_str().as_bytes())?,
        cstring(match strictness {
            Strictness::SkipBrokenPosts => b"skip-broken-posts",
            Strictness::AllOrNothing => b"all-or-nothing",
        })?,
        cstring(preview.word().as_bytes())?,
    ];
    if let Some(files) = tls {
        argv.push(cstring(files.cert.as_os_str().as_bytes())?);
        argv.push(cstring(files.key.as_os_str().as_bytes())?);
        argv.push(cstring(match files.missing_ok {
            true => b"missing-ok",
            false => b"required",
        })?);
    }
    let mut env = Vec::new();
    for (key, value) in std::env::vars_os() {
        let k = key.as_bytes();
        // The worker is no server: no handover, no systemd sockets or notifications.
        if k.starts_with(b"FORKBLOG_HANDOVER") || k.starts_with(b"LISTEN_") || k == b"NOTIFY_SOCKET"
        {
            continue;
        }
        env.push(cstring(&[k, b"=", value.as_bytes()].concat())?);
    }
    match sys::fork().map_err(|e| io::Error::other(format!("fork for rendering: {e}")))? {
        ForkResult::Child => {
            // Only stdio (stderr: diagnostics) and the memfd, as fd 3, cross the exec.
            let keep = memfd.as_raw_fd();
            sys::close_range(3, keep - 1);
            sys::close_range(keep + 1, i32::MAX);
            // F_DUPFD gives the lowest free number from 3 up, which is 3 with the rest closed,
            // and without close-on-exec; the original (close-on-exec) vanishes at exec.
            let on_3 = match keep {
                WORKER_FD => fcntl(&memfd, FcntlArg::F_SETFD(FdFlag::empty())).map(drop),
                _ => fcntl(&memfd, FcntlArg::F_DUPFD(WORKER_FD)).and_then(|fd| match fd {
                    WORKER_FD => Ok(()),
                    _ => Err(nix::errno::Errno::EBADF),
                }),
            };
            let error = on_3
                .map(|()| {
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
                    match nix::unistd::execve(&path, &argv, &env) {
                        Ok(never) => match never {},
                        Err(errno) => errno,
                    }
                })
                .unwrap_or_else(|e| e);
            // Tell the parent why, through the memfd it will read.
            let text = format!("cannot execute {}: {error}", exe.display());
            let _ = nix::unistd::write(&memfd, text.as_bytes());
            sys::exit_now(127)
        }
        ForkResult::Parent { child } => Ok(RenderJob {
            pid: child,
            memfd,
            started: Instant::now(),
        }),
    }
}

/// `forkblog render-worker ROOT STRICTNESS PREVIEW [CERT KEY MISSING]`: renders into the memfd on fd 3 and exits 0, or
/// writes the problems there and exits 1.
pub fn worker(args: &[std::ffi::OsString]) -> std::process::ExitCode {
    let strictness_of = |word: &std::ffi::OsString| match word.to_str() {
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
            (root, strictness, published(), Some((cert, key, missing)))
        }
        [root, strictness, preview, cert, key, missing] => (
            root,
            strictness,
            Preview::from_word(preview),
            Some((cert, key, missing)),
        ),
        _ => {
            eprintln!("forkblog: {WORKER_COMMAND} is run by the server itself");
            return std::process::ExitCode::from(2);
        }
    };
    let (root, strictness) = (Path::new(root), strictness_of(strictness));
    let tls = tls.map(|(cert, key, missing)| tls::Files {
        cert: cert.into(),
        key: key.into(),
        missing_ok: missing == "missing-ok",
    });
    let Some(preview) = preview else {
        eprintln!(
            "forkblog: {WORKER_COMMAND}: unknown preview mode (a binary of another version?)"
        );
        return std::process::ExitCode::from(2);
    };
    let memfd = match sys::adopt_inherited_fd(WORKER_FD) {
        Ok(fd) => fd,
        Err(e) => {
            eprintln!("forkblog: {WORKER_COMMAND}: no memfd on fd {WORKER_FD}: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let written = match render_bytes(root, strictness, preview, tls.as_ref()) {
        Ok(bytes) => snapshot::write_into(&memfd, &bytes).map_err(|e| {
            let text = format!("writing the rendered site: {e}");
            log::error!("{text}");
            text
        }),
        Err(text) => {
            log::error!("{}", text.lines().next().unwrap_or(""));
            let _ = snapshot::write_into(&memfd, text.as_bytes());
            Err(text)
        }
    };
    match written {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(_) => std::process::ExitCode::FAILURE,
    }
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
            WaitStatus::Signaled(_, signal, _) => Err(format!(
                "the render worker died of {signal} (a broken or truncated binary?)"
            )),
            other => Err(format!("render worker ended abnormally: {other:?}")),
        }
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
                let _ = waitpid(self.pid, None);
                return Err(format!(
                    "render took longer than {RENDER_DEADLINE:?}; killed it"
                ));
            }
            std::thread::sleep(Duration::from_millis(5)); // start-up only: nothing else to do
        }
    }
}
