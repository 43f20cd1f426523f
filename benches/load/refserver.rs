//! The minimal fork-per-connection reference server: the limit of forkblog's design.
//!
//! The parent accepts (accept4, SOCK_CLOEXEC), forks, closes its copy and reaps with
//! `waitpid(WNOHANG)`. The child reads a request head, writes one canned response (the same
//! bytes as forkblog's page, head and body in one buffer, one write), and loops for the next
//! request unless the client asked for `Connection: close`; then it exits. No parsing beyond
//! finding the blank line, no logging, no Date header, no timeouts but a 30 s alarm.
//!
//! It runs in its own process: the benchmark re-executes itself with `FORKBLOG_BENCH_REF` set
//! to `PORT:FILE`.

use std::net::TcpListener;
use std::os::fd::AsRawFd;

/// The environment variable that turns the benchmark binary into the reference server.
pub const ENV: &str = "FORKBLOG_BENCH_REF";

/// Serves forever (until killed).
pub fn run(spec: &str) -> ! {
    let (port, file) = spec.split_once(':').expect("FORKBLOG_BENCH_REF=PORT:FILE");
    let body = std::fs::read(file).expect("reading the page");
    let response = |close: bool| {
        let mut r = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\n{}\r\n",
            body.len(),
            if close { "Connection: close\r\n" } else { "" }
        )
        .into_bytes();
        r.extend_from_slice(&body);
        r
    };
    let (keep, close) = (response(false), response(true));
    let listener = TcpListener::bind(("127.0.0.1", port.parse::<u16>().expect("port")))
        .expect("binding the reference server");
    let lfd = listener.as_raw_fd();
    // SAFETY (all blocks below): plain syscalls on descriptors this process owns; the process is
    // single-threaded, so fork is sound, and the child only makes syscalls and exits.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_IGN);
        loop {
            let fd = libc::accept4(
                lfd,
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                libc::SOCK_CLOEXEC,
            );
            if fd >= 0 {
                match libc::fork() {
                    0 => {
                        libc::close(lfd);
                        libc::alarm(30);
                        serve(fd, &keep, &close);
                        libc::_exit(0);
                    }
                    _ => {
                        libc::close(fd);
                    }
                }
            }
            while libc::waitpid(-1, std::ptr::null_mut(), libc::WNOHANG) > 0 {}
        }
    }
}

unsafe fn serve(fd: i32, keep: &[u8], close: &[u8]) {
    let mut buf = [0u8; 8192];
    let mut filled = 0usize;
    loop {
        let end = loop {
            if let Some(i) = buf[..filled].windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            if filled == buf.len() {
                return;
            }
            let n = libc::read(fd, buf[filled..].as_mut_ptr().cast(), buf.len() - filled);
            if n <= 0 {
                return;
            }
            filled += n as usize;
        };
        let wants_close = buf[..end]
            .windows(17)
            .any(|w| w.eq_ignore_ascii_case(b"connection: close"));
        let response = if wants_close { close } else { keep };
        let mut sent = 0;
        while sent < response.len() {
            let n = libc::write(fd, response[sent..].as_ptr().cast(), response.len() - sent);
            if n <= 0 {
                return;
            }
            sent += n as usize;
        }
        if wants_close {
            return;
        }
        buf.copy_within(end..filled, 0);
        filled -= end;
    }
}
