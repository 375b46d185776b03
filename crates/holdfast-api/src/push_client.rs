//! The HTTP side of Web Push delivery: one POST per message to the push
//! service, over a connection to an address the service layer checked (see
//! `holdfast_service::push_address`), https with the system's trusted roots.
//! Only the status is read; the response body is never buffered.

use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;

use axum::body::Bytes;
use axum::http::{header, Request, StatusCode};
use holdfast_service::push::{PushRequest, PushResponse, PushTransport};
use http_body_util::Full;
use hyper_util::rt::TokioIo;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

/// Where the system keeps its trusted roots (Debian and friends); `SSL_CERT_FILE` overrides.
const SYSTEM_ROOTS: &str = "/etc/ssl/certs/ca-certificates.crt";

pub struct HttpPushTransport {
    /// None when no trusted roots could be read: https deliveries then fail (and are retried).
    tls: Option<tokio_rustls::TlsConnector>,
}

/// The transport `serve` hands to the delivery worker.
pub fn transport() -> Arc<dyn PushTransport> {
    let file = std::env::var("SSL_CERT_FILE").unwrap_or_else(|_| SYSTEM_ROOTS.to_owned());
    Arc::new(HttpPushTransport {
        tls: tls_connector(Path::new(&file)),
    })
}

fn tls_connector(roots_file: &Path) -> Option<tokio_rustls::TlsConnector> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(roots_file).ok()?.flatten() {
        // A root the TLS library cannot use is skipped, not fatal.
        let _ = roots.add(cert);
    }
    if roots.is_empty() {
        tracing::warn!(file = %roots_file.display(), "no trusted roots; https push deliveries will fail");
        return None;
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .ok()?
    .with_root_certificates(roots)
    .with_no_client_auth();
    Some(tokio_rustls::TlsConnector::from(Arc::new(config)))
}

impl PushTransport for HttpPushTransport {
    fn send(
        &self,
        request: PushRequest,
    ) -> Pin<Box<dyn std::future::Future<Output = PushResponse> + Send + '_>> {
        Box::pin(async move {
            let timeout = request.timeout;
            match tokio::time::timeout(timeout, self.post(request)).await {
                Ok(Ok(status)) if status.is_success() => PushResponse::Accepted,
                Ok(Ok(StatusCode::NOT_FOUND | StatusCode::GONE)) => PushResponse::Gone,
                Ok(Ok(status)) => PushResponse::Failed(format!("push service answered {status}")),
                Ok(Err(why)) => PushResponse::Failed(why),
                Err(_) => PushResponse::Failed("push service timed out".into()),
            }
        })
    }
}

impl HttpPushTransport {
    async fn post(&self, request: PushRequest) -> Result<StatusCode, String> {
        let tcp = TcpStream::connect(&request.addrs[..])
            .await
            .map_err(|e| format!("connect: {e}"))?;
        let mut builder = Request::post(request.endpoint.path.as_str())
            .header(header::HOST, request.endpoint.authority())
            .header(header::CONTENT_LENGTH, request.body.len());
        for (name, value) in &request.headers {
            builder = builder.header(*name, value.as_str());
        }
        let http_request = builder
            .body(Full::new(Bytes::from(request.body)))
            .map_err(|e| format!("request: {e}"))?;
        if !request.endpoint.https {
            return exchange(tcp, http_request).await;
        }
        let tls = self.tls.as_ref().ok_or("no trusted roots for https")?;
        let name = ServerName::try_from(request.endpoint.host.clone())
            .map_err(|e| format!("server name: {e}"))?;
        let stream = tls
            .connect(name, tcp)
            .await
            .map_err(|e| format!("tls: {e}"))?;
        exchange(stream, http_request).await
    }
}

async fn exchange<S>(io: S, request: Request<Full<Bytes>>) -> Result<StatusCode, String>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(io))
        .await
        .map_err(|e| format!("http: {e}"))?;
    // Drives the connection; it ends when the response is dropped.
    tokio::spawn(connection);
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| format!("http: {e}"))?;
    Ok(response.status())
}
