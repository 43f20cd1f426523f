//! The server: a parent that accepts, forks, closes and reaps; children that speak HTTP.
//!
//! Who owns what:
//! - `supervisor.rs`: the parent loop: **close after fork**, **reap**, the cap, eviction,
//!   signals, drain.
//! - `handover.rs`: **re-exec** in place on SIGHUP, the listening socket inherited.
//! - `limits.rs`: every **limit** (children, timeouts, lifetime, head size, render deadline).
//! - `child.rs`: dup2 onto stdin/stdout, close the rest, the request loop, `_exit`.
//! - `stream.rs`: the byte stream a child reads and writes (plain TCP on stdin/stdout), and
//!   the peer's address when no `accept` gave it.
//! - `client.rs`: **the client's address** behind a trusted front, from the one source the
//!   operator chose (`--client-from`: PROXY protocol, `X-Forwarded-For`, `Forwarded`,
//!   `X-Real-IP`), and the `--trusted-proxy` ranges.
//! - `tls/`: **TLS**: the certificate in service, the parent's apart from the site (handed
//!   across re-exec in a memfd of its own), the configuration the parent builds before forking,
//!   session tickets in shared memory, the child's TLS stream. Its certificates may come from
//!   a renewal worker the parent schedules (`renewal.rs`; crate `acme` is its code).
//! - `request.rs`: parsing a request head; `response.rs`: every response, chosen and built.
//! - `snapshot.rs`: the site's layout in shared memory and lookups in it (written by crate
//!   `render`); `render_job.rs`: the render worker started, watched and its snapshot taken;
//!   `cgroup.rs`: whether the OOM killer ended it (the cgroup's `oom_kill` count).
//! - `notify.rs`: `READY=1` and `STATUS=` for systemd's `Type=notify`.
//! - `reload.rs`: `forkblog reload`, and the record of reloads kept in the lock file for it.
//! - `status.rs`: shared counters and the status endpoint; `watchdog.rs`: the leak watchdog.
//! - `watch.rs`: `--watch`, edits noticed through inotify in the parent; `live.rs`: the
//!   generation a preview page polls and the render-failure page, for `--watch` only.
//! - `escape.rs`, `challenge.rs` (ACME's answers in the shared page), `clock.rs`, `logs/`
//!   (the access log), `sys.rs` (every `unsafe`): what the rest shares.
//! - `children.rs`: the parent's table of live children, in memory children do not share.
//! - `listener.rs`, `lock.rs`, `privileges.rs`, `signals.rs`, `error.rs`: one concern each.

#![deny(unsafe_code)]
// `pub` only where another crate (or an integration test) needs it.
#![warn(unreachable_pub)]

mod cgroup;
pub mod challenge;
mod child;
mod children;
pub mod client;
pub mod clock;
pub mod error;
pub mod escape;
mod handover;
pub mod limits;
mod listener;
pub mod live;
mod lock;
pub mod logs;
mod notify;
pub mod privileges;
pub mod reload;
pub mod render_job;
pub mod renewal;
pub mod request;
pub mod response;
mod signals;
pub mod snapshot;
pub mod status;
mod stream;
mod supervisor;
mod sys;
#[cfg(feature = "https")]
pub mod tls;
#[cfg(not(feature = "https"))]
#[path = "tls_off.rs"]
pub mod tls;
pub mod watch;
mod watchdog;

use std::fs::File;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant, SystemTime};

use crate::logs::AccessLog;
use children::Children;
use error::{Doing, Error};
use handover::Handover;
use limits::Limits;
use lock::{Lock, LockError};
use render_job::Strictness;
use supervisor::{Inherited, Supervisor};

/// The default listening address.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

/// The default access log.
pub const DEFAULT_ACCESS_LOG: &str = "access.log";

/// The default interval of the leak watchdog.
pub const DEFAULT_WATCHDOG: Duration = Duration::from_secs(5);

/// Settings for `forkblog serve`, from the command line.
#[derive(Debug, Clone)]
pub struct Settings {
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
    /// Which peers may name the client, and where (`--trusted-proxy`, `--client-from`).
    pub trust: client::Trust,
    /// How often the leak watchdog samples the parent.
    pub watchdog_interval: Duration,
    /// HTTPS beside plain HTTP, when configured.
    pub tls: Option<TlsSettings>,
    /// Certificates from ACME (the TLS files then live in its state directory).
    pub acme: Option<std::sync::Arc<dyn renewal::Renewal>>,
    /// `--watch`: reload on edits, pages that follow, a failed render shown (see `watch.rs`).
    pub watch: bool,
    /// What `--watch` watches under the root: the site's folders and files.
    pub sources: watch::Sources,
    /// `--drafts`: drafts rendered too, marked.
    pub drafts: bool,
    /// What the site has to say about being served on a public address (a `base_url` naming
    /// this machine, say), asked once at a first start when the listener is public.
    pub public_advice: Option<fn(&std::path::Path) -> Option<String>>,
}

/// `--tls-listen` and what goes with it.
#[derive(Debug, Clone)]
pub struct TlsSettings {
    /// Where to listen for HTTPS.
    pub listen: SocketAddr,
    /// The certificate chain and key.
    pub files: tls::Files,
    /// Whether HTTPS responses carry Strict-Transport-Security.
    pub hsts: bool,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            root: PathBuf::from("."),
            listen: DEFAULT_LISTEN.parse().expect("a valid default address"),
            access_log: DEFAULT_ACCESS_LOG.into(),
            lock: None,
            user: None,
            limits: Limits::default(),
            status: status::Access::default(),
            trust: client::Trust::default(),
            watchdog_interval: DEFAULT_WATCHDOG,
            tls: None,
            acme: None,
            watch: false,
            sources: watch::Sources::default(),
            drafts: false,
            public_advice: None,
        }
    }
}

impl Settings {
    /// What renders add for a preview.
    pub fn preview(&self) -> render_job::Preview {
        render_job::Preview {
            live: self.watch,
            drafts: self.drafts,
        }
    }

    /// The lock file: `--lock`, else next to the access log, else `forkblog.lock`.
    pub fn lock_path(&self) -> PathBuf {
        match (&self.lock, self.access_log.as_str()) {
            (Some(path), _) => path.clone(),
            (None, "-") => PathBuf::from("forkblog.lock"),
            (None, log) => PathBuf::from(format!("{log}.lock")),
        }
    }
}

/// `forkblog serve`: a first start, or the next generation after a re-exec.
pub fn serve(settings: Settings) -> Result<ExitCode, Error> {
    let handover = Handover::from_env().doing("reading the handover from the previous image")?;
    if handover.is_none() {
        // A first start owns its descriptor table: whatever a launcher left open beyond
        // stdio and systemd's sockets would otherwise live in the parent for ever, across
        // every reload. Nothing in this process has opened or wrapped a descriptor yet.
        crate::sys::close_range(3 + listener::systemd_fd_count() as i32, i32::MAX);
    }
    let signals = signals::Signals::install().doing("installing signal handlers")?;
    let inherited = match handover {
        Some(handover) => resume(&settings, handover)?,
        None => start(&settings)?,
    };
    Ok(Supervisor::new(inherited, &settings, signals).run())
}

/// A first start: lock, bind, open the log, drop privileges, render.
fn start(settings: &Settings) -> Result<Inherited, Error> {
    let lock_path = settings.lock_path();
    let lock = match Lock::acquire(&lock_path) {
        Ok(lock) => lock,
        Err(held @ LockError::Held(_)) => {
            return Err(Error::already_running(
                format!("taking the lock {}", lock_path.display()),
                held,
            ))
        }
        Err(e) => {
            return Err(Error::new(
                format!("taking the lock {}", lock_path.display()),
                e,
            ))
        }
    };
    let listener = match listener::from_systemd().doing("adopting systemd's socket")? {
        Some(listener) => {
            log::info!("using the listening socket passed by systemd");
            listener
        }
        None => listener::bind_to(settings.listen, settings.limits.backlog)
            .doing(format!("listening on {}", settings.listen))?,
    };
    // Bound before the privilege drop, like the plain listener: 443 needs root.
    let tls_listener = match &settings.tls {
        Some(tls) => Some(
            listener::bind_to(tls.listen, settings.limits.backlog)
                .doing(format!("listening for HTTPS on {}", tls.listen))?,
        ),
        None => None,
    };
    // Before anyone can connect through the address announced below; the option stays on the
    // socket across every re-exec.
    for listening in std::iter::once(&listener).chain(&tls_listener) {
        listener::defer_until_data(listening, settings.limits.head_timeout);
    }
    let log = AccessLog::open(&settings.access_log)
        .doing(format!("opening the access log {}", settings.access_log))?;
    before_dropping(settings, &log, &lock)?;
    if let Some(acme) = &settings.acme {
        let owner = privileges::service_account(settings.user.as_deref())
            .doing("looking up the service user")?
            .map(|a| {
                (
                    nix::unistd::Uid::from_raw(a.uid),
                    nix::unistd::Gid::from_raw(a.gid),
                )
            });
        acme.prepare(owner)
            .map_err(|e| Error::new("preparing the ACME state directory", e))?;
    }
    privileges::drop_if_root(settings.user.as_deref()).doing("dropping privileges")?;
    let exe = std::env::current_exe().doing("finding this program's binary")?;
    // Watching starts before the first render, so an edit saved while it runs is not missed.
    let watcher = settings.watch.then(|| open_watcher(settings)).flatten();
    let certificate = first_certificate(settings)?;
    let site = first_render(settings, &exe)?;
    let counters = status::Counters::create().doing("creating the status counters")?;
    let public = listener.local_addr().is_ok_and(|a| !a.ip().is_loopback())
        || !settings.trust.proxies.is_empty();
    if let Some(advice) = public
        .then_some(settings.public_advice)
        .flatten()
        .and_then(|advise| advise(&settings.root))
    {
        log::warn!("{advice}");
    }
    // Announced last, once every descriptor the parent keeps is open.
    log::info!(
        "serving {} on http://{} as PID {}",
        settings.root.display(),
        listener
            .local_addr()
            .map(|a| a.to_string())
            .unwrap_or_else(|_| "?".into()),
        std::process::id()
    );
    if let Some(tls) = &tls_listener {
        log::info!(
            "serving HTTPS on https://{}",
            tls.local_addr()
                .map(|a| a.to_string())
                .unwrap_or_else(|_| "?".into())
        );
    }
    Ok(Inherited {
        listener,
        tls_listener,
        certificate,
        site,
        log,
        lock: Some(lock),
        counters,
        exe,
        generation: 0,
        started: SystemTime::now(),
        children: Children::with_capacity(settings.limits.max_children)
            .doing("mapping the table of children")?,
        watcher,
    })
}

/// The site a first start (or `--inetd`) serves: rendered by a worker running `exe`, broken
/// posts skipped and logged, waited for before anything is served.
fn first_render(settings: &Settings, exe: &std::path::Path) -> Result<snapshot::Snapshot, Error> {
    render_job::spawn(
        exe,
        &settings.root,
        Strictness::SkipBrokenPosts,
        settings.preview(),
        None,
    )
    .doing("starting the render worker")?
    .wait()
    .doing(format!("cannot serve {}", settings.root.display()))
}

/// The certificate a first start serves: `--tls-cert`'s files (which must be good), or what
/// ACME left in the state directory (nothing yet is fine: HTTPS waits for it).
fn first_certificate(settings: &Settings) -> Result<Option<tls::Certificate>, Error> {
    let Some(files) = settings.tls.as_ref().map(|t| &t.files) else {
        return Ok(None);
    };
    if let Some(acme) = &settings.acme {
        acme.tidy()
            .map_err(|e| Error::new("preparing the ACME state directory", e))?;
    }
    let certificate = tls::Certificate::load(files).map_err(|e| {
        Error::new(
            format!("cannot serve HTTPS from {}", files.cert.display()),
            e,
        )
    })?;
    match (&certificate, &settings.acme) {
        (None, Some(acme)) => log::info!(
            "no certificate for {} yet: HTTPS waits for the first one from {}",
            acme.names(),
            acme.issuer()
        ),
        (Some(c), _) => log::info!(
            "serving the certificate in {}, valid until {}",
            files.cert.display(),
            tls::date(c.not_after)
        ),
        (None, None) => {}
    }
    Ok(certificate)
}

/// `--watch`'s inotify watches; a site that cannot be watched is still served.
fn open_watcher(settings: &Settings) -> Option<watch::Watcher> {
    watch::Watcher::new(&settings.root, settings.sources)
        .map_err(|e| log::error!("--watch: {e}; reload with SIGHUP instead"))
        .ok()
}

/// Started as root: what root could do but the service user will not. A site that user cannot
/// read is an error naming the directory in the way; the log is handed to that user, so that it
/// can reopen it on USR1, and a log directory it cannot create the file in again is a warning.
/// The lock is that user's too (see `lock.rs`).
fn before_dropping(settings: &Settings, log: &AccessLog, lock: &Lock) -> Result<(), Error> {
    let Some(account) =
        privileges::service_account(settings.user.as_deref()).doing("dropping privileges")?
    else {
        return Ok(());
    };
    if let Some(problem) = privileges::unreadable_for(&settings.root, &account) {
        return Err(Error::new(
            format!("cannot serve {}", settings.root.display()),
            problem,
        ));
    }
    if let Err(e) = lock.hand_to(account.uid, account.gid) {
        log::warn!(
            "could not hand the lock {} to {}: {e}",
            settings.lock_path().display(),
            account.name
        );
    }
    if let AccessLog::File { path, file } = log {
        let owned_by_root = file.metadata().is_ok_and(|m| {
            use std::os::unix::fs::MetadataExt;
            m.uid() == 0
        });
        if owned_by_root {
            let uid = nix::unistd::Uid::from_raw(account.uid);
            let gid = nix::unistd::Gid::from_raw(account.gid);
            nix::unistd::fchown(file, Some(uid), Some(gid)).doing(format!(
                "handing the access log {} to {}",
                path.display(),
                account.name
            ))?;
        }
        if let Some(problem) = privileges::log_dir_problem(path, &account) {
            log::warn!("{problem}");
        }
    }
    Ok(())
}

/// The next generation after a re-exec: everything comes from the previous image.
fn resume(settings: &Settings, handover: Handover) -> Result<Inherited, Error> {
    let listener = listener::adopt(handover.listener).doing("adopting the listening socket")?;
    let tls_listener = match handover.tls_listener {
        Some(fd) => Some(listener::adopt(fd).doing("adopting the HTTPS listening socket")?),
        None => None,
    };
    let site = snapshot::Snapshot::seal_and_map(handover.site).doing("mapping the new site")?;
    // An image older than the certificate's own memfd left it at the end of the snapshot.
    let certificate = match handover.certificate {
        Some(fd) => match tls::Certificate::from_memfd(fd) {
            Ok(certificate) => Some(certificate),
            // An image that cannot read what the previous one handed over (another layout
            // after an upgrade) serves what a first start would, rather than stopping.
            Err(e) => {
                log::warn!("the handed-over certificate is unusable ({e}); reading it again");
                first_certificate(settings)?
            }
        },
        None => settings
            .tls
            .as_ref()
            .and_then(|_| tls::Certificate::from_snapshot(site.view())),
    };
    let log = match handover.log {
        Some(fd) => AccessLog::adopt(&settings.access_log, File::from(fd)),
        None => AccessLog::Stderr(std::io::stderr()),
    };
    let lock = handover
        .lock
        .map(Lock::adopt)
        .transpose()
        .doing("re-taking the inherited lock")?;
    if nix::unistd::Uid::effective().is_root() {
        return Err(Error::new(
            "resuming after re-exec",
            "refusing to serve as root",
        ));
    }
    let now = Instant::now();
    let mut children =
        Children::with_capacity(settings.limits.max_children.max(handover.children.len()))
            .doing("mapping the table of children")?;
    for &(pid, age) in &handover.children {
        children.insert(pid, now.checked_sub(age).unwrap_or(now));
    }
    log::info!(
        "generation {} serving {} ({} posts) as PID {}, {} connection(s) carried over",
        handover.generation,
        settings.root.display(),
        site.view().post_count(),
        std::process::id(),
        handover.children.len()
    );
    let counters =
        status::Counters::adopt(handover.counters).doing("mapping the status counters")?;
    Ok(Inherited {
        listener,
        tls_listener,
        certificate,
        site,
        log,
        lock,
        counters,
        exe: handover.exe,
        generation: handover.generation,
        started: handover.started,
        children,
        watcher: settings.watch.then(|| open_watcher(settings)).flatten(),
    })
}

/// `forkblog serve --inetd`: serve the one connection already on stdin/stdout, with the same
/// code a forked child runs.
pub fn inetd(settings: Settings) -> Result<ExitCode, Error> {
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
            let null = std::fs::OpenOptions::new()
                .write(true)
                .open("/dev/null")
                .doing("opening /dev/null")?;
            nix::unistd::dup2_stderr(&null).doing("moving stderr off the connection")?;
        }
    }
    let log = AccessLog::open(&settings.access_log)
        .doing(format!("opening the access log {}", settings.access_log))?;
    privileges::drop_if_root(settings.user.as_deref()).doing("dropping privileges")?;
    let exe = std::env::current_exe().doing("finding this program's binary")?;
    let site = first_render(&settings, &exe)?;
    child::serve(&child::Context {
        responder: response::Responder {
            site: site.view(),
            status: &settings.status,
            counters: None,
            https_port: None,
            live: settings.watch.then_some(live::Live { failure: None }),
        },
        log: log.fd(),
        limits: &settings.limits,
        peer: stream::peer_of_stdin(),
        tls: None,
        trust: &settings.trust,
        current: child::Current::ALWAYS,
    });
    Ok(ExitCode::SUCCESS)
}
