//! Rendering the site into a snapshot, in a short-lived worker process.
//!
//! The worker is forked, renders, writes the encoded snapshot into a memfd the parent created,
//! and exits; the parent then seals and maps the memfd. All the allocation of rendering happens
//! in the worker and vanishes with it, so the parent's heap never holds a post.

use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::Path;
use std::time::{Duration, Instant};

use nix::sys::signal::kill;
use nix::sys::signal::Signal;
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

/// Renders `root` in this process and encodes the snapshot, logging every problem; with `tls`,
/// the certificate and key are read, checked and carried at the end of the snapshot.
pub fn render_bytes(
    root: &Path,
    strictness: Strictness,
    tls: Option<&tls::Files>,
) -> Result<Vec<u8>, String> {
    let started = Instant::now();
    // The certificate first: a bad key fails the render before the work of rendering.
    let material = tls.map(tls::Material::load).transpose()?.flatten();
    let build = site::build(root);
    for problem in &build.problems {
        log::error!("{problem}");
    }
    let site = match build.site {
        None => return Err(format!("nothing to serve from {}", root.display())),
        Some(_) if strictness == Strictness::AllOrNothing && !build.problems.is_empty() => {
            return Err(format!(
                "{} problem(s) in {}",
                build.problems.len(),
                root.display()
            ));
        }
        Some(site) => site,
    };
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

/// Forks a worker that renders `root` (and checks `tls`) into a new memfd.
pub fn spawn(
    root: &Path,
    strictness: Strictness,
    tls: Option<&tls::Files>,
) -> io::Result<RenderJob> {
    let memfd = snapshot::memfd()?;
    match sys::fork().map_err(|e| io::Error::other(format!("fork for rendering: {e}")))? {
        ForkResult::Child => {
            // Keep stderr (diagnostics) and the memfd; drop the listener, pipes, lock and log.
            let keep = memfd.as_raw_fd();
            sys::close_range(3, keep - 1);
            sys::close_range(keep + 1, i32::MAX);
            sys::set_signal_dispositions(
                &[
                    Signal::SIGTERM,
                    Signal::SIGINT,
                    Signal::SIGHUP,
                    Signal::SIGUSR1,
                    Signal::SIGCHLD,
                ],
                &[],
            );
            let code = match render_bytes(root, strictness, tls) {
                Ok(bytes) => match snapshot::write_into(&memfd, &bytes) {
                    Ok(()) => 0,
                    Err(e) => {
                        log::error!("writing the rendered site: {e}");
                        1
                    }
                },
                Err(e) => {
                    log::error!("{e}");
                    1
                }
            };
            sys::exit_now(code)
        }
        ForkResult::Parent { child } => Ok(RenderJob {
            pid: child,
            memfd,
            started: Instant::now(),
        }),
    }
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
            WaitStatus::Exited(_, code) => {
                Err(format!("render failed (worker exit status {code})"))
            }
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
