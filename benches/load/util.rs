//! Small helpers: a blocking HTTP/1.1 client, free ports, processes, /proc readings.

use std::fs;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// True when this process runs as root (servers then drop to `nobody`).
pub fn is_root() -> bool {
    nix::unistd::Uid::effective().is_root()
}

/// The group that goes with `nobody` on this system (`nogroup` on Debian, `nobody` elsewhere).
pub fn nobody_group() -> &'static str {
    let groups = fs::read_to_string("/etc/group").unwrap_or_default();
    if groups.lines().any(|l| l.starts_with("nogroup:")) {
        "nogroup"
    } else {
        "nobody"
    }
}

/// A free TCP port on 127.0.0.1 (bound, read, released).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("binding 127.0.0.1:0")
}

/// Finds an executable on PATH or in the sbin directories (which a non-root PATH may lack).
pub fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var("PATH").unwrap_or_default();
    let found = path
        .split(':')
        .chain(["/usr/local/sbin", "/usr/sbin", "/sbin", "/usr/bin", "/bin"])
        .filter(|d| !d.is_empty())
        .map(|d| Path::new(d).join(name))
        .find(|p| {
            fs::metadata(p)
                .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
                .unwrap_or(false)
        });
    found
}

/// A temporary directory readable by everyone (servers may run as `nobody`), removed on drop
/// unless `FORKBLOG_BENCH_KEEP` is set.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("forkblog-bench-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("creating a temporary directory");
        make_readable(&dir);
        TempDir(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if std::env::var_os("FORKBLOG_BENCH_KEEP").is_none() {
            let _ = fs::remove_dir_all(&self.0);
        } else {
            eprintln!("kept {}", self.0.display());
        }
    }
}

/// Makes `dir` and everything under it world-readable (directories world-searchable).
pub fn make_readable(dir: &Path) {
    let Ok(meta) = fs::metadata(dir) else { return };
    let mode = if meta.is_dir() { 0o755 } else { 0o644 };
    let _ = fs::set_permissions(dir, fs::Permissions::from_mode(mode));
    if meta.is_dir() {
        if let Ok(entries) = fs::read_dir(dir) {
            for e in entries.flatten() {
                make_readable(&e.path());
            }
        }
    }
}

/// An HTTP response, as far as the benchmark cares.
pub struct Response {
    pub status: u16,
    pub body: Vec<u8>,
}

/// Reads one response with a Content-Length body (or up to EOF) from `stream`.
pub fn read_response(stream: &mut TcpStream) -> std::io::Result<Response> {
    let mut buf = Vec::with_capacity(16 * 1024);
    let mut chunk = [0u8; 16 * 1024];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            return Err(std::io::Error::other("connection closed before the head"));
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let length = head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.eq_ignore_ascii_case("content-length")
            .then(|| v.trim().parse::<usize>().ok())?
    });
    let mut body = buf[head_end..].to_vec();
    match length {
        Some(len) => {
            while body.len() < len {
                let n = stream.read(&mut chunk)?;
                if n == 0 {
                    return Err(std::io::Error::other("connection closed in the body"));
                }
                body.extend_from_slice(&chunk[..n]);
            }
            body.truncate(len);
        }
        None => {
            stream.read_to_end(&mut body)?;
        }
    }
    Ok(Response { status, body })
}

/// One GET on a fresh connection (`Connection: close`), 2 s timeouts.
pub fn get(port: u16, path: &str) -> std::io::Result<Response> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(2)))?;
    stream.set_write_timeout(Some(Duration::from_secs(2)))?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    )?;
    read_response(&mut stream)
}

/// Polls `GET path` until it answers 200 or `limit` passes.
pub fn wait_ready(port: u16, path: &str, limit: Duration) -> Result<Response, String> {
    let deadline = Instant::now() + limit;
    let mut last = String::from("no answer");
    while Instant::now() < deadline {
        match get(port, path) {
            Ok(r) if r.status == 200 => return Ok(r),
            Ok(r) => last = format!("status {}", r.status),
            Err(e) => last = e.to_string(),
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    Err(format!("not ready after {limit:?}: {last}"))
}

/// A server process started by the benchmark: SIGTERM, then SIGKILL, on drop.
pub struct Server {
    pub name: String,
    pub port: u16,
    pub child: Child,
}

impl Server {
    /// Starts `cmd` with stdout/stderr to `log` (a file, so a chatty server never blocks).
    pub fn spawn(name: &str, port: u16, mut cmd: Command, log: &Path) -> Result<Server, String> {
        let out = fs::File::create(log).map_err(|e| format!("{}: {e}", log.display()))?;
        let err = out.try_clone().map_err(|e| e.to_string())?;
        cmd.stdin(Stdio::null()).stdout(out).stderr(err);
        let child = cmd.spawn().map_err(|e| format!("starting {name}: {e}"))?;
        Ok(Server {
            name: name.to_string(),
            port,
            child,
        })
    }

    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    /// Fails if the process has already exited.
    pub fn check_alive(&mut self) -> Result<(), String> {
        match self.child.try_wait() {
            Ok(Some(status)) => Err(format!("{} exited: {status}", self.name)),
            _ => Ok(()),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let pid = nix::unistd::Pid::from_raw(self.pid());
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(3);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `cmd` to completion within `limit`, returning its stdout; killed past the limit.
pub fn run_bounded(mut cmd: Command, limit: Duration) -> Result<String, String> {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().map_err(|e| e.to_string())?;
    let deadline = Instant::now() + limit;
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("killed after {limit:?}"));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => return Err(e.to_string()),
        }
    }
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!(
            "{}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The memory of one process from /proc/PID/smaps_rollup and /proc/PID/status, in KiB.
#[derive(Debug, Default, Clone, Copy)]
pub struct Mem {
    pub rss: u64,
    pub pss: u64,
    pub private: u64,
    pub page_tables: u64,
}

pub fn mem_of(pid: i32) -> Option<Mem> {
    let rollup = fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).ok()?;
    let field = |text: &str, name: &str| -> u64 {
        text.lines()
            .find_map(|l| {
                let rest = l.strip_prefix(name)?.strip_prefix(':')?;
                rest.split_whitespace().next()?.parse().ok()
            })
            .unwrap_or(0)
    };
    let status = fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    Some(Mem {
        rss: field(&rollup, "Rss"),
        pss: field(&rollup, "Pss"),
        private: field(&rollup, "Private_Clean") + field(&rollup, "Private_Dirty"),
        page_tables: field(&status, "VmPTE"),
    })
}

/// The PIDs whose parent is `ppid` (from /proc/*/stat).
pub fn children_of(ppid: i32) -> Vec<i32> {
    let mut out = Vec::new();
    let Ok(entries) = fs::read_dir("/proc") else {
        return out;
    };
    for e in entries.flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<i32>().ok()) else {
            continue;
        };
        let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // pid (comm) state ppid ...: comm may hold spaces, so split after the last ')'.
        let parent = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1))
            .and_then(|s| s.parse::<i32>().ok());
        if parent == Some(ppid) {
            out.push(pid);
        }
    }
    out
}

/// `uname -r`, `nproc`, and today's date (UTC), for the report.
pub fn machine() -> (String, usize, String) {
    let kernel = fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "?".into());
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let date = jiff::Timestamp::now()
        .strftime("%Y-%m-%d %H:%M UTC")
        .to_string();
    (kernel, cores, date)
}

/// The median of `values` (0 for none).
pub fn median(values: &[f64]) -> f64 {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// The load average over 1, 5 and 15 minutes, from /proc/loadavg.
pub fn loadavg() -> String {
    fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}
