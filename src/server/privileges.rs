//! Privilege drop: a process started as root binds, takes the lock and opens the log, then
//! becomes an unprivileged user before it reads a post or accepts a connection. It never
//! serves as root.

use std::io;

use nix::unistd::{setgid, setgroups, setuid, Gid, Uid, User};

/// The user a root-started server becomes when `--user` is not given.
pub const DEFAULT_USER: &str = "nobody";

/// If running as root, switches to `user` (supplementary groups, group, then user, in that
/// order, because after `setuid` the others are no longer allowed). Refuses to go on as root.
pub fn drop_if_root(user: Option<&str>) -> io::Result<()> {
    if !Uid::effective().is_root() {
        if let Some(name) = user {
            log::debug!("not root; --user {name} has nothing to do");
        }
        return Ok(());
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
    let fail =
        |what: &str, e: nix::errno::Errno| io::Error::other(format!("{what} for {name}: {e}"));
    setgroups(&[account.gid]).map_err(|e| fail("setgroups", e))?;
    setgid(account.gid).map_err(|e| fail("setgid", e))?;
    setuid(account.uid).map_err(|e| fail("setuid", e))?;
    if setuid(Uid::from_raw(0)).is_ok() || Gid::effective().as_raw() == 0 {
        return Err(io::Error::other(
            "privilege drop did not stick; refusing to serve",
        ));
    }
    log::info!(
        "dropped privileges to {name} (uid {}, gid {})",
        account.uid,
        account.gid
    );
    Ok(())
}
