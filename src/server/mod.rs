//! The server: a parent that accepts, forks, closes and reaps; children that speak HTTP.
//!
//! Who owns what:
//! - `supervisor.rs`: the accept loop, **close after fork**, **reap**, the cap, signals, drain.
//! - `handover.rs`: **re-exec** in place on SIGHUP, the listening socket inherited.
//! - `limits.rs`: every **limit** (children, timeouts, lifetime, head size).
//! - `child.rs`: dup2 onto stdin/stdout, close the rest, serve, `_exit`.
//! - `http.rs`: request parsing and response choice; `snapshot.rs`: the site in shared memory.
//! - `render.rs`: rendering in a worker process; `listener.rs`, `lock.rs`, `privileges.rs`,
//!   `signals.rs`: one concern each.

pub mod child;
pub mod handover;
pub mod http;
pub mod limits;
pub mod listener;
pub mod lock;
pub mod privileges;
pub mod render;
pub mod signals;
pub mod snapshot;
pub mod status;
pub mod supervisor;
pub mod watchdog;

use std::collections::HashMap;
use std::fs::File;
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Instant, SystemTime};

use crate::logs::AccessLog;
use handover::Handover;
use limits::Limits;
use lock::{Lock, LockError, EXIT_ALREADY_RUNNING};
use render::Strictness;
use snapshot::Snapshot;
use supervisor::Supervisor;

/// The default listening address.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

/// Settings for `forkblog serve`.
#[derive(Debug, Clone)]
pub struct Config {
    /// The blog's root: `posts/`, `templates/`, `forkblog.toml`.
    pub root: PathBuf,
    /// Where to listen, unless a socket is inherited.
    pub listen: SocketAddr,
    /// `--access-log`: a path, or `-` for stderr.
    pub access_log: String,
    /// `--lock`: defaults to the access log path plus `.lock`.
    pub lock: Option<PathBuf>,
    /// `--user`: who to become when started as root.
    pub user: Option<String>,
    /// Connection and process limits.
    pub limits: Limits,
    /// Where the status endpoint is and who may read it.
    pub status: status::Access,
    /// How often the leak watchdog samples the parent.
    pub watchdog_interval: std::time::Duration,
}

impl Config {
    /// The lock file: `--lock`, else next to the access log, else `forkblog.lock`.
    pub fn lock_path(&self) -> PathBuf {
        match (&self.lock, self.access_log.as_str()) {
            (Some(path), _) => path.clone(),
            (None, "-") => PathBuf::from("forkblog.lock"),
            (None, log) => PathBuf::from(format!("{log}.lock")),
        }
    }
}

/// An error that ends `serve`, with the exit status it maps to.
#[derive(Debug)]
pub struct Fatal {
    /// The message for stderr.
    pub message: String,
    /// The exit status.
    pub code: u8,
}

impl Fatal {
    fn new(message: impl Into<String>) -> Fatal {
        Fatal {
            message: message.into(),
            code: 1,
        }
    }
}

impl From<io::Error> for Fatal {
    fn from(e: io::Error) -> Fatal {
        Fatal::new(e.to_string())
    }
}

/// `forkblog serve`: a first start, or the next generation after a re-exec.
pub fn serve(config: Config) -> Result<ExitCode, Fatal> {
    let handover = Handover::from_env()?;
    if handover.is_none() {
        // A first start owns its descriptor table: whatever a launcher left open beyond
        // stdio and systemd's sockets would otherwise live in the parent for ever, across
        // every reload. Nothing in this process has opened or wrapped a descriptor yet.
        crate::sys::close_range(3 + listener::systemd_fd_count() as i32, i32::MAX);
    }
    let signals = signals::Signals::install()?;
    let supervisor = match handover {
        Some(handover) => resume(config, handover, signals)?,
        None => start(config, signals)?,
    };
    Ok(supervisor.run())
}

fn start(config: Config, signals: signals::Signals) -> Result<Supervisor, Fatal> {
    let lock_path = config.lock_path();
    let lock = match Lock::acquire(&lock_path) {
        Ok(lock) => lock,
        Err(LockError::Held(pid)) => {
            let pid = pid.map(|p| p.to_string()).unwrap_or_else(|| "?".into());
            return Err(Fatal {
                message: format!(
                    "already running as PID {pid} (lock {})",
                    lock_path.display()
                ),
                code: EXIT_ALREADY_RUNNING,
            });
        }
        Err(LockError::Io(e)) => return Err(e.into()),
    };
    let listener = match listener::from_systemd()? {
        Some(listener) => {
            log::info!("using the listening socket passed by systemd");
            listener
        }
        None => listener::bind_to(config.listen, config.limits.backlog)?,
    };
    let log = AccessLog::open(&config.access_log)?;
    privileges::drop_if_root(config.user.as_deref())?;
    let site = render::spawn(&config.root, Strictness::SkipBrokenPosts)?
        .wait()
        .map_err(|e| Fatal::new(format!("cannot serve {}: {e}", config.root.display())))?;
    let exe =
        std::env::current_exe().map_err(|e| Fatal::new(format!("finding own binary: {e}")))?;
    let counters = status::Counters::create()?;
    // Announced last, once every descriptor the parent keeps is open.
    log::info!(
        "serving {} on http://{} as PID {}",
        config.root.display(),
        listener
            .local_addr()
            .map(|a| a.to_string())
            .unwrap_or_else(|_| "?".into()),
        std::process::id()
    );
    Ok(supervisor(
        listener,
        site,
        log,
        Some(lock),
        counters,
        config,
        exe,
        0,
        SystemTime::now(),
        HashMap::new(),
        signals,
    ))
}

#[allow(clippy::too_many_arguments)]
fn supervisor(
    listener: std::net::TcpListener,
    site: Snapshot,
    log: AccessLog,
    lock: Option<Lock>,
    counters: status::Counters,
    config: Config,
    exe: PathBuf,
    generation: u64,
    started: SystemTime,
    children: HashMap<nix::unistd::Pid, Instant>,
    signals: signals::Signals,
) -> Supervisor {
    let watchdog = watchdog::Watchdog::new(config.watchdog_interval);
    Supervisor {
        listener: Some(listener),
        site,
        log,
        lock,
        counters,
        config,
        exe,
        generation,
        started,
        children,
        signals,
        render: None,
        reload_again: false,
        drain_deadline: None,
        backoff: supervisor::Backoff::default(),
        watchdog,
    }
}

fn resume(
    config: Config,
    handover: Handover,
    signals: signals::Signals,
) -> Result<Supervisor, Fatal> {
    let listener = listener::adopt(handover.listener)?;
    let site = Snapshot::seal_and_map(handover.site)?;
    let log = match handover.log {
        Some(fd) => AccessLog::adopt(&config.access_log, File::from(fd)),
        None => AccessLog::Stderr(std::io::stderr()),
    };
    let lock = match handover.lock.map(Lock::adopt) {
        Some(Ok(lock)) => Some(lock),
        Some(Err(e)) => return Err(Fatal::new(format!("re-taking the inherited lock: {e:?}"))),
        None => None,
    };
    if nix::unistd::Uid::effective().is_root() {
        return Err(Fatal::new("refusing to serve as root after re-exec"));
    }
    let now = Instant::now();
    let children = handover
        .children
        .iter()
        .map(|&(pid, age)| (pid, now.checked_sub(age).unwrap_or(now)))
        .collect();
    log::info!(
        "generation {} serving {} ({} posts) as PID {}, {} connection(s) carried over",
        handover.generation,
        config.root.display(),
        site.view().post_count(),
        std::process::id(),
        handover.children.len()
    );
    let counters = status::Counters::adopt(handover.counters)?;
    Ok(supervisor(
        listener,
        site,
        log,
        lock,
        counters,
        config,
        handover.exe,
        handover.generation,
        handover.started,
        children,
        signals,
    ))
}

/// `forkblog serve --inetd`: serve the one connection already on stdin/stdout, with the same
/// code a forked child runs.
pub fn inetd(config: Config) -> Result<ExitCode, Fatal> {
    // Classic inetd hands the socket over as fds 0, 1 and 2 alike: a diagnostic on stderr
    // would then land in the response. Send stderr to /dev/null when it is the connection
    // itself (not merely a socket: systemd's journal stream is one too).
    let same = |a: nix::sys::stat::FileStat, b: nix::sys::stat::FileStat| {
        a.st_dev == b.st_dev && a.st_ino == b.st_ino
    };
    if let (Ok(out), Ok(err)) = (
        nix::sys::stat::fstat(std::io::stdout()),
        nix::sys::stat::fstat(std::io::stderr()),
    ) {
        if same(out, err) {
            let null = std::fs::OpenOptions::new().write(true).open("/dev/null")?;
            nix::unistd::dup2_stderr(&null).map_err(std::io::Error::from)?;
        }
    }
    let log = AccessLog::open(&config.access_log)?;
    privileges::drop_if_root(config.user.as_deref())?;
    let bytes =
        render::render_bytes(&config.root, Strictness::SkipBrokenPosts).map_err(Fatal::new)?;
    child::serve(&child::Context {
        site: snapshot::View::new(&bytes),
        log: log.fd(),
        limits: &config.limits,
        counters: None,
        status: &config.status,
        peer: child::peer_of_stdin(),
    });
    Ok(ExitCode::SUCCESS)
}
