//! **TLS**: HTTPS served by the same fork-per-connection children, with rustls.
//!
//! Who does what, so that the parent never speaks TLS:
//! - the certificate in service ([`Certificate`]) is the parent's, apart from the site: read
//!   and checked ([`Material::load`]) at start, on SIGHUP (`--tls-cert`) or when the ACME
//!   worker wrote a new one, it goes live at once whatever the posts hold; a re-exec hands it
//!   to the next image in a memfd of its own ([`Certificate::to_memfd`]). An image older than
//!   that carried it at the end of the site snapshot, which is still read
//!   ([`Certificate::from_snapshot`]);
//! - the parent builds the rustls configuration when the certificate changes ([`Acceptor`]),
//!   before any fork, and rotates the session-ticket keys it keeps in the shared counters page
//!   (`tickets.rs`), so a ticket issued by one child resumes in another, and across reloads;
//!   with no certificate yet, the configuration refuses every handshake with an alert;
//! - each child does its own handshake on its own connection (`stream.rs`), bounded by the head
//!   timeout and the child cap like any slow client.

pub(crate) mod stream;
pub mod tickets;
pub mod validity;

use std::io::{self, Read as _, Seek as _, Write as _};
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use nix::sys::memfd::{memfd_create, MFdFlags};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert, ServerConfig};
use rustls::sign::CertifiedKey;

use super::status::Counters;

/// Where the certificate and key come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Files {
    /// The certificate chain, PEM, leaf first.
    pub cert: PathBuf,
    /// The private key, PEM (PKCS#8, SEC1 or PKCS#1).
    pub key: PathBuf,
    /// Whether both files missing is fine (ACME has not obtained them yet): no HTTPS until a
    /// certificate is there.
    pub missing_ok: bool,
}

/// A certificate chain and its key, checked to belong together, as PEM text.
#[derive(PartialEq, Eq)]
pub struct Material {
    cert: Vec<u8>,
    key: Vec<u8>,
}

/// Marks the end of TLS material laid out by [`Material::append_to`].
const TRAILER: &[u8; 8] = b"FBTLS01\n";

impl Material {
    /// Reads and checks `files`: a chain of at least one certificate, a key the provider can
    /// sign with, and the key matching the leaf. Errors name the file and the reason.
    pub fn load(files: &Files) -> Result<Option<Material>, String> {
        if files.missing_ok && !files.cert.exists() && !files.key.exists() {
            return Ok(None);
        }
        let read = |path: &Path| {
            std::fs::read(path).map_err(|e| {
                format!(
                    "{}: {e} (the key and certificate must be readable by the user forkblog serves as)",
                    path.display()
                )
            })
        };
        let material = Material {
            cert: read(&files.cert)?,
            key: read(&files.key)?,
        };
        material.certified_key().map_err(|e| match e {
            Problem::Cert(why) => format!("{}: {why}", files.cert.display()),
            Problem::Key(why) => format!("{}: {why}", files.key.display()),
        })?;
        Ok(Some(material))
    }

    fn certified_key(&self) -> Result<CertifiedKey, Problem> {
        let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&self.cert)
            .collect::<Result<_, _>>()
            .map_err(|e| Problem::Cert(format!("not a PEM certificate chain: {e:?}")))?;
        if chain.is_empty() {
            return Err(Problem::Cert("no certificate in the file".into()));
        }
        let key = PrivateKeyDer::from_pem_slice(&self.key)
            .map_err(|e| Problem::Key(format!("not a PEM private key: {e:?}")))?;
        let provider = rustls::crypto::ring::default_provider();
        let signing = provider
            .key_provider
            .load_private_key(key)
            .map_err(|e| Problem::Key(format!("unusable private key: {e}")))?;
        let certified = CertifiedKey::new(chain, signing);
        certified
            .keys_match()
            .map_err(|e| Problem::Key(format!("the key does not match the certificate: {e}")))?;
        Ok(certified)
    }

    /// Appends the material to `blob`: `cert, key, u32 cert length, u32 key length,
    /// TRAILER`. The render worker does so at the end of a snapshot when an image older than
    /// [`Certificate::to_memfd`] asks it to (the snapshot's layout ignores bytes past its
    /// tables); the certificate's own memfd holds the same layout.
    pub fn append_to(&self, blob: &mut Vec<u8>) {
        blob.extend_from_slice(&self.cert);
        blob.extend_from_slice(&self.key);
        blob.extend_from_slice(&(self.cert.len() as u32).to_le_bytes());
        blob.extend_from_slice(&(self.key.len() as u32).to_le_bytes());
        blob.extend_from_slice(TRAILER);
    }

    /// The material at the end of `blob`, if it carries any.
    fn from_tail(blob: &[u8]) -> Option<Material> {
        let body = blob.strip_suffix(TRAILER)?;
        let lengths = body.len().checked_sub(8)?;
        let word = |at: usize| u32::from_le_bytes(body[at..at + 4].try_into().unwrap_or([0; 4]));
        let (cert_len, key_len) = (word(lengths) as usize, word(lengths + 4) as usize);
        let key_at = lengths.checked_sub(key_len)?;
        let cert_at = key_at.checked_sub(cert_len)?;
        Some(Material {
            cert: body[cert_at..key_at].to_vec(),
            key: body[key_at..lengths].to_vec(),
        })
    }
}

enum Problem {
    Cert(String),
    Key(String),
}

/// The certificate in service: its material, checked, and when its leaf is valid.
#[derive(PartialEq, Eq)]
pub struct Certificate {
    material: Material,
    /// `notBefore` of the leaf, Unix seconds.
    pub not_before: i64,
    /// `notAfter` of the leaf, Unix seconds.
    pub not_after: i64,
}

impl Certificate {
    /// Checked material with the validity of its leaf.
    fn new(material: Material) -> Result<Certificate, String> {
        let leaf = CertificateDer::pem_slice_iter(&material.cert)
            .next()
            .and_then(Result::ok)
            .ok_or("no certificate in the chain")?;
        let (not_before, not_after) =
            validity::of(&leaf).ok_or("the certificate's validity is unreadable")?;
        Ok(Certificate {
            material,
            not_before,
            not_after,
        })
    }

    /// Reads and checks `files` (see [`Material::load`]); `None` when missing is fine.
    pub fn load(files: &Files) -> Result<Option<Certificate>, String> {
        match Material::load(files)? {
            Some(material) => Certificate::new(material)
                .map(Some)
                .map_err(|e| format!("{}: {e}", files.cert.display())),
            None => Ok(None),
        }
    }

    /// The certificate an image older than the certificate's own memfd left at the end of the
    /// site snapshot, if any.
    pub fn from_snapshot(site: crate::snapshot::View<'_>) -> Option<Certificate> {
        let material = Material::from_tail(site.raw())?;
        material.certified_key().ok()?;
        Certificate::new(material).ok()
    }

    /// A memfd holding the certificate for the next image (close-on-exec until the handover
    /// makes it inheritable).
    pub fn to_memfd(&self) -> io::Result<OwnedFd> {
        let fd = Certificate::memfd()?;
        self.write_into(&fd)?;
        Ok(fd)
    }

    /// An empty memfd (close-on-exec) for [`Certificate::write_into`].
    pub fn memfd() -> io::Result<OwnedFd> {
        memfd_create("forkblog-certificate", MFdFlags::MFD_CLOEXEC)
            .map_err(|e| io::Error::other(format!("memfd_create for the certificate: {e}")))
    }

    /// Writes the certificate into `fd` (a memfd from [`Certificate::memfd`]), for
    /// [`Certificate::from_memfd`] in another process or image.
    pub fn write_into(&self, fd: &OwnedFd) -> io::Result<()> {
        let mut bytes = Vec::with_capacity(self.material.cert.len() + self.material.key.len() + 16);
        self.material.append_to(&mut bytes);
        std::fs::File::from(fd.try_clone()?).write_all(&bytes)
    }

    /// The certificate handed over in a memfd by [`Certificate::write_into`] (a previous
    /// image's [`Certificate::to_memfd`], or the ACME worker).
    pub fn from_memfd(fd: OwnedFd) -> io::Result<Certificate> {
        let mut file = std::fs::File::from(fd);
        let mut bytes = Vec::new();
        file.rewind()?;
        file.read_to_end(&mut bytes)?;
        let material = Material::from_tail(&bytes)
            .ok_or_else(|| io::Error::other("the handed-over certificate is truncated"))?;
        material
            .certified_key()
            .map_err(|_| io::Error::other("the handed-over certificate no longer parses"))?;
        Certificate::new(material).map_err(io::Error::other)
    }

    /// Two thirds into its lifetime: when a renewal is due.
    pub fn renew_at(&self) -> i64 {
        self.not_before + (self.not_after - self.not_before) * 2 / 3
    }

    /// Whether `candidate` may replace `self`: anything but an expired certificate in place of
    /// one still valid at `now`.
    pub fn may_give_way_to(&self, candidate: &Certificate, now: i64) -> bool {
        candidate.not_after > now || self.not_after <= now
    }
}

/// The rustls configuration every TLS child of one generation shares: built by the parent
/// before forking, so a child pays for its handshake only.
#[derive(Clone)]
pub struct Acceptor {
    config: Arc<ServerConfig>,
}

/// No certificate yet: every handshake is refused with an alert (rustls sends
/// `access_denied` when the resolver finds nothing).
#[derive(Debug)]
struct NoCertificate;

impl ResolvesServerCert for NoCertificate {
    fn resolve(&self, _: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        None
    }
}

impl Acceptor {
    /// Builds the configuration serving `certificate` (or refusing every handshake without
    /// one), with session tickets whose keys live in the shared counters page.
    pub fn new(certificate: Option<&Certificate>, counters: &Counters) -> io::Result<Acceptor> {
        let resolver: Arc<dyn ResolvesServerCert> = match certificate {
            Some(certificate) => {
                let certified = certificate
                    .material
                    .certified_key()
                    .map_err(|_| io::Error::other("the certificate no longer parses"))?;
                Arc::new(rustls::sign::SingleCertAndKey::from(certified))
            }
            None => Arc::new(NoCertificate),
        };
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = ServerConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
            .map_err(|e| io::Error::other(format!("TLS versions: {e}")))?
            .with_no_client_auth()
            .with_cert_resolver(resolver);
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        // No in-memory session cache: it would live in one child and die with it. Tickets
        // carry the state instead, sealed with keys every child shares.
        config.session_storage = Arc::new(rustls::server::NoServerSessionStorage {});
        config.ticketer = Arc::new(tickets::Tickets::new(counters)?);
        config.send_tls13_tickets = 1;
        Ok(Acceptor {
            config: Arc::new(config),
        })
    }

    /// A server-side connection for one client.
    pub fn accept(&self) -> Result<rustls::ServerConnection, rustls::Error> {
        rustls::ServerConnection::new(Arc::clone(&self.config))
    }
}

/// HTTPS as the parent serves it now: the shared configuration, the certificate in service,
/// the port (for the plain door's redirects) and whether responses carry
/// Strict-Transport-Security.
pub struct Https {
    /// The configuration every TLS child uses.
    pub acceptor: Acceptor,
    /// The certificate in service; `None` until the first one (handshakes are refused).
    pub certificate: Option<Certificate>,
    /// The HTTPS listener's port.
    pub port: u16,
    /// `--hsts`.
    pub hsts: bool,
}

impl Https {
    /// Builds what children need to serve `certificate` (or to refuse handshakes without one).
    pub fn new(
        certificate: Option<Certificate>,
        counters: &Counters,
        port: u16,
        hsts: bool,
    ) -> io::Result<Https> {
        Ok(Https {
            acceptor: Acceptor::new(certificate.as_ref(), counters)?,
            certificate,
            port,
            hsts,
        })
    }

    /// Serves `certificate` from now on: children forked after this use it.
    pub fn replace(&mut self, certificate: Certificate, counters: &Counters) -> io::Result<()> {
        self.acceptor = Acceptor::new(Some(&certificate), counters)?;
        self.certificate = Some(certificate);
        Ok(())
    }

    /// The port plain HTTP redirects to: only once there is a certificate to serve.
    pub fn redirect_port(&self) -> Option<u16> {
        self.certificate.as_ref().map(|_| self.port)
    }
}

/// A certificate's expiry as a date, for the log.
pub fn date(unix: i64) -> String {
    jiff::Timestamp::from_second(unix)
        .map(|t| t.strftime("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_else(|_| unix.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A self-signed certificate valid from `from` to `until` (years), as checked material.
    fn certificate(from: i32, until: i32) -> Certificate {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let mut params = rcgen::CertificateParams::new(vec!["localhost".to_string()]).unwrap();
        params.not_before = rcgen::date_time_ymd(from, 1, 1);
        params.not_after = rcgen::date_time_ymd(until, 1, 1);
        let cert = params.self_signed(&key).unwrap();
        let material = Material {
            cert: cert.pem().into_bytes(),
            key: key.serialize_pem().into_bytes(),
        };
        material.certified_key().ok().unwrap();
        Certificate::new(material).unwrap()
    }

    #[test]
    fn the_certificate_crosses_a_memfd_and_an_old_snapshot_tail_whole() {
        let original = certificate(2020, 2040);
        let handed = Certificate::from_memfd(original.to_memfd().unwrap()).unwrap();
        assert!(handed == original);
        // As an older image left it: after the site's bytes.
        let mut blob = b"the site's tables".to_vec();
        original.material.append_to(&mut blob);
        assert!(Material::from_tail(&blob) == Some(original.material));
        assert!(Material::from_tail(b"a snapshot without a certificate").is_none());
        assert!(Material::from_tail(&blob[..blob.len() - 1]).is_none());
    }

    #[test]
    fn an_expired_certificate_never_replaces_a_valid_one() {
        let now = jiff::Timestamp::now().as_second();
        let (valid, expired, later) = (
            certificate(2020, 2090),
            certificate(2000, 2001),
            certificate(2021, 2095),
        );
        assert!(!valid.may_give_way_to(&expired, now));
        assert!(valid.may_give_way_to(&later, now));
        assert!(expired.may_give_way_to(&valid, now));
        // With nothing valid in hand, any certificate is as good.
        assert!(expired.may_give_way_to(&certificate(2001, 2002), now));
        assert!(valid.renew_at() > valid.not_before && valid.renew_at() < valid.not_after);
    }
}
