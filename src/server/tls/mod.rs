//! **TLS**: HTTPS served by the same fork-per-connection children, with rustls.
//!
//! Who does what, so that the parent never speaks TLS:
//! - the render worker reads and checks the certificate chain and key ([`Material::load`]) and
//!   appends them to the snapshot, so a reload is all-or-nothing for them too (a bad or
//!   mismatched key keeps the old certificate serving);
//! - the parent builds the rustls configuration once per generation ([`Acceptor`]), before any
//!   fork, and rotates the session-ticket keys it keeps in the shared counters page
//!   (`tickets.rs`), so a ticket issued by one child resumes in another, and across reloads;
//! - each child does its own handshake on its own connection (`stream.rs`), bounded by the head
//!   timeout and the child cap like any slow client.

pub mod stream;
pub mod tickets;

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::ServerConfig;
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
    /// reload finds them.
    pub missing_ok: bool,
}

/// A certificate chain and its key, checked to belong together, as PEM text.
pub struct Material {
    cert: Vec<u8>,
    key: Vec<u8>,
}

/// Marks the end of a snapshot that carries TLS material (see [`Material::append_to`]).
const TRAILER: &[u8; 8] = b"FBTLS01\n";

impl Material {
    /// Reads and checks `files`: a chain of at least one certificate, a key the provider can
    /// sign with, and the key matching the leaf. Errors name the file and the reason.
    pub fn load(files: &Files) -> Result<Option<Material>, String> {
        if files.missing_ok && !files.cert.exists() && !files.key.exists() {
            log::info!(
                "no certificate in {} yet: HTTPS waits for ACME",
                files.cert.display()
            );
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

    /// Appends the material to a snapshot blob: `cert, key, u32 cert length, u32 key length,
    /// TRAILER`. The snapshot's own layout ignores bytes past its tables, so an image that
    /// knows nothing of TLS maps such a snapshot unchanged.
    pub fn append_to(&self, blob: &mut Vec<u8>) {
        blob.extend_from_slice(&self.cert);
        blob.extend_from_slice(&self.key);
        blob.extend_from_slice(&(self.cert.len() as u32).to_le_bytes());
        blob.extend_from_slice(&(self.key.len() as u32).to_le_bytes());
        blob.extend_from_slice(TRAILER);
    }

    /// The material at the end of a snapshot blob, if it carries any.
    pub fn from_snapshot(blob: &[u8]) -> Option<Material> {
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

/// The rustls configuration every TLS child of one generation shares: built by the parent
/// before forking, so a child pays for its handshake only.
#[derive(Clone)]
pub struct Acceptor {
    config: Arc<ServerConfig>,
}

impl Acceptor {
    /// Builds the configuration from `material`, with session tickets whose keys live in the
    /// shared counters page.
    pub fn new(material: &Material, counters: &Counters) -> io::Result<Acceptor> {
        let certified = material
            .certified_key()
            .map_err(|_| io::Error::other("the snapshot's TLS material no longer parses"))?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = ServerConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
            .map_err(|e| io::Error::other(format!("TLS versions: {e}")))?
            .with_no_client_auth()
            .with_cert_resolver(Arc::new(rustls::sign::SingleCertAndKey::from(certified)));
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

/// HTTPS as one generation serves it: the shared configuration, the port (for the plain
/// door's redirects) and whether responses carry Strict-Transport-Security.
pub struct Https {
    /// The configuration every TLS child uses.
    pub acceptor: Acceptor,
    /// The HTTPS listener's port.
    pub port: u16,
    /// `--hsts`.
    pub hsts: bool,
}

impl Https {
    /// Builds what children need from the certificate carried by `site`; `None` (logged) when
    /// the snapshot carries none or it cannot be used.
    pub fn new(
        site: crate::server::snapshot::View<'_>,
        counters: &Counters,
        port: u16,
        hsts: bool,
    ) -> Option<Https> {
        let Some(material) = Material::from_snapshot(site.raw()) else {
            log::error!("the site snapshot carries no certificate; HTTPS connections will be closed until a reload renders one");
            return None;
        };
        match Acceptor::new(&material, counters) {
            Ok(acceptor) => Some(Https {
                acceptor,
                port,
                hsts,
            }),
            Err(e) => {
                log::error!("{e}; HTTPS connections will be closed");
                None
            }
        }
    }
}
