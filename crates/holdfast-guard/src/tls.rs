//! Optional TLS on the listener (rustls with the ring provider), so one node
//! can be reached over https without a proxy. ALPN offers `h2` and
//! `http/1.1`; the connection is then served by the same hyper builder as
//! plain connections, under the same caps. The handshake itself has its own
//! timeout (`tls_handshake_timeout_ms`) and runs while the connection holds
//! its listener slots, so a flood of slow handshakes is bounded like
//! slowloris is.

use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;

/// Reads a PEM certificate chain and a PEM private key (PKCS#8, PKCS#1 or
/// SEC1) and builds the acceptor. Every failure names the file and the cause.
pub fn acceptor(cert_path: &Path, key_path: &Path) -> Result<TlsAcceptor, String> {
    let certs = CertificateDer::pem_file_iter(cert_path)
        .map_err(|e| format!("cannot read TLS certificate {}: {e}", cert_path.display()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("invalid TLS certificate {}: {e}", cert_path.display()))?;
    if certs.is_empty() {
        return Err(format!(
            "invalid TLS certificate {}: no PEM CERTIFICATE block in it",
            cert_path.display()
        ));
    }
    let key = PrivateKeyDer::from_pem_file(key_path).map_err(|e| match e {
        rustls::pki_types::pem::Error::NoItemsFound => format!(
            "invalid TLS private key {}: no PEM PRIVATE KEY block in it",
            key_path.display()
        ),
        other => format!(
            "cannot read TLS private key {}: {other}",
            key_path.display()
        ),
    })?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS setup failed: {e}"))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| {
            format!(
                "TLS certificate {} and key {} do not work together: {e}",
                cert_path.display(),
                key_path.display()
            )
        })?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}
