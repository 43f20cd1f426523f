//! Started as root: a site the service user cannot reach is refused with the directory and the
//! fix named (by `serve` and by `check`); USR1 after a rotation writes to the new file; after
//! the drop no capability is left and `no_new_privs` is set. Skipped when not run as root.

mod common;

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::process::Command;
use std::time::Duration;

use common::*;

fn is_root() -> bool {
    fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

macro_rules! root_only {
    () => {
        if !is_root() {
            eprintln!("SKIPPED: needs root (the privilege drop is what is tested)");
            return;
        }
    };
}

fn status_field(pid: u32, name: &str) -> String {
    fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap()
        .lines()
        .find_map(|l| {
            l.strip_prefix(&format!("{name}:"))
                .map(|v| v.trim().to_string())
        })
        .unwrap_or_default()
}

#[test]
fn after_the_drop_no_capability_and_no_new_privileges() {
    root_only!();
    let blog = TempSite::sample();
    let server = Server::start(blog.root(), &[]);
    assert_eq!(status_field(server.pid(), "NoNewPrivs"), "1");
    assert_eq!(status_field(server.pid(), "CapBnd"), "0000000000000000");
    assert_eq!(status_field(server.pid(), "CapEff"), "0000000000000000");
    // And after a reload (a new image of the same PID).
    server.signal("HUP");
    assert!(server.wait_for_log("generation 1 serving", 1, Duration::from_secs(30)));
    assert_eq!(status_field(server.pid(), "NoNewPrivs"), "1");
    assert_eq!(status_field(server.pid(), "CapBnd"), "0000000000000000");
}

#[test]
fn a_site_in_a_private_home_is_named_with_the_fix() {
    root_only!();
    let home = TempDir::new("home");
    set_mode(home.path(), 0o700); // like /root
    let site = home.path().join("blog");
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    copy_tree(&repo.join("posts"), &site.join("posts"));
    copy_tree(&repo.join("templates"), &site.join("templates"));

    let serve = Command::new(BIN)
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--access-log",
            "-",
            "--lock",
        ])
        .arg(home.path().join("lock"))
        .arg("--root")
        .arg(&site)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&serve.stderr);
    assert_eq!(serve.status.code(), Some(1), "{text}");
    let home_name = home.path().display().to_string();
    for needle in ["nobody", "cannot enter", &home_name, "--user", "/srv"] {
        assert!(text.contains(needle), "no {needle:?} in: {text}");
    }

    let check = Command::new(BIN)
        .arg("check")
        .arg("--root")
        .arg(&site)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&check.stderr);
    assert_eq!(check.status.code(), Some(1), "check said ok: {text}");
    for needle in ["nobody", &home_name, "--user"] {
        assert!(text.contains(needle), "no {needle:?} in: {text}");
    }
    // Another unprivileged user fares no better; a traversable home is fine.
    let as_root = Command::new(BIN)
        .args(["check", "--user", "daemon", "--root"])
        .arg(&site)
        .output()
        .unwrap();
    assert_eq!(as_root.status.code(), Some(1));
    set_mode(home.path(), 0o755);
    let readable = Command::new(BIN)
        .arg("check")
        .arg("--root")
        .arg(&site)
        .output()
        .unwrap();
    assert!(
        readable.status.success(),
        "{}",
        String::from_utf8_lossy(&readable.stderr)
    );
}

#[test]
fn usr1_after_rotation_writes_to_the_new_file_when_started_as_root() {
    root_only!();
    let blog = TempSite::sample();
    // A log directory owned by the service user, as systemd's LogsDirectory= makes it.
    let logs = TempDir::new("logs");
    let nobody = nix::unistd::User::from_name("nobody").unwrap().unwrap();
    nix::unistd::chown(logs.path(), Some(nobody.uid), Some(nobody.gid)).unwrap();
    set_mode(logs.path(), 0o750);
    let log = logs.path().join("access.log");
    let log_arg = log.display().to_string();
    let server = Server::start(blog.root(), &["--access-log", &log_arg]);
    assert_eq!(server.get("/?before").status, 200);
    assert!(wait_until(Duration::from_secs(5), || {
        fs::read_to_string(&log).is_ok_and(|t| t.contains("/?before"))
    }));
    assert_eq!(fs::metadata(&log).unwrap().uid(), nobody.uid.as_raw());

    let rotated = logs.path().join("access.log.1");
    fs::rename(&log, &rotated).unwrap();
    server.signal("USR1");
    assert!(
        server.wait_for_log("access log reopened", 1, Duration::from_secs(10)),
        "{}",
        server.log_text()
    );
    assert_eq!(server.get("/?after").status, 200);
    assert!(
        wait_until(Duration::from_secs(5), || {
            fs::read_to_string(&log).is_ok_and(|t| t.contains("/?after"))
        }),
        "the new file gets no lines; the server said:\n{}",
        server.log_text()
    );
    assert!(!fs::read_to_string(&rotated).unwrap().contains("/?after"));
    drop(server);

    // A log directory only root may write to: the start-up says what USR1 will meet.
    let root_logs = TempDir::new("rootlogs");
    let log_arg = root_logs.path().join("access.log").display().to_string();
    let server = Server::start(blog.root(), &["--access-log", &log_arg]);
    assert!(
        server.wait_for_log("USR1 cannot create", 1, Duration::from_secs(5)),
        "{}",
        server.log_text()
    );
    assert!(server.log_text().contains("chown nobody"));
}
