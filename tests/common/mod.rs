//! Shared harness for the integration tests: a temporary blog, the real binary started on a
//! loopback port, raw HTTP over TcpStream, and /proc readings of the parent.
//!
//! Everything here talks to 127.0.0.1 only, polls conditions with deadlines instead of sleeping,
//! and kills the server when dropped.

#![allow(dead_code)]

use std::collections::HashMap;
use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub mod site;
pub mod stats;

/// The forkblog binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_forkblog");

/// A temporary directory, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    /// Creates an empty, world-readable directory under the system temp dir.
    pub fn new(tag: &str) -> TempDir {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let dir =
            std::env::temp_dir().join(format!("forkblog-test-{tag}-{}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        set_mode(&dir, 0o755);
        TempDir(dir)
    }

    /// The path.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// A loopback port free at the moment of asking, for a program the test starts itself (Pebble,
/// nginx, Caddy) or a flag that needs a port before the server exists.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    let _ = fs::set_permissions(path, fs::Permissions::from_mode(mode));
}

/// Copies a directory tree (the sample posts and templates).
pub fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    set_mode(to, 0o755);
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).unwrap();
            set_mode(&target, 0o644);
        }
    }
}

/// A site root in a fresh temporary directory, removed on drop, readable by the user the server
/// drops to: empty ([`TempSite::new`]) or a copy of the bundled sample blog
/// ([`TempSite::sample`]). The one temporary site of the tests.
pub struct TempSite {
    /// The root: posts/, templates/, forkblog.toml.
    pub root: PathBuf,
    dir: TempDir,
}

impl TempSite {
    /// An empty root with an empty `posts/` folder (and no templates: the built-in ones apply).
    pub fn new(name: &str) -> TempSite {
        let dir = TempDir::new(name);
        let root = dir.path().to_path_buf();
        fs::create_dir_all(root.join("posts")).expect("create temp site");
        set_mode(&root.join("posts"), 0o755);
        TempSite { root, dir }
    }

    /// A copy of the bundled sample blog.
    pub fn sample() -> TempSite {
        let dir = TempDir::new("blog");
        let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
        copy_tree(&repo.join("posts"), &dir.0.join("posts"));
        copy_tree(&repo.join("templates"), &dir.0.join("templates"));
        if repo.join("forkblog.toml").exists() {
            fs::copy(repo.join("forkblog.toml"), dir.0.join("forkblog.toml")).unwrap();
        }
        TempSite {
            root: dir.path().to_path_buf(),
            dir,
        }
    }

    /// The root path.
    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// A path under the root.
    pub fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }

    /// Writes `contents` to `rel` under the root, creating folders (all readable by anyone).
    pub fn file(&self, rel: &str, contents: impl AsRef<[u8]>) -> &TempSite {
        let path = self.root.join(rel);
        let mut parent = path.parent().expect("parent");
        fs::create_dir_all(parent).expect("create dirs");
        while parent.starts_with(&self.root) && parent != self.root {
            set_mode(parent, 0o755);
            parent = parent.parent().expect("parent");
        }
        fs::write(&path, contents).expect("write file");
        set_mode(&path, 0o644);
        self
    }

    /// Writes (or replaces) `posts/NAME`.
    pub fn write_post(&self, name: &str, text: &str) {
        self.file(&format!("posts/{name}"), text);
    }

    /// Builds the site in this process.
    pub fn build(&self) -> forkblog::site::Build {
        forkblog::site::build(&self.root)
    }

    /// Builds the site in this process and insists on no problems.
    pub fn site(&self) -> forkblog::site::Site {
        let build = self.build();
        assert!(
            build.problems.is_empty(),
            "unexpected problems: {:#?}",
            build.problems
        );
        build.site.expect("site builds")
    }
}

/// A running `forkblog serve`.
pub struct Server {
    /// The process.
    pub child: Child,
    /// Where it listens.
    pub addr: SocketAddr,
    /// Every stderr line so far.
    pub stderr: Arc<Mutex<Vec<String>>>,
    /// The access log path.
    pub access_log: PathBuf,
    /// Scratch directory for the log and lock.
    pub state: TempDir,
}

/// Arguments that make a root-run test drop privileges like production would.
pub fn user_args() -> Vec<String> {
    if nix_is_root() {
        vec!["--user".into(), "nobody".into()]
    } else {
        vec![]
    }
}

fn nix_is_root() -> bool {
    fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .map(|l| l.split_whitespace().nth(2) == Some("0"))
        })
        .unwrap_or(false)
}

impl Server {
    /// Starts the server on 127.0.0.1 (a free port) for `root` with extra flags, and waits until
    /// it says where it listens. Panics if it does not come up within 30 s.
    pub fn start(root: &Path, extra: &[&str]) -> Server {
        Server::start_on("127.0.0.1:0", root, extra)
    }

    /// As [`Server::start`], on a chosen address.
    pub fn start_on(listen: &str, root: &Path, extra: &[&str]) -> Server {
        Server::launch(Path::new(BIN), &[], listen, root, extra)
    }

    /// As [`Server::start`], from another copy of the binary (to replace it under the server).
    pub fn start_binary(bin: &Path, root: &Path, extra: &[&str]) -> Server {
        Server::launch(bin, &[], "127.0.0.1:0", root, extra)
    }

    /// As [`Server::start`], run through `wrapper` (a command that execs the rest, such as
    /// `setpriv ... prlimit ...`), which then decides the user: no `--user` is added.
    pub fn start_wrapped(wrapper: &[&str], root: &Path, extra: &[&str]) -> Server {
        Server::launch(Path::new(BIN), wrapper, "127.0.0.1:0", root, extra)
    }

    fn launch(bin: &Path, wrapper: &[&str], listen: &str, root: &Path, extra: &[&str]) -> Server {
        let state = TempDir::new("state");
        set_mode(state.path(), 0o777);
        let access_log = state.path().join("access.log");
        let mut command = match wrapper {
            [] => Command::new(bin),
            [first, rest @ ..] => {
                let mut command = Command::new(first);
                command.args(rest).arg(bin);
                command
            }
        };
        let user = if wrapper.is_empty() {
            user_args()
        } else {
            Vec::new()
        };
        command
            .arg("serve")
            .arg("--root")
            .arg(root)
            .arg("--listen")
            .arg(listen)
            .arg("--access-log")
            .arg(&access_log)
            .args(user)
            .args(extra)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = command.spawn().expect("spawn forkblog");
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        {
            let stderr = Arc::clone(&stderr);
            let pipe = child.stderr.take().unwrap();
            std::thread::spawn(move || {
                for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                    if let Some(at) = line.find("on http://") {
                        let addr = line[at + 10..]
                            .split_whitespace()
                            .next()
                            .unwrap_or("")
                            .to_string();
                        let _ = tx.send(addr);
                    }
                    stderr.lock().unwrap().push(line);
                }
            });
        }
        // Generous: a debug build rendering a large test post on a loaded machine is slow.
        let addr = match rx.recv_timeout(Duration::from_secs(120)) {
            Ok(addr) => addr.parse().expect("listen address in log"),
            Err(_) => {
                let _ = child.kill();
                panic!(
                    "forkblog did not start; stderr:\n{}",
                    stderr.lock().unwrap().join("\n")
                );
            }
        };
        Server {
            child,
            addr,
            stderr,
            access_log,
            state,
        }
    }

    /// The parent's PID.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends a signal to the parent.
    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.pid().to_string())
            .status()
            .unwrap();
        assert!(status.success(), "kill -{signal} failed");
    }

    /// The stderr lines so far, joined.
    pub fn log_text(&self) -> String {
        self.stderr.lock().unwrap().join("\n")
    }

    /// The HTTPS address the server announced (`--tls-listen`), waited for.
    pub fn https_addr(&self) -> SocketAddr {
        let mut tls = None;
        assert!(wait_until(Duration::from_secs(10), || {
            tls = self.log_text().lines().find_map(|line| {
                let at = line.find("on https://")?;
                line[at + 11..].split_whitespace().next()?.parse().ok()
            });
            tls.is_some()
        }));
        tls.unwrap()
    }

    /// Waits until stderr has `n` lines containing `needle`.
    pub fn wait_for_log(&self, needle: &str, n: usize, within: Duration) -> bool {
        wait_until(within, || {
            self.stderr
                .lock()
                .unwrap()
                .iter()
                .filter(|l| l.contains(needle))
                .count()
                >= n
        })
    }

    /// Open descriptors of the parent.
    pub fn fd_count(&self) -> usize {
        fd_count(self.pid())
    }

    /// PIDs and states of the parent's children.
    pub fn children(&self) -> Vec<(u32, char)> {
        children_of(self.pid())
    }

    /// Whether the parent has no child in state Z, and none at all when `none_alive`.
    pub fn settled(&self) -> bool {
        self.children().is_empty()
    }

    /// Waits until the parent has no children at all (so no zombies either).
    pub fn wait_settled(&self, within: Duration) -> bool {
        wait_until(within, || self.settled())
    }

    /// A GET with `Connection: close`.
    pub fn get(&self, path: &str) -> Response {
        request(
            self.addr,
            &format!("GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n"),
        )
    }

    /// Sends SIGTERM and waits for the exit status.
    pub fn stop(mut self) -> std::process::ExitStatus {
        self.signal("TERM");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "forkblog did not exit after SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = Command::new("kill")
                .arg("-9")
                .arg(self.pid().to_string())
                .status();
            let _ = self.child.wait();
        }
    }
}

/// Counts /proc/PID/fd entries.
///
/// A descriptor that closes while being read, or is open on a /proc directory, is left out: that is the server's own watchdog reading
/// its fd table at that instant, a transient that would make two readings disagree.
pub fn fd_count(pid: u32) -> usize {
    fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|dir| {
            dir.flatten()
                .filter(|e| fs::read_link(e.path()).is_ok_and(|t| !t.starts_with("/proc")))
                .count()
        })
        .unwrap_or(0)
}

/// The children of `pid` with their state letter, found by scanning /proc for the parent PID.
pub fn children_of(pid: u32) -> Vec<(u32, char)> {
    let mut out = Vec::new();
    for entry in fs::read_dir("/proc").unwrap().flatten() {
        let Some(child) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(stat) = fs::read_to_string(format!("/proc/{child}/stat")) else {
            continue;
        };
        // pid (comm) state ppid ...: comm may contain spaces, so split after the last ')'.
        let Some(rest) = stat.rfind(')').map(|i| &stat[i + 2..]) else {
            continue;
        };
        let mut fields = rest.split_whitespace();
        let state = fields.next().and_then(|s| s.chars().next()).unwrap_or('?');
        let ppid: u32 = fields.next().and_then(|p| p.parse().ok()).unwrap_or(0);
        if ppid == pid {
            out.push((child, state));
        }
    }
    out
}

/// Says a test could not run for want of a tool (`why` names its package). CI installs every
/// tool (.ci/run) and sets `CI`: there a missing one fails the test instead of passing unseen.
pub fn skipped(why: &str) {
    assert!(std::env::var_os("CI").is_none(), "{why}");
    eprintln!("SKIPPED: {why}");
}

/// Polls `condition` every 10 ms until it holds or `within` passes.
pub fn wait_until(within: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + within;
    loop {
        if condition() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A self-signed certificate for `localhost` and 127.0.0.1, written as cert.pem and key.pem
/// (readable by the user the server drops to). Returns the certificate for the client.
pub fn write_certificate(dir: &Path, name: &str) -> rustls::pki_types::CertificateDer<'static> {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let mut params =
        rcgen::CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])
            .unwrap();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, name);
    let cert = params.self_signed(&key).unwrap();
    for (file, text) in [("cert.pem", cert.pem()), ("key.pem", key.serialize_pem())] {
        let path = dir.join(file);
        std::fs::write(&path, text).unwrap();
        set_mode(&path, 0o644);
    }
    cert.der().clone()
}

/// A TLS client trusting only `roots`, offering HTTP/1.1.
pub fn tls_client(
    roots: &[rustls::pki_types::CertificateDer<'static>],
) -> Arc<rustls::ClientConfig> {
    let mut store = rustls::RootCertStore::empty();
    for root in roots {
        store.add(root.clone()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(store)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Arc::new(config)
}

/// One GET over a new TLS connection to `addr`, `name` as SNI and Host; the response and the
/// finished connection (its peer's certificates). A server that closes without close_notify
/// fails this: forkblog always sends one.
pub fn https_get(
    config: &Arc<rustls::ClientConfig>,
    addr: SocketAddr,
    name: &str,
    path: &str,
) -> (Response, rustls::ClientConnection) {
    let server_name = rustls::pki_types::ServerName::try_from(name.to_string()).unwrap();
    let conn = rustls::ClientConnection::new(Arc::clone(config), server_name).unwrap();
    let mut tls = rustls::StreamOwned::new(conn, connect(addr));
    write!(
        tls,
        "GET {path} HTTP/1.1\r\nHost: {name}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut bytes = Vec::new();
    tls.read_to_end(&mut bytes).expect("read over TLS");
    let (response, _) = parse_response(&bytes, false).expect("an HTTP response over TLS");
    (response, tls.conn)
}

/// A parsed HTTP response.
#[derive(Debug, Clone)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// Headers, names lowercased.
    pub headers: HashMap<String, String>,
    /// Body bytes.
    pub body: Vec<u8>,
}

impl Response {
    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// A header by lowercase name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }
}

/// Connects to `addr` with a timeout.
pub fn connect(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect_timeout(&addr, Duration::from_secs(10)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    stream
        .set_write_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    stream
}

/// Sends `raw` on a new connection and reads one response until the server closes.
pub fn request(addr: SocketAddr, raw: &str) -> Response {
    let mut stream = connect(addr);
    stream.write_all(raw.as_bytes()).unwrap();
    let mut bytes = Vec::new();
    stream.read_to_end(&mut bytes).expect("read response");
    let head_only = raw.starts_with("HEAD ");
    let (response, _) = parse_response(&bytes, head_only)
        .unwrap_or_else(|| panic!("bad response: {:?}", String::from_utf8_lossy(&bytes)));
    response
}

/// Parses one response from the front of `bytes`; returns it and the bytes it took.
/// `head_only` for responses to HEAD, which have no body whatever Content-Length says.
pub fn parse_response(bytes: &[u8], head_only: bool) -> Option<(Response, usize)> {
    let end = bytes.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let head = std::str::from_utf8(&bytes[..end]).ok()?;
    let mut lines = head.split("\r\n");
    let status: u16 = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let mut headers = HashMap::new();
    for line in lines.filter(|l| !l.is_empty()) {
        let (name, value) = line.split_once(':')?;
        headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_string());
    }
    let len: usize = if head_only || status == 304 {
        0
    } else {
        headers
            .get("content-length")
            .and_then(|l| l.parse().ok())
            .unwrap_or(bytes.len() - end)
    };
    let body = bytes.get(end..end + len)?.to_vec();
    Some((
        Response {
            status,
            headers,
            body,
        },
        end + len,
    ))
}

/// Reads exactly one response from a keep-alive connection.
pub fn read_one(stream: &mut TcpStream, buffered: &mut Vec<u8>, head_only: bool) -> Response {
    loop {
        if let Some((response, used)) = parse_response(buffered, head_only) {
            buffered.drain(..used);
            return response;
        }
        let mut chunk = [0u8; 16384];
        let n = stream.read(&mut chunk).expect("read");
        assert!(
            n > 0,
            "connection closed before a full response: {:?}",
            String::from_utf8_lossy(buffered)
        );
        buffered.extend_from_slice(&chunk[..n]);
    }
}

/// What each open descriptor of `pid` points to, for failure messages.
pub fn fd_listing(pid: u32) -> String {
    let mut entries: Vec<(usize, String)> = fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|dir| {
            dir.flatten()
                .filter_map(|e| {
                    let n = e.file_name().to_str()?.parse().ok()?;
                    let target = fs::read_link(e.path()).ok()?;
                    Some((n, target.display().to_string()))
                })
                .collect()
        })
        .unwrap_or_default();
    entries.sort();
    entries
        .iter()
        .map(|(n, t)| format!("{n} -> {t}"))
        .collect::<Vec<_>>()
        .join("\n")
}
