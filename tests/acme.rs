//! Certificates over ACME against Pebble, Let's Encrypt's test server (Debian package `pebble`,
//! which `.ci/run` installs): from an empty state directory forkblog gets a certificate through
//! HTTP-01 answered by its own children and serves HTTPS with it; a short-lived certificate is
//! renewed while serving; with Pebble gone, the attempt fails, is logged, and the old
//! certificate keeps serving.
//!
//! Pebble resolves names through pebble-challtestsrv (same package), told to answer every name
//! with 127.0.0.1. Skipped, with a message, where Pebble is not installed.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use common::{connect, parse_response, set_mode, wait_until, Blog, Server, TempDir};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

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

/// A CA and a certificate for Pebble's own HTTPS, signed by it. Returns the CA's PEM path.
fn pebble_tls(dir: &Path) -> std::path::PathBuf {
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

/// Starts challtestsrv (DNS: every name is 127.0.0.1) and Pebble validating HTTP-01 on
/// `http_port`, issuing certificates valid for `validity` seconds.
fn start_pebble(dir: &Path, http_port: u16, validity: u64) -> (Running, Running, u16, u16) {
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
    let pebble = Command::new("pebble")
        .arg("-config")
        .arg(dir.join("pebble.json"))
        .args(["-dnsserver", &format!("127.0.0.1:{dns_port}")])
        .env("PEBBLE_VA_NOSLEEP", "1")
        .env("PEBBLE_WFE_NONCEREJECT", "0")
        .env("PEBBLE_AUTHZREUSE", "0")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start pebble");
    assert!(
        wait_until(Duration::from_secs(20), || std::net::TcpStream::connect((
            "127.0.0.1",
            acme_port
        ))
        .is_ok()),
        "pebble did not listen"
    );
    (Running(dns), Running(pebble), acme_port, management_port)
}

fn client(roots: &[CertificateDer<'static>]) -> Arc<ClientConfig> {
    let mut store = RootCertStore::empty();
    for root in roots {
        store.add(root.clone()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Arc::new(
        ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(store)
            .with_no_client_auth(),
    )
}

/// GET over TLS with SNI `name`; the status, and the leaf certificate the server showed.
fn get(config: &Arc<ClientConfig>, addr: SocketAddr, name: &str, path: &str) -> (u16, Vec<u8>) {
    let server_name = ServerName::try_from(name.to_string()).unwrap();
    let conn = ClientConnection::new(Arc::clone(config), server_name).unwrap();
    let mut tls = StreamOwned::new(conn, connect(addr));
    write!(
        tls,
        "GET {path} HTTP/1.1\r\nHost: {name}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut bytes = Vec::new();
    tls.read_to_end(&mut bytes).expect("read over TLS");
    let leaf = tls.conn.peer_certificates().unwrap()[0].to_vec();
    let (response, _) = parse_response(&bytes, false).expect("a response");
    (response.status, leaf)
}

/// Pebble's current root, from its management interface (HTTPS with our test CA).
fn pebble_root(ca: &Path, management_port: u16) -> CertificateDer<'static> {
    let ca = CertificateDer::from_pem_file(ca).unwrap();
    let config = client(&[ca]);
    let name = ServerName::try_from("localhost").unwrap();
    let conn = ClientConnection::new(config, name).unwrap();
    let addr: SocketAddr = format!("127.0.0.1:{management_port}").parse().unwrap();
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

#[test]
fn certificates_are_obtained_renewed_and_kept_when_the_server_is_gone() {
    if !installed("pebble") || !installed("pebble-challtestsrv") {
        println!("SKIPPED: pebble is not installed (apt-get install pebble)");
        return;
    }
    let work = TempDir::new("acme");
    set_mode(work.path(), 0o755);
    let ca = pebble_tls(work.path());
    let state = work.path().join("state");
    let http_port = free_port();
    // A certificate valid for 30 s is due for renewal after 20 s.
    let (_dns, pebble, acme_port, management_port) = start_pebble(work.path(), http_port, 30);

    let blog = Blog::sample();
    let directory = format!("https://127.0.0.1:{acme_port}/dir");
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
            ca.to_str().unwrap(),
            "--state-dir",
            state.to_str().unwrap(),
            "--watchdog",
            "1",
        ],
    );
    let mut tls_addr = None;
    assert!(wait_until(Duration::from_secs(10), || {
        tls_addr = server.log_text().lines().find_map(|line| {
            let at = line.find("on https://")?;
            line[at + 11..].split_whitespace().next()?.parse().ok()
        });
        tls_addr.is_some()
    }));
    let tls_addr: SocketAddr = tls_addr.unwrap();

    // Obtained from an empty state directory, then served after the reload it triggers.
    assert!(
        server.wait_for_log("generation 1 serving", 1, Duration::from_secs(60)),
        "{}",
        server.log_text()
    );
    for file in ["account.json", "cert.pem", "key.pem"] {
        let mode = std::os::unix::fs::PermissionsExt::mode(
            &std::fs::metadata(state.join(file)).unwrap().permissions(),
        );
        assert_eq!(mode & 0o777, 0o600, "{file}");
    }
    let root = pebble_root(&ca, management_port);
    let config = client(std::slice::from_ref(&root));
    let (status, first_leaf) = get(&config, tls_addr, "blog.test", "/");
    assert_eq!(status, 200);

    // Renewed while serving: a second certificate, served after the next reload.
    assert!(
        server.wait_for_log("generation 2 serving", 1, Duration::from_secs(60)),
        "{}",
        server.log_text()
    );
    // A fresh client: a resumed session would show the certificate of the session it resumes.
    let config = client(std::slice::from_ref(&root));
    let (status, second_leaf) = get(&config, tls_addr, "blog.test", "/");
    assert_eq!(status, 200);
    assert!(
        first_leaf != second_leaf,
        "the renewed certificate is not served:\n{}",
        server.log_text()
    );

    // Pebble gone: the next attempt fails and says so; the certificate in hand keeps serving.
    drop(pebble);
    assert!(
        server.wait_for_log("ACME attempt failed", 1, Duration::from_secs(60)),
        "{}",
        server.log_text()
    );
    let config = client(&[root]);
    let (status, leaf) = get(&config, tls_addr, "blog.test", "/");
    assert_eq!((status, leaf), (200, second_leaf));
    assert_eq!(
        server.log_text().matches("ACME attempt failed").count(),
        1,
        "one line per attempt"
    );
    assert!(server.wait_settled(Duration::from_secs(10)));
    assert_eq!(server.stop().code(), Some(0));
}
