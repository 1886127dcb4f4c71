//! One TLS client setup for every outgoing connection (IMAP, SMTP, OAuth2): rustls with
//! the ring provider, the public web roots, plus an optional local trust anchor.

use std::path::Path;
use std::sync::Arc;

use tokio_rustls::TlsConnector;

/// A TLS connector trusting the public roots and the certificates in `ca_file`.
pub fn client_connector(ca_file: Option<&Path>) -> Result<TlsConnector, String> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(ca) = ca_file {
        let pem =
            std::fs::read(ca).map_err(|e| format!("cannot read ca_file {}: {e}", ca.display()))?;
        let mut added = 0;
        for cert in rustls_pemfile::certs(&mut pem.as_slice()) {
            let cert = cert.map_err(|e| format!("bad certificate in {}: {e}", ca.display()))?;
            roots
                .add(cert)
                .map_err(|e| format!("unusable certificate in {}: {e}", ca.display()))?;
            added += 1;
        }
        if added == 0 {
            return Err(format!("no certificate found in ca_file {}", ca.display()));
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(TlsConnector::from(Arc::new(config)))
}
