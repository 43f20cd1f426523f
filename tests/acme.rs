//! Certificates over ACME against Pebble, Let's Encrypt's test server (Debian package `pebble`,
//! which `.ci/run` installs), with short-lived certificates:
//! - from an empty state directory forkblog gets a certificate through HTTP-01 answered by its
//!   own children, serves it, renews it while serving, and with Pebble gone says so and keeps
//!   serving the certificate in hand; the status endpoint and metrics show all of it;
//! - with a broken post in the tree (a failed reload), the renewed certificate is the one served,
//!   and the first one is never served past its expiry;
//! - two Pebbles, a "staging" and a "production": switching `--acme-directory` gives a
//!   certificate from the second, with its own account beside the first's;
//! - a Pebble restarted (it forgets every account) gives a certificate after a new registration.
//!
//! Pebble resolves names through pebble-challtestsrv (same package), told to answer every name
//! with 127.0.0.1. Skipped, with a message, where Pebble is not installed.

mod common;

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::{
    connect, free_port, https_get, parse_response, set_mode, skipped, tls_client, wait_until,
    Server, TempDir, TempSite,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, ClientConnection, StreamOwned};

const STATUS: &str = "/.well-known/forkblog/status";

/// Kills the process when dropped, so no test leaves Pebble running.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn installed(program: &str) -> bool {
    Command::new(program)
        .arg("-h")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

fn pebble_missing() -> bool {
    let missing = !installed("pebble") || !installed("pebble-challtestsrv");
    if missing {
        skipped("pebble is not installed (Debian package 'pebble')");
    }
    missing
}

/// A CA and a certificate for Pebble's own HTTPS, signed by it. Returns the CA's PEM path.
fn pebble_tls(dir: &Path) -> PathBuf {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(rcgen::DnType::CommonName, "forkblog test CA");
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let leaf = rcgen::CertificateParams::new(vec!["localhost".into(), "127.0.0.1".into()])
        .unwrap()
        .signed_by(&key, &ca_cert, &ca_key)
        .unwrap();
    let files = [
        ("ca.pem", ca_cert.pem()),
        ("pebble-cert.pem", leaf.pem()),
        ("pebble-key.pem", key.serialize_pem()),
    ];
    for (name, text) in files {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        set_mode(&path, 0o644);
    }
    dir.join("ca.pem")
}

/// challtestsrv (DNS: every name is 127.0.0.1) and Pebble validating HTTP-01 on a forkblog's
/// port, issuing certificates valid for `validity` seconds. Each Pebble makes its own root.
struct Pebble {
    _dns: Running,
    pebble: Option<Running>,
    dns_port: u16,
    acme_port: u16,
    management_port: u16,
    /// Pebble's configuration and the CA of its own HTTPS.
    dir: PathBuf,
    ca: PathBuf,
}

impl Pebble {
    fn start(work: &Path, name: &str, http_port: u16, validity: u64) -> Pebble {
        let dir = work.join(name);
        std::fs::create_dir_all(&dir).unwrap();
        set_mode(&dir, 0o755);
        let ca = pebble_tls(&dir);
        let dns_port = free_port();
        let dns = Command::new("pebble-challtestsrv")
            .args(["-defaultIPv4", "127.0.0.1", "-defaultIPv6", ""])
            .args(["-dns01", &format!("127.0.0.1:{dns_port}")])
            .args(["-http01", "", "-https01", "", "-tlsalpn01", ""])
            .args(["-management", &format!("127.0.0.1:{}", free_port())])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start pebble-challtestsrv");
        let (acme_port, management_port) = (free_port(), free_port());
        let config = format!(
            r#"{{"pebble": {{"listenAddress": "127.0.0.1:{acme_port}", "managementListenAddress": "127.0.0.1:{management_port}", "certificate": "{cert}", "privateKey": "{key}", "httpPort": {http_port}, "tlsPort": {tls_port}, "ocspResponderURL": "", "externalAccountBindingRequired": false, "certificateValidityPeriod": {validity}}}}}"#,
            cert = dir.join("pebble-cert.pem").display(),
            key = dir.join("pebble-key.pem").display(),
            tls_port = free_port(),
        );
        std::fs::write(dir.join("pebble.json"), config).unwrap();
        let mut pebble = Pebble {
            _dns: Running(dns),
            pebble: None,
            dns_port,
            acme_port,
            management_port,
            dir,
            ca,
        };
        pebble.run();
        pebble
    }

    /// Starts (or starts again) the Pebble process: a new one remembers no account.
    fn run(&mut self) {
        self.pebble = None;
        let pebble = Command::new("pebble")
            .arg("-config")
            .arg(self.dir.join("pebble.json"))
            .args(["-dnsserver", &format!("127.0.0.1:{}", self.dns_port)])
            .env("PEBBLE_VA_NOSLEEP", "1")
            .env("PEBBLE_WFE_NONCEREJECT", "0")
            .env("PEBBLE_AUTHZREUSE", "0")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start pebble");
        self.pebble = Some(Running(pebble));
        let acme_port = self.acme_port;
        assert!(
            wait_until(Duration::from_secs(20), || std::net::TcpStream::connect((
                "127.0.0.1",
                acme_port
            ))
            .is_ok()),
            "pebble did not listen"
        );
    }

    fn stop(&mut self) {
        self.pebble = None;
    }

    fn directory(&self) -> String {
        format!("https://127.0.0.1:{}/dir", self.acme_port)
    }

    /// Pebble's current root, from its management interface (HTTPS with our test CA).
    fn root(&self) -> CertificateDer<'static> {
        let ca = CertificateDer::from_pem_file(&self.ca).unwrap();
        let config = tls_client(&[ca]);
        let name = ServerName::try_from("localhost").unwrap();
        let conn = ClientConnection::new(config, name).unwrap();
        let addr: SocketAddr = format!("127.0.0.1:{}", self.management_port)
            .parse()
            .unwrap();
        let mut tls = StreamOwned::new(conn, connect(addr));
        write!(
            tls,
            "GET /roots/0 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut bytes = Vec::new();
        let _ = tls.read_to_end(&mut bytes);
        let (response, _) = parse_response(&bytes, false).expect("pebble's root");
        CertificateDer::from_pem_slice(&response.body).expect("a PEM root")
    }
}

/// forkblog on `http_port` getting its certificates for blog.test from `pebble` into `state`;
/// the server and its HTTPS address.
fn serve(blog: &TempSite, http_port: u16, pebble: &Pebble, state: &Path) -> (Server, SocketAddr) {
    let directory = pebble.directory();
    let server = Server::start_on(
        &format!("127.0.0.1:{http_port}"),
        blog.root(),
        &[
            "--tls-listen",
            "127.0.0.1:0",
            "--acme-domain",
            "blog.test",
            "--acme-directory",
            &directory,
            "--acme-ca",
            pebble.ca.to_str().unwrap(),
            "--state-dir",
            state.to_str().unwrap(),
            "--watchdog",
            "1",
        ],
    );
    let tls_addr = server.https_addr();
    (server, tls_addr)
}

/// Waits until the server logged that it serves its `n`th certificate.
fn wait_for_certificate(server: &Server, n: usize) {
    assert!(
        server.wait_for_log("serving the certificate in", n, Duration::from_secs(60)),
        "no certificate number {n}:\n{}",
        server.log_text()
    );
}

/// A work directory the server's user can reach, and a free port for its plain HTTP.
fn workspace(tag: &str) -> (TempDir, u16) {
    let work = TempDir::new(tag);
    set_mode(work.path(), 0o755);
    (work, free_port())
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// `notAfter` of a DER certificate, as Unix seconds (the server's own parser).
fn not_after(leaf: &[u8]) -> i64 {
    forkblog::server::tls::validity::of(leaf)
        .expect("a readable validity")
        .1
}

/// GET over TLS with SNI `name`; the status, and the leaf certificate the server showed.
fn get(config: &Arc<ClientConfig>, addr: SocketAddr, name: &str, path: &str) -> (u16, Vec<u8>) {
    let (response, conn) = https_get(config, addr, name, path);
    let leaf = conn.peer_certificates().unwrap()[0].to_vec();
    (response.status, leaf)
}

#[test]
fn certificates_are_obtained_renewed_and_kept_when_the_server_is_gone() {
    if pebble_missing() {
        return;
    }
    let (work, http_port) = workspace("acme");
    let state = work.path().join("state");
    // A certificate valid for 30 s is due for renewal after 20 s.
    let mut pebble = Pebble::start(work.path(), "pebble", http_port, 30);
    let blog = TempSite::sample();
    let (server, tls_addr) = serve(&blog, http_port, &pebble, &state);

    // Obtained from an empty state directory and served at once, without a reload.
    wait_for_certificate(&server, 1);
    let folder = std::fs::read_dir(state.join("acme"))
        .unwrap()
        .next()
        .expect("the directory's folder")
        .unwrap()
        .path();
    for file in ["account.json", "cert.pem", "key.pem"] {
        let mode = std::os::unix::fs::PermissionsExt::mode(
            &std::fs::metadata(folder.join(file)).unwrap().permissions(),
        );
        assert_eq!(mode & 0o777, 0o600, "{file}");
    }
    let root = pebble.root();
    let config = tls_client(std::slice::from_ref(&root));
    let (status, first_leaf) = get(&config, tls_addr, "blog.test", "/");
    assert_eq!(status, 200);
    assert!(server.wait_settled(Duration::from_secs(10)));
    let fds = server.fd_count();
    let json = server.get(STATUS).text();
    assert!(
        json.contains(&format!(
            "\"tls_certificate_expiry_seconds\":{}",
            not_after(&first_leaf)
        )),
        "{json}"
    );
    assert!(
        json.contains("\"acme_last_attempt_outcome\":\"succeeded\""),
        "{json}"
    );

    // Renewed while serving: a second certificate, served at once, same generation.
    wait_for_certificate(&server, 2);
    // A fresh client: a resumed session would show the certificate of the session it resumes.
    let config = tls_client(std::slice::from_ref(&root));
    let (status, second_leaf) = get(&config, tls_addr, "blog.test", "/");
    assert_eq!(status, 200);
    assert!(
        first_leaf != second_leaf,
        "the renewed certificate is not served:\n{}",
        server.log_text()
    );
    assert!(!server.log_text().contains("generation 1"));
    // Reading and serving a certificate leaves no descriptor behind in the parent.
    assert!(server.wait_settled(Duration::from_secs(10)));
    assert_eq!(
        server.fd_count(),
        fds,
        "{}",
        common::fd_listing(server.pid())
    );

    // Pebble gone: the next attempt fails and says so; the certificate in hand keeps serving.
    pebble.stop();
    assert!(
        server.wait_for_log("ACME attempt failed", 1, Duration::from_secs(60)),
        "{}",
        server.log_text()
    );
    let config = tls_client(&[root]);
    let (status, leaf) = get(&config, tls_addr, "blog.test", "/");
    assert_eq!((status, &leaf), (200, &second_leaf));
    assert_eq!(
        server.log_text().matches("ACME attempt failed").count(),
        1,
        "one line per attempt"
    );
    let metrics = server.get(&format!("{STATUS}?format=prometheus")).text();
    for line in [
        format!(
            "forkblog_tls_certificate_expiry_seconds {}\n",
            not_after(&second_leaf)
        ),
        "forkblog_acme_last_attempt_success 0\n".to_string(),
    ] {
        assert!(metrics.contains(&line), "{line} in\n{metrics}");
    }
    // A 30-second certificate is within 14 days of its expiry: said once a day.
    assert_eq!(
        server
            .log_text()
            .matches("the certificate in service expires")
            .count(),
        1,
        "{}",
        server.log_text()
    );
    assert!(server.wait_settled(Duration::from_secs(10)));
    assert_eq!(server.stop().code(), Some(0));
}

#[test]
fn a_renewed_certificate_is_served_whatever_the_posts_hold() {
    if pebble_missing() {
        return;
    }
    let (work, http_port) = workspace("acme-broken-post");
    let pebble = Pebble::start(work.path(), "pebble", http_port, 30);
    let blog = TempSite::sample();
    let (server, tls_addr) = serve(&blog, http_port, &pebble, &work.path().join("state"));
    wait_for_certificate(&server, 1);
    let root = pebble.root();
    let (_, first_leaf) = get(
        &tls_client(std::slice::from_ref(&root)),
        tls_addr,
        "blog.test",
        "/",
    );

    // A post that does not render: the reload fails, the site in service stays.
    blog.write_post(
        "wip.md",
        "---\ntitle: [unclosed\ndate: 2024-01-01\n---\nbody\n",
    );
    server.signal("HUP");
    assert!(
        server.wait_for_log("reload failed", 1, Duration::from_secs(30)),
        "{}",
        server.log_text()
    );

    // The renewal is served all the same, and past the first certificate's expiry a client
    // that checks dates still connects: the expired one is never served.
    wait_for_certificate(&server, 2);
    assert!(wait_until(Duration::from_secs(40), || now()
        > not_after(&first_leaf) + 1));
    let (status, leaf) = get(&tls_client(&[root]), tls_addr, "blog.test", "/");
    assert_eq!(status, 200);
    assert!(leaf != first_leaf, "{}", server.log_text());
    assert!(not_after(&leaf) > now());
    let json = server.get(STATUS).text();
    assert!(
        json.contains("\"reload_last_outcome\":\"failed\""),
        "{json}"
    );
    assert_eq!(server.stop().code(), Some(0));
}

#[test]
fn switching_directories_gives_a_certificate_from_the_second() {
    if pebble_missing() {
        return;
    }
    let (work, http_port) = workspace("acme-switch");
    let state = work.path().join("state");
    // Long-lived certificates: nothing is due again during the test.
    let staging = Pebble::start(work.path(), "staging", http_port, 3600);
    let production = Pebble::start(work.path(), "production", http_port, 3600);
    let blog = TempSite::sample();

    let (server, tls_addr) = serve(&blog, http_port, &staging, &state);
    wait_for_certificate(&server, 1);
    let (status, _) = get(&tls_client(&[staging.root()]), tls_addr, "blog.test", "/");
    assert_eq!(status, 200);
    assert_eq!(server.stop().code(), Some(0));

    // The same state directory, the other directory URL: a certificate from the second CA,
    // which a client trusting only that CA accepts, and each CA's account in its own folder.
    let (server, tls_addr) = serve(&blog, http_port, &production, &state);
    wait_for_certificate(&server, 1);
    let (status, _) = get(
        &tls_client(&[production.root()]),
        tls_addr,
        "blog.test",
        "/",
    );
    assert_eq!(status, 200);
    let accounts = std::fs::read_dir(state.join("acme"))
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().join("account.json").exists())
        .count();
    assert_eq!(accounts, 2);
    assert_eq!(server.stop().code(), Some(0));
}

#[test]
fn a_ca_that_forgot_the_account_gets_a_new_one() {
    if pebble_missing() {
        return;
    }
    let (work, http_port) = workspace("acme-forgotten");
    let mut pebble = Pebble::start(work.path(), "pebble", http_port, 30);
    let blog = TempSite::sample();
    let (server, tls_addr) = serve(&blog, http_port, &pebble, &work.path().join("state"));
    wait_for_certificate(&server, 1);

    // Restarted, Pebble knows no account (and has a new root): the renewal registers again.
    pebble.run();
    wait_for_certificate(&server, 2);
    let log = server.log_text();
    assert!(log.contains("no longer knows the account"), "{log}");
    assert_eq!(log.matches("new account at").count(), 2, "{log}");
    let (status, _) = get(&tls_client(&[pebble.root()]), tls_addr, "blog.test", "/");
    assert_eq!(status, 200);
    assert_eq!(server.stop().code(), Some(0));
}
