//! Starting forkblog and its peers on loopback, each on a fresh port.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::util::{self, Server};

/// The forkblog binary: `FORKBLOG_BIN`, else the one cargo built for this benchmark, else
/// `$CARGO_TARGET_DIR/release/forkblog` (built with `cargo build --release` when missing).
pub fn forkblog_bin() -> Result<PathBuf, String> {
    if let Some(bin) = std::env::var_os("FORKBLOG_BIN") {
        return Ok(PathBuf::from(bin));
    }
    if let Some(bin) = option_env!("CARGO_BIN_EXE_forkblog").map(PathBuf::from) {
        if bin.exists() {
            return Ok(bin);
        }
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    let bin = target.join("release").join("forkblog");
    if !bin.exists() {
        eprintln!("building {} with cargo build --release", bin.display());
        let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .args(["build", "--release", "--bin", "forkblog"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .map_err(|e| format!("cargo build --release: {e}"))?;
        if !status.success() {
            return Err(format!("cargo build --release failed: {status}"));
        }
    }
    Ok(bin)
}

/// Starts `forkblog serve` on `root`; `extra` adds flags. Its stderr goes to `WORK/NAME.log`.
pub fn forkblog(
    bin: &Path,
    root: &Path,
    work: &Path,
    name: &str,
    extra: &[&str],
) -> Result<Server, String> {
    forkblog_with(bin, root, work, name, extra, crate::blog::PAGE)
}

/// Like [`forkblog`], ready once `page` answers 200.
pub fn forkblog_at(
    bin: &Path,
    root: &Path,
    work: &Path,
    name: &str,
    page: &str,
) -> Result<Server, String> {
    forkblog_with(bin, root, work, name, &[], page)
}

fn forkblog_with(
    bin: &Path,
    root: &Path,
    work: &Path,
    name: &str,
    extra: &[&str],
    page: &str,
) -> Result<Server, String> {
    let port = util::free_port();
    let mut cmd = Command::new(bin);
    cmd.arg("serve")
        .args(["--root", &root.display().to_string()])
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .args(["--access-log", "/dev/null"])
        .args([
            "--lock",
            &work.join(format!("{name}.lock")).display().to_string(),
        ])
        .args(["--grace", "1"])
        .args(extra)
        .env("RUST_LOG", "info");
    if util::is_root() {
        cmd.args(["--user", "nobody"]);
    }
    let log = work.join(format!("{name}.log"));
    let mut server = Server::spawn(name, port, cmd, &log)?;
    // A 10,000-post blog renders before the first accept: allow for it.
    let ready = util::wait_ready(port, page, Duration::from_secs(60));
    server.check_alive()?;
    ready.map_err(|e| format!("{name}: {e}; see {}", log.display()))?;
    Ok(server)
}

/// nginx with one worker serving `docroot` on 127.0.0.1:`port`, its files under `dir`:
/// `access_log off`, `sendfile on`; `listen` adds parameters to the listen directive and
/// `http` directives to the http block.
pub fn nginx_command(
    docroot: &Path,
    dir: &Path,
    port: u16,
    listen: &str,
    http: &str,
) -> Result<Command, String> {
    let bin = util::which("nginx").ok_or("nginx not installed (apt-get install nginx)")?;
    fs::create_dir_all(dir.join("tmp")).map_err(|e| e.to_string())?;
    let d = dir.display();
    let root = docroot.display();
    let user = if util::is_root() {
        format!("user nobody {};\n", util::nobody_group())
    } else {
        String::new()
    };
    let conf = format!(
        "daemon off;\nworker_processes 1;\n{user}pid {d}/nginx.pid;\nerror_log {d}/error.log;\n\
         events {{ worker_connections 1024; }}\n\
         http {{\n  access_log off;\n  sendfile on;\n  types {{ text/html html; }}\n{http}\
         \x20 client_body_temp_path {d}/tmp/body;\n  proxy_temp_path {d}/tmp/proxy;\n\
         \x20 fastcgi_temp_path {d}/tmp/fastcgi;\n  uwsgi_temp_path {d}/tmp/uwsgi;\n\
         \x20 scgi_temp_path {d}/tmp/scgi;\n\
         \x20 server {{ listen 127.0.0.1:{port}{listen}; root {root}; }}\n}}\n"
    );
    fs::write(dir.join("nginx.conf"), conf).map_err(|e| e.to_string())?;
    let mut cmd = Command::new(bin);
    cmd.args(["-p", &d.to_string(), "-e", &format!("{d}/error.log")])
        .args(["-c", &format!("{d}/nginx.conf")]);
    Ok(cmd)
}

/// A peer serving the same bytes as a static file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Peer {
    /// The in-benchmark minimal fork-per-connection server.
    ForkRef,
    Nginx,
    Lighttpd,
    Busybox,
    MiniHttpd,
}

impl Peer {
    pub const ALL: [Peer; 5] = [
        Peer::ForkRef,
        Peer::Nginx,
        Peer::Lighttpd,
        Peer::Busybox,
        Peer::MiniHttpd,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Peer::ForkRef => "fork reference",
            Peer::Nginx => "nginx (1 worker)",
            Peer::Lighttpd => "lighttpd",
            Peer::Busybox => "busybox httpd",
            Peer::MiniHttpd => "mini_httpd",
        }
    }

    fn key(self) -> &'static str {
        match self {
            Peer::ForkRef => "forkref",
            Peer::Nginx => "nginx",
            Peer::Lighttpd => "lighttpd",
            Peer::Busybox => "busybox",
            Peer::MiniHttpd => "mini_httpd",
        }
    }

    /// The Debian package to install it from (None: built in).
    pub fn package(self) -> Option<&'static str> {
        match self {
            Peer::ForkRef => None,
            Peer::Nginx => Some("nginx"),
            Peer::Lighttpd => Some("lighttpd"),
            Peer::Busybox => Some("busybox"),
            Peer::MiniHttpd => Some("mini-httpd"),
        }
    }

    /// The URL path it serves the page at: the file itself, so that static servers do their
    /// fastest lookup (no directory index).
    pub fn path(self) -> String {
        match self {
            Peer::ForkRef => crate::blog::PAGE.to_string(),
            _ => format!("{}index.html", crate::blog::PAGE),
        }
    }

    /// Starts the peer on `docroot` (which holds `PAGE/index.html`), or says why it cannot.
    pub fn start(self, docroot: &Path, work: &Path) -> Result<Server, String> {
        let port = util::free_port();
        let root = docroot.display().to_string();
        let log = work.join(format!("{}.log", self.key()));
        let missing = |bin: &str| {
            format!(
                "{bin} not installed (apt-get install {})",
                self.package().unwrap_or("?")
            )
        };
        let root_user = util::is_root();
        let cmd = match self {
            Peer::ForkRef => {
                let file = docroot.join(&self.path()[1..]).join("index.html");
                let mut cmd = Command::new(std::env::current_exe().map_err(|e| e.to_string())?);
                cmd.env(crate::refserver::ENV, format!("{port}:{}", file.display()));
                cmd
            }
            Peer::Nginx => nginx_command(docroot, &work.join("nginx"), port, "", "")?,
            Peer::Lighttpd => {
                let bin = util::which("lighttpd").ok_or_else(|| missing("lighttpd"))?;
                let user = if root_user {
                    format!(
                        "server.username = \"nobody\"\nserver.groupname = \"{}\"\n",
                        util::nobody_group()
                    )
                } else {
                    String::new()
                };
                // No server.errorlog: lighttpd opens it after dropping privileges; errors go
                // to stderr, which is the log file this benchmark opened for it.
                let conf = format!(
                    "server.document-root = \"{root}\"\nserver.bind = \"127.0.0.1\"\nserver.port = {port}\n\
                     {user}mimetype.assign = (\".html\" => \"text/html; charset=utf-8\")\n"
                );
                let path = work.join("lighttpd.conf");
                fs::write(&path, conf).map_err(|e| e.to_string())?;
                let mut cmd = Command::new(bin);
                cmd.args(["-D", "-f", &path.display().to_string()]);
                cmd
            }
            Peer::Busybox => {
                let bin = util::which("busybox").ok_or_else(|| missing("busybox"))?;
                let mut cmd = Command::new(bin);
                cmd.args([
                    "httpd",
                    "-f",
                    "-p",
                    &format!("127.0.0.1:{port}"),
                    "-h",
                    &root,
                ]);
                if root_user {
                    cmd.args(["-u", "nobody"]);
                }
                cmd
            }
            Peer::MiniHttpd => {
                let bin = util::which("mini_httpd").ok_or_else(|| missing("mini_httpd"))?;
                let mut cmd = Command::new(bin);
                cmd.args([
                    "-D",
                    "-h",
                    "127.0.0.1",
                    "-p",
                    &port.to_string(),
                    "-d",
                    &root,
                ])
                .args(["-l", "/dev/null"]);
                if root_user {
                    cmd.args(["-u", "nobody"]);
                }
                cmd
            }
        };
        let mut server = Server::spawn(self.name(), port, cmd, &log)?;
        let ready = util::wait_ready(port, &self.path(), Duration::from_secs(10));
        server
            .check_alive()
            .map_err(|e| format!("{e}; see {}", log.display()))?;
        ready.map_err(|e| format!("{}: {e}; see {}", self.name(), log.display()))?;
        Ok(server)
    }
}
