//! The client's address: who is really on the other end when a front (nginx, Caddy, a load
//! balancer) connects on the client's behalf.
//!
//! The socket's peer is the client unless that peer is trusted (`--trusted-proxy CIDR`). A
//! trusted peer may say who the client is in two ways, and only a trusted peer is believed:
//! - a PROXY protocol header (v1 text or v2 binary) before the HTTP head, with
//!   `--proxy-protocol`: [`proxy_header`] reads it, the child's loop calls it before the head;
//! - `X-Forwarded-For` or `Forwarded` on each request: [`from_headers`] walks the chain from the
//!   right and takes the right-most address that is not trusted. Addresses to its left were
//!   written by whoever sent the request and prove nothing.
//!
//! Everything that cares about the client (the access log, the status endpoint's reader check)
//! uses what this file decides. Pure functions over byte slices, unit-tested below.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

/// An address range such as `10.0.0.0/8` or `::1/128`; a bare address is a /32 or /128.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// Whether `ip` lies in the range. IPv4-mapped IPv6 addresses count as IPv4.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.network, ip.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                masked(u32::from(net).into(), self.prefix, 32)
                    == masked(u32::from(ip).into(), self.prefix, 32)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                masked(u128::from(net), self.prefix, 128)
                    == masked(u128::from(ip), self.prefix, 128)
            }
            _ => false,
        }
    }
}

/// The top `prefix` bits of a `width`-bit number.
fn masked(bits: u128, prefix: u8, width: u8) -> u128 {
    match prefix {
        0 => 0,
        p => bits >> (width - p),
    }
}

impl FromStr for Cidr {
    type Err = String;

    fn from_str(text: &str) -> Result<Cidr, String> {
        let (addr, prefix) = match text.split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (text, None),
        };
        let network: IpAddr = addr
            .parse()
            .map_err(|_| format!("'{text}' is not an address or range such as 10.0.0.0/8"))?;
        let network = network.to_canonical();
        let width = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => width,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|&p| p <= width)
                .ok_or_else(|| format!("'{text}': the prefix length must be 0 to {width}"))?,
        };
        Ok(Cidr { network, prefix })
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

/// Whom the server believes about the client's address.
#[derive(Debug, Clone, Default)]
pub struct Trust {
    /// Peers whose PROXY header and forwarding headers are believed (`--trusted-proxy`).
    pub proxies: Vec<Cidr>,
    /// `--proxy-protocol`: a trusted peer must start with a PROXY header.
    pub proxy_protocol: bool,
}

impl Trust {
    /// Whether `ip` is a trusted front.
    pub fn trusts(&self, ip: IpAddr) -> bool {
        self.proxies.iter().any(|range| range.contains(ip))
    }

    /// Whether a connection from `peer` must start with a PROXY header.
    pub fn expects_proxy_header(&self, peer: Option<IpAddr>) -> bool {
        self.proxy_protocol && peer.is_some_and(|ip| self.trusts(ip))
    }
}

/// What [`proxy_header`] made of the bytes received so far.
#[derive(Debug, PartialEq, Eq)]
pub enum ProxyHeader {
    /// Not complete yet.
    Partial,
    /// A complete header of `len` bytes. `source` is the client it names; `None` for
    /// `UNKNOWN` (v1) or `LOCAL` and non-IP families (v2), where the peer stays the client.
    Complete {
        /// Bytes the header took.
        len: usize,
        /// The client's address, when the header gives one.
        source: Option<IpAddr>,
    },
    /// Not a valid PROXY header.
    Invalid,
}

/// The 12-byte signature that starts a PROXY protocol v2 header.
const V2_SIGNATURE: &[u8; 12] = b"\r\n\r\n\0\r\nQUIT\n";
/// A v1 header is at most 107 bytes, CRLF included.
const V1_MAX: usize = 107;

/// Whether `buf` starts (or could start, being short) like a PROXY header of either version:
/// what an untrusted peer is refused for.
pub fn starts_proxy_header(buf: &[u8]) -> bool {
    let prefix_of = |sig: &[u8]| {
        let n = buf.len().min(sig.len());
        n > 0 && buf[..n] == sig[..n]
    };
    // A v2 signature begins with an empty line, which an HTTP client may also send before
    // its request line (RFC 9112 2.2): only the part past the first CRLF decides.
    (buf.len() >= 5 && prefix_of(V2_SIGNATURE)) || (buf.len() >= 6 && prefix_of(b"PROXY "))
}

/// Reads a PROXY protocol header (v1 or v2) from the start of `buf`.
pub fn proxy_header(buf: &[u8]) -> ProxyHeader {
    if buf.is_empty() {
        return ProxyHeader::Partial;
    }
    let n = buf.len().min(V2_SIGNATURE.len());
    if buf[..n] == V2_SIGNATURE[..n] {
        return proxy_v2(buf);
    }
    let n = buf.len().min(6);
    if buf[..n] == b"PROXY "[..n] {
        return proxy_v1(buf);
    }
    ProxyHeader::Invalid
}

/// `PROXY TCP4|TCP6|UNKNOWN src dst sport dport\r\n`.
fn proxy_v1(buf: &[u8]) -> ProxyHeader {
    let Some(end) = buf.iter().take(V1_MAX).position(|&b| b == b'\n') else {
        return match buf.len() < V1_MAX {
            true => ProxyHeader::Partial,
            false => ProxyHeader::Invalid,
        };
    };
    let Some(line) = buf[..end]
        .strip_suffix(b"\r")
        .and_then(|l| std::str::from_utf8(l).ok())
    else {
        return ProxyHeader::Invalid;
    };
    let words: Vec<&str> = line.split(' ').collect();
    let complete = |source| ProxyHeader::Complete {
        len: end + 1,
        source,
    };
    match words.as_slice() {
        ["PROXY", "UNKNOWN", ..] => complete(None),
        ["PROXY", family, src, dst, sport, dport] => {
            let ports_ok = [sport, dport]
                .iter()
                .all(|p| !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()));
            let (src, dst) = match *family {
                "TCP4" => (
                    src.parse::<Ipv4Addr>().map(IpAddr::V4).ok(),
                    dst.parse::<Ipv4Addr>().ok().map(IpAddr::V4),
                ),
                "TCP6" => (
                    src.parse::<Ipv6Addr>().map(IpAddr::V6).ok(),
                    dst.parse::<Ipv6Addr>().ok().map(IpAddr::V6),
                ),
                _ => return ProxyHeader::Invalid,
            };
            match (src, dst, ports_ok) {
                (Some(src), Some(_), true) => complete(Some(src)),
                _ => ProxyHeader::Invalid,
            }
        }
        _ => ProxyHeader::Invalid,
    }
}

/// Signature, version/command byte, family/transport byte, 16-bit length, addresses, TLVs.
fn proxy_v2(buf: &[u8]) -> ProxyHeader {
    if buf.len() < 16 {
        return ProxyHeader::Partial;
    }
    let version_command = buf[12];
    let family = buf[13];
    let len = 16 + usize::from(u16::from_be_bytes([buf[14], buf[15]]));
    if version_command >> 4 != 2 {
        return ProxyHeader::Invalid;
    }
    // A header longer than a request head could hold is refused rather than waited for.
    if len > super::limits::MAX_HEAD {
        return ProxyHeader::Invalid;
    }
    if buf.len() < len {
        return ProxyHeader::Partial;
    }
    let body = &buf[16..len];
    let source = match (version_command & 0x0f, family) {
        // LOCAL: the front's own connection (a health check); the peer is the client.
        (0x0, _) => None,
        // PROXY over TCP or UDP, IPv4: src(4) dst(4) sport(2) dport(2).
        (0x1, 0x11 | 0x12) if body.len() >= 12 => Some(IpAddr::V4(Ipv4Addr::new(
            body[0], body[1], body[2], body[3],
        ))),
        // IPv6: src(16) dst(16) sport(2) dport(2).
        (0x1, 0x21 | 0x22) if body.len() >= 36 => {
            let mut octets = [0u8; 16];
            octets.copy_from_slice(&body[..16]);
            Some(IpAddr::V6(Ipv6Addr::from(octets)))
        }
        // UNSPEC or a Unix socket: no IP to log; the peer stays the client.
        (0x1, 0x00 | 0x31 | 0x32) => None,
        _ => return ProxyHeader::Invalid,
    };
    ProxyHeader::Complete { len, source }
}

/// The client of one request: `conn` (the peer, or what a PROXY header named) unless it is a
/// trusted front, in which case the forwarding headers are read from the right, and the first
/// address that is not trusted is the client. `Forwarded` (RFC 7239) wins over
/// `X-Forwarded-For` when both are present. Each header is its last line as sent: fronts append
/// to one line, so the right-most entries are there.
///
/// When every address is trusted, the left-most is the client. An entry that is not an IP
/// address (`unknown`, an obfuscated `_node`, garbage) ends the walk: the last address believed
/// so far is the client.
pub fn from_headers(
    conn: Option<IpAddr>,
    forwarded_for: Option<&[u8]>,
    forwarded: Option<&[u8]>,
    trust: &Trust,
) -> Option<IpAddr> {
    let mut client = conn?;
    if !trust.trusts(client) {
        return Some(client);
    }
    let entries: Vec<&[u8]> = match (forwarded, forwarded_for) {
        (Some(value), _) => value
            .split(|&b| b == b',')
            .map(forwarded_for_param)
            .collect(),
        (None, Some(value)) => value.split(|&b| b == b',').collect(),
        (None, None) => return Some(client),
    };
    for entry in entries.iter().rev() {
        let Some(ip) = parse_node(entry) else {
            break;
        };
        client = ip;
        if !trust.trusts(ip) {
            break;
        }
    }
    Some(client)
}

/// The `for=` parameter of one `Forwarded` element (`for=192.0.2.1;proto=https`), or empty.
fn forwarded_for_param(element: &[u8]) -> &[u8] {
    element
        .split(|&b| b == b';')
        .map(super::request::trim)
        .find_map(|pair| {
            let (name, value) = pair.split_at(pair.iter().position(|&b| b == b'=')?);
            name.eq_ignore_ascii_case(b"for").then_some(&value[1..])
        })
        .unwrap_or(b"")
}

/// An address as the headers write it: `192.0.2.1`, `2001:db8::1`, `"[2001:db8::1]:4711"`,
/// `192.0.2.1:4711`, with optional quotes.
fn parse_node(raw: &[u8]) -> Option<IpAddr> {
    let text = std::str::from_utf8(super::request::trim(raw)).ok()?;
    let text = text.trim_matches('"');
    if let Some(rest) = text.strip_prefix('[') {
        return rest.split_once(']')?.0.parse().ok();
    }
    if let Ok(ip) = text.parse() {
        return Some(ip);
    }
    // IPv4 with a port; an IPv6 address without brackets has no port.
    let (host, port) = text.rsplit_once(':')?;
    (!port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()))
        .then(|| host.parse::<Ipv4Addr>().ok().map(IpAddr::V4))
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn trust(ranges: &[&str]) -> Trust {
        Trust {
            proxies: ranges.iter().map(|r| r.parse().unwrap()).collect(),
            proxy_protocol: false,
        }
    }

    #[test]
    fn ranges_parse_and_match() {
        let net: Cidr = "10.1.0.0/16".parse().unwrap();
        assert!(net.contains(ip("10.1.200.3")));
        assert!(net.contains(ip("::ffff:10.1.0.1")));
        assert!(!net.contains(ip("10.2.0.1")));
        assert!(!net.contains(ip("::1")));
        let one: Cidr = "127.0.0.1".parse().unwrap();
        assert!(one.contains(ip("127.0.0.1")) && !one.contains(ip("127.0.0.5")));
        let v6: Cidr = "fd00::/8".parse().unwrap();
        assert!(v6.contains(ip("fd12::1")) && !v6.contains(ip("fe80::1")));
        let all: Cidr = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains(ip("203.0.113.9")));
        for bad in [
            "10.0.0.0/33",
            "::/129",
            "example.org",
            "10.0.0.0/",
            "10/8",
            "",
        ] {
            assert!(bad.parse::<Cidr>().is_err(), "{bad}");
        }
    }

    #[test]
    fn proxy_v1_headers() {
        let h = b"PROXY TCP4 203.0.113.7 127.0.0.1 51000 8080\r\nGET / HTTP/1.1\r\n";
        assert_eq!(
            proxy_header(h),
            ProxyHeader::Complete {
                len: 45,
                source: Some(ip("203.0.113.7"))
            }
        );
        let h6 = b"PROXY TCP6 2001:db8::7 ::1 51000 443\r\n";
        assert!(matches!(proxy_header(h6),
            ProxyHeader::Complete { source: Some(s), .. } if s == ip("2001:db8::7")));
        assert!(matches!(
            proxy_header(b"PROXY UNKNOWN\r\n"),
            ProxyHeader::Complete { source: None, .. }
        ));
        assert_eq!(proxy_header(b"PRO"), ProxyHeader::Partial);
        assert_eq!(proxy_header(b"PROXY TCP4 1.2.3.4"), ProxyHeader::Partial);
        for bad in [
            &b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n"[..], // no CR
            b"PROXY TCP4 ::1 ::1 1 2\r\n",
            b"PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n",
            b"PROXY TCP4 1.2.3.4 5.6.7.8 x 2\r\n",
            b"PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n",
            b"GET / HTTP/1.1\r\n",
        ] {
            assert_eq!(proxy_header(bad), ProxyHeader::Invalid, "{bad:?}");
        }
        assert_eq!(proxy_header(&[b'P'; 200]), ProxyHeader::Invalid);
        let long = [&b"PROXY "[..], &[b'x'; 150]].concat();
        assert_eq!(proxy_header(&long), ProxyHeader::Invalid);
    }

    fn v2(command: u8, family: u8, body: &[u8]) -> Vec<u8> {
        let mut out = V2_SIGNATURE.to_vec();
        out.extend_from_slice(&[0x20 | command, family]);
        out.extend_from_slice(&(body.len() as u16).to_be_bytes());
        out.extend_from_slice(body);
        out
    }

    #[test]
    fn proxy_v2_headers() {
        let mut body = vec![198, 51, 100, 4, 127, 0, 0, 1, 0xc3, 0x50, 0x1f, 0x90];
        body.extend_from_slice(&[0x04, 0x00, 0x01, 0xff]); // a TLV, skipped
        let h = v2(1, 0x11, &body);
        assert_eq!(
            proxy_header(&h),
            ProxyHeader::Complete {
                len: h.len(),
                source: Some(ip("198.51.100.4"))
            }
        );
        for cut in 1..h.len() {
            assert_eq!(proxy_header(&h[..cut]), ProxyHeader::Partial, "{cut}");
        }
        let mut body6 = ip6("2001:db8::9").to_vec();
        body6.extend_from_slice(&ip6("::1"));
        body6.extend_from_slice(&[0, 1, 0, 2]);
        assert!(matches!(proxy_header(&v2(1, 0x21, &body6)),
            ProxyHeader::Complete { source: Some(s), .. } if s == ip("2001:db8::9")));
        assert!(matches!(
            proxy_header(&v2(0, 0x00, &[])),
            ProxyHeader::Complete {
                source: None,
                len: 16
            }
        ));
        assert_eq!(proxy_header(&v2(1, 0x11, &[1, 2, 3])), ProxyHeader::Invalid);
        assert_eq!(proxy_header(&v2(7, 0x11, &body)), ProxyHeader::Invalid);
        let mut version1 = h.clone();
        version1[12] = 0x11;
        assert_eq!(proxy_header(&version1), ProxyHeader::Invalid);
        let mut huge = v2(1, 0x11, &body);
        huge[14..16].copy_from_slice(&60000u16.to_be_bytes());
        assert_eq!(proxy_header(&huge), ProxyHeader::Invalid);
    }

    fn ip6(text: &str) -> [u8; 16] {
        text.parse::<Ipv6Addr>().unwrap().octets()
    }

    #[test]
    fn proxy_headers_are_recognised_for_refusal() {
        assert!(starts_proxy_header(b"PROXY TCP4"));
        assert!(starts_proxy_header(&V2_SIGNATURE[..8]));
        assert!(!starts_proxy_header(b"\r\nGET / HTTP/1.1\r\n"));
        assert!(!starts_proxy_header(b"GET / HTTP/1.1\r\n"));
        assert!(!starts_proxy_header(b"PRO"));
    }

    #[test]
    fn forwarding_headers_believed_only_from_trusted_fronts() {
        let t = trust(&["127.0.0.1", "10.0.0.0/8"]);
        let xff = |conn: &str, value: &str| {
            from_headers(Some(ip(conn)), Some(value.as_bytes()), None, &t)
        };
        assert_eq!(xff("203.0.113.1", "127.0.0.5"), Some(ip("203.0.113.1")));
        assert_eq!(xff("127.0.0.1", "127.0.0.5"), Some(ip("127.0.0.5")));
        assert_eq!(
            xff("127.0.0.1", "6.6.6.6, 198.51.100.2, 10.0.0.3"),
            Some(ip("198.51.100.2"))
        );
        assert_eq!(xff("127.0.0.1", "10.0.0.9, 10.0.0.3"), Some(ip("10.0.0.9")));
        assert_eq!(xff("127.0.0.1", "unknown, 10.0.0.3"), Some(ip("10.0.0.3")));
        assert_eq!(xff("127.0.0.1", "garbage"), Some(ip("127.0.0.1")));
        assert_eq!(
            xff("127.0.0.1", "198.51.100.2:5555"),
            Some(ip("198.51.100.2"))
        );
        assert_eq!(xff("127.0.0.1", "2001:db8::5"), Some(ip("2001:db8::5")));
        let fwd = |value: &str| {
            from_headers(
                Some(ip("127.0.0.1")),
                Some(b"9.9.9.9"),
                Some(value.as_bytes()),
                &t,
            )
        };
        assert_eq!(
            fwd("for=192.0.2.60;proto=http;by=203.0.113.43"),
            Some(ip("192.0.2.60"))
        );
        assert_eq!(
            fwd("for=192.0.2.43, for=\"[2001:db8:cafe::17]:4711\""),
            Some(ip("2001:db8:cafe::17"))
        );
        assert_eq!(fwd("For=_hidden, for=10.1.1.1"), Some(ip("10.1.1.1")));
        assert_eq!(
            from_headers(Some(ip("127.0.0.1")), None, None, &t),
            Some(ip("127.0.0.1"))
        );
        assert_eq!(from_headers(None, Some(b"1.1.1.1"), None, &t), None);
    }
}
