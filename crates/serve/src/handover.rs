//! Re-exec in place: the next generation of the same PID, with the listening socket inherited.
//!
//! On a successful reload the supervisor calls [`exec`]: the listening sockets, the new site's
//! memfd, the certificate's memfd, the access log and the lock are made inheritable (every
//! other descriptor is close-on-exec), the handled signals are blocked so none can strike
//! between `execve` and the new image's handlers, and the binary is executed again with the
//! same arguments. The new image reads `FORKBLOG_HANDOVER` in [`Handover::from_env`] and
//! carries on: same PID, same socket (never closed, so no connection is refused), the children
//! of earlier generations still tracked and reaped. The binary is executed by path, so an
//! upgraded binary is picked up by a reload.

use std::ffi::{CString, OsString};
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use nix::unistd::Pid;

use super::listener::set_cloexec;
use super::signals;
use crate::sys;

const VAR: &str = "FORKBLOG_HANDOVER";

/// What one generation hands the next.
pub(crate) struct Handover {
    /// The listening socket.
    pub listener: OwnedFd,
    /// The HTTPS listening socket, when serving TLS.
    pub tls_listener: Option<OwnedFd>,
    /// The sealed memfd of the rendered site.
    pub site: OwnedFd,
    /// The certificate in service (`tls::Certificate::to_memfd`); absent from an image that
    /// left it at the end of the site snapshot instead.
    pub certificate: Option<OwnedFd>,
    /// The access log file, unless it is stderr.
    pub log: Option<OwnedFd>,
    /// The lock file, holding the lock.
    pub lock: Option<OwnedFd>,
    /// The shared counters page.
    pub counters: OwnedFd,
    /// How many reloads came before (0 for the first image).
    pub generation: u64,
    /// When the first generation started.
    pub started: SystemTime,
    /// Children still serving, with their age.
    pub children: Vec<(Pid, Duration)>,
    /// The binary to execute on the next reload.
    pub exe: PathBuf,
}

/// Borrowed descriptors and state for [`exec`].
pub(crate) struct Outgoing<'a> {
    /// The listening socket.
    pub listener: BorrowedFd<'a>,
    /// The HTTPS listening socket, when serving TLS.
    pub tls_listener: Option<BorrowedFd<'a>>,
    /// The new site.
    pub site: BorrowedFd<'a>,
    /// The certificate in service, if any.
    pub certificate: Option<BorrowedFd<'a>>,
    /// The access log file, if not stderr.
    pub log: Option<BorrowedFd<'a>>,
    /// The lock file.
    pub lock: Option<BorrowedFd<'a>>,
    /// The shared counters page.
    pub counters: BorrowedFd<'a>,
    /// The generation number the next image will have.
    pub generation: u64,
    /// When the first generation started.
    pub started: SystemTime,
    /// Live children and when each started.
    pub children: Vec<(Pid, Instant)>,
    /// The binary to execute.
    pub exe: &'a std::path::Path,
}

/// Executes the next generation. Returns only if that failed, with everything restored.
pub(crate) fn exec(out: &Outgoing<'_>) -> io::Error {
    let fds: Vec<BorrowedFd<'_>> = [
        Some(out.listener),
        out.tls_listener,
        Some(out.site),
        out.certificate,
        Some(out.counters),
        out.log,
        out.lock,
    ]
    .into_iter()
    .flatten()
    .collect();
    let result = (|| -> io::Result<io::Error> {
        let argv: Vec<CString> = std::env::args_os()
            .map(|a| sys_cstring(a.as_bytes()))
            .collect::<io::Result<_>>()?;
        let mut env: Vec<CString> = Vec::new();
        for (key, value) in std::env::vars_os() {
            let k = key.as_bytes();
            if k == VAR.as_bytes() || k.starts_with(b"LISTEN_") {
                continue; // systemd's variables described the first image, not this one
            }
            let mut pair = key.clone();
            pair.push("=");
            pair.push(&value);
            env.push(sys_cstring(pair.as_bytes())?);
        }
        env.push(sys_cstring(encode(out).as_bytes())?);
        let path = sys_cstring(out.exe.as_os_str().as_bytes())?;
        for fd in &fds {
            set_cloexec(fd, false)?;
        }
        signals::set_blocked(true)?;
        let error = match nix::unistd::execve(&path, &argv, &env) {
            Ok(never) => match never {},
            Err(errno) => io::Error::other(format!("execve {}: {errno}", out.exe.display())),
        };
        Ok(error)
    })();
    // Only reached when exec failed: put everything back as it was.
    let _ = signals::set_blocked(false);
    for fd in &fds {
        let _ = set_cloexec(fd, true);
    }
    match result {
        Ok(error) | Err(error) => error,
    }
}

fn sys_cstring(bytes: &[u8]) -> io::Result<CString> {
    CString::new(bytes).map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))
}

fn encode(out: &Outgoing<'_>) -> String {
    let now = Instant::now();
    let children: Vec<String> = out
        .children
        .iter()
        .map(|(pid, started)| {
            format!(
                "{}:{}",
                pid,
                now.saturating_duration_since(*started).as_millis()
            )
        })
        .collect();
    let raw = |fd: Option<BorrowedFd<'_>>| fd.map(|fd| fd.as_raw_fd()).unwrap_or(-1);
    let started = out
        .started
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    format!(
        "{VAR}=listen={};tls={};site={};cert={};counters={};log={};lock={};generation={};started={};children={};exe={}",
        out.listener.as_raw_fd(),
        raw(out.tls_listener),
        out.site.as_raw_fd(),
        raw(out.certificate),
        out.counters.as_raw_fd(),
        raw(out.log),
        raw(out.lock),
        out.generation,
        started,
        children.join(","),
        hex(out.exe.as_os_str().as_bytes())
    )
}

impl Handover {
    /// Reads the handover left by the previous image, if this process is a re-exec.
    pub(crate) fn from_env() -> io::Result<Option<Handover>> {
        let Some(value) = std::env::var_os(VAR) else {
            return Ok(None);
        };
        let value = value.to_string_lossy().into_owned();
        let bad = |what: &str| io::Error::other(format!("{VAR}: bad {what} in {value:?}"));
        let (fields, exe) = value.split_once(";exe=").ok_or_else(|| bad("exe"))?;
        let mut handover = Handover {
            listener: fd_field(fields, "listen")?.ok_or_else(|| bad("listen"))?,
            // Absent when the previous image predates TLS.
            tls_listener: match field(fields, "tls") {
                Some(_) => fd_field(fields, "tls")?,
                None => None,
            },
            site: fd_field(fields, "site")?.ok_or_else(|| bad("site"))?,
            // Absent when the previous image carried the certificate in the snapshot.
            certificate: match field(fields, "cert") {
                Some(_) => fd_field(fields, "cert")?,
                None => None,
            },
            counters: fd_field(fields, "counters")?.ok_or_else(|| bad("counters"))?,
            log: fd_field(fields, "log")?,
            lock: fd_field(fields, "lock")?,
            generation: field(fields, "generation")
                .and_then(|g| g.parse().ok())
                .ok_or_else(|| bad("generation"))?,
            started: field(fields, "started")
                .and_then(|s| s.parse().ok())
                .map(|s| UNIX_EPOCH + Duration::from_secs(s))
                .ok_or_else(|| bad("started"))?,
            children: Vec::new(),
            exe: PathBuf::from(OsString::from_vec(unhex(exe).ok_or_else(|| bad("exe"))?)),
        };
        for child in field(fields, "children")
            .unwrap_or("")
            .split(',')
            .filter(|c| !c.is_empty())
        {
            let (pid, age) = child.split_once(':').ok_or_else(|| bad("children"))?;
            let pid = pid.parse().map_err(|_| bad("child pid"))?;
            let age = age.parse().map_err(|_| bad("child age"))?;
            handover
                .children
                .push((Pid::from_raw(pid), Duration::from_millis(age)));
        }
        Ok(Some(handover))
    }
}

/// The binary's path travels as hex: a path is bytes, not necessarily UTF-8, and must reach
/// the next image exactly.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    let text = text.as_bytes();
    if text.len() % 2 != 0 {
        return None;
    }
    text.chunks(2)
        .map(|pair| u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok())
        .collect()
}

fn field<'a>(fields: &'a str, key: &str) -> Option<&'a str> {
    fields
        .split(';')
        .find_map(|kv| kv.strip_prefix(key)?.strip_prefix('='))
}

fn fd_field(fields: &str, key: &str) -> io::Result<Option<OwnedFd>> {
    match field(fields, key).and_then(|v| v.parse::<i32>().ok()) {
        Some(-1) => Ok(None),
        Some(fd) => {
            let owned = sys::adopt_inherited_fd(fd)
                .map_err(|e| io::Error::other(format!("{VAR}: inherited {key} fd {fd}: {e}")))?;
            set_cloexec(&owned.as_fd(), true)?;
            Ok(Some(owned))
        }
        None => Err(io::Error::other(format!("{VAR}: missing {key}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_that_is_not_utf8_survives_the_handover() {
        let path = b"/opt/forkblog-\xff\xfe/bin".to_vec();
        assert_eq!(unhex(&hex(&path)), Some(path));
        assert_eq!(unhex("abc"), None);
        assert_eq!(unhex("zz"), None);
    }
}
