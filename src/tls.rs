//! TLS with rustls and the ring provider: one client setup for every outgoing connection
//! (IMAP, SMTP, OAuth2: the public web roots plus an optional local trust anchor), and the
//! agent page's own listener for sites without a reverse proxy.

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

/// Which of a server's two files a problem is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerFile {
    /// The certificate chain.
    Cert,
    /// The private key (or a key that does not belong to the certificate).
    Key,
}

/// A TLS server setup from a PEM certificate chain and its PEM private key; on error,
/// which file is at fault and why.
pub fn server_config(
    cert_file: &Path,
    key_file: &Path,
) -> Result<Arc<rustls::ServerConfig>, (ServerFile, String)> {
    let cert = |e: String| (ServerFile::Cert, e);
    let key = |e: String| (ServerFile::Key, e);
    let pem = std::fs::read(cert_file)
        .map_err(|e| cert(format!("cannot read {}: {e}", cert_file.display())))?;
    let chain = rustls_pemfile::certs(&mut pem.as_slice())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| cert(format!("bad certificate in {}: {e}", cert_file.display())))?;
    if chain.is_empty() {
        return Err(cert(format!(
            "no certificate found in {}",
            cert_file.display()
        )));
    }
    let pem = std::fs::read(key_file)
        .map_err(|e| key(format!("cannot read {}: {e}", key_file.display())))?;
    let private = rustls_pemfile::private_key(&mut pem.as_slice())
        .map_err(|e| key(format!("bad private key in {}: {e}", key_file.display())))?
        .ok_or_else(|| key(format!("no private key found in {}", key_file.display())))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| cert(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(chain, private)
        .map_err(|e| match e {
            rustls::Error::InconsistentKeys(_) => key(format!(
                "the key in {} does not belong to the certificate in {} ({e})",
                key_file.display(),
                cert_file.display()
            )),
            other => cert(format!(
                "the certificate in {} cannot be used ({other})",
                cert_file.display()
            )),
        })?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}
