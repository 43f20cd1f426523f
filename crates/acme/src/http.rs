//! The HTTP client the ACME worker talks through: ureq, blocking, on the same rustls and ring
//! as the server, trusting the system's roots or the ones `--acme-ca` names. It implements
//! instant-acme's client trait by finishing each request before returning a ready future.

use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::BodyExt;
use instant_acme::{BodyWrapper, BytesResponse, HttpClient};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use ureq::tls::{RootCerts, TlsConfig, TlsProvider};

/// A blocking ACME transport.
pub(crate) struct Client {
    agent: ureq::Agent,
}

impl Client {
    /// A client trusting the roots in `ca` (PEM), or the system's.
    pub(crate) fn new(ca: Option<&Path>) -> Result<Client, String> {
        let path = ca.unwrap_or(Path::new(super::SYSTEM_ROOTS));
        let pem = std::fs::read(path).map_err(|e| {
            format!(
                "{}: {e} (install ca-certificates, or name the ACME server's CA with --acme-ca)",
                path.display()
            )
        })?;
        let roots: Vec<ureq::tls::Certificate<'static>> = CertificateDer::pem_slice_iter(&pem)
            .filter_map(Result::ok)
            .map(|der| ureq::tls::Certificate::from_der(&der).to_owned())
            .collect();
        if roots.is_empty() {
            return Err(format!("{}: no PEM certificate in it", path.display()));
        }
        let tls = TlsConfig::builder()
            .provider(TlsProvider::Rustls)
            .unversioned_rustls_crypto_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .root_certs(RootCerts::new_with_certs(&roots))
            .build();
        let config = ureq::Agent::config_builder()
            .tls_config(tls)
            .http_status_as_error(false)
            .timeout_global(Some(std::time::Duration::from_secs(30)))
            .build();
        Ok(Client {
            agent: ureq::Agent::new_with_config(config),
        })
    }

    fn send(&self, request: http::Request<BodyWrapper<Bytes>>) -> Result<BytesResponse, String> {
        let (parts, body) = request.into_parts();
        let body = pollster::block_on(body.collect())
            .map_err(|e| e.to_string())?
            .to_bytes();
        let request = http::Request::from_parts(parts, body.to_vec());
        let response = self.agent.run(request).map_err(|e| e.to_string())?;
        let (parts, mut body) = response.into_parts();
        let bytes = body.read_to_vec().map_err(|e| e.to_string())?;
        Ok(BytesResponse {
            parts,
            body: Box::new(Bytes::from(bytes)),
        })
    }
}

impl HttpClient for Client {
    fn request(
        &self,
        request: http::Request<BodyWrapper<Bytes>>,
    ) -> Pin<Box<dyn Future<Output = Result<BytesResponse, instant_acme::Error>> + Send>> {
        let result = self
            .send(request)
            .map_err(|e| instant_acme::Error::Other(e.into()));
        Box::pin(std::future::ready(result))
    }
}
