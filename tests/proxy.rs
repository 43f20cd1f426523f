//! The client's address behind a front: PROXY protocol v1/v2 and forwarding headers believed
//! from trusted peers only, the access log and the status endpoint using that client, a real
//! nginx in front with the shipped deploy/nginx.conf, and no leak from PROXY connections.

mod common;

use std::fs;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

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
    let blog = Blog::sample();
    let server = Server::start(
        blog.root(),
        &["--trusted-proxy", "127.0.0.0/8", "--proxy-protocol"],
    );
    let reply = exchange(server.addr, &[v1("203.0.113.7"), get("/?v1", "")].concat());
    assert_eq!(status_of(&reply), 200);
    assert_eq!(logged_client(&server, "/?v1", 1), "203.0.113.7");

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
    let blog = Blog::sample();
    // Only 10.0.0.0/8 is trusted: this test's 127.0.0.1 is an ordinary client.
    let server = Server::start(
        blog.root(),
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
fn a_trusted_chain_yields_the_right_most_untrusted_address() {
    let blog = Blog::sample();
    let server = Server::start(
        blog.root(),
        &[
            "--trusted-proxy",
            "127.0.0.1",
            "--trusted-proxy",
            "10.0.0.0/8",
        ],
    );
    // 6.6.6.6 was written by the client itself; 10.0.0.3 is a trusted inner front.
    let chain = "X-Forwarded-For: 6.6.6.6, 198.51.100.2, 10.0.0.3\r\n";
    assert_eq!(
        status_of(&exchange(server.addr, &get("/?chain", chain))),
        200
    );
    assert_eq!(logged_client(&server, "/?chain", 1), "198.51.100.2");
    // Forwarded is not the chosen source (the default is X-Forwarded-For): ignored.
    let fwd = "Forwarded: for=192.0.2.60;proto=https, for=\"10.0.0.3\"\r\n";
    assert_eq!(status_of(&exchange(server.addr, &get("/?fwd", fwd))), 200);
    assert_eq!(logged_client(&server, "/?fwd", 1), "127.0.0.1");
    drop(server);

    let server = Server::start(
        blog.root(),
        &[
            "--trusted-proxy",
            "127.0.0.1",
            "--trusted-proxy",
            "10.0.0.0/8",
            "--client-from",
            "forwarded",
        ],
    );
    let both = format!("{fwd}X-Forwarded-For: 198.51.100.2\r\n");
    assert_eq!(status_of(&exchange(server.addr, &get("/?fwd", &both))), 200);
    assert_eq!(logged_client(&server, "/?fwd", 1), "192.0.2.60");
    // A front that does not know the client: unknown ("-"), not the front's 127.0.0.1.
    let unknown = "Forwarded: for=unknown\r\n";
    assert_eq!(
        status_of(&exchange(server.addr, &get(STATUS, unknown))),
        404
    );
    assert_eq!(logged_client(&server, STATUS, 1), "-");
}

#[test]
fn the_status_path_through_a_front_follows_the_real_client() {
    let blog = Blog::sample();
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

/// The `location / { ... }` block of the HTTPS server in the shipped deploy/nginx.conf, with
/// the upstream moved to `upstream`.
fn shipped_location(upstream: SocketAddr) -> String {
    let conf = fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/nginx.conf"))
        .expect("deploy/nginx.conf");
    let at = conf
        .rfind("    location / {")
        .expect("a location / block in deploy/nginx.conf");
    let end = at
        + conf[at..]
            .find("\n    }")
            .expect("end of the location block")
        + 6;
    let block = &conf[at..end];
    assert!(
        block.contains("proxy_pass http://127.0.0.1:8080;"),
        "the shipped location block changed: {block}"
    );
    block.replace("http://127.0.0.1:8080", &format!("http://{upstream}"))
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
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

#[test]
fn a_real_nginx_in_front_passes_the_client() {
    let Ok(nginx) = which("nginx") else {
        eprintln!("SKIPPED: nginx is not installed (Debian package 'nginx'); the shipped deploy/nginx.conf was not tried");
        return;
    };
    let blog = Blog::sample();
    let server = Server::start(
        blog.root(),
        &["--trusted-proxy", "127.0.0.1", "--trusted-proxy", "::1"],
    );
    let dir = TempDir::new("nginx");
    let port = free_port();
    let conf = format!(
        "daemon off;\nmaster_process off;\npid {d}/nginx.pid;\nerror_log {d}/error.log;\n\
         events {{ worker_connections 64; }}\n\
         http {{\n  access_log off;\n  client_body_temp_path {d}/body;\n  proxy_temp_path {d}/proxy;\n\
         fastcgi_temp_path {d}/fcgi;\n  uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n\
         server {{\n    listen 127.0.0.1:{port};\n    server_name _;\n{location}\n  }}\n}}\n",
        d = dir.path().display(),
        location = shipped_location(server.addr),
    );
    let conf_path = dir.path().join("nginx.conf");
    fs::write(&conf_path, conf).unwrap();
    let mut front = Command::new(nginx)
        .arg("-p")
        .arg(dir.path())
        .arg("-c")
        .arg(&conf_path)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start nginx");
    let front_addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let up = wait_until(Duration::from_secs(10), || {
        TcpStream::connect(front_addr).is_ok()
    });
    let ask = |path: &str, extra: &str| {
        let mut stream = connect_from("127.0.0.5", front_addr);
        stream.write_all(&get(path, extra)).unwrap();
        let mut out = Vec::new();
        let _ = stream.read_to_end(&mut out);
        out
    };
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        assert!(
            up,
            "nginx did not come up: {}",
            fs::read_to_string(dir.path().join("error.log")).unwrap_or_default()
        );
        assert_eq!(status_of(&ask("/?via-nginx", "")), 200);
        assert_eq!(logged_client(&server, "/?via-nginx", 1), "127.0.0.5");
        // A forged X-Forwarded-For from the client is left of nginx's entry: ignored.
        assert_eq!(
            status_of(&ask("/?forged", "X-Forwarded-For: 127.0.0.1\r\n")),
            200
        );
        assert_eq!(logged_client(&server, "/?forged", 1), "127.0.0.5");
        // The status path through the front, from 127.0.0.5, is an ordinary missing page.
        assert_eq!(status_of(&ask(STATUS, "")), 404);
        assert_eq!(
            status_of(&ask(STATUS, "X-Forwarded-For: 127.0.0.1\r\n")),
            404
        );
    }));
    let _ = front.kill();
    let _ = front.wait();
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}

fn which(name: &str) -> Result<std::path::PathBuf, ()> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin".into(), "/sbin".into()])
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
        .ok_or(())
}

#[test]
fn proxy_connections_leak_nothing() {
    let blog = Blog::sample();
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
                    match (t + i) % 6 {
                        0 => ok += usize::from(status_of(&exchange(addr, &good)) == 200),
                        1 => ok += usize::from(status_of(&exchange(addr, &good2)) == 200),
                        2 => {
                            let reply = exchange(addr, b"PROXY \xff\xfe garbage\r\n\r\n");
                            ok += usize::from(status_of(&reply) == 400);
                        }
                        3 => drop(connect(addr).write_all(&good2[..20])), // aborted v2
                        4 => drop(connect(addr).write_all(b"PROXY TCP4 1.2")), // aborted v1
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
        .flat_map(|t| (0..100).map(move |i| (t + i) % 6))
        .filter(|kind| *kind < 3)
        .count();
    assert_eq!(answered, expected, "200s and 400s where they belong");
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
