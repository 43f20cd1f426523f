//! Whether a request that names a crawler comes from that crawler: the operators' published
//! address ranges ([`Ranges`], shipped in `crawler-ranges.txt` with the source and date of each
//! list), and, only when asked (`--verify-dns`), the reverse-then-forward DNS check the
//! operators document, through a [`Resolver`], bounded in time and cached per address.
//!
//! A claim that fails is an impostor. A claim with no check to make (an operator that
//! publishes no ranges, without `--verify-dns`; a client logged as a host name) is unchecked.

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, Ipv6Addr, SocketAddr, UdpSocket};
use std::sync::LazyLock;
use std::time::{Duration, Instant};

/// The shipped ranges file (see its header for where each list came from and how to refresh it).
const SHIPPED: &str = include_str!("crawler-ranges.txt");

/// How long one DNS query may wait for its answer.
const QUERY_TIMEOUT: Duration = Duration::from_secs(2);

/// How long all DNS checks of one run may take together; later claims stay unchecked.
const DNS_BUDGET: Duration = Duration::from_secs(60);

/// What a crawler's claim came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Status {
    /// The address is in the operator's ranges, or passed the DNS check.
    Verified,
    /// The address is outside the operator's ranges, or failed the DNS check.
    Impostor,
    /// Nothing to check against (or the DNS budget ran out).
    Unchecked,
}

/// One operator list: the crawlers it covers, their DNS domains and address ranges.
#[derive(Debug, Clone, Default)]
struct Section {
    agents: Vec<String>,
    rdns: Vec<String>,
    /// Networks as IPv6 (IPv4 mapped into `::ffff:0:0/96`), masked, by prefix length over 128
    /// bits: a lookup is one hash probe per prefix length, however many ranges a list has.
    nets: Vec<(u8, HashSet<u128>)>,
}

/// Published crawler address ranges and DNS domains, by crawler name.
#[derive(Debug, Clone, Default)]
pub struct Ranges {
    sections: Vec<Section>,
}

static SHIPPED_RANGES: LazyLock<Ranges> = LazyLock::new(|| {
    // The shipped file is checked by a unit test; an error here would leave every claim unchecked.
    Ranges::parse(SHIPPED).unwrap_or_default()
});

impl Ranges {
    /// The ranges shipped with forkblog.
    pub fn shipped() -> Ranges {
        SHIPPED_RANGES.clone()
    }

    /// Reads a ranges file (the format of `crawler-ranges.txt`); the error names the line.
    pub fn parse(text: &str) -> Result<Ranges, String> {
        let mut sections: Vec<Section> = Vec::new();
        for (n, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if line.starts_with('[') && line.ends_with(']') {
                sections.push(Section::default());
                continue;
            }
            let section = sections
                .last_mut()
                .ok_or_else(|| format!("line {}: {line:?} before any [section]", n + 1))?;
            if let Some((net, len)) = parse_net(line) {
                let masked = net & mask(len);
                match section.nets.iter_mut().find(|(l, _)| *l == len) {
                    Some((_, set)) => {
                        set.insert(masked);
                    }
                    None => section.nets.push((len, HashSet::from([masked]))),
                }
                continue;
            }
            let (key, value) = line
                .split_once(':')
                .ok_or_else(|| format!("line {}: {line:?} is not a range", n + 1))?;
            let words = value.split_whitespace().map(str::to_ascii_lowercase);
            match key.trim() {
                "agents" => section.agents = words.map(|w| w.replace('_', " ")).collect(),
                "rdns" => section.rdns = words.collect(),
                "operator" | "url" | "fetched" => {}
                other => return Err(format!("line {}: unknown key {other:?}", n + 1)),
            }
        }
        Ok(Ranges { sections })
    }

    /// The section covering the crawler called `name` (ignoring case), if any.
    fn section_for(&self, name: &str) -> Option<usize> {
        let name = name.to_ascii_lowercase();
        self.sections.iter().position(|s| s.agents.contains(&name))
    }

    /// True when `ip` is in one of section `i`'s ranges.
    fn contains(&self, i: usize, ip: IpAddr) -> bool {
        let addr = as_u128(ip);
        self.sections[i]
            .nets
            .iter()
            .any(|(len, set)| set.contains(&(addr & mask(*len))))
    }
}

/// The mask of a prefix `len` bits long.
fn mask(len: u8) -> u128 {
    if len == 0 {
        0
    } else {
        u128::MAX << (128 - u32::from(len))
    }
}

/// `192.0.2.0/24` or `2001:db8::/32` as a network in 128 bits.
fn parse_net(text: &str) -> Option<(u128, u8)> {
    let (addr, len) = text.split_once('/')?;
    let ip: IpAddr = addr.trim().parse().ok()?;
    let len: u8 = len.trim().parse().ok()?;
    let len = match ip {
        IpAddr::V4(_) if len <= 32 => len + 96,
        IpAddr::V6(_) if len <= 128 => len,
        _ => return None,
    };
    Some((as_u128(ip), len))
}

fn as_u128(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(v4) => u128::from(v4.to_ipv6_mapped()),
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map_or(u128::from(v6), |v4| u128::from(v4.to_ipv6_mapped())),
    }
}

/// Reverse and forward DNS lookups; tests give a stub, `--verify-dns` the system's resolver.
pub trait Resolver {
    /// The names an address's PTR records give (`crawl-66-249-66-1.googlebot.com`).
    fn reverse(&mut self, ip: IpAddr) -> Vec<String>;
    /// The addresses a name's A and AAAA records give.
    fn forward(&mut self, name: &str) -> Vec<IpAddr>;
}

/// Decides crawler claims, caching each decision per address and operator list.
pub struct Verifier {
    ranges: Ranges,
    resolver: Option<Box<dyn Resolver>>,
    decided: HashMap<(IpAddr, usize), Status>,
    by_name: HashMap<String, Option<usize>>,
    deadline: Option<Instant>,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("dns", &self.resolver.is_some())
            .field("decided", &self.decided.len())
            .finish()
    }
}

impl Verifier {
    /// A verifier on `ranges`; DNS checks only when a `resolver` is given.
    pub fn new(ranges: Ranges, resolver: Option<Box<dyn Resolver>>) -> Verifier {
        Verifier {
            ranges,
            resolver,
            decided: HashMap::new(),
            by_name: HashMap::new(),
            deadline: None,
        }
    }

    /// True when the crawler called `name` has a check its operator documents.
    pub fn checks(&mut self, name: &str) -> bool {
        self.section(name).is_some()
    }

    fn section(&mut self, name: &str) -> Option<usize> {
        if let Some(&s) = self.by_name.get(name) {
            return s;
        }
        let s = self.ranges.section_for(name);
        self.by_name.insert(name.to_string(), s);
        s
    }

    /// Whether a request from `client` (the logged address text) naming crawler `name` is that
    /// crawler; `None` when no check is documented for `name`.
    pub fn check(&mut self, name: &str, client: &[u8]) -> Option<Status> {
        let section = self.section(name)?;
        let Some(ip) = std::str::from_utf8(client)
            .ok()
            .and_then(|c| c.trim().parse::<IpAddr>().ok())
        else {
            return Some(Status::Unchecked);
        };
        if let Some(&status) = self.decided.get(&(ip, section)) {
            return Some(status);
        }
        let status = self.decide(section, ip);
        self.decided.insert((ip, section), status);
        Some(status)
    }

    fn decide(&mut self, section: usize, ip: IpAddr) -> Status {
        if self.ranges.contains(section, ip) {
            return Status::Verified;
        }
        let has_ranges = !self.ranges.sections[section].nets.is_empty();
        let suffixes = self.ranges.sections[section].rdns.clone();
        let Some(resolver) = self.resolver.as_mut() else {
            // The operator publishes its whole list: an address outside it is not the crawler.
            return if has_ranges {
                Status::Impostor
            } else {
                Status::Unchecked
            };
        };
        if suffixes.is_empty() {
            return if has_ranges {
                Status::Impostor
            } else {
                Status::Unchecked
            };
        }
        let deadline = *self
            .deadline
            .get_or_insert_with(|| Instant::now() + DNS_BUDGET);
        if Instant::now() >= deadline {
            return if has_ranges {
                Status::Impostor
            } else {
                Status::Unchecked
            };
        }
        // Reverse, then forward: the name must be in the operator's domain and lead back here.
        let confirmed = resolver
            .reverse(ip)
            .iter()
            .map(|n| n.trim_end_matches('.').to_ascii_lowercase())
            .filter(|n| {
                suffixes
                    .iter()
                    .any(|s| n == s || n.ends_with(&format!(".{s}")))
            })
            .take(2)
            .any(|n| resolver.forward(&n).contains(&ip));
        if confirmed {
            Status::Verified
        } else {
            Status::Impostor
        }
    }
}

/// The system's resolver (the first `nameserver` of `/etc/resolv.conf`), asked over UDP with
/// a timeout on every query.
pub struct SystemResolver {
    server: SocketAddr,
    next_id: u16,
}

impl SystemResolver {
    /// The resolver `/etc/resolv.conf` names; `None` when it names none.
    pub fn from_system() -> Option<SystemResolver> {
        let conf = std::fs::read_to_string("/etc/resolv.conf").ok()?;
        let server = conf.lines().find_map(|l| {
            let mut words = l.split_whitespace();
            (words.next() == Some("nameserver")).then(|| words.next())?
        })?;
        let ip: IpAddr = server.split('%').next()?.parse().ok()?;
        Some(SystemResolver {
            server: SocketAddr::new(ip, 53),
            next_id: std::process::id() as u16,
        })
    }

    /// The answers of type `qtype` to a query for `name`, or none on any failure.
    fn query(&mut self, name: &str, qtype: u16) -> Vec<Vec<u8>> {
        self.next_id = self.next_id.wrapping_add(1);
        let id = self.next_id;
        let Some(packet) = dns_query(id, name, qtype) else {
            return Vec::new();
        };
        let bind: SocketAddr = if self.server.is_ipv4() {
            ([0, 0, 0, 0], 0).into()
        } else {
            (Ipv6Addr::UNSPECIFIED, 0).into()
        };
        let answer = (|| {
            let socket = UdpSocket::bind(bind).ok()?;
            socket.set_read_timeout(Some(QUERY_TIMEOUT)).ok()?;
            socket.connect(self.server).ok()?;
            socket.send(&packet).ok()?;
            let mut buf = [0u8; 1500];
            let n = socket.recv(&mut buf).ok()?;
            Some(dns_answers(&buf[..n], id, qtype))
        })();
        answer.unwrap_or_default()
    }
}

impl Resolver for SystemResolver {
    fn reverse(&mut self, ip: IpAddr) -> Vec<String> {
        self.query(&reverse_name(ip), 12)
            .iter()
            .filter_map(|name| String::from_utf8(name.clone()).ok())
            .collect()
    }

    fn forward(&mut self, name: &str) -> Vec<IpAddr> {
        let mut out = Vec::new();
        for (qtype, len) in [(1u16, 4usize), (28, 16)] {
            for data in self.query(name, qtype) {
                match (len, data.len()) {
                    (4, 4) => out.push(IpAddr::from([data[0], data[1], data[2], data[3]])),
                    (16, 16) => {
                        let mut b = [0u8; 16];
                        b.copy_from_slice(&data);
                        out.push(IpAddr::from(b));
                    }
                    _ => {}
                }
            }
        }
        out
    }
}

/// `1.66.249.66.in-addr.arpa` for `66.249.66.1`; nibbles under `ip6.arpa` for IPv6.
pub fn reverse_name(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            format!("{}.{}.{}.{}.in-addr.arpa", o[3], o[2], o[1], o[0])
        }
        IpAddr::V6(v6) => {
            let mut name = String::with_capacity(72);
            for byte in v6.octets().iter().rev() {
                name.push_str(&format!("{:x}.{:x}.", byte & 0xf, byte >> 4));
            }
            name + "ip6.arpa"
        }
    }
}

/// A recursive DNS query for `name` of type `qtype`; `None` for a name no query can carry.
fn dns_query(id: u16, name: &str, qtype: u16) -> Option<Vec<u8>> {
    let mut p = Vec::with_capacity(64);
    p.extend_from_slice(&id.to_be_bytes());
    p.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
    for label in name.trim_end_matches('.').split('.') {
        if label.is_empty() || label.len() > 63 {
            return None;
        }
        p.push(label.len() as u8);
        p.extend_from_slice(label.as_bytes());
    }
    p.push(0);
    p.extend_from_slice(&qtype.to_be_bytes());
    p.extend_from_slice(&1u16.to_be_bytes());
    Some(p)
}

/// The data of the answers of type `qtype` in response `msg` to query `id`; a PTR answer's
/// data is its name as text. Anything malformed gives what was read before it.
fn dns_answers(msg: &[u8], id: u16, qtype: u16) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let be16 =
        |at: usize| -> Option<u16> { Some(u16::from_be_bytes([*msg.get(at)?, *msg.get(at + 1)?])) };
    if be16(0) != Some(id) || msg.get(2).is_none_or(|f| f & 0x80 == 0) {
        return out;
    }
    let (Some(qd), Some(an)) = (be16(4), be16(6)) else {
        return out;
    };
    let mut at = 12;
    for _ in 0..qd {
        let Some(end) = skip_name(msg, at) else {
            return out;
        };
        at = end + 4;
    }
    for _ in 0..an {
        let Some(end) = skip_name(msg, at) else {
            return out;
        };
        let (Some(rtype), Some(len)) = (be16(end), be16(end + 8)) else {
            return out;
        };
        let data = end + 10;
        let Some(rdata) = msg.get(data..data + usize::from(len)) else {
            return out;
        };
        if rtype == qtype {
            if qtype == 12 {
                if let Some(name) = read_name(msg, data) {
                    out.push(name.into_bytes());
                }
            } else {
                out.push(rdata.to_vec());
            }
        }
        at = data + usize::from(len);
    }
    out
}

/// Where the name starting at `at` ends.
fn skip_name(msg: &[u8], mut at: usize) -> Option<usize> {
    loop {
        let len = *msg.get(at)?;
        match len {
            0 => return Some(at + 1),
            l if l & 0xc0 == 0xc0 => return Some(at + 2),
            l => at += 1 + usize::from(l),
        }
    }
}

/// The name starting at `at`, following compression pointers (at most 16).
fn read_name(msg: &[u8], mut at: usize) -> Option<String> {
    let mut labels: Vec<String> = Vec::new();
    for _ in 0..64 {
        let len = *msg.get(at)?;
        if len == 0 {
            return Some(labels.join("."));
        }
        if len & 0xc0 == 0xc0 {
            at = usize::from(u16::from_be_bytes([len & 0x3f, *msg.get(at + 1)?]));
            continue;
        }
        let label = msg.get(at + 1..at + 1 + usize::from(len))?;
        labels.push(String::from_utf8_lossy(label).into_owned());
        at += 1 + usize::from(len);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_ranges_parse_and_cover_the_documented_crawlers() {
        let ranges = Ranges::parse(SHIPPED).expect("shipped ranges parse");
        for name in [
            "Googlebot",
            "bingbot",
            "Applebot",
            "DuckDuckBot",
            "GPTBot",
            "OAI-SearchBot",
            "ChatGPT-User",
            "PerplexityBot",
            "Amazonbot",
            "YandexBot",
        ] {
            assert!(ranges.section_for(name).is_some(), "{name}");
        }
        let google = ranges.section_for("googlebot").unwrap();
        assert!(ranges.contains(google, "66.249.66.1".parse().unwrap()));
        assert!(!ranges.contains(google, "203.0.113.9".parse().unwrap()));
        assert!(ranges.contains(google, "2001:4860:4801:10::1".parse().unwrap()));
    }

    #[test]
    fn reverse_names() {
        assert_eq!(
            reverse_name("66.249.66.1".parse().unwrap()),
            "1.66.249.66.in-addr.arpa"
        );
        assert!(reverse_name("2001:db8::1".parse().unwrap()).ends_with(".8.b.d.0.1.0.0.2.ip6.arpa"));
    }

    #[test]
    fn dns_messages_round_trip() {
        let q = dns_query(7, "1.66.249.66.in-addr.arpa", 12).unwrap();
        // An answer: the query with the response bit and one PTR pointing back at the question.
        let mut r = q.clone();
        r[2] |= 0x80;
        r[7] = 1;
        r.extend_from_slice(&[0xc0, 12, 0, 12, 0, 1, 0, 0, 0, 60]);
        let rdata = [&[5u8][..], b"crawl", &[9], b"googlebot", &[3], b"com", &[0]].concat();
        r.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
        r.extend_from_slice(&rdata);
        assert_eq!(
            dns_answers(&r, 7, 12),
            vec![b"crawl.googlebot.com".to_vec()]
        );
        assert!(dns_answers(&r, 8, 12).is_empty());
        assert!(dns_answers(&r[..20], 7, 12).is_empty());
    }
}
