//! The client's address behind a front: the one source `--client-from` names (PROXY protocol
//! v1/v2 or one header) believed from trusted peers only, every other header ignored, the access
//! log and the status endpoint using that client; real nginx (http and stream) and Caddy in
//! front with the shipped deploy/ files, a client at 127.0.0.9 forging every header; no leak
//! from PROXY connections.

mod common;

use std::fs;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ClientConnection, StreamOwned};

use common::*;

const STATUS: &str = "/.well-known/forkblog/status";

/// Sends `bytes` on a new connection and reads everything until the server closes.
fn exchange(addr: SocketAddr, bytes: &[u8]) -> Vec<u8> {
    let mut stream = connect(addr);
    stream.write_all(bytes).unwrap();
    let mut out = Vec::new();
    let _ = stream.read_to_end(&mut out);
    out
}

fn status_of(reply: &[u8]) -> u16 {
    parse_response(reply, false)
        .unwrap_or_else(|| panic!("no response: {:?}", String::from_utf8_lossy(reply)))
        .0
        .status
}

fn get(path: &str, extra: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: t\r\n{extra}Connection: close\r\n\r\n").into_bytes()
}

fn v1(src: &str) -> Vec<u8> {
    format!("PROXY TCP4 {src} 127.0.0.1 40000 8080\r\n").into_bytes()
}

fn v2(src: [u8; 4]) -> Vec<u8> {
    let mut out = b"\r\n\r\n\0\r\nQUIT\n".to_vec();
    out.extend_from_slice(&[0x21, 0x11, 0, 12]);
    out.extend_from_slice(&src);
    out.extend_from_slice(&[127, 0, 0, 1, 0x9c, 0x40, 0x1f, 0x90]);
    out
}

/// A PROXY v2 LOCAL header: the front's own connection.
fn v2_local() -> Vec<u8> {
    let mut out = b"\r\n\r\n\0\r\nQUIT\n".to_vec();
    out.extend_from_slice(&[0x20, 0x00, 0, 0]);
    out
}

/// Waits until the access log has a line for `path` and returns the client of the last one.
fn logged_client(server: &Server, path: &str, n: usize) -> String {
    let needle = format!("\"GET {path} HTTP/1.1\"");
    let found = wait_until(Duration::from_secs(10), || {
        fs::read_to_string(&server.access_log)
            .map(|t| t.lines().filter(|l| l.contains(&needle)).count() >= n)
            .unwrap_or(false)
    });
    let text = fs::read_to_string(&server.access_log).unwrap_or_default();
    assert!(found, "no log line for {path}:\n{text}");
    let line = text.lines().rfind(|l| l.contains(&needle)).unwrap();
    line.split(' ').next().unwrap().to_string()
}

#[test]
fn proxy_headers_from_a_trusted_peer_name_the_client() {
    let blog = TempSite::sample();
    let server = Server::start(
        blog.root(),
        &[
            "--trusted-proxy",
            "127.0.0.0/8",
            "--client-from",
            "proxy-protocol",
        ],
    );
    // Headers after the PROXY header are not the chosen source: ignored.
    let forged =
        "X-Forwarded-For: 127.0.0.1\r\nForwarded: for=127.0.0.1\r\nX-Real-IP: 127.0.0.1\r\n";
    let reply = exchange(
        server.addr,
        &[v1("203.0.113.7"), get("/?v1", forged)].concat(),
    );
    assert_eq!(status_of(&reply), 200);
    assert_eq!(logged_client(&server, "/?v1", 1), "203.0.113.7");
    let reply = exchange(
        server.addr,
        &[v1("203.0.113.7"), get(STATUS, forged)].concat(),
    );
    assert_eq!(status_of(&reply), 404);

    // A client the front cannot name is unknown, not the front: "-", no status.
    let unknown = b"PROXY UNKNOWN\r\n";
    let reply = exchange(server.addr, &[&unknown[..], &get("/?unknown", "")].concat());
    assert_eq!(status_of(&reply), 200);
    assert_eq!(logged_client(&server, "/?unknown", 1), "-");
    let reply = exchange(server.addr, &[&unknown[..], &get(STATUS, "")].concat());
    assert_eq!(status_of(&reply), 404);
    // The front's own connection (v2 LOCAL, a health check) is the front, here the machine.
    let reply = exchange(server.addr, &[v2_local(), get("/?local", "")].concat());
    assert_eq!(status_of(&reply), 200);
    assert_eq!(logged_client(&server, "/?local", 1), "127.0.0.1");

    let reply = exchange(
        server.addr,
        &[v2([198, 51, 100, 4]), get("/?v2", "")].concat(),
    );
    assert_eq!(status_of(&reply), 200);
    assert_eq!(logged_client(&server, "/?v2", 1), "198.51.100.4");

    // The header in pieces, then the request: read within the head timeout like a head.
    let mut stream = connect(server.addr);
    let header = v1("192.0.2.33");
    stream.write_all(&header[..9]).unwrap();
    std::thread::sleep(Duration::from_millis(50));
    stream.write_all(&header[9..]).unwrap();
    stream.write_all(&get("/?split", "")).unwrap();
    let mut out = Vec::new();
    stream.read_to_end(&mut out).unwrap();
    assert_eq!(status_of(&out), 200);
    assert_eq!(logged_client(&server, "/?split", 1), "192.0.2.33");

    // A trusted front that promised PROXY headers and sends none, or garbage, gets 400.
    assert_eq!(status_of(&exchange(server.addr, &get("/?none", ""))), 400);
    let garbage = b"PROXY TCP4 not-an-address 127.0.0.1 1 2\r\nGET / HTTP/1.1\r\n\r\n";
    assert_eq!(status_of(&exchange(server.addr, garbage)), 400);
}

#[test]
fn an_untrusted_peer_cannot_name_the_client() {
    let blog = TempSite::sample();
    // Only 10.0.0.0/8 is trusted: this test's 127.0.0.1 is an ordinary client.
    let server = Server::start(
        blog.root(),
        // --proxy-protocol: the older spelling of --client-from proxy-protocol.
        &["--trusted-proxy", "10.0.0.0/8", "--proxy-protocol"],
    );
    let v1_reply = exchange(server.addr, &[v1("203.0.113.7"), get("/", "")].concat());
    assert_eq!(status_of(&v1_reply), 400);
    let v2_reply = exchange(server.addr, &[v2([203, 0, 113, 7]), get("/", "")].concat());
    assert_eq!(status_of(&v2_reply), 400);
    // Plain HTTP from it is served, and its forwarding headers are ignored.
    let xff = "X-Forwarded-For: 198.51.100.9\r\nForwarded: for=198.51.100.10\r\n";
    assert_eq!(status_of(&exchange(server.addr, &get("/?xff", xff))), 200);
    assert_eq!(logged_client(&server, "/?xff", 1), "127.0.0.1");
    let text = fs::read_to_string(&server.access_log).unwrap();
    assert!(
        !text.contains("203.0.113.7") && !text.contains("198.51.100"),
        "{text}"
    );
}

#[test]
fn each_choice_reads_its_own_header_and_no_other() {
    let blog = TempSite::sample();
    // Each header names another client; 6.6.6.6 was written by the client itself, 10.0.0.3 is a
    // trusted inner front.
    let all = "X-Forwarded-For: 6.6.6.6, 198.51.100.1, 10.0.0.3\r\n\
               Forwarded: for=6.6.6.6, for=198.51.100.2;proto=https, for=\"10.0.0.3\"\r\n\
               X-Real-IP: 198.51.100.3\r\n";
    let fronts = [
        "--trusted-proxy",
        "127.0.0.1",
        "--trusted-proxy",
        "10.0.0.0/8",
    ];
    for (choice, client, unknown) in [
        // The default with --trusted-proxy.
        (None, "198.51.100.1", "X-Forwarded-For: unknown\r\n"),
        (
            Some("x-forwarded-for"),
            "198.51.100.1",
            "X-Forwarded-For: unknown, 10.0.0.3\r\n",
        ),
        (
            Some("forwarded"),
            "198.51.100.2",
            "Forwarded: for=_hidden\r\n",
        ),
        (Some("x-real-ip"), "198.51.100.3", "X-Real-IP: unknown\r\n"),
    ] {
        let mut args = fronts.to_vec();
        args.extend(choice.iter().flat_map(|c| ["--client-from", c]));
        let server = Server::start(blog.root(), &args);
        assert_eq!(status_of(&exchange(server.addr, &get("/?all", all))), 200);
        assert_eq!(logged_client(&server, "/?all", 1), client, "{choice:?}");
        // A trusted front that does not know the client: unknown ("-"), not 127.0.0.1.
        let reply = exchange(server.addr, &get(STATUS, unknown));
        assert_eq!(status_of(&reply), 404, "{choice:?}");
        assert_eq!(logged_client(&server, STATUS, 1), "-", "{choice:?}");
        // Without the chosen header the connection is the machine's own: it reads the status.
        let other = if choice == Some("x-real-ip") {
            "X-Forwarded-For: 198.51.100.1\r\n"
        } else {
            "X-Real-IP: 198.51.100.3\r\n"
        };
        assert_eq!(
            status_of(&exchange(server.addr, &get(STATUS, other))),
            200,
            "{choice:?}"
        );
    }
    // Peer: nobody's word is taken.
    let server = Server::start(blog.root(), &["--client-from", "peer"]);
    assert_eq!(status_of(&exchange(server.addr, &get("/?all", all))), 200);
    assert_eq!(logged_client(&server, "/?all", 1), "127.0.0.1");
}

#[test]
fn the_status_path_through_a_front_follows_the_real_client() {
    let blog = TempSite::sample();
    let allowed = Server::start(
        blog.root(),
        &[
            "--trusted-proxy",
            "127.0.0.1",
            "--status-allow",
            "127.0.0.5",
        ],
    );
    let from = |ip: &str| format!("X-Forwarded-For: {ip}\r\n");
    let ok = exchange(allowed.addr, &get(STATUS, &from("127.0.0.5")));
    assert_eq!(status_of(&ok), 200);
    assert!(String::from_utf8_lossy(&ok).contains("\"generation\""));
    let public = exchange(allowed.addr, &get(STATUS, &from("203.0.113.50")));
    assert_eq!(status_of(&public), 404);
    drop(allowed);

    // The default readers (127.0.0.1 and ::1): a client behind the front is not the machine.
    let default = Server::start(blog.root(), &["--trusted-proxy", "127.0.0.1"]);
    assert_eq!(
        status_of(&exchange(default.addr, &get(STATUS, &from("127.0.0.5")))),
        404
    );
    assert_eq!(
        status_of(&exchange(default.addr, &get(STATUS, &from("203.0.113.50")))),
        404
    );
    assert_eq!(status_of(&exchange(default.addr, &get(STATUS, ""))), 200);
}

/// A file shipped in deploy/.
fn shipped(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("deploy")
        .join(name);
    fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `text` with each `(from, to)` replaced. Every `from` must be there: a shipped file whose
/// shape changed fails here rather than being tested half adapted.
fn adapted(text: &str, edits: &[(&str, String)]) -> String {
    edits.iter().fold(text.to_string(), |text, (from, to)| {
        assert!(
            text.contains(from),
            "'{from}' is no longer in the shipped file:\n{text}"
        );
        text.replace(from, to)
    })
}

/// The flags of deploy/forkblog.service's ExecStart that decide the client (`--trusted-proxy`,
/// `--client-from`), with `--client-from`'s value replaced by `client_from` when given.
fn unit_client_flags(client_from: Option<&str>) -> Vec<String> {
    let unit = shipped("forkblog.service").replace("\\\n", " ");
    let line = unit
        .lines()
        .find(|l| l.starts_with("ExecStart="))
        .expect("an ExecStart line in deploy/forkblog.service");
    let words: Vec<&str> = line.split_whitespace().collect();
    let mut flags = Vec::new();
    for pair in words.windows(2) {
        match pair {
            ["--trusted-proxy", range] => flags.extend(["--trusted-proxy", range]),
            ["--client-from", from] => flags.extend(["--client-from", client_from.unwrap_or(from)]),
            _ => {}
        }
    }
    assert!(
        flags.contains(&"--client-from") && flags.contains(&"--trusted-proxy"),
        "deploy/forkblog.service names no front or no source: {line}"
    );
    flags.into_iter().map(String::from).collect()
}

fn start_behind_front(blog: &TempSite, flags: &[String]) -> Server {
    let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
    Server::start(blog.root(), &flags)
}

/// A TCP connection from `local` (a loopback address) to `to`.
fn connect_from(local: &str, to: SocketAddr) -> TcpStream {
    use nix::sys::socket::{
        bind, connect as connect_raw, socket, AddressFamily, SockFlag, SockType, SockaddrIn,
    };
    let fd = socket(
        AddressFamily::Inet,
        SockType::Stream,
        SockFlag::SOCK_CLOEXEC,
        None,
    )
    .unwrap();
    let local: std::net::SocketAddrV4 = format!("{local}:0").parse().unwrap();
    bind(
        std::os::fd::AsRawFd::as_raw_fd(&fd),
        &SockaddrIn::from(local),
    )
    .unwrap();
    let SocketAddr::V4(to) = to else {
        panic!("IPv4 only")
    };
    connect_raw(std::os::fd::AsRawFd::as_raw_fd(&fd), &SockaddrIn::from(to)).unwrap();
    let stream = TcpStream::from(fd);
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    stream
}

/// A front (nginx or Caddy) run from its own directory, HTTPS for blog.test on `tls` with a
/// self-signed certificate; killed on drop.
struct Front {
    process: Child,
    dir: TempDir,
    tls: SocketAddr,
    client: Arc<ClientConfig>,
}

impl Front {
    /// A directory with cert.pem and key.pem for blog.test, and the client trusting them.
    fn prepare(tag: &str) -> (TempDir, Arc<ClientConfig>) {
        let dir = TempDir::new(tag);
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let cert = rcgen::CertificateParams::new(vec!["blog.test".to_string()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        fs::write(dir.path().join("cert.pem"), cert.pem()).unwrap();
        fs::write(dir.path().join("key.pem"), key.serialize_pem()).unwrap();
        (dir, tls_client(&[cert.der().clone()]))
    }

    /// Runs `command` (its output to `output.log` in `dir`) until its HTTPS port answers.
    fn start(
        mut command: Command,
        dir: TempDir,
        tls: SocketAddr,
        client: Arc<ClientConfig>,
    ) -> Front {
        let output = fs::File::create(dir.path().join("output.log")).unwrap();
        let process = command
            .stdin(Stdio::null())
            .stdout(output.try_clone().unwrap())
            .stderr(output)
            .spawn()
            .expect("start the front");
        let front = Front {
            process,
            dir,
            tls,
            client,
        };
        let up = wait_until(Duration::from_secs(20), || TcpStream::connect(tls).is_ok());
        assert!(up, "the front did not come up:\n{}", front.output());
        front
    }

    fn output(&self) -> String {
        ["output.log", "error.log"]
            .iter()
            .filter_map(|f| fs::read_to_string(self.dir.path().join(f)).ok())
            .collect()
    }

    /// GET `path` over HTTPS from the loopback address `from`, with `extra` header lines.
    fn get(&self, from: &str, path: &str, extra: &str) -> Vec<u8> {
        let name = ServerName::try_from("blog.test").unwrap();
        let conn = ClientConnection::new(Arc::clone(&self.client), name).unwrap();
        let mut tls = StreamOwned::new(conn, connect_from(from, self.tls));
        let head =
            format!("GET {path} HTTP/1.1\r\nHost: blog.test\r\n{extra}Connection: close\r\n\r\n");
        tls.write_all(head.as_bytes()).unwrap();
        let mut out = Vec::new();
        // Some fronts close without close_notify after a Connection: close response.
        let _ = tls.read_to_end(&mut out);
        out
    }
}

impl Drop for Front {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

/// Every header a client could forge to pass for the machine itself, one by one and all
/// together, and one naming a stranger.
const FORGERIES: [&str; 7] = [
    "Forwarded: for=127.0.0.1\r\nX-Forwarded-For: 127.0.0.1\r\nX-Real-IP: 127.0.0.1\r\n",
    "Forwarded: for=127.0.0.1\r\n",
    "Forwarded: for=unknown\r\n",
    "Forwarded: for=_hidden\r\n",
    "X-Forwarded-For: 127.0.0.1\r\n",
    "X-Real-IP: 127.0.0.1\r\n",
    "Forwarded: for=203.0.113.66\r\nX-Forwarded-For: 203.0.113.66\r\nX-Real-IP: 203.0.113.66\r\n",
];

/// A client at 127.0.0.9 forging every header through `front` is logged as 127.0.0.9 and gets
/// 404 on the status path; the machine itself, through the same front, reads it.
fn forgeries_do_not_pass(front: &Front, server: &Server, tag: &str) {
    let page = format!("/?{tag}");
    let reply = front.get("127.0.0.9", &page, "");
    assert_eq!(status_of(&reply), 200, "{tag}: {}", front.output());
    assert_eq!(logged_client(server, &page, 1), "127.0.0.9", "{tag}");
    for (n, forged) in FORGERIES.iter().enumerate() {
        let path = format!("{STATUS}?{tag}-{n}");
        let reply = front.get("127.0.0.9", &path, forged);
        assert_eq!(status_of(&reply), 404, "{tag}: {forged}");
        assert_eq!(
            logged_client(server, &path, 1),
            "127.0.0.9",
            "{tag}: {forged}"
        );
    }
    // Not a status path that is simply off: the machine's own request through the front reads it.
    let path = format!("{STATUS}?{tag}-machine");
    let reply = front.get("127.0.0.1", &path, "X-Forwarded-For: 203.0.113.66\r\n");
    assert_eq!(status_of(&reply), 200, "{tag}");
    assert_eq!(logged_client(server, &path, 1), "127.0.0.1", "{tag}");
    let log = fs::read_to_string(&server.access_log).unwrap();
    assert!(!log.contains("203.0.113.66"), "{tag}:\n{log}");
}

/// The nginx binary, or `None` (said on stderr) where it is not installed.
fn nginx() -> Option<PathBuf> {
    let found = which("nginx");
    if found.is_none() {
        skipped("nginx is not installed (Debian package 'nginx'); the shipped deploy/nginx.conf was not tried");
    }
    found
}

/// nginx with `main` (top-level directives) and `http` (inside `http { }`), run from `dir`.
fn nginx_command(nginx: &Path, dir: &Path, main: &str, http: &str) -> Command {
    let d = dir.display();
    let conf = format!(
        "{main}\ndaemon off;\nmaster_process off;\npid {d}/nginx.pid;\nerror_log {d}/error.log;\n\
         events {{ worker_connections 64; }}\n\
         http {{\n  client_body_temp_path {d}/body;\n  proxy_temp_path {d}/proxy;\n\
         fastcgi_temp_path {d}/fcgi;\n  uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n\
         {http}\n}}\n"
    );
    let path = dir.join("nginx.conf");
    fs::write(&path, conf).unwrap();
    let mut command = Command::new(nginx);
    command
        .arg("-p")
        .arg(dir)
        .arg("-e")
        .arg(dir.join("error.log"));
    command.arg("-c").arg(path);
    command
}

/// nginx with the whole shipped site file in front of `upstream`; only ports, names,
/// certificate and log paths changed.
fn shipped_nginx(upstream: SocketAddr) -> Option<Front> {
    let nginx = nginx()?;
    let (dir, client) = Front::prepare("nginx");
    let d = dir.path().display();
    let (http, tls) = (free_port(), free_port());
    let site = adapted(
        &shipped("nginx.conf"),
        &[
            ("listen 80;", format!("listen 127.0.0.1:{http};")),
            ("listen [::]:80;", String::new()),
            (
                "listen 443 ssl http2;",
                format!("listen 127.0.0.1:{tls} ssl http2;"),
            ),
            ("listen [::]:443 ssl http2;", String::new()),
            (
                "/etc/letsencrypt/live/blog.example.com/fullchain.pem",
                format!("{d}/cert.pem"),
            ),
            (
                "/etc/letsencrypt/live/blog.example.com/privkey.pem",
                format!("{d}/key.pem"),
            ),
            ("/var/log/nginx/blog.access.log", format!("{d}/access.log")),
            ("blog.example.com", "blog.test".into()),
            ("http://127.0.0.1:8080", format!("http://{upstream}")),
        ],
    );
    let command = nginx_command(&nginx, dir.path(), "", &site);
    let tls = format!("127.0.0.1:{tls}").parse().unwrap();
    Some(Front::start(command, dir, tls, client))
}

/// The `stream { ... }` block deploy/nginx.conf gives in a comment, uncommented.
fn shipped_stream_block() -> String {
    let conf = shipped("nginx.conf");
    let start = conf
        .find("# stream {\n")
        .expect("a commented stream block in deploy/nginx.conf");
    let end = start
        + conf[start..]
            .find("\n# }\n")
            .expect("the end of the stream block")
        + 4;
    conf[start..end]
        .lines()
        .map(|l| l.strip_prefix("# ").unwrap_or(l.trim_start_matches('#')))
        .collect::<Vec<_>>()
        .join("\n")
}

/// nginx's stream module sending the PROXY protocol to `upstream`, as deploy/nginx.conf's
/// comment ships it.
fn shipped_nginx_stream(upstream: SocketAddr) -> Option<Front> {
    let nginx = nginx()?;
    let module = Path::new("/usr/lib/nginx/modules/ngx_stream_module.so");
    if !module.exists() {
        skipped("nginx's stream module is not installed (Debian package 'libnginx-mod-stream'); the PROXY protocol through nginx was not tried");
        return None;
    }
    let (dir, client) = Front::prepare("nginx-stream");
    let d = dir.path().display();
    let tls = free_port();
    let stream = adapted(
        &shipped_stream_block(),
        &[
            ("listen 443 ssl;", format!("listen 127.0.0.1:{tls} ssl;")),
            ("listen [::]:443 ssl;", String::new()),
            (
                "/etc/letsencrypt/live/blog.example.com/fullchain.pem",
                format!("{d}/cert.pem"),
            ),
            (
                "/etc/letsencrypt/live/blog.example.com/privkey.pem",
                format!("{d}/key.pem"),
            ),
            (
                "proxy_pass 127.0.0.1:8080;",
                format!("proxy_pass {upstream};"),
            ),
        ],
    );
    let main = format!("load_module {};\n{stream}", module.display());
    let command = nginx_command(&nginx, dir.path(), &main, "");
    let tls = format!("127.0.0.1:{tls}").parse().unwrap();
    Some(Front::start(command, dir, tls, client))
}

/// Caddy with the whole shipped Caddyfile in front of `upstream`. Global options keep this
/// Caddy to itself: no admin endpoint, its own ports on loopback, no ACME and no trust store
/// (local_certs covers the www name); blog.test gets the test certificate.
fn shipped_caddy(upstream: SocketAddr) -> Option<Front> {
    let Some(caddy) = which("caddy") else {
        skipped("caddy is not installed (Debian package 'caddy'); the shipped deploy/Caddyfile was not tried");
        return None;
    };
    let (dir, client) = Front::prepare("caddy");
    let d = dir.path().display();
    let (http, tls) = (free_port(), free_port());
    let caddyfile = adapted(
        &shipped("Caddyfile"),
        &[
            (
                "{\n\t# Address for expiry",
                format!(
                    "{{\n\tadmin off\n\tdefault_bind 127.0.0.1\n\thttp_port {http}\n\t\
                     https_port {tls}\n\tlocal_certs\n\tskip_install_trust\n\t# Address for expiry"
                ),
            ),
            ("www.blog.example.com {", "www.blog.test {".into()),
            (
                "\nblog.example.com {",
                format!("\nblog.test {{\n\ttls {d}/cert.pem {d}/key.pem"),
            ),
            (
                "reverse_proxy 127.0.0.1:8080",
                format!("reverse_proxy {upstream}"),
            ),
            ("/var/log/caddy/blog.access.log", format!("{d}/access.log")),
        ],
    );
    let path = dir.path().join("Caddyfile");
    fs::write(&path, caddyfile).unwrap();
    let mut command = Command::new(caddy);
    command
        .args(["run", "--adapter", "caddyfile", "--config"])
        .arg(&path);
    for var in ["HOME", "XDG_DATA_HOME", "XDG_CONFIG_HOME"] {
        command.env(var, dir.path());
    }
    let tls = format!("127.0.0.1:{tls}").parse().unwrap();
    Some(Front::start(command, dir, tls, client))
}

/// forkblog started with the unit's flags (`--client-from` replaced by `client_from` if given)
/// behind the front `start` makes, and a client forging every header through it.
fn forgeries_through(start: fn(SocketAddr) -> Option<Front>, client_from: Option<&str>, tag: &str) {
    let blog = TempSite::sample();
    let server = start_behind_front(&blog, &unit_client_flags(client_from));
    if let Some(front) = start(server.addr) {
        forgeries_do_not_pass(&front, &server, tag);
    }
}

#[test]
fn a_real_nginx_with_the_shipped_config_passes_the_client_and_nothing_forged() {
    forgeries_through(shipped_nginx, None, "nginx");
}

#[test]
fn nginx_sending_the_proxy_protocol_as_shipped_passes_the_client_and_nothing_forged() {
    // The source the comment in deploy/nginx.conf says to use with its stream block.
    forgeries_through(shipped_nginx_stream, Some("proxy-protocol"), "nginx-stream");
}

#[test]
fn a_real_caddy_with_the_shipped_caddyfile_passes_the_client_and_nothing_forged() {
    forgeries_through(shipped_caddy, None, "caddy");
}

/// An upstream that answers one request and hands over its head, as the front sent it.
fn capture_one() -> (SocketAddr, std::sync::mpsc::Receiver<String>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).unwrap_or(0) == 1 {
            head.push(byte[0]);
        }
        let _ =
            stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        let _ = tx.send(String::from_utf8_lossy(&head).into_owned());
    });
    (addr, rx)
}

#[test]
fn the_shipped_fronts_set_their_header_and_delete_the_others() {
    for (name, start) in [
        ("nginx", shipped_nginx as fn(_) -> _),
        ("caddy", shipped_caddy),
    ] {
        let (upstream, head) = capture_one();
        let Some(front) = start(upstream) else {
            continue;
        };
        let reply = front.get("127.0.0.9", "/", FORGERIES[0]);
        assert_eq!(status_of(&reply), 200, "{name}: {}", front.output());
        let head = head
            .recv_timeout(Duration::from_secs(10))
            .expect("the head the front sent");
        let lines: Vec<String> = head.lines().map(str::to_ascii_lowercase).collect();
        let named = |header: &str| -> Vec<&String> {
            lines
                .iter()
                .filter(|l| l.starts_with(&format!("{header}:")))
                .collect()
        };
        // Set from the address the front sees, not appended to the client's value.
        assert_eq!(
            named("x-forwarded-for"),
            ["x-forwarded-for: 127.0.0.9"],
            "{name}:\n{head}"
        );
        assert!(named("forwarded").is_empty(), "{name}:\n{head}");
        assert!(named("x-real-ip").is_empty(), "{name}:\n{head}");
    }
}

fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin".into(), "/sbin".into()])
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

#[test]
fn a_source_that_cannot_work_is_a_usage_error() {
    for (args, says) in [
        (&["--client-from", "xff"][..], "x-forwarded-for"),
        (&["--client-from", "forwarded"][..], "needs --trusted-proxy"),
        (&["--proxy-protocol"][..], "needs --trusted-proxy"),
        (
            &["--trusted-proxy", "::1", "--client-from", "peer"][..],
            "drop --trusted-proxy",
        ),
        (
            &[
                "--trusted-proxy",
                "::1",
                "--proxy-protocol",
                "--client-from",
                "x-real-ip",
            ][..],
            "one source",
        ),
    ] {
        let output = Command::new(BIN)
            .arg("serve")
            .args(args)
            .output()
            .expect("run forkblog");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
    }
    let help = Command::new(BIN)
        .args(["serve", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(
        help.contains("--client-from SOURCE") && help.contains("x-real-ip"),
        "{help}"
    );
}

#[test]
fn proxy_connections_leak_nothing() {
    let blog = TempSite::sample();
    let server = Server::start(
        blog.root(),
        &[
            "--trusted-proxy",
            "127.0.0.1",
            "--proxy-protocol",
            "--head-timeout",
            "1",
            "--max-children",
            "32",
        ],
    );
    let baseline = server.fd_count();
    let baseline_fds = fd_listing(server.pid());
    let addr = server.addr;
    let threads: Vec<_> = (0..4)
        .map(|t| {
            std::thread::spawn(move || {
                let mut ok = 0;
                for i in 0..100 {
                    let good = [v1("203.0.113.7"), get("/", "")].concat();
                    let good2 = [v2([198, 51, 100, 4]), get("/", "")].concat();
                    // A client the front cannot name, and the front's own connection, with
                    // forged headers that are not the chosen source.
                    let forged = "X-Forwarded-For: 127.0.0.1\r\nForwarded: for=unknown\r\n";
                    let unknown = [&b"PROXY UNKNOWN\r\n"[..], &get(STATUS, forged)].concat();
                    let local = [v2_local(), get("/", forged)].concat();
                    match (t + i) % 8 {
                        0 => ok += usize::from(status_of(&exchange(addr, &good)) == 200),
                        1 => ok += usize::from(status_of(&exchange(addr, &good2)) == 200),
                        2 => {
                            let reply = exchange(addr, b"PROXY \xff\xfe garbage\r\n\r\n");
                            ok += usize::from(status_of(&reply) == 400);
                        }
                        3 => ok += usize::from(status_of(&exchange(addr, &unknown)) == 404),
                        4 => ok += usize::from(status_of(&exchange(addr, &local)) == 200),
                        5 => drop(connect(addr).write_all(&good2[..20])), // aborted v2
                        6 => drop(connect(addr).write_all(b"PROXY TCP4 1.2")), // aborted v1
                        _ => {
                            // A header, then silence: the head timeout ends it.
                            let mut s = connect(addr);
                            s.write_all(&v1("203.0.113.8")).unwrap();
                            let mut sink = Vec::new();
                            let _ = s.read_to_end(&mut sink);
                        }
                    }
                }
                ok
            })
        })
        .collect();
    let answered: usize = threads.into_iter().map(|t| t.join().unwrap()).sum();
    let expected = (0..4)
        .flat_map(|t| (0..100).map(move |i| (t + i) % 8))
        .filter(|kind| *kind < 5)
        .count();
    assert_eq!(answered, expected, "200s, 404s and 400s where they belong");
    assert!(
        server.wait_settled(Duration::from_secs(20)),
        "children left: {:?}",
        server.children()
    );
    let settled = wait_until(Duration::from_secs(5), || server.fd_count() == baseline);
    assert!(
        settled,
        "parent fds {} after 400 PROXY connections, {baseline} before:\n{}\nbefore:\n{baseline_fds}",
        server.fd_count(),
        fd_listing(server.pid())
    );
    assert_eq!(server.stop().code(), Some(0));
}
