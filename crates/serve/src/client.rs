//! The client's address: who is really on the other end when a front (nginx, Caddy, a load
//! balancer) connects on the client's behalf.
//!
//! The socket's peer is the client unless that peer is trusted (`--trusted-proxy CIDR`). A
//! trusted peer names the client in the one way the operator chose (`--client-from`, see
//! [`ClientFrom`]); every other way is ignored, because a front passes on whatever headers it
//! does not set itself, and a client's own `Forwarded` or `X-Real-IP` would otherwise be read as
//! the front's word:
//! - a PROXY protocol header (v1 text or v2 binary) before the HTTP head: [`proxy_header`] reads
//!   it, the child's loop calls it before the head;
//! - `X-Forwarded-For` or `Forwarded` on each request: [`from_headers`] walks the chain from the
//!   right and takes the right-most address that is not trusted. Addresses to its left were
//!   written by whoever sent the request and prove nothing;
//! - `X-Real-IP`: one address, set by the front.
//!
//! A trusted front that says it does not know the client (`for=unknown`, an obfuscated `_node`,
//! `PROXY UNKNOWN`, garbage) leaves the client unknown (`None`: `-` in the access log, never a
//! reader of the status endpoint): taking the front's own address instead would make every such
//! request the machine itself. A request without the chosen header did not come through the
//! front (a check on the machine itself): its peer is the client.
//!
//! Everything that cares about the client (the access log, the status endpoint's reader check)
//! uses what this file decides. Pure functions over byte slices, unit-tested below.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use super::request::Request;

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

/// Where a trusted front names the client (`--client-from`): one source per deployment, the
/// one the front sets; the others are ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ClientFrom {
    /// The peer is always the client; no front is believed.
    Peer,
    /// A PROXY protocol header before the first request, required from every trusted peer.
    ProxyProtocol,
    /// `X-Forwarded-For`, read from the right. The default: what nginx, Caddy, HAProxy and
    /// most load balancers send, and what the configs in deploy/ set; an operator who names a
    /// front with `--trusted-proxy` alone gets the header that front most likely sets, and a
    /// client's own `Forwarded` or `X-Real-IP` is never read. (`Peer` as the default would make
    /// every client the front, and the status endpoint public through it.)
    #[default]
    XForwardedFor,
    /// `Forwarded` (RFC 7239), its `for=` parameters read from the right.
    Forwarded,
    /// `X-Real-IP`: one address.
    XRealIp,
}

impl ClientFrom {
    /// Every choice, as `--client-from` spells it.
    const ALL: [ClientFrom; 5] = [
        ClientFrom::Peer,
        ClientFrom::ProxyProtocol,
        ClientFrom::XForwardedFor,
        ClientFrom::Forwarded,
        ClientFrom::XRealIp,
    ];

    /// The flag's spelling.
    pub fn name(self) -> &'static str {
        match self {
            ClientFrom::Peer => "peer",
            ClientFrom::ProxyProtocol => "proxy-protocol",
            ClientFrom::XForwardedFor => "x-forwarded-for",
            ClientFrom::Forwarded => "forwarded",
            ClientFrom::XRealIp => "x-real-ip",
        }
    }
}

impl FromStr for ClientFrom {
    type Err = String;

    fn from_str(text: &str) -> Result<ClientFrom, String> {
        ClientFrom::ALL
            .into_iter()
            .find(|c| c.name().eq_ignore_ascii_case(text))
            .ok_or_else(|| {
                let names: Vec<&str> = ClientFrom::ALL.iter().map(|c| c.name()).collect();
                format!("'{text}' is not one of {}", names.join(", "))
            })
    }
}

/// Whom the server believes about the client's address.
#[derive(Debug, Clone, Default)]
pub struct Trust {
    /// Peers whose word about the client is believed (`--trusted-proxy`).
    pub proxies: Vec<Cidr>,
    /// Where they give it (`--client-from`).
    pub client_from: ClientFrom,
}

impl Trust {
    /// Whether `ip` is a trusted front.
    pub fn trusts(&self, ip: IpAddr) -> bool {
        self.proxies.iter().any(|range| range.contains(ip))
    }

    /// Whether a connection from `peer` must start with a PROXY header.
    pub fn expects_proxy_header(&self, peer: Option<IpAddr>) -> bool {
        self.client_from == ClientFrom::ProxyProtocol && peer.is_some_and(|ip| self.trusts(ip))
    }

    /// The trust on the HTTPS listener: a front that terminates TLS itself talks to the plain
    /// listener, and inside TLS there is no PROXY header to read, so a trusted peer there is the
    /// client. The headers are read as on the plain listener.
    pub fn inside_tls(&self) -> Trust {
        let client_from = match self.client_from {
            ClientFrom::ProxyProtocol => ClientFrom::Peer,
            other => other,
        };
        Trust {
            proxies: self.proxies.clone(),
            client_from,
        }
    }
}

/// What [`proxy_header`] made of the bytes received so far.
#[derive(Debug, PartialEq, Eq)]
pub enum ProxyHeader {
    /// Not complete yet.
    Partial,
    /// A complete header of `len` bytes, naming `source`.
    Complete {
        /// Bytes the header took.
        len: usize,
        /// Whom the header names.
        source: Proxied,
    },
    /// Not a valid PROXY header.
    Invalid,
}

/// Whom a complete PROXY header names.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub enum Proxied {
    /// A client at this address.
    Client(IpAddr),
    /// Nobody: the front's own connection (v2 `LOCAL`, a health check); the peer is the client.
    Local,
    /// A client the front cannot name (v1 `UNKNOWN`, v2 `UNSPEC` or a Unix socket).
    Unknown,
}

impl Proxied {
    /// The connection's client, given its `peer`.
    pub fn client(self, peer: Option<IpAddr>) -> Option<IpAddr> {
        match self {
            Proxied::Client(ip) => Some(ip),
            Proxied::Local => peer,
            Proxied::Unknown => None,
        }
    }
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
        ["PROXY", "UNKNOWN", ..] => complete(Proxied::Unknown),
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
                (Some(src), Some(_), true) => complete(Proxied::Client(src)),
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
        (0x0, _) => Proxied::Local,
        // PROXY over TCP or UDP, IPv4: src(4) dst(4) sport(2) dport(2).
        (0x1, 0x11 | 0x12) if body.len() >= 12 => Proxied::Client(IpAddr::V4(Ipv4Addr::new(
            body[0], body[1], body[2], body[3],
        ))),
        // IPv6: src(16) dst(16) sport(2) dport(2).
        (0x1, 0x21 | 0x22) if body.len() >= 36 => {
            let mut octets = [0u8; 16];
            octets.copy_from_slice(&body[..16]);
            Proxied::Client(IpAddr::V6(Ipv6Addr::from(octets)))
        }
        // UNSPEC or a Unix socket: a client with no address to give.
        (0x1, 0x00 | 0x31 | 0x32) => Proxied::Unknown,
        _ => return ProxyHeader::Invalid,
    };
    ProxyHeader::Complete { len, source }
}

/// The client of one request: `conn` (the peer, or whom a PROXY header named) unless it is a
/// trusted front and `--client-from` names a header, which is then read and every other
/// forwarding header ignored. Each header is its last line as sent: fronts append to one line,
/// or add their line last.
///
/// `X-Forwarded-For` and `Forwarded` are read from the right, and the first address that is not
/// trusted is the client; when every address is trusted, the left-most. An entry that is not an
/// address (`unknown`, an obfuscated `_node`, an element without `for=`, garbage) makes the
/// client unknown (`None`), as does an `X-Real-IP` that is not one address. Without the chosen
/// header the peer is the client.
pub fn from_headers(conn: Option<IpAddr>, request: &Request<'_>, trust: &Trust) -> Option<IpAddr> {
    let peer = conn?;
    if !trust.trusts(peer) {
        return Some(peer);
    }
    let (value, elements) = match trust.client_from {
        ClientFrom::Peer | ClientFrom::ProxyProtocol => return Some(peer),
        ClientFrom::XRealIp => return request.real_ip.map_or(Some(peer), parse_node),
        ClientFrom::XForwardedFor => (request.forwarded_for, false),
        ClientFrom::Forwarded => (request.forwarded, true),
    };
    let Some(value) = value else {
        return Some(peer);
    };
    let mut client = peer;
    for entry in value.split(|&b| b == b',').rev() {
        let node = match elements {
            true => forwarded_for_param(entry),
            false => entry,
        };
        client = parse_node(node)?;
        if !trust.trusts(client) {
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

    fn trust(ranges: &[&str], client_from: ClientFrom) -> Trust {
        Trust {
            proxies: ranges.iter().map(|r| r.parse().unwrap()).collect(),
            client_from,
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
                source: Proxied::Client(ip("203.0.113.7"))
            }
        );
        let h6 = b"PROXY TCP6 2001:db8::7 ::1 51000 443\r\n";
        assert!(matches!(proxy_header(h6),
            ProxyHeader::Complete { source: Proxied::Client(s), .. } if s == ip("2001:db8::7")));
        assert!(matches!(
            proxy_header(b"PROXY UNKNOWN\r\n"),
            ProxyHeader::Complete {
                source: Proxied::Unknown,
                ..
            }
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
                source: Proxied::Client(ip("198.51.100.4"))
            }
        );
        for cut in 1..h.len() {
            assert_eq!(proxy_header(&h[..cut]), ProxyHeader::Partial, "{cut}");
        }
        let mut body6 = ip6("2001:db8::9").to_vec();
        body6.extend_from_slice(&ip6("::1"));
        body6.extend_from_slice(&[0, 1, 0, 2]);
        assert!(matches!(proxy_header(&v2(1, 0x21, &body6)),
            ProxyHeader::Complete { source: Proxied::Client(s), .. } if s == ip("2001:db8::9")));
        assert!(matches!(
            proxy_header(&v2(0, 0x00, &[])),
            ProxyHeader::Complete {
                source: Proxied::Local,
                len: 16
            }
        ));
        assert!(matches!(
            proxy_header(&v2(1, 0x00, &[])),
            ProxyHeader::Complete {
                source: Proxied::Unknown,
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
    fn what_a_proxy_header_names_becomes_the_client() {
        let peer = Some(ip("127.0.0.1"));
        assert_eq!(
            Proxied::Client(ip("192.0.2.1")).client(peer),
            Some(ip("192.0.2.1"))
        );
        assert_eq!(Proxied::Local.client(peer), peer);
        assert_eq!(Proxied::Unknown.client(peer), None);
    }

    /// A request head carrying `headers`, parsed as the child parses it.
    fn with_headers(headers: &str, check: impl FnOnce(&Request<'_>)) {
        let head = format!("GET / HTTP/1.1\r\nHost: t\r\n{headers}\r\n");
        match super::super::request::parse(head.as_bytes()) {
            super::super::request::Parsed::Complete { request, .. } => check(&request),
            other => panic!("{other:?}"),
        }
    }

    /// The client `from_headers` finds for a request with `headers` from `conn`.
    fn client_of(conn: &str, headers: &str, trust: &Trust) -> Option<IpAddr> {
        let mut found = None;
        with_headers(headers, |r| found = from_headers(Some(ip(conn)), r, trust));
        found
    }

    /// What a client forges: every header a front might be told to read, each claiming the
    /// machine itself.
    const FORGED: &str = "Forwarded: for=127.0.0.1\r\nX-Forwarded-For: 127.0.0.1\r\n\
                          X-Real-IP: 127.0.0.1\r\n";

    #[test]
    fn only_the_chosen_source_is_read() {
        let front = &["127.0.0.1"];
        // What each shipped front sends after the client's forged headers: its own value of
        // the chosen header (nginx replaces it; the client's copy is gone), the others deleted.
        let from =
            |choice: ClientFrom, sent: &str| client_of("127.0.0.1", sent, &trust(front, choice));
        let xff = ClientFrom::XForwardedFor;
        assert_eq!(
            from(xff, "X-Forwarded-For: 192.0.2.9\r\n"),
            Some(ip("192.0.2.9"))
        );
        assert_eq!(
            from(ClientFrom::Forwarded, "Forwarded: for=192.0.2.9\r\n"),
            Some(ip("192.0.2.9"))
        );
        assert_eq!(
            from(ClientFrom::XRealIp, "X-Real-IP: 192.0.2.9\r\n"),
            Some(ip("192.0.2.9"))
        );
        // A forged header the operator did not choose is ignored, whichever it is.
        for (choice, own) in [
            (xff, "X-Forwarded-For: 192.0.2.9\r\n"),
            (ClientFrom::Forwarded, "Forwarded: for=192.0.2.9\r\n"),
            (ClientFrom::XRealIp, "X-Real-IP: 192.0.2.9\r\n"),
        ] {
            for forged in [
                "Forwarded: for=127.0.0.1\r\n",
                "X-Forwarded-For: 127.0.0.1\r\n",
                "X-Real-IP: 127.0.0.1\r\n",
            ] {
                if forged.split(':').next() == own.split(':').next() {
                    continue;
                }
                let both = format!("{forged}{own}");
                assert_eq!(
                    from(choice, &both),
                    Some(ip("192.0.2.9")),
                    "{choice:?} {forged}"
                );
                // The chosen header missing: the peer, never the forged address.
                assert_eq!(
                    client_of("127.0.0.9", forged, &trust(&["127.0.0.9"], choice)),
                    Some(ip("127.0.0.9")),
                    "{choice:?} {forged}"
                );
            }
        }
        // Peer and PROXY protocol read no header at all.
        for choice in [ClientFrom::Peer, ClientFrom::ProxyProtocol] {
            assert_eq!(
                client_of("127.0.0.9", FORGED, &trust(&["127.0.0.9"], choice)),
                Some(ip("127.0.0.9")),
                "{choice:?}"
            );
        }
        // From a peer that is not trusted, nothing is read, whatever the choice.
        for choice in ClientFrom::ALL {
            assert_eq!(
                client_of("127.0.0.9", FORGED, &trust(front, choice)),
                Some(ip("127.0.0.9")),
                "{choice:?}"
            );
        }
    }

    #[test]
    fn a_front_appending_to_a_forged_value_still_names_the_client() {
        // nginx's $proxy_add_x_forwarded_for, or a front that appends a Forwarded element.
        let t = trust(&["127.0.0.1"], ClientFrom::XForwardedFor);
        let forged = "X-Forwarded-For: 127.0.0.1, 127.0.0.9\r\n";
        assert_eq!(client_of("127.0.0.1", forged, &t), Some(ip("127.0.0.9")));
        let t = trust(&["127.0.0.1"], ClientFrom::Forwarded);
        let forged = "Forwarded: for=127.0.0.1, for=127.0.0.9\r\n";
        assert_eq!(client_of("127.0.0.1", forged, &t), Some(ip("127.0.0.9")));
        // A client's own line before the front's: the front's (last) line is read.
        let t = trust(&["127.0.0.1"], ClientFrom::XRealIp);
        let two = "X-Real-IP: 127.0.0.1\r\nX-Real-IP: 127.0.0.9\r\n";
        assert_eq!(client_of("127.0.0.1", two, &t), Some(ip("127.0.0.9")));
    }

    #[test]
    fn an_address_nobody_gave_is_unknown_not_the_front() {
        let fwd = [
            "for=unknown",
            "for=_hidden",
            "for=\"_hidden:1234\"",
            "proto=https",
            "for=",
            "for=unknown, for=127.0.0.1",
            "for=198.51.100.2, for=unknown",
        ];
        let xff = [
            "unknown",
            "garbage",
            "",
            "198.51.100.2, unknown",
            "127.0.0.1, x",
        ];
        let real = ["unknown", "198.51.100.2, 127.0.0.9", "_hidden", ""];
        for (choice, name, values) in [
            (ClientFrom::Forwarded, "Forwarded", &fwd[..]),
            (ClientFrom::XForwardedFor, "X-Forwarded-For", &xff[..]),
            (ClientFrom::XRealIp, "X-Real-IP", &real[..]),
        ] {
            let t = trust(&["127.0.0.1"], choice);
            for value in values {
                let header = format!("{name}: {value}\r\n");
                assert_eq!(client_of("127.0.0.1", &header, &t), None, "{header}");
            }
        }
    }

    #[test]
    fn choices_parse_by_their_flag_names() {
        for choice in ClientFrom::ALL {
            assert_eq!(choice.name().parse::<ClientFrom>(), Ok(choice));
        }
        assert_eq!("X-Real-IP".parse::<ClientFrom>(), Ok(ClientFrom::XRealIp));
        let err = "xff".parse::<ClientFrom>().unwrap_err();
        assert!(
            err.contains("x-forwarded-for") && err.contains("peer"),
            "{err}"
        );
        assert_eq!(ClientFrom::default(), ClientFrom::XForwardedFor);
    }

    #[test]
    fn proxy_protocol_is_expected_on_the_plain_listener_only() {
        let t = trust(&["127.0.0.1"], ClientFrom::ProxyProtocol);
        assert!(t.expects_proxy_header(Some(ip("127.0.0.1"))));
        assert!(!t.expects_proxy_header(Some(ip("127.0.0.9"))));
        assert!(!t.expects_proxy_header(None));
        assert!(!t.inside_tls().expects_proxy_header(Some(ip("127.0.0.1"))));
        let x = trust(&["127.0.0.1"], ClientFrom::XForwardedFor);
        assert!(!x.expects_proxy_header(Some(ip("127.0.0.1"))));
        assert_eq!(x.inside_tls().client_from, ClientFrom::XForwardedFor);
    }

    #[test]
    fn forwarding_headers_believed_only_from_trusted_fronts() {
        let t = trust(&["127.0.0.1", "10.0.0.0/8"], ClientFrom::XForwardedFor);
        let xff =
            |conn: &str, value: &str| client_of(conn, &format!("X-Forwarded-For: {value}\r\n"), &t);
        assert_eq!(xff("203.0.113.1", "127.0.0.5"), Some(ip("203.0.113.1")));
        assert_eq!(xff("127.0.0.1", "127.0.0.5"), Some(ip("127.0.0.5")));
        assert_eq!(
            xff("127.0.0.1", "6.6.6.6, 198.51.100.2, 10.0.0.3"),
            Some(ip("198.51.100.2"))
        );
        assert_eq!(xff("127.0.0.1", "10.0.0.9, 10.0.0.3"), Some(ip("10.0.0.9")));
        assert_eq!(
            xff("127.0.0.1", "198.51.100.2:5555"),
            Some(ip("198.51.100.2"))
        );
        assert_eq!(xff("127.0.0.1", "2001:db8::5"), Some(ip("2001:db8::5")));
        let t = trust(&["127.0.0.1", "10.0.0.0/8"], ClientFrom::Forwarded);
        let fwd = |value: &str| {
            let headers = format!("X-Forwarded-For: 9.9.9.9\r\nForwarded: {value}\r\n");
            client_of("127.0.0.1", &headers, &t)
        };
        assert_eq!(
            fwd("for=192.0.2.60;proto=http;by=203.0.113.43"),
            Some(ip("192.0.2.60"))
        );
        assert_eq!(
            fwd("for=192.0.2.43, for=\"[2001:db8:cafe::17]:4711\""),
            Some(ip("2001:db8:cafe::17"))
        );
        assert_eq!(fwd("For=_hidden, for=10.1.1.1"), None);
        assert_eq!(
            fwd("For=198.51.100.7, for=10.1.1.1"),
            Some(ip("198.51.100.7"))
        );
        assert_eq!(client_of("127.0.0.1", "", &t), Some(ip("127.0.0.1")));
        with_headers("X-Forwarded-For: 1.1.1.1\r\n", |r| {
            assert_eq!(from_headers(None, r, &t), None)
        });
    }
}
