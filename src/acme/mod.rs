//! Certificates obtained and renewed over ACME (RFC 8555), in a worker process.
//!
//! The parent forks a worker ([`spawn`]) when a check is due, the way it forks the render
//! worker; it never speaks ACME itself, and no child does. The worker reads the state
//! directory, and if the certificate there is missing or past two thirds of its lifetime, it
//! orders a new one: it answers HTTP-01 through the shared counters page (`challenge.rs`), which
//! every child serving the plain listener reads, then writes `key.pem` and `cert.pem` (0600)
//! and exits 0. The parent then reloads, and the render worker carries the new certificate
//! into the snapshot like any other. Until then the old one keeps serving.
//!
//! Exit statuses of the worker: 0 a new certificate, [`NOTHING_DUE`] nothing to do, 1 failed.

pub mod challenge;
mod http;
pub mod validity;

use std::fs;
use std::io::Write as _;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::time::Duration;

use instant_acme::{
    Account, AccountCredentials, AuthorizationStatus, ChallengeType, Identifier, NewAccount,
    NewOrder, OrderStatus,
};
use nix::unistd::{ForkResult, Pid};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;

use crate::server::status::{Counters, ACME_NEXT_CHECK};
use crate::server::tls::Files;
use crate::sys;

/// Let's Encrypt's production directory.
pub const LETS_ENCRYPT: &str = "https://acme-v02.api.letsencrypt.org/directory";
/// Let's Encrypt's staging directory (untrusted certificates, generous rate limits).
pub const LETS_ENCRYPT_STAGING: &str = "https://acme-staging-v02.api.letsencrypt.org/directory";
/// The default state directory.
pub const DEFAULT_STATE_DIR: &str = "/var/lib/forkblog";
/// Where the system's trusted roots are (Debian's ca-certificates).
pub const SYSTEM_ROOTS: &str = "/etc/ssl/certs/ca-certificates.crt";

/// The worker's exit status when the certificate is still good.
pub const NOTHING_DUE: i32 = 3;

/// How long a check waits when the certificate's lifetime gives no better answer.
const DEFAULT_RECHECK: u64 = 3600;

/// What `--acme-*` and `--state-dir` configure.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The names the certificate covers.
    pub domains: Vec<String>,
    /// A contact address for the account.
    pub email: Option<String>,
    /// The ACME directory URL.
    pub directory: String,
    /// Roots to trust for the directory's HTTPS (the system's when unset).
    pub directory_ca: Option<PathBuf>,
    /// The account key and the certificate live here, owned by the service user.
    pub state_dir: PathBuf,
}

impl Settings {
    /// The certificate and key files the render worker serves from.
    pub fn files(&self) -> Files {
        Files {
            cert: self.state_dir.join("cert.pem"),
            key: self.state_dir.join("key.pem"),
            missing_ok: true,
        }
    }
}

/// Creates the state directory (0700) for the user the server will run as. Called as root
/// before the privilege drop, or as that user.
pub fn prepare_state_dir(
    dir: &Path,
    owner: Option<(nix::unistd::Uid, nix::unistd::Gid)>,
) -> Result<(), String> {
    let fail = |e: std::io::Error| format!("state directory {}: {e}", dir.display());
    fs::create_dir_all(dir).map_err(fail)?;
    fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).map_err(fail)?;
    if let Some((uid, gid)) = owner {
        nix::unistd::chown(dir, Some(uid), Some(gid))
            .map_err(|e| format!("state directory {}: chown: {e}", dir.display()))?;
        for file in ["account.json", "cert.pem", "key.pem"] {
            let path = dir.join(file);
            if path.exists() {
                let _ = nix::unistd::chown(&path, Some(uid), Some(gid));
            }
        }
    }
    Ok(())
}

/// Forks the worker. The parent reaps it like any child and reads its exit status.
pub fn spawn(settings: &Settings, counters: &Counters) -> std::io::Result<Pid> {
    match sys::fork().map_err(|e| std::io::Error::other(format!("fork for ACME: {e}")))? {
        ForkResult::Child => {
            // Keep only stderr; the counters page stays mapped after its descriptor closes.
            sys::close_range(3, i32::MAX);
            sys::set_signal_dispositions(
                &[
                    nix::sys::signal::Signal::SIGTERM,
                    nix::sys::signal::Signal::SIGINT,
                    nix::sys::signal::Signal::SIGHUP,
                    nix::sys::signal::Signal::SIGUSR1,
                    nix::sys::signal::Signal::SIGCHLD,
                ],
                &[],
            );
            let code = match run(settings, counters) {
                Ok(true) => 0,
                Ok(false) => NOTHING_DUE,
                Err(e) => {
                    log::error!("ACME: {e}; the current certificate keeps serving");
                    1
                }
            };
            challenge::clear(counters);
            sys::exit_now(code)
        }
        ForkResult::Parent { child } => Ok(child),
    }
}

/// When the parent should check next, as the worker left it in the counters page.
pub fn next_check(counters: &Counters) -> Option<u64> {
    match counters.words()[ACME_NEXT_CHECK].load(Ordering::Relaxed) {
        0 => None,
        at => Some(at),
    }
}

fn now_unix() -> i64 {
    jiff::Timestamp::now().as_second()
}

/// The time two thirds into the certificate's lifetime, if there is a readable one.
fn renew_at(cert: &Path) -> Option<i64> {
    let pem = fs::read(cert).ok()?;
    let leaf = CertificateDer::pem_slice_iter(&pem).next()?.ok()?;
    let (not_before, not_after) = validity::of(&leaf)?;
    Some(not_before + (not_after - not_before) * 2 / 3)
}

/// Obtains a certificate if one is due. `Ok(true)`: a new one was written.
fn run(settings: &Settings, counters: &Counters) -> Result<bool, String> {
    let files = settings.files();
    let next = &counters.words()[ACME_NEXT_CHECK];
    if let Some(at) = renew_at(&files.cert) {
        if at > now_unix() {
            let wait = (at - now_unix()).clamp(1, DEFAULT_RECHECK as i64);
            next.store((now_unix() + wait) as u64, Ordering::Relaxed);
            return Ok(false);
        }
    }
    let http = http::Client::new(settings.directory_ca.as_deref())?;
    let account = account(settings, http)?;
    let identifiers: Vec<Identifier> = settings
        .domains
        .iter()
        .map(|d| Identifier::Dns(d.clone()))
        .collect();
    let mut order = pollster::block_on(account.new_order(&NewOrder::new(&identifiers)))
        .map_err(|e| format!("new order at {}: {e}", settings.directory))?;
    let mut authorizations = order.authorizations();
    let mut slot = 0;
    while let Some(authorization) = pollster::block_on(authorizations.next()) {
        let mut authorization = authorization.map_err(|e| format!("authorization: {e}"))?;
        if authorization.status != AuthorizationStatus::Pending {
            continue;
        }
        let mut challenge = authorization
            .challenge(ChallengeType::Http01)
            .ok_or("the ACME server offers no http-01 challenge")?;
        let answer = challenge.key_authorization();
        if !challenge::publish(counters, slot, &challenge.token, answer.as_str()) {
            return Err("more names than challenge slots (at most 4 per certificate)".into());
        }
        slot += 1;
        pollster::block_on(challenge.set_ready()).map_err(|e| format!("challenge: {e}"))?;
    }
    wait_for(|| {
        let state = pollster::block_on(order.refresh()).map_err(|e| format!("order: {e}"))?;
        match state.status {
            OrderStatus::Ready => Ok(true),
            OrderStatus::Invalid => Err(format!(
                "the order became invalid (is port 80 of {} this server?)",
                settings.domains.join(", ")
            )),
            _ => Ok(false),
        }
    })?;
    let key = pollster::block_on(order.finalize()).map_err(|e| format!("finalize: {e}"))?;
    let mut chain = None;
    wait_for(|| {
        chain = pollster::block_on(order.certificate()).map_err(|e| format!("certificate: {e}"))?;
        Ok(chain.is_some())
    })?;
    let chain = chain.unwrap_or_default();
    write_private(&files.key, key.as_bytes())?;
    write_private(&files.cert, chain.as_bytes())?;
    let at = renew_at(&files.cert).unwrap_or(now_unix() + DEFAULT_RECHECK as i64);
    next.store(at.max(now_unix() + 1) as u64, Ordering::Relaxed);
    log::info!(
        "ACME: new certificate for {} written to {}",
        settings.domains.join(", "),
        files.cert.display()
    );
    Ok(true)
}

/// The account in the state directory, or a new one (saved there, 0600).
fn account(settings: &Settings, http: http::Client) -> Result<Account, String> {
    let path = settings.state_dir.join("account.json");
    let builder = Account::builder_with_http(Box::new(http));
    if let Ok(text) = fs::read_to_string(&path) {
        let credentials: AccountCredentials =
            serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        return pollster::block_on(builder.from_credentials(credentials))
            .map_err(|e| format!("account from {}: {e}", path.display()));
    }
    let contact: Vec<String> = settings
        .email
        .iter()
        .map(|e| format!("mailto:{e}"))
        .collect();
    let contact: Vec<&str> = contact.iter().map(String::as_str).collect();
    let new = NewAccount {
        contact: &contact,
        terms_of_service_agreed: true,
        only_return_existing: false,
    };
    let (account, credentials) =
        pollster::block_on(builder.create(&new, settings.directory.clone(), None))
            .map_err(|e| format!("creating an account at {}: {e}", settings.directory))?;
    let text = serde_json::to_string(&credentials).map_err(|e| e.to_string())?;
    write_private(&path, text.as_bytes())?;
    Ok(account)
}

/// Polls `done` once a second for up to two minutes.
fn wait_for(mut done: impl FnMut() -> Result<bool, String>) -> Result<(), String> {
    for _ in 0..120 {
        if done()? {
            return Ok(());
        }
        std::thread::sleep(Duration::from_secs(1));
    }
    Err("the ACME server did not finish within two minutes".into())
}

/// Writes `bytes` to `path` with mode 0600, whole or not at all (a temporary file renamed).
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let fail = |e: std::io::Error| format!("{}: {e}", path.display());
    let temporary = path.with_extension("tmp");
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&temporary)
        .map_err(fail)?;
    file.write_all(bytes).map_err(fail)?;
    file.sync_all().map_err(fail)?;
    fs::rename(&temporary, path).map_err(fail)
}
