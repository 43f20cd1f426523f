//! Certificates obtained and renewed over ACME (RFC 8555), in a worker process.
//!
//! The parent forks a worker (`serve::renewal`, through [`Renewal`]) when a check is due, the way it forks the render
//! worker; it never speaks ACME itself, and no child does. The worker looks at the certificate
//! in the state directory and the one in service: one on disk that is valid and not in service
//! is for the parent to load first; the one in service not yet two thirds through its lifetime
//! leaves nothing to do. Otherwise it orders a new one: it answers HTTP-01 through the shared
//! counters page (`serve::challenge`), which every child serving the plain listener reads, then
//! writes `key.pem` and `cert.pem` (0600), hands the certificate to the parent in a memfd and
//! exits 0. The parent serves it at once, apart from the site (see `serve::tls`), without
//! touching the disk: its loop never waits on a file system.
//!
//! Each ACME directory has its own account and certificate, under `acme/NAME/` in the state
//! directory, NAME being the directory URL without its scheme (as Caddy keeps them): staging
//! and production side by side, and an account or certificate of one never used with the
//! other. An account the CA no longer knows (`accountDoesNotExist`) is replaced by a new one.
//!
//! The worker's outcome is a [`Checked`], carried by its exit status.

// `pub` only where another crate (or an integration test) needs it.
#![warn(unreachable_pub)]

mod http;

use std::fs;
use std::io::Write as _;
use std::os::fd::OwnedFd;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use instant_acme::{
    Account, AccountCredentials, AuthorizationStatus, ChallengeType, Identifier, NewAccount,
    NewOrder, Order, OrderStatus,
};
use nix::unistd::{Gid, Uid};

use serve::challenge;
use serve::renewal::{Checked, Renewal};
use serve::status::Counters;
use serve::tls::{Certificate, Files};

/// Let's Encrypt's production directory.
pub const LETS_ENCRYPT: &str = "https://acme-v02.api.letsencrypt.org/directory";
/// Let's Encrypt's staging directory (untrusted certificates, generous rate limits).
pub const LETS_ENCRYPT_STAGING: &str = "https://acme-staging-v02.api.letsencrypt.org/directory";
/// The default state directory.
pub const DEFAULT_STATE_DIR: &str = "/var/lib/forkblog";
/// Where the system's trusted roots are (Debian's ca-certificates).
pub const SYSTEM_ROOTS: &str = "/etc/ssl/certs/ca-certificates.crt";

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
    /// Where this directory's account and certificate live: `acme/NAME/` in the state
    /// directory.
    pub fn directory_dir(&self) -> PathBuf {
        self.state_dir
            .join("acme")
            .join(directory_name(&self.directory))
    }

    /// The certificate and key files the parent serves from.
    pub fn files(&self) -> Files {
        let dir = self.directory_dir();
        Files {
            cert: dir.join("cert.pem"),
            key: dir.join("key.pem"),
            missing_ok: true,
        }
    }
}

/// A directory URL as a file name: without its scheme, every character but letters, digits,
/// `.` and `_` a `-` (`acme-v02.api.letsencrypt.org-directory`).
fn directory_name(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let name: String = rest
        .trim_end_matches('/')
        .chars()
        .map(|c| match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' | '.' | '_' => c,
            _ => '-',
        })
        .collect();
    // `.` and `..` would name the folder above.
    match name.chars().all(|c| c == '.') {
        true => name.replace('.', "-") + "-",
        false => name,
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
        // ACME's own files only: whatever else shares the directory (a lock) keeps its owner.
        for name in ["", "acme", "account.json", "cert.pem", "key.pem"] {
            let path = match name {
                "" => dir.to_path_buf(),
                name => dir.join(name),
            };
            if path.symlink_metadata().is_ok() {
                chown_tree(&path, uid, gid, !name.is_empty())
                    .map_err(|e| format!("{}: chown: {e}", path.display()))?;
            }
        }
    }
    Ok(())
}

/// Hands `path` (and with `deep`, what is under it) to `uid`:`gid`, not following symbolic
/// links.
fn chown_tree(
    path: &Path,
    uid: nix::unistd::Uid,
    gid: nix::unistd::Gid,
    deep: bool,
) -> nix::Result<()> {
    nix::unistd::fchownat(
        nix::fcntl::AT_FDCWD,
        path,
        Some(uid),
        Some(gid),
        nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW,
    )?;
    if deep && fs::symlink_metadata(path).is_ok_and(|m| m.is_dir()) {
        for entry in fs::read_dir(path).into_iter().flatten().flatten() {
            chown_tree(&entry.path(), uid, gid, true)?;
        }
    }
    Ok(())
}

impl Renewal for Settings {
    fn files(&self) -> Files {
        Settings::files(self)
    }

    fn names(&self) -> String {
        self.domains.join(", ")
    }

    fn issuer(&self) -> &str {
        &self.directory
    }

    fn prepare(&self, owner: Option<(Uid, Gid)>) -> Result<(), String> {
        prepare_state_dir(&self.state_dir, owner)
    }

    fn tidy(&self) -> Result<(), String> {
        sort_state_dir(self)
    }

    fn check(
        &self,
        counters: &Counters,
        in_service: Option<&Certificate>,
        handed: &OwnedFd,
    ) -> Checked {
        run(self, counters, in_service)
            .and_then(|checked| match checked {
                Checked::ToLoad => hand_over(self, handed).map(|()| checked),
                other => Ok(other),
            })
            .unwrap_or_else(|e| {
                log::error!("ACME: {e}");
                Checked::Failed
            })
    }
}

/// In the worker: the certificate on disk, read and checked, written into `handed` for the
/// parent, which so never reads the state directory itself.
fn hand_over(settings: &Settings, handed: &OwnedFd) -> Result<(), String> {
    let files = settings.files();
    Certificate::load(&files)?
        .ok_or_else(|| format!("{}: gone", files.cert.display()))?
        .write_into(handed)
        .map_err(|e| format!("handing the certificate to the server: {e}"))
}

/// Obtains a certificate if one is due.
fn run(
    settings: &Settings,
    counters: &Counters,
    in_service: Option<&Certificate>,
) -> Result<Checked, String> {
    let dir = settings.directory_dir();
    sort_state_dir(settings)?;
    let files = settings.files();
    let now = serve::clock::now();
    match Certificate::load(&files) {
        // Still valid and not in service (the parent could not read it, or a re-exec came
        // between): served first, even if due, and ordered after.
        Ok(Some(on_disk))
            if in_service != Some(&on_disk)
                && on_disk.not_after > now
                && in_service.is_none_or(|c| c.may_give_way_to(&on_disk, now)) =>
        {
            return Ok(Checked::ToLoad)
        }
        Ok(Some(on_disk)) if on_disk.renew_at() > now => return Ok(Checked::NothingDue),
        Ok(_) => {}
        Err(e) => log::warn!("ACME: {e}; ordering a new certificate"),
    }
    let mut account = account(settings)?;
    let identifiers: Vec<Identifier> = settings
        .domains
        .iter()
        .map(|d| Identifier::Dns(d.clone()))
        .collect();
    let order = match pollster::block_on(account.new_order(&NewOrder::new(&identifiers))) {
        Err(instant_acme::Error::Api(problem))
            if problem.r#type.as_deref() == Some(ACCOUNT_GONE) =>
        {
            log::warn!(
                "ACME: {} no longer knows the account in {}; registering a new one",
                settings.directory,
                dir.display()
            );
            account = register(settings)?;
            pollster::block_on(account.new_order(&NewOrder::new(&identifiers)))
        }
        other => other,
    };
    let mut order = order.map_err(|e| format!("new order at {}: {e}", settings.directory))?;
    authorize(&mut order, settings, counters)?;
    let key = pollster::block_on(order.finalize()).map_err(|e| format!("finalize: {e}"))?;
    let mut chain = None;
    wait_for(|| {
        chain = pollster::block_on(order.certificate()).map_err(|e| format!("certificate: {e}"))?;
        Ok(chain.is_some())
    })?;
    let chain = chain.unwrap_or_default();
    write_private(&files.key, key.as_bytes())?;
    write_private(&files.cert, chain.as_bytes())?;
    log::info!(
        "ACME: new certificate for {} from {} written to {}",
        settings.domains.join(", "),
        settings.directory,
        files.cert.display()
    );
    Ok(Checked::ToLoad)
}

/// The problem type of a CA that does not know the account (RFC 8555 section 6.7).
const ACCOUNT_GONE: &str = "urn:ietf:params:acme:error:accountDoesNotExist";

/// Answers each pending authorization's HTTP-01 challenge and waits until the order is ready.
fn authorize(order: &mut Order, settings: &Settings, counters: &Counters) -> Result<(), String> {
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
    })
}

/// The directory an account file was made at, if it says.
fn account_directory(text: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(text).ok()?;
    Some(value.get("directory")?.as_str()?.to_string())
}

/// Creates this directory's folder (0700). A state directory written before accounts were kept
/// per directory holds `account.json`, `cert.pem` and `key.pem` at its top: they are moved into
/// the folder if the account was made at this directory (and the folder has none), left alone
/// otherwise. Run by the server's user: at a first start, and by the worker (after a re-exec
/// from an image that kept them at the top).
pub fn sort_state_dir(settings: &Settings) -> Result<(), String> {
    let top = &settings.state_dir;
    let dir = settings.directory_dir();
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?;
    let Ok(text) = fs::read_to_string(top.join("account.json")) else {
        return Ok(());
    };
    if account_directory(&text).as_deref() != Some(settings.directory.as_str())
        || dir.join("account.json").exists()
    {
        return Ok(());
    }
    for file in ["cert.pem", "key.pem", "account.json"] {
        if top.join(file).exists() {
            if let Err(e) = fs::rename(top.join(file), dir.join(file)) {
                log::warn!("ACME: moving {file} into {}: {e}", dir.display());
            }
        }
    }
    log::info!(
        "ACME: the account and certificate in {} are {}'s: moved to {}",
        top.display(),
        settings.directory,
        dir.display()
    );
    Ok(())
}

/// This directory's account, or a new one.
fn account(settings: &Settings) -> Result<Account, String> {
    let path = settings.directory_dir().join("account.json");
    let Ok(text) = fs::read_to_string(&path) else {
        return register(settings);
    };
    // Made elsewhere (a copied file): never used with this directory.
    if account_directory(&text).as_deref() != Some(settings.directory.as_str()) {
        log::warn!(
            "ACME: {} belongs to another directory; registering at {}",
            path.display(),
            settings.directory
        );
        return register(settings);
    }
    let credentials: AccountCredentials =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let http = http::Client::new(settings.directory_ca.as_deref())?;
    pollster::block_on(Account::builder_with_http(Box::new(http)).from_credentials(credentials))
        .map_err(|e| format!("account from {}: {e}", path.display()))
}

/// Registers a new account at the directory and saves it in the directory's folder (0600),
/// replacing any account there.
fn register(settings: &Settings) -> Result<Account, String> {
    let path = settings.directory_dir().join("account.json");
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
    let http = http::Client::new(settings.directory_ca.as_deref())?;
    let (account, credentials) = pollster::block_on(
        Account::builder_with_http(Box::new(http)).create(&new, settings.directory.clone(), None),
    )
    .map_err(|e| format!("creating an account at {}: {e}", settings.directory))?;
    let text = serde_json::to_string(&credentials).map_err(|e| e.to_string())?;
    write_private(&path, text.as_bytes())?;
    log::info!(
        "ACME: new account at {} saved in {}",
        settings.directory,
        path.display()
    );
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_directory_url_has_a_folder_of_its_own() {
        assert_eq!(
            directory_name(LETS_ENCRYPT),
            "acme-v02.api.letsencrypt.org-directory"
        );
        assert_eq!(
            directory_name(LETS_ENCRYPT_STAGING),
            "acme-staging-v02.api.letsencrypt.org-directory"
        );
        assert_eq!(
            directory_name("https://127.0.0.1:14000/dir/"),
            "127.0.0.1-14000-dir"
        );
        // Nothing in a URL climbs out of the state directory.
        assert_eq!(directory_name("https://x/../../etc"), "x-..-..-etc");
        assert!(!directory_name("https://x/../..").contains('/'));
        assert_eq!(directory_name("https://.."), "---");
        assert_eq!(directory_name(""), "-");
    }

    #[test]
    fn files_of_one_directory_at_the_top_move_into_its_folder_and_no_other() {
        let state = std::env::temp_dir().join(format!("forkblog-acme-sort-{}", std::process::id()));
        let _ = fs::remove_dir_all(&state);
        fs::create_dir_all(&state).unwrap();
        let settings = |directory: &str| Settings {
            domains: vec!["blog.test".into()],
            email: None,
            directory: directory.into(),
            directory_ca: None,
            state_dir: state.clone(),
        };
        let (staging, production) = (settings(LETS_ENCRYPT_STAGING), settings(LETS_ENCRYPT));
        let account = format!(r#"{{"id":"x","directory":"{LETS_ENCRYPT_STAGING}"}}"#);
        for (file, text) in [
            ("account.json", account.as_str()),
            ("cert.pem", "C"),
            ("key.pem", "K"),
        ] {
            fs::write(state.join(file), text).unwrap();
        }
        // Another directory's files are never taken.
        sort_state_dir(&production).unwrap();
        assert!(state.join("account.json").exists());
        assert!(!production.directory_dir().join("account.json").exists());
        assert!(!production.files().cert.exists());
        // Their own directory's folder gets them.
        sort_state_dir(&staging).unwrap();
        assert!(!state.join("cert.pem").exists());
        assert_eq!(fs::read_to_string(staging.files().cert).unwrap(), "C");
        assert_eq!(fs::read_to_string(staging.files().key).unwrap(), "K");
        assert!(staging.directory_dir().join("account.json").exists());
        let _ = fs::remove_dir_all(&state);
    }

    #[test]
    fn an_account_file_says_which_directory_it_was_made_at() {
        let text = r#"{"id":"https://ca/acct/1","key_pkcs8":"AA","directory":"https://ca/dir"}"#;
        assert_eq!(account_directory(text).as_deref(), Some("https://ca/dir"));
        assert_eq!(account_directory(r#"{"id":"x"}"#), None);
        assert_eq!(account_directory("not json"), None);
    }
}
