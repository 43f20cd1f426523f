//! Privilege drop: a process started as root binds, takes the lock and opens the log, then
//! becomes an unprivileged user before it reads a post or accepts a connection. It never
//! serves as root.
//!
//! Before the drop, [`unreadable_for`] checks, as the future user, every directory on the way
//! to the site, and [`log_dir_problem`] whether that user can create the access log again after
//! a rotation: both are problems root cannot see by trying, since root reads everything.
//! During it, the capability bounding set is emptied and `no_new_privs` set, so no later exec
//! (reload, render worker) can regain anything.

use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use nix::unistd::{setgid, setgroups, setuid, Gid, Uid, User};

use crate::sys;

/// The user a root-started server becomes when `--user` is not given.
pub const DEFAULT_USER: &str = "nobody";

/// The user a root-started server will serve as.
#[derive(Debug, Clone)]
pub struct Account {
    /// The name, as given to `--user` or the default.
    pub name: String,
    /// Its uid.
    pub uid: u32,
    /// Its primary group, the only group it keeps.
    pub gid: u32,
}

/// The account `serve` would drop to: `None` when not running as root (nothing is dropped).
pub fn service_account(user: Option<&str>) -> io::Result<Option<Account>> {
    if !Uid::effective().is_root() {
        return Ok(None);
    }
    let name = user.unwrap_or(DEFAULT_USER);
    let account = User::from_name(name)
        .map_err(|e| io::Error::other(format!("looking up user {name}: {e}")))?
        .ok_or_else(|| io::Error::other(format!("no such user: {name} (see --user)")))?;
    if account.uid.is_root() {
        return Err(io::Error::other(format!(
            "refusing to serve as root (--user {name} is uid 0)"
        )));
    }
    Ok(Some(Account {
        name: name.to_string(),
        uid: account.uid.as_raw(),
        gid: account.gid.as_raw(),
    }))
}

/// The permission bits (`r` 4, `w` 2, `x` 1) that apply to `account` on a file.
fn bits_for(meta: &std::fs::Metadata, account: &Account) -> u32 {
    let mode = meta.mode();
    if meta.uid() == account.uid {
        (mode >> 6) & 7
    } else if meta.gid() == account.gid {
        (mode >> 3) & 7
    } else {
        mode & 7
    }
}

fn describe(path: &Path, meta: &std::fs::Metadata) -> String {
    let owner = |uid| {
        User::from_uid(Uid::from_raw(uid))
            .ok()
            .flatten()
            .map_or(uid.to_string(), |u| u.name)
    };
    format!(
        "{} (mode {:04o}, owner {})",
        path.display(),
        meta.mode() & 0o7777,
        owner(meta.uid())
    )
}

/// Why `account` could not read the site at `root`, naming the first path component in the
/// way and the fix; `None` if it can. Checks every directory on the way (search permission),
/// the root itself, `posts/` and `templates/` (read and search) and `forkblog.toml` (read).
pub fn unreadable_for(root: &Path, account: &Account) -> Option<String> {
    let full = std::fs::canonicalize(root).ok()?; // a missing root is the render's to report
    let fix = "start it with --user set to a user that can read the site (such as its owner), \
               or move the site under /srv and make it readable: chmod -R a+rX /srv/blog";
    let fail = |path: &Path, meta: &std::fs::Metadata, what: &str| {
        Some(format!(
            "the server runs as {} (uid {}), which cannot {what} {}: {fix}",
            account.name,
            account.uid,
            describe(path, meta)
        ))
    };
    let mut path = PathBuf::new();
    for part in full.components() {
        path.push(part);
        let meta = std::fs::metadata(&path).ok()?;
        let need = if path == full { 5 } else { 1 };
        if bits_for(&meta, account) & need != need {
            return fail(&path, &meta, if need == 1 { "enter" } else { "read" });
        }
    }
    for (name, need) in [("posts", 5), ("templates", 5), ("forkblog.toml", 4)] {
        let path = full.join(name);
        let Ok(meta) = std::fs::metadata(&path) else {
            continue;
        };
        // A directory where a file belongs, or the reverse, is the render's to report.
        if meta.is_dir() != (need == 5) {
            continue;
        }
        if bits_for(&meta, account) & need != need {
            return fail(&path, &meta, "read");
        }
    }
    None
}

/// Why `account` could not create the access log at `log` again after a rotation moved it
/// away (USR1 reopens by path, after the drop), with the fix; `None` if it can.
pub fn log_dir_problem(log: &Path, account: &Account) -> Option<String> {
    let dir = match log.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let meta = std::fs::metadata(&dir).ok()?;
    if bits_for(&meta, account) & 3 == 3 {
        return None;
    }
    Some(format!(
        "after a rotation, USR1 cannot create {} again: the server runs as {}, which cannot \
         write to {}; give that user the directory (chown {} {}) or rotate with copytruncate",
        log.display(),
        account.name,
        describe(&dir, &meta),
        account.name,
        dir.display()
    ))
}

/// If running as root, switches to `user` (supplementary groups, group, then user, in that
/// order, because after `setuid` the others are no longer allowed). Refuses to go on as root.
/// The capability bounding set is emptied first (that needs root), `no_new_privs` set last.
pub fn drop_if_root(user: Option<&str>) -> io::Result<()> {
    let Some(account) = service_account(user)? else {
        if let Some(name) = user {
            log::debug!("not root; --user {name} has nothing to do");
        }
        sys::set_no_new_privs().map_err(|e| io::Error::other(format!("no_new_privs: {e}")))?;
        return Ok(());
    };
    let name = &account.name;
    let fail =
        |what: &str, e: nix::errno::Errno| io::Error::other(format!("{what} for {name}: {e}"));
    sys::clear_capability_bounding_set()
        .map_err(|e| io::Error::other(format!("emptying the capability bounding set: {e}")))?;
    let gid = Gid::from_raw(account.gid);
    setgroups(&[gid]).map_err(|e| fail("setgroups", e))?;
    setgid(gid).map_err(|e| fail("setgid", e))?;
    setuid(Uid::from_raw(account.uid)).map_err(|e| fail("setuid", e))?;
    if setuid(Uid::from_raw(0)).is_ok() || Gid::effective().as_raw() == 0 {
        return Err(io::Error::other(
            "privilege drop did not stick; refusing to serve",
        ));
    }
    sys::set_no_new_privs().map_err(|e| io::Error::other(format!("no_new_privs: {e}")))?;
    log::info!(
        "dropped privileges to {name} (uid {}, gid {}), no capabilities, no_new_privs",
        account.uid,
        account.gid
    );
    Ok(())
}
