//! HTTPS served by the children: the handshake after fork, resumption across children with
//! tickets whose keys the parent shares, the plain door's redirect and HSTS, a certificate
//! swapped by SIGHUP (and a broken or expired one refused), the HTTPS port without a certificate (a TLS
//! alert, plain HTTP serving meanwhile), and the fd and zombie regression over TLS with clients
//! that abort, stall or send garbage, and with handshakes refused for want of a certificate.
//!
//! Certificates are made at test time with rcgen; clients are rustls with that certificate as
//! their only root.

mod common;

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{
    connect, https_get, set_mode, tls_client, wait_until, write_certificate, Server, TempSite,
};
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::ClientConnection;

const POST: &str = "/posts/backpressure-max-children/";

/// A sample blog with a certificate beside it, served on plain and HTTPS listeners.
struct Https {
    blog: TempSite,
    server: Server,
    tls: SocketAddr,
    cert: CertificateDer<'static>,
}

fn start(extra: &[&str]) -> Https {
    let blog = TempSite::sample();
    let cert = write_certificate(blog.root(), "first");
    let cert_path = blog.root().join("cert.pem");
    let key_path = blog.root().join("key.pem");
    let mut args = vec![
        "--tls-listen",
        "127.0.0.1:0",
        "--tls-cert",
        cert_path.to_str().unwrap(),
        "--tls-key",
        key_path.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let server = Server::start(blog.root(), &args);
    let tls = server.https_addr();
    Https {
        blog,
        server,
        tls,
        cert,
    }
}

#[test]
fn serves_https_redirects_plain_and_sends_hsts() {
    let h = start(&["--hsts"]);
    let config = tls_client(std::slice::from_ref(&h.cert));
    let (page, conn) = https_get(&config, h.tls, "localhost", POST);
    assert_eq!(page.status, 200);
    assert_eq!(conn.alpn_protocol(), Some(&b"http/1.1"[..]));
    assert_eq!(
        page.header("strict-transport-security"),
        Some("max-age=31536000")
    );
    assert!(page.text().contains("</html>"));

    // The plain door answers every page with a redirect to the same path and query.
    let r = common::request(
        h.server.addr,
        &format!("GET {POST}?a=1 HTTP/1.1\r\nHost: localhost:8080\r\nConnection: close\r\n\r\n"),
    );
    assert_eq!(r.status, 301);
    assert_eq!(
        r.header("location"),
        Some(format!("https://localhost:{}{POST}?a=1", h.tls.port()).as_str())
    );
    assert_eq!(
        r.header("strict-transport-security"),
        None,
        "HSTS only over HTTPS"
    );
    // ACME challenges and the status endpoint stay on the plain door.
    assert_eq!(
        h.server
            .get("/.well-known/acme-challenge/nothing-here")
            .status,
        404
    );
    assert_eq!(h.server.get("/.well-known/forkblog/status").status, 200);
    // The access log has the TLS request like any other.
    assert!(wait_until(Duration::from_secs(5), || {
        std::fs::read_to_string(&h.server.access_log)
            .unwrap_or_default()
            .contains(&format!("\"GET {POST} HTTP/1.1\" 200"))
    }));
}

#[test]
fn a_session_resumes_on_a_second_connection_served_by_another_child() {
    let h = start(&[]);
    let config = tls_client(std::slice::from_ref(&h.cert));
    let (first, conn) = https_get(&config, h.tls, "localhost", "/");
    assert_eq!(first.status, 200);
    assert_eq!(conn.handshake_kind(), Some(rustls::HandshakeKind::Full));
    // Each connection is its own child; the second opens the ticket the first one sealed.
    let (second, conn) = https_get(&config, h.tls, "localhost", "/");
    assert_eq!(second.status, 200);
    assert_eq!(conn.handshake_kind(), Some(rustls::HandshakeKind::Resumed));
    // Tickets survive a reload (the keys live in the handed-over counters page).
    h.server.signal("HUP");
    assert!(h
        .server
        .wait_for_log("generation 1 serving", 1, Duration::from_secs(20)));
    let (third, conn) = https_get(&config, h.tls, "localhost", "/");
    assert_eq!(third.status, 200);
    assert_eq!(conn.handshake_kind(), Some(rustls::HandshakeKind::Resumed));
}

#[test]
fn sighup_swaps_the_certificate_and_a_broken_key_keeps_the_old_one() {
    let h = start(&[]);
    let first = tls_client(std::slice::from_ref(&h.cert));
    assert_eq!(https_get(&first, h.tls, "localhost", "/").0.status, 200);

    // A broken key: the reload fails naming the file, the old certificate keeps serving.
    let key = h.blog.root().join("key.pem");
    std::fs::write(
        &key,
        "-----BEGIN PRIVATE KEY-----\nbroken\n-----END PRIVATE KEY-----\n",
    )
    .unwrap();
    h.server.signal("HUP");
    assert!(h
        .server
        .wait_for_log("reload failed", 1, Duration::from_secs(20)));
    assert!(
        h.server.log_text().contains("key.pem"),
        "{}",
        h.server.log_text()
    );
    assert_eq!(https_get(&first, h.tls, "localhost", "/").0.status, 200);

    // A new certificate and key: after the reload, clients see the new one, and the next
    // image, which got it in a memfd of its own, keeps no descriptor of it.
    assert!(h.server.wait_settled(Duration::from_secs(10)));
    let fds = h.server.fd_count();
    let second_cert = write_certificate(h.blog.root(), "second");
    h.server.signal("HUP");
    assert!(h
        .server
        .wait_for_log("generation 1 serving", 1, Duration::from_secs(20)));
    let second = tls_client(std::slice::from_ref(&second_cert));
    assert_eq!(https_get(&second, h.tls, "localhost", "/").0.status, 200);
    h.server.signal("HUP");
    assert!(h
        .server
        .wait_for_log("generation 2 serving", 1, Duration::from_secs(20)));
    assert_eq!(https_get(&second, h.tls, "localhost", "/").0.status, 200);
    assert!(h.server.wait_settled(Duration::from_secs(10)));
    assert_eq!(
        h.server.fd_count(),
        fds,
        "{}",
        common::fd_listing(h.server.pid())
    );
}

#[test]
fn sighup_never_puts_an_expired_certificate_in_place_of_a_valid_one() {
    let h = start(&[]);
    let first = tls_client(std::slice::from_ref(&h.cert));
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let mut params = rcgen::CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    params.not_before = rcgen::date_time_ymd(2001, 1, 1);
    params.not_after = rcgen::date_time_ymd(2002, 1, 1);
    let expired = params.self_signed(&key).unwrap();
    for (file, text) in [
        ("cert.pem", expired.pem()),
        ("key.pem", key.serialize_pem()),
    ] {
        std::fs::write(h.blog.root().join(file), text).unwrap();
    }
    h.server.signal("HUP");
    assert!(h
        .server
        .wait_for_log("reload failed", 1, Duration::from_secs(20)));
    assert!(
        h.server.log_text().contains("expired on 2002-01-01"),
        "{}",
        h.server.log_text()
    );
    assert_eq!(https_get(&first, h.tls, "localhost", "/").0.status, 200);
}

#[test]
fn a_stalled_handshake_ends_at_the_head_timeout() {
    let h = start(&["--head-timeout", "1"]);
    let mut stream = connect(h.tls);
    // The first bytes of a ClientHello record, then nothing.
    stream
        .write_all(&[0x16, 0x03, 0x01, 0x02, 0x00, 0x01])
        .unwrap();
    let started = Instant::now();
    let mut sink = Vec::new();
    let _ = stream.read_to_end(&mut sink);
    let took = started.elapsed();
    assert!(took < Duration::from_secs(5), "closed after {took:?}");
    assert!(h.server.wait_settled(Duration::from_secs(5)));
}

/// The fd and zombie regression over TLS: full handshakes with a request, clients that abort
/// mid-handshake, send garbage instead of a ClientHello, or stall until the head timeout.
#[test]
fn tls_connections_leak_no_descriptor_and_leave_no_zombie() {
    let h = start(&["--head-timeout", "1", "--max-children", "32"]);
    let config = tls_client(std::slice::from_ref(&h.cert));
    assert_eq!(https_get(&config, h.tls, "localhost", "/").0.status, 200);
    assert!(h.server.wait_settled(Duration::from_secs(10)));
    let baseline = h.server.fd_count();
    let rounds = 60;
    let mut served = 0;
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..4)
            .map(|worker| {
                let config = Arc::clone(&config);
                let addr = h.tls;
                scope.spawn(move || {
                    let mut ok = 0;
                    for i in 0..rounds {
                        match (i + worker) % 4 {
                            0 => {
                                if https_get(&config, addr, "localhost", "/").0.status == 200 {
                                    ok += 1;
                                }
                            }
                            1 => {
                                // Abort mid-handshake: a partial ClientHello, then close.
                                let mut s = connect(addr);
                                let _ = s.write_all(&[0x16, 0x03, 0x01, 0x00, 0xff, 0x01, 0x00]);
                            }
                            2 => {
                                // Plain HTTP on the TLS port: garbage to the TLS layer.
                                let mut s = connect(addr);
                                let _ = s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
                                let mut sink = Vec::new();
                                let _ = s.read_to_end(&mut sink);
                            }
                            _ => {
                                // Stall: one byte, then wait for the head timeout to end it.
                                let mut s = connect(addr);
                                let _ = s.write_all(&[0x16]);
                                let mut sink = Vec::new();
                                let _ = s.read_to_end(&mut sink);
                            }
                        }
                    }
                    ok
                })
            })
            .collect();
        served = workers.into_iter().map(|w| w.join().unwrap()).sum();
    });
    assert_eq!(served, rounds, "every full handshake served its request");
    assert!(
        h.server.wait_settled(Duration::from_secs(15)),
        "children left: {:?}",
        h.server.children()
    );
    let after = h.server.fd_count();
    println!(
        "{} TLS connections of four kinds: parent fds {baseline} before, {after} after",
        rounds * 4
    );
    assert_eq!(after, baseline, "{}", common::fd_listing(h.server.pid()));
    assert_eq!(h.server.stop().code(), Some(0));
}

/// A server waiting for its first certificate from an ACME directory nobody answers.
fn start_without_certificate(state: &Path) -> (TempSite, Server, SocketAddr) {
    let blog = TempSite::sample();
    let server = Server::start(
        blog.root(),
        &[
            "--tls-listen",
            "127.0.0.1:0",
            "--acme-domain",
            "blog.test",
            "--acme-directory",
            "https://127.0.0.1:9/dir",
            "--state-dir",
            state.to_str().unwrap(),
        ],
    );
    let tls = server.https_addr();
    (blog, server, tls)
}

/// A handshake with the server at `addr`: the alert it ended with, if it ended with one.
fn alert_from(addr: SocketAddr) -> Option<rustls::AlertDescription> {
    // Any root: the server never gets as far as showing a certificate.
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let params = rcgen::CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    let config = tls_client(&[params.self_signed(&key).unwrap().der().clone()]);
    let name = ServerName::try_from("localhost").unwrap();
    let mut conn = ClientConnection::new(config, name).unwrap();
    let mut socket = connect(addr);
    let error = conn.complete_io(&mut socket).err()?;
    match error.get_ref()?.downcast_ref::<rustls::Error>()? {
        rustls::Error::AlertReceived(alert) => Some(*alert),
        _ => None,
    }
}

#[test]
fn without_a_certificate_the_https_port_sends_an_alert_and_plain_http_serves() {
    let state = common::TempDir::new("no-cert");
    set_mode(state.path(), 0o755);
    let (_blog, server, tls) = start_without_certificate(&state.path().join("state"));
    assert_eq!(
        alert_from(tls),
        Some(rustls::AlertDescription::AccessDenied),
        "{}",
        server.log_text()
    );
    // Not plaintext either: what a ClientHello gets is TLS records only (an alert is 0x15).
    let mut raw = connect(tls);
    raw.write_all(&[0x16, 0x03, 0x01, 0x00, 0x05, 0x01, 0x00, 0x00, 0x01, 0x00])
        .unwrap();
    let mut answer = Vec::new();
    let _ = raw.read_to_end(&mut answer);
    assert!(!answer.starts_with(b"HTTP/"), "{answer:?}");
    // Meanwhile plain HTTP serves the site instead of redirecting to a port that cannot.
    assert_eq!(server.get("/").status, 200);
    let log = server.log_text();
    assert_eq!(
        log.matches("waits for the first one").count(),
        1,
        "said once:\n{log}"
    );
    // The only errors are the ACME attempts against a directory nobody answers.
    assert!(
        log.lines()
            .filter(|l| l.contains("ERROR"))
            .all(|l| l.contains("ACME")),
        "{log}"
    );
    assert!(!log.contains("HTTPS connections will be closed"), "{log}");
    assert_eq!(server.stop().code(), Some(0));
}

/// The fd and zombie regression for handshakes refused for want of a certificate.
#[test]
fn refused_handshakes_leak_no_descriptor_and_leave_no_zombie() {
    let state = common::TempDir::new("no-cert-leaks");
    set_mode(state.path(), 0o755);
    let (_blog, server, tls) = start_without_certificate(&state.path().join("state"));
    assert!(alert_from(tls).is_some());
    assert!(server.wait_settled(Duration::from_secs(10)));
    let baseline = server.fd_count();
    let refused = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..4)
            .map(|_| scope.spawn(move || (0..40).filter(|_| alert_from(tls).is_some()).count()))
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().unwrap())
            .sum::<usize>()
    });
    assert_eq!(refused, 160, "every handshake ended with an alert");
    assert!(
        server.wait_settled(Duration::from_secs(15)),
        "children left: {:?}",
        server.children()
    );
    assert_eq!(
        server.fd_count(),
        baseline,
        "{}",
        common::fd_listing(server.pid())
    );
    assert_eq!(server.stop().code(), Some(0));
}

#[test]
fn tls_flags_that_do_not_go_together_are_usage_errors() {
    let blog = TempSite::sample();
    for args in [
        &["--tls-listen", "127.0.0.1:0"][..],
        &["--tls-cert", "x.pem"],
        &["--hsts"],
    ] {
        let out = std::process::Command::new(common::BIN)
            .arg("serve")
            .arg("--root")
            .arg(blog.root())
            .args(args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("--tls-listen"), "{err}");
    }
}
