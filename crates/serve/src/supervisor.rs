//! The parent: accept, fork, close, reap, and handle signals. Nothing else.
//!
//! Invariants a reader can check in this file:
//! - **close after fork**: [`Supervisor::accept_and_fork`] drops the accepted connection in the
//!   parent on every path right after `fork()` returns.
//! - **reap**: [`Supervisor::reap`] calls `waitpid(-1, WNOHANG)` until nothing is left, on every
//!   SIGCHLD (read from a signalfd, see `signals.rs`) and on every idle tick, so no child stays
//!   a zombie.
//! - **cap**: at `max_children` the listener is left out of `poll`, so the parent sleeps until a
//!   child exits while new connections wait in the backlog: no busy loop.
//! - **single-threaded**: nothing here starts a thread, which is what makes `fork()` sound
//!   (see `sys::fork`).

use std::io::{self, Write};
use std::net::TcpListener;
use std::os::fd::{AsFd, AsRawFd};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use nix::errno::Errno;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{kill, Signal};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::{ForkResult, Pid};

use super::child;
use super::children::Children;
use super::client::Trust;
use super::handover::{self, Outgoing};
use super::limits::Limits;
use super::live::Live;
use super::lock::Lock;
use super::notify;
use super::reload::{Outcome, Record};
use super::render_job::{self, Preview, RenderJob, Strictness};
use super::renewal::{self, Checked, Schedule};
use super::response::{self, Responder};
use super::signals::{Signals, Woken};
use super::snapshot::Snapshot;
use super::status::{Access, Counter, Counters, Ended};
use super::tls;
use super::watch::Watcher;
use super::watchdog::{self, Watchdog};
use super::Settings;
use crate::logs::AccessLog;
use crate::sys;

/// How often the loop wakes up with nothing to do (to reap stragglers and check deadlines).
const TICK: Duration = Duration::from_secs(1);
/// At the cap, how often to look for connections waiting in the backlog: a reader queued
/// behind children that only wait for their clients waits about this long for one to give way.
const EVICT_CHECK: Duration = Duration::from_millis(10);
/// At the cap with others queued, a child waiting in the middle of a request head gives way
/// once no byte came for this long at least (one that sends a byte more often keeps its slot).
const STALL: Duration = Duration::from_millis(50);
/// Children that cannot say whether they wait (see `evict_if_others_wait`) are not evicted
/// younger than this: a new client gets time to send its request.
const EVICT_MIN_AGE: Duration = Duration::from_millis(500);

/// A certificate in service warns once a day from this long before it expires.
const EXPIRY_WARNING: i64 = 14 * 24 * 3600;

/// Which listener a connection came through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Door {
    /// Plain HTTP.
    Plain,
    /// HTTPS.
    Tls,
}

/// What a generation starts with: opened by a first start, or handed over by a re-exec.
pub(crate) struct Inherited {
    /// The listening socket.
    pub listener: TcpListener,
    /// The HTTPS listening socket, when serving TLS.
    pub tls_listener: Option<TcpListener>,
    /// The site to serve.
    pub site: Snapshot,
    /// The access log.
    pub log: AccessLog,
    /// The single-instance lock, if any.
    pub lock: Option<Lock>,
    /// Counters shared with the children.
    pub counters: Counters,
    /// The binary re-executed on reload.
    pub exe: PathBuf,
    /// Reloads so far.
    pub generation: u64,
    /// When the first generation started.
    pub started: SystemTime,
    /// Children of earlier generations still serving, and when each started.
    pub children: Children,
    /// The certificate to serve, if HTTPS has one yet.
    pub certificate: Option<tls::Certificate>,
    /// `--watch`: the inotify watches, opened before this image's first render (or after its
    /// re-exec), so they are part of the fd baseline the watchdog samples first.
    pub watcher: Option<Watcher>,
}

/// Everything the parent holds.
pub(crate) struct Supervisor {
    /// The listening socket; `None` once draining.
    listener: Option<TcpListener>,
    /// The HTTPS listening socket, if any; `None` once draining.
    tls_listener: Option<TcpListener>,
    /// The TLS configuration TLS children share, the certificate in service, the HTTPS port.
    tls: Option<tls::Https>,
    /// `--tls-cert` and `--tls-key`, read again on SIGHUP (ACME's certificate is read when its
    /// worker wrote one).
    cert_files: Option<tls::Files>,
    site: Snapshot,
    log: AccessLog,
    lock: Option<Lock>,
    counters: Counters,
    exe: PathBuf,
    generation: u64,
    started: SystemTime,
    /// Live connection children and when each started.
    children: Children,
    signals: Signals,
    /// What a reload re-renders.
    root: PathBuf,
    limits: Limits,
    status: Access,
    trust: Trust,
    /// The render worker of a reload in flight.
    render: Option<RenderJob>,
    /// The render worker's exit status, once reaped: the reload is ready to finish.
    rendered: Option<WaitStatus>,
    /// A SIGHUP arrived during a render: render again before switching.
    reload_again: bool,
    /// The last settled reload's outcome, recorded in the lock file for `forkblog reload`.
    last_reload: Outcome,
    /// Set once SIGTERM/SIGINT arrived: when to stop waiting for children.
    drain_deadline: Option<Instant>,
    /// Accept/fork failure backoff.
    backoff: Backoff,
    watchdog: Watchdog,
    /// Access-log lines lost as of the last report.
    lost_log_lines: u64,
    /// Certificates from ACME: the settings, the worker in flight and when to check next.
    acme: Option<Schedule>,
    /// What renders add for a preview (`--watch`, `--drafts`).
    preview: Preview,
    /// `--watch`: edits to the site, noticed (see `watch.rs`).
    watcher: Option<Watcher>,
    /// `--watch`: why the last reload failed, shown instead of the site until one succeeds.
    failure: Option<String>,
    /// The buffers each child writes into, allocated here once (see `child::Scratch`).
    scratch: Box<child::Scratch>,
}

impl Supervisor {
    /// The parent of one generation, from what it inherited and the settings it needs.
    pub(crate) fn new(inherited: Inherited, settings: &Settings, signals: Signals) -> Supervisor {
        let tls = settings.tls.as_ref().and_then(|wanted| {
            let port = inherited.tls_listener.as_ref()?.local_addr().ok()?.port();
            tls::Https::new(
                inherited.certificate,
                &inherited.counters,
                port,
                wanted.hsts,
            )
            .map_err(|e| log::error!("{e}; HTTPS connections will be closed"))
            .ok()
        });
        let lost_log_lines = inherited.counters.get(Counter::AccessLogLinesLost);
        Supervisor {
            listener: Some(inherited.listener),
            tls_listener: inherited.tls_listener,
            tls,
            cert_files: settings
                .tls
                .as_ref()
                .filter(|_| settings.acme.is_none())
                .map(|t| t.files.clone()),
            site: inherited.site,
            log: inherited.log,
            lock: inherited.lock,
            counters: inherited.counters,
            exe: inherited.exe,
            generation: inherited.generation,
            started: inherited.started,
            children: inherited.children,
            signals,
            root: settings.root.clone(),
            limits: settings.limits.clone(),
            status: settings.status.clone(),
            trust: settings.trust.clone(),
            render: None,
            rendered: None,
            reload_again: false,
            // A new image exists only because a reload succeeded and its binary started.
            last_reload: match inherited.generation {
                0 => Outcome::Started,
                _ => Outcome::Ok,
            },
            drain_deadline: None,
            backoff: Backoff::default(),
            watchdog: Watchdog::new(settings.watchdog_interval),
            lost_log_lines,
            acme: settings.acme.clone().map(Schedule::new),
            preview: settings.preview(),
            watcher: inherited.watcher,
            failure: None,
            scratch: child::Scratch::new(),
        }
    }

    /// Runs until SIGTERM/SIGINT and the drain that follows; returns the exit status.
    pub(crate) fn run(mut self) -> ExitCode {
        self.begin_generation();
        // Which signal descriptors the last `poll` found readable.
        let mut woken = Woken::default();
        loop {
            let pending = self.signals.take(woken);
            if pending.child {
                self.reap();
            }
            if pending.reopen {
                self.reopen_log();
            }
            if pending.stop {
                self.begin_drain();
            }
            if pending.reload {
                self.start_reload();
            }
            if self
                .watcher
                .as_mut()
                .is_some_and(|w| w.take_due(Instant::now()))
            {
                log::info!("--watch: the site changed");
                self.start_reload();
            }
            if let Some(status) = self.rendered.take() {
                self.finish_reload(status);
            }
            if let Some(status) = self.acme.as_mut().and_then(|a| a.done.take()) {
                self.finish_acme(status);
            }
            if let Some(code) = self.drained() {
                return code;
            }
            self.watch();
            woken = self.wait_and_accept();
        }
    }

    /// Everything a generation does once before its loop: publish what the status endpoint
    /// shows, make a ticket key, record that the reload that started it succeeded, collect
    /// children of earlier generations that exited meanwhile, warm up, tell systemd.
    fn begin_generation(&mut self) {
        self.publish_settings();
        self.rotate_ticket_keys();
        let begun = self.counters.get(Counter::ReloadsBegun);
        self.counters.set(Counter::ReloadsSettled, begun);
        if self.generation > 0 {
            self.counters.record(
                Counter::ReloadLast,
                Counter::ReloadLastOutcome,
                Ended::Succeeded,
            );
        }
        self.retire_children();
        self.record_reloads();
        self.reap();
        child::warm_up(self.responder(Door::Plain));
        // Start-up is over: the code it ran stays out of the parent's resident set (see there).
        if let Err(e) = sys::release_startup_pages() {
            log::debug!("releasing start-up pages: {e}");
        }
        notify::notify(&format!(
            "READY=1\nSTATUS=serving {} posts, generation {}",
            self.site.view().post_count(),
            self.generation
        ));
    }

    /// What a child that came in through `door` answers from.
    fn responder(&self, door: Door) -> Responder<'_> {
        responder(
            &self.site,
            &self.status,
            &self.counters,
            self.tls.as_ref(),
            self.preview.live.then_some(self.failure.as_deref()),
            door,
        )
    }

    /// The figures the status endpoint shows that only change with a generation.
    fn publish_settings(&self) {
        self.counters.set(
            Counter::TlsCertificateExpiry,
            self.expiry().unwrap_or(0) as u64,
        );
        self.counters.set(Counter::Generation, self.generation);
        self.counters
            .set(Counter::MaxChildren, self.limits.max_children as u64);
        self.counters.set(
            Counter::Started,
            self.started
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default()
                .as_secs(),
        );
    }

    /// Says once per watchdog interval how many access-log lines children could not write, and
    /// why; writing resumes by itself when the cause (a full disk) goes away.
    fn report_lost_log_lines(&mut self) {
        let lost = self.counters.get(Counter::AccessLogLinesLost);
        if lost > self.lost_log_lines {
            let errno = Errno::from_raw(self.counters.get(Counter::AccessLogLastErrno) as i32);
            log::error!(
                "{} access-log line(s) could not be written ({errno}); {lost} since start, counted in the status endpoint",
                lost - self.lost_log_lines
            );
        }
        self.lost_log_lines = lost;
    }

    /// Forks the ACME worker when a certificate check is due and none is running.
    fn start_acme_if_due(&mut self) {
        let draining = self.drain_deadline.is_some();
        let Some(acme) = self
            .acme
            .as_mut()
            .filter(|a| a.worker.is_none() && !draining)
        else {
            return;
        };
        if Instant::now() < acme.next {
            return;
        }
        let in_service = self.tls.as_ref().and_then(|t| t.certificate.as_ref());
        match renewal::spawn(&*acme.renewal, &self.counters, in_service) {
            Ok((pid, handed)) => {
                acme.worker = Some(pid);
                acme.handed = Some(handed);
            }
            Err(e) => {
                log::error!("{e}");
                acme.next = Instant::now() + acme.backoff;
            }
        }
    }

    /// The ACME worker exited: serve the certificate it left, and schedule the next check.
    fn finish_acme(&mut self, status: WaitStatus) {
        let checked = match status {
            WaitStatus::Exited(_, code) => Checked::from_exit_code(code),
            _ => Checked::Failed,
        };
        let handed = self.acme.as_mut().and_then(|a| a.handed.take());
        let failed = match (checked, handed, self.acme.as_ref()) {
            (Checked::NothingDue, ..) => false,
            (Checked::ToLoad, Some(handed), Some(acme)) => {
                let from = acme.renewal.files().cert;
                tls::Certificate::from_memfd(handed)
                    .map_err(|e| format!("{}: as handed over: {e}", from.display()))
                    .and_then(|c| self.serve_certificate(c, &from))
                    .map_err(|e| log::error!("ACME: {e}"))
                    .is_err()
            }
            // The worker said why.
            _ => true,
        };
        if checked != Checked::NothingDue {
            let outcome = match failed {
                true => Ended::Failed,
                false => Ended::Succeeded,
            };
            self.counters
                .record(Counter::AcmeLastAttempt, Counter::AcmeLastOutcome, outcome);
        }
        let now = crate::clock::now();
        let in_service = self.tls.as_ref().and_then(|t| t.certificate.as_ref());
        let Some(acme) = self.acme.as_mut() else {
            return;
        };
        let wait = acme.wait(failed, in_service, now);
        if failed {
            log::warn!("ACME attempt failed ({status:?}); next attempt in {wait:?}");
        }
        acme.next = Instant::now() + wait;
        self.counters
            .set(Counter::AcmeNextCheck, (now as u64) + wait.as_secs());
    }

    /// Puts `certificate` (read from `from`) in service: the children forked from now on
    /// present it, whatever the site holds. The same certificate again changes nothing; an
    /// expired one never replaces one still valid.
    fn serve_certificate(
        &mut self,
        certificate: tls::Certificate,
        from: &std::path::Path,
    ) -> Result<(), String> {
        let now = crate::clock::now();
        let Some(https) = self.tls.as_mut() else {
            // HTTPS failed to set up at start (its error was logged then). Not an error of this
            // reload or renewal, which must not fail the site's; but the loss is said.
            log::warn!(
                "{}: not served: HTTPS is not running (see the error at start)",
                from.display()
            );
            return Ok(());
        };
        match &https.certificate {
            Some(current) if *current == certificate => return Ok(()),
            Some(current) if !current.may_give_way_to(&certificate, now) => {
                return Err(format!(
                    "{}: expired on {}; the certificate in service stays",
                    from.display(),
                    tls::date(certificate.not_after)
                ))
            }
            _ => {}
        }
        let until = certificate.not_after;
        https
            .replace(certificate, &self.counters)
            .map_err(|e| e.to_string())?;
        self.counters
            .set(Counter::TlsCertificateExpiry, until as u64);
        log::info!(
            "serving the certificate in {}, valid until {}",
            from.display(),
            tls::date(until)
        );
        self.rotate_ticket_keys();
        Ok(())
    }

    /// When the certificate in service expires.
    fn expiry(&self) -> Option<i64> {
        Some(self.tls.as_ref()?.certificate.as_ref()?.not_after)
    }

    /// From [`EXPIRY_WARNING`] before the certificate in service expires, a warning once a day
    /// (the day counted in the shared page, so a re-exec does not repeat it).
    fn warn_if_expiring(&self) {
        let Some(expiry) = self.expiry() else {
            return;
        };
        let now = crate::clock::now();
        let warned = self.counters.get(Counter::TlsExpiryWarned) as i64;
        if expiry - now > EXPIRY_WARNING || now - warned < 24 * 3600 {
            return;
        }
        self.counters.set(Counter::TlsExpiryWarned, now as u64);
        let renewal = match &self.acme {
            Some(_) => "ACME has not renewed it yet (see the ACME lines in this log)",
            None => "replace --tls-cert and --tls-key and reload",
        };
        let left = expiry - now;
        let left = match left {
            86400.. => format!("{} day(s)", left / 86400),
            3600.. => format!("{} hour(s)", left / 3600),
            _ => format!("{} minute(s)", left / 60),
        };
        match expiry > now {
            true => log::warn!(
                "the certificate in service expires on {} (in {left}); {renewal}",
                tls::date(expiry),
            ),
            false => log::warn!(
                "the certificate in service expired on {}; {renewal}",
                tls::date(expiry)
            ),
        }
    }

    /// Session-ticket keys: a first one, or the next when the current one is due.
    fn rotate_ticket_keys(&self) {
        if self.tls.is_none() {
            return;
        }
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        match tls::tickets::rotate_if_due(&self.counters, now) {
            Ok(true) => log::info!("new session-ticket key"),
            Ok(false) => {}
            Err(e) => log::error!("{e}; TLS sessions will not resume"),
        }
    }

    /// SIGUSR1: reopen the access log after rotation.
    fn reopen_log(&mut self) {
        match self.log.reopen() {
            Ok(()) => log::info!("access log reopened"),
            Err(e) => log::error!(
                "{e}; still writing to the old file. The server's user must be able to create \
                 the log in its directory (or rotate with copytruncate)"
            ),
        }
    }

    /// While draining: the exit status once every child is gone or the grace period is over.
    fn drained(&mut self) -> Option<ExitCode> {
        let deadline = self.drain_deadline?;
        if self.children.is_empty() {
            log::info!("drained; exiting");
            return Some(ExitCode::SUCCESS);
        }
        (Instant::now() >= deadline).then(|| self.kill_children())
    }

    /// Samples the parent's own figures when due, publishes them, and acts on warnings.
    fn watch(&mut self) {
        if !self.watchdog.due(Instant::now()) {
            return;
        }
        if let Some(job) = self.render.as_ref().filter(|job| job.overdue()) {
            log::error!(
                "the render worker {} is past its deadline; killing it",
                job.pid
            );
            let _ = kill(job.pid, Signal::SIGKILL); // reaped as usual: the reload fails
        }
        self.rotate_ticket_keys();
        self.report_lost_log_lines();
        self.start_acme_if_due();
        self.warn_if_expiring();
        let sample = watchdog::sample(&self.children, self.limits.lifetime);
        self.counters.set(Counter::ParentFds, sample.fds as u64);
        self.counters.set(Counter::ParentRssKib, sample.rss_kib);
        for warning in self.watchdog.assess(&sample) {
            log::warn!("{warning}");
            self.counters.add(Counter::WatchdogWarnings, 1);
            if let watchdog::Warning::Overdue { pid, .. } = warning {
                let _ = kill(pid, Signal::SIGKILL);
            }
        }
    }

    /// Sleeps in `poll` until a signal or a connection (if below the cap), then accepts.
    /// Returns which signal descriptors were readable, for the next [`Signals::take`].
    fn wait_and_accept(&mut self) -> Woken {
        let now = Instant::now();
        let full = self.children.len() >= self.limits.max_children;
        let accepting = !full && self.backoff.until.is_none_or(|t| now >= t);
        let mut timeout = if full { EVICT_CHECK } else { TICK };
        timeout = timeout.min(self.watchdog.until_next(now));
        if let Some(t) = self.backoff.until.filter(|&t| t > now) {
            timeout = timeout.min(t - now);
        }
        if let Some(t) = self.drain_deadline {
            timeout = timeout.min(t.saturating_duration_since(now));
        }
        if let Some(t) = self.watcher.as_ref().and_then(|w| w.until_due(now)) {
            timeout = timeout.min(t);
        }
        // The signal pipe always; the listeners only below the cap (at the cap, new
        // connections wait in the kernel's backlog while the parent sleeps).
        // At most two, in a fixed array: the parent allocates nothing per loop turn.
        let doors: [Option<(Door, &TcpListener)>; 2] = {
            let mut open = self.listeners().filter(|_| accepting);
            [open.next(), open.next()]
        };
        let door_count = doors.iter().flatten().count();
        // Slot 0 the signal pipe, slot 1 the SIGCHLD signalfd, then the watcher's inotify
        // descriptor (with --watch), then the render worker's pipe (during a reload), then the
        // listeners; unused slots repeat the signal pipe and are not polled.
        let mut fds: [PollFd<'_>; 6] =
            std::array::from_fn(|_| PollFd::new(self.signals.fd(), PollFlags::POLLIN));
        fds[1] = PollFd::new(self.signals.exits_fd(), PollFlags::POLLIN);
        let mut used = 2;
        let mut watcher_slot = None;
        if let Some(watcher) = &self.watcher {
            fds[used] = PollFd::new(watcher.fd(), PollFlags::POLLIN);
            watcher_slot = Some(used);
            used += 1;
        }
        let mut render_slot = None;
        if let Some(pipe) = self.render.as_ref().and_then(RenderJob::rendered_fd) {
            fds[used] = PollFd::new(pipe, PollFlags::POLLIN);
            render_slot = Some(used);
            used += 1;
        }
        let first_door = used;
        for (slot, (_, listener)) in fds[first_door..].iter_mut().zip(doors.iter().flatten()) {
            *slot = PollFd::new(listener.as_fd(), PollFlags::POLLIN);
        }
        let polled = &mut fds[..first_door + door_count];
        let ms = timeout.as_millis().clamp(1, 60_000) as u16;
        let mut ready: [Option<Door>; 2] = [None; 2];
        let mut edited = false;
        let mut render_said = false;
        let mut woken = Woken::default();
        match poll(polled, PollTimeout::from(ms)) {
            Ok(_) => {
                let has = |fd: &PollFd<'_>| fd.revents().is_some_and(|r| !r.is_empty());
                woken = Woken {
                    pipe: has(&polled[0]),
                    exits: has(&polled[1]),
                };
                edited = watcher_slot.is_some_and(|i| has(&polled[i]));
                render_said = render_slot.is_some_and(|i| has(&polled[i]));
                for (i, fd) in polled[first_door..].iter().enumerate() {
                    ready[i] = doors[i].filter(|_| has(fd)).map(|(door, _)| door);
                }
            }
            // A handler ran: its byte is in the pipe.
            Err(Errno::EINTR) => woken.pipe = true,
            Err(e) => log::error!("poll: {e}"),
        }
        if edited {
            if let Some(watcher) = self.watcher.as_mut() {
                watcher.read(Instant::now());
            }
        }
        // The worker wrote the snapshot and is exiting: the reload finishes without waiting for
        // its exit (the next image reaps it, as any child it did not know of).
        if let Some(job) = self.render.as_mut().filter(|_| render_said) {
            if job.says_rendered() {
                log::info!("the render worker wrote the snapshot; not waiting for its exit");
                self.rendered = Some(WaitStatus::Exited(job.pid, 0));
            }
        }
        if ready.iter().all(Option::is_none) {
            // A tick, not an exit (those are reaped by the loop next): collect anything missed.
            if !woken.exits {
                self.reap();
            }
            // Below the cap but unable to fork (a task limit) is full all the same.
            if full || self.backoff.forks_failing {
                self.evict_if_others_wait();
            } else {
                // Kept going below the cap too, so that at the cap a stalled head is known soon.
                self.children
                    .sweep_fresh_waits(&self.counters, Instant::now(), STALL);
            }
            return woken;
        }
        // Accept a batch from each ready listener: as many as are waiting, up to the cap.
        for door in ready.into_iter().flatten() {
            while self.children.len() < self.limits.max_children && self.accept_and_fork(door) {}
        }
        self.counters
            .set(Counter::LiveChildren, self.children.len() as u64);
        woken
    }

    /// The open listeners and which door each is.
    fn listeners(&self) -> impl Iterator<Item = (Door, &TcpListener)> {
        let plain = self.listener.as_ref().map(|l| (Door::Plain, l));
        let tls = self.tls_listener.as_ref().map(|l| (Door::Tls, l));
        plain.into_iter().chain(tls)
    }

    /// At the cap with connections waiting in the backlog: ask every child that is only waiting
    /// for its client to give way. Each child says in its wait slot in the shared page when it
    /// waits, and whether it owes nothing (`child.rs`); what the parent finds there is cleared
    /// as the child is asked, so it is asked once per wait. An idle keep-alive connection then
    /// closes (RFC 9112 9.3.1 lets a server close one at any time), a connection that never sent
    /// a byte (on a listener that defers accept, silent for the whole head timeout) gets its 408
    /// at once, and so does a head that got no byte for [`STALL`]; a slow client that keeps
    /// sending keeps its slot. SIGUSR2 is blocked except while a child waits for input, so a
    /// child that got its request meanwhile answers it first. This keeps held connections (idle
    /// keep-alives, a slowloris, the silent connections the deferred accept releases together)
    /// from stalling real readers.
    ///
    /// If nobody gave way, at most every [`STALL`]: a quarter of the children older than
    /// [`EVICT_MIN_AGE`] that wait in a head (however slowly it comes) or cannot say (handed over
    /// by a previous image, or past the wait slots there are), the oldest first, are asked, and
    /// give way at their next wait.
    fn evict_if_others_wait(&mut self) {
        let now = Instant::now();
        let swept = self.children.sweep_fresh_waits(&self.counters, now, STALL);
        let waiting = self.listeners().any(|(_, listener)| {
            let mut probe = [PollFd::new(listener.as_fd(), PollFlags::POLLIN)];
            matches!(poll(&mut probe, PollTimeout::ZERO), Ok(n) if n > 0)
        });
        if !waiting {
            return;
        }
        let stalled_since = self.children.stalled_since();
        let mut asked = 0;
        for (pid, slot) in self.children.with_wait_slots() {
            if self.counters.take_waiting(slot, stalled_since) {
                let _ = kill(pid, Signal::SIGUSR2);
                asked += 1;
            }
        }
        if asked > 0 || !swept {
            return;
        }
        let mut eligible: Vec<(Instant, Pid)> = self
            .children
            .iter()
            .filter(|&(pid, started)| {
                now.saturating_duration_since(started) >= EVICT_MIN_AGE
                    && self
                        .children
                        .wait_slot(pid)
                        .is_none_or(|slot| self.counters.waits_in_head(slot))
            })
            .map(|(pid, started)| (started, pid))
            .collect();
        eligible.sort_unstable();
        let batch = self.children.len().div_ceil(4);
        for &(_, pid) in eligible.iter().take(batch) {
            let _ = kill(pid, Signal::SIGUSR2);
        }
    }

    /// Accepts one connection and forks its child. Returns false when nothing more is waiting.
    ///
    /// Kept out of line: the child starts out in this function's code and stack frame, and
    /// each page of either that it touches is a page fault in every child. Inlined into the
    /// loop, it would sit in the middle of that big function's code and frame.
    #[inline(never)]
    fn accept_and_fork(&mut self, door: Door) -> bool {
        let Some((_, listener)) = self.listeners().find(|(d, _)| *d == door) else {
            return false;
        };
        let (conn, peer) = match listener.accept() {
            Ok((conn, peer)) => (conn, peer.ip()),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return false,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::Interrupted | io::ErrorKind::ConnectionAborted
                ) =>
            {
                return true
            }
            Err(e) => {
                // EMFILE, ENFILE, ENOBUFS, ENOMEM: the connection stays in the backlog; stop
                // polling the listener for a while instead of spinning on it.
                self.backoff.fail("accept", &e);
                return false;
            }
        };
        self.scratch.stamp(crate::clock::now());
        let wait_slot = self.children.free_wait_slot(self.generation);
        if let Some(slot) = wait_slot {
            self.counters.clear_wait(slot); // left set by a child killed while it waited
        }
        self.scratch.assign(wait_slot);
        let current = child::Current::read(&self.counters, self.preview.live);
        match sys::fork_connection_child() {
            Ok(ForkResult::Child) => {
                // Field by field, so that the scratch buffers can be lent mutably: the child
                // writes nothing of the parent's state but them (each page written is a fault).
                let live = self.preview.live.then_some(self.failure.as_deref());
                let tls = self.tls.as_ref();
                child::start(
                    conn,
                    &child::Context {
                        responder: responder(
                            &self.site,
                            &self.status,
                            &self.counters,
                            tls,
                            live,
                            door,
                        ),
                        log: self.log.fd(),
                        limits: &self.limits,
                        peer: Some(peer),
                        tls: match door {
                            Door::Tls => self.tls.as_ref(),
                            Door::Plain => None,
                        },
                        trust: &self.trust,
                        current,
                    },
                    &mut self.scratch,
                )
            }
            Ok(ForkResult::Parent { child }) => {
                self.children
                    .insert_with_wait_slot(child, Instant::now(), wait_slot);
                self.counters.add(Counter::Accepted, 1);
                self.backoff.succeed();
            }
            Err(e) => {
                // EAGAIN (a task limit): this client gets a 503 rather than silence, and the
                // rest stay queued in the backlog until the backoff ends.
                self.backoff.fail("fork", &io::Error::from(e));
                refuse_unforked(conn);
                return false;
            }
        }
        // The parent's copy of the connection: closed here, at once. The child has its own
        // copy; one kept here would stay open for the life of the server, one per connection,
        // until the descriptor table is full and nothing more can be accepted.
        drop(conn);
        true
    }

    /// Collects every exited child without blocking.
    fn reap(&mut self) {
        loop {
            match waitpid(None, Some(WaitPidFlag::WNOHANG)) {
                Ok(WaitStatus::StillAlive) | Err(Errno::ECHILD) => return,
                Ok(status) => {
                    let Some(pid) = status.pid() else { continue };
                    if self.render.as_ref().is_some_and(|job| job.pid == pid) {
                        self.rendered = Some(status); // the loop finishes the reload next
                    } else if let Some(acme) = self.acme.as_mut().filter(|a| a.worker == Some(pid))
                    {
                        acme.worker = None;
                        acme.done = Some(status);
                    } else if !self.children.remove(pid) {
                        log::debug!("reaped unknown child {pid}: {status:?}");
                    }
                    self.counters
                        .set(Counter::LiveChildren, self.children.len() as u64);
                }
                Err(Errno::EINTR) => {}
                Err(e) => {
                    log::error!("waitpid: {e}");
                    return;
                }
            }
        }
    }

    /// SIGHUP: render in a worker; the loop keeps serving meanwhile.
    fn start_reload(&mut self) {
        if self.drain_deadline.is_some() {
            log::info!("SIGHUP ignored while shutting down");
            return;
        }
        if self.render.is_some() {
            log::info!("SIGHUP during a render: another render follows this one");
            self.reload_again = true;
            return;
        }
        log::info!("SIGHUP: re-rendering {}", self.root.display());
        notify::notify(&format!(
            "STATUS=re-rendering; generation {} still serving",
            self.generation
        ));
        self.counters.add(Counter::ReloadsBegun, 1);
        if let Err(e) = self.reload_certificate() {
            log::error!(
                "reload failed: {e}; still serving generation {} and its certificate",
                self.generation
            );
            return self.settle_reload(Outcome::Failed(e));
        }
        let preview = self.preview;
        match render_job::spawn(
            &self.exe,
            &self.root,
            Strictness::AllOrNothing,
            preview,
            Some(&self.site),
        ) {
            Ok(job) => {
                self.render = Some(job);
                self.record_reloads();
            }
            Err(e) => {
                log::error!(
                    "reload failed: {e}; still serving generation {}",
                    self.generation
                );
                self.settle_reload(Outcome::Failed(e.to_string()));
            }
        }
    }

    /// SIGHUP with `--tls-cert`: the certificate and key read again and served at once if they
    /// changed; a missing, broken or mismatched pair fails the reload and the certificate in
    /// service stays.
    fn reload_certificate(&mut self) -> Result<(), String> {
        let Some(files) = self.cert_files.clone() else {
            return Ok(());
        };
        match tls::Certificate::load(&files)? {
            Some(certificate) => self.serve_certificate(certificate, &files.cert),
            None => Ok(()),
        }
    }

    /// Records the outcome of every reload begun so far; under `--watch`, a failure is what
    /// every page shows until a reload succeeds.
    fn settle_reload(&mut self, outcome: Outcome) {
        if self.preview.live {
            self.failure = match &outcome {
                Outcome::Failed(problems) => Some(problems.clone()),
                Outcome::Ok | Outcome::Started => None,
            };
        }
        let begun = self.counters.get(Counter::ReloadsBegun);
        self.counters.set(Counter::ReloadsSettled, begun);
        let ended = match outcome {
            Outcome::Failed(_) => Ended::Failed,
            Outcome::Ok | Outcome::Started => Ended::Succeeded,
        };
        self.counters
            .record(Counter::ReloadLast, Counter::ReloadLastOutcome, ended);
        // A new site, or under `--watch` a new failure page: what earlier children answer is
        // out of date (see `child::Current`).
        if self.preview.live || matches!(outcome, Outcome::Ok) {
            self.retire_children();
        }
        self.last_reload = outcome;
        self.record_reloads();
    }

    /// Asks every child forked before the counters `child::Current` reads changed to end its
    /// connection as soon as it owes nothing (the signal eviction uses; the child tells the two
    /// apart by those counters).
    fn retire_children(&self) {
        for pid in self.children.pids() {
            let _ = kill(pid, Signal::SIGUSR2);
        }
    }

    /// Writes the reload record into the lock file (see `reload.rs`).
    fn record_reloads(&self) {
        let Some(lock) = &self.lock else {
            return;
        };
        let record = Record {
            begun: self.counters.get(Counter::ReloadsBegun),
            settled: self.counters.get(Counter::ReloadsSettled),
            generation: self.generation,
            last: self.last_reload.clone(),
        };
        if let Err(e) = lock.record(&record.text()) {
            log::warn!("could not record the reload outcome in the lock file: {e}");
        }
    }

    /// The render worker exited: switch to the new site by re-executing, or keep the old one.
    fn finish_reload(&mut self, status: WaitStatus) {
        let Some(job) = self.render.take() else {
            return;
        };
        let next = match job.finish(status) {
            Ok(next) => next,
            Err(e) => {
                log::error!(
                    "reload failed: {e}; still serving generation {}",
                    self.generation
                );
                notify::notify(&format!(
                    "STATUS=reload failed; generation {} still serving",
                    self.generation
                ));
                self.settle_reload(Outcome::Failed(e));
                return self.maybe_reload_again();
            }
        };
        if self.reload_again {
            // Content changed again while rendering: render once more before switching.
            self.reload_again = false;
            drop(next);
            return self.start_reload();
        }
        let Some(listener) = &self.listener else {
            return;
        };
        let certificate = match self.certificate_for_handover() {
            Ok(fd) => fd,
            Err(e) => {
                log::error!(
                    "reload failed: {e}; still serving generation {}",
                    self.generation
                );
                return self.settle_reload(Outcome::Failed(e));
            }
        };
        let outgoing = Outgoing {
            listener: listener.as_fd(),
            tls_listener: self.tls_listener.as_ref().map(|l| l.as_fd()),
            site: next.fd().as_fd(),
            certificate: certificate.as_ref().map(|fd| fd.as_fd()),
            log: match &self.log {
                AccessLog::File { file, .. } => Some(file.as_fd()),
                AccessLog::Stderr(_) => None,
            },
            lock: self.lock.as_ref().map(|l| l.fd()),
            counters: self.counters.fd().as_fd(),
            generation: self.generation + 1,
            started: self.started,
            children: self.children.iter().collect(),
            exe: &self.exe,
        };
        log::info!(
            "re-executing {} as generation {}",
            self.exe.display(),
            self.generation + 1
        );
        let error = handover::exec(&outgoing);
        log::error!("{error}; this image keeps running and serves the new site");
        self.site = next;
        self.generation += 1;
        self.counters.set(Counter::Generation, self.generation);
        self.settle_reload(Outcome::Ok);
    }

    /// The certificate in service in a memfd for the next image, made only for the re-exec so
    /// that the parent keeps no descriptor for it.
    fn certificate_for_handover(&self) -> Result<Option<std::os::fd::OwnedFd>, String> {
        let Some(certificate) = self.tls.as_ref().and_then(|t| t.certificate.as_ref()) else {
            return Ok(None);
        };
        certificate
            .to_memfd()
            .map(Some)
            .map_err(|e| format!("handing the certificate over: {e}"))
    }

    fn maybe_reload_again(&mut self) {
        if std::mem::take(&mut self.reload_again) {
            self.start_reload();
        }
    }

    /// SIGTERM/SIGINT: close the listener (new connections are refused, not queued) and give
    /// in-flight children `grace` to finish.
    fn begin_drain(&mut self) {
        if self.drain_deadline.is_some() {
            return;
        }
        log::info!(
            "shutting down: {} connection(s) in flight, waiting up to {:?}",
            self.children.len(),
            self.limits.grace
        );
        self.listener = None;
        self.tls_listener = None;
        self.drain_deadline = Some(Instant::now() + self.limits.grace);
        notify::notify(&format!(
            "STOPPING=1\nSTATUS=draining {} connection(s)",
            self.children.len()
        ));
        // Idle keep-alives close now; busy children finish their response first (USR2 is
        // blocked outside their wait for input), instead of being killed when grace runs out.
        // A child still waiting for its first request keeps waiting (it sees Draining).
        self.counters.set(Counter::Draining, 1);
        for pid in self.children.pids() {
            let _ = kill(pid, Signal::SIGUSR2);
        }
        if let Some(job) = self.render.take() {
            let _ = kill(job.pid, Signal::SIGKILL);
            let _ = waitpid(job.pid, None);
        }
        if let Some(pid) = self.acme.as_mut().and_then(|a| a.worker.take()) {
            let _ = kill(pid, Signal::SIGKILL);
            let _ = waitpid(pid, None);
        }
    }

    /// The grace period is over: kill what is left, collect it, exit.
    fn kill_children(&mut self) -> ExitCode {
        log::warn!(
            "grace period over: killing {} child(ren)",
            self.children.len()
        );
        for pid in self.children.pids() {
            let _ = kill(pid, Signal::SIGKILL);
        }
        let deadline = Instant::now() + Duration::from_secs(2);
        while !self.children.is_empty() && Instant::now() < deadline {
            match waitpid(None, None) {
                Ok(status) => {
                    if let Some(pid) = status.pid() {
                        self.children.remove(pid);
                    }
                }
                Err(Errno::EINTR) => {}
                Err(_) => break,
            }
        }
        ExitCode::SUCCESS
    }
}

/// What a child that came in through `door` answers from: the site, and with `live` (`--watch`)
/// the last reload's failure, if any.
fn responder<'a>(
    site: &'a Snapshot,
    status: &'a Access,
    counters: &'a Counters,
    tls: Option<&tls::Https>,
    live: Option<Option<&'a str>>,
    door: Door,
) -> Responder<'a> {
    Responder {
        site: site.view(),
        status,
        counters: Some(counters),
        // With HTTPS on, the plain door only redirects to it.
        https_port: match door {
            Door::Plain => tls.and_then(tls::Https::redirect_port),
            Door::Tls => None,
        },
        live: live.map(|failure| Live { failure }),
    }
}

/// Answers a connection no child could be forked for with a 503. Out of line and cold: its
/// buffer would otherwise make the frame every child starts in a page larger.
#[cold]
#[inline(never)]
fn refuse_unforked(conn: std::net::TcpStream) {
    // Read what the client already sent (without waiting): closing with unread bytes would
    // make the kernel send a reset that destroys the 503.
    let mut sink = [0u8; 4096];
    let now_only = nix::sys::socket::MsgFlags::MSG_DONTWAIT;
    let _ = nix::sys::socket::recv(conn.as_raw_fd(), &mut sink, now_only);
    let _ = (&conn).write_all(&response::service_unavailable());
}

/// Backs off after accept or fork failures, logging at most once per interval.
#[derive(Default)]
struct Backoff {
    until: Option<Instant>,
    /// The last failure was a fork: the server is as good as full, so eviction applies.
    forks_failing: bool,
    delay: Duration,
    last_log: Option<Instant>,
    suppressed: u64,
}

impl Backoff {
    const FIRST: Duration = Duration::from_millis(50);
    const MAX: Duration = Duration::from_secs(1);
    const LOG_EVERY: Duration = Duration::from_secs(10);

    fn fail(&mut self, what: &str, error: &io::Error) {
        let now = Instant::now();
        self.forks_failing = what == "fork";
        self.delay = (self.delay * 2).clamp(Self::FIRST, Self::MAX);
        self.until = Some(now + self.delay);
        if self
            .last_log
            .is_none_or(|t| now.duration_since(t) >= Self::LOG_EVERY)
        {
            let also = match self.suppressed {
                0 => String::new(),
                n => format!(" ({n} similar failures not logged)"),
            };
            log::warn!(
                "{what} failed: {error}; pausing accepts for {:?}{also}",
                self.delay
            );
            self.last_log = Some(now);
            self.suppressed = 0;
        } else {
            self.suppressed += 1;
        }
    }

    fn succeed(&mut self) {
        // Written only when set: the parent's every write after a fork may copy a page.
        if self.forks_failing {
            self.forks_failing = false;
        }
        if self.until.is_some() {
            self.until = None;
            self.delay = Duration::ZERO;
        }
    }
}
