//! TLS termination: the certificate chain and key from PEM files, served with ALPN for
//! HTTP/2 and HTTP/1.1.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;

/// The certificate and key the edge terminates TLS with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsFiles {
    /// PEM certificate chain, leaf first.
    pub cert: PathBuf,
    /// PEM private key (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
}

/// Why TLS could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A PEM file could not be read or holds nothing usable.
    #[error("cannot read {what} from {path}: {reason}")]
    Pem {
        /// `certificate chain` or `private key`.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// rustls refused the certificate and key (for example, they do not match).
    #[error("the certificate {cert} and key {key} cannot be used: {source}")]
    Config {
        /// The certificate file.
        cert: PathBuf,
        /// The key file.
        key: PathBuf,
        /// Why.
        source: rustls::Error,
    },
}

impl TlsFiles {
    /// An acceptor serving this certificate, offering `h2` and `http/1.1` by ALPN.
    pub fn acceptor(&self) -> Result<TlsAcceptor, TlsError> {
        let certs = CertificateDer::pem_file_iter(&self.cert)
            .and_then(|it| it.collect::<Result<Vec<_>, _>>())
            .map_err(|e| pem_error("certificate chain", &self.cert, e.to_string()))?;
        if certs.is_empty() {
            return Err(pem_error(
                "certificate chain",
                &self.cert,
                "no CERTIFICATE block found".into(),
            ));
        }
        let key = PrivateKeyDer::from_pem_file(&self.key)
            .map_err(|e| pem_error("private key", &self.key, e.to_string()))?;
        let config_error = |source| TlsError::Config {
            cert: self.cert.clone(),
            key: self.key.clone(),
            source,
        };
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(config_error)?
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .map_err(config_error)?;
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(TlsAcceptor::from(Arc::new(config)))
    }
}

fn pem_error(what: &'static str, path: &Path, reason: String) -> TlsError {
    TlsError::Pem {
        what,
        path: path.to_path_buf(),
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loads_a_self_signed_certificate_and_reports_bad_files() {
        let dir = tempfile::tempdir().unwrap();
        let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
        let cert_path = dir.path().join("cert.pem");
        let key_path = dir.path().join("key.pem");
        std::fs::write(&cert_path, cert.cert.pem()).unwrap();
        std::fs::write(&key_path, cert.signing_key.serialize_pem()).unwrap();
        let files = TlsFiles {
            cert: cert_path.clone(),
            key: key_path.clone(),
        };
        assert!(files.acceptor().is_ok());

        let swapped = TlsFiles {
            cert: key_path.clone(),
            key: cert_path.clone(),
        };
        let err = swapped.acceptor().err().unwrap().to_string();
        assert!(err.contains("certificate chain"), "{err}");

        let missing = TlsFiles {
            cert: dir.path().join("nope.pem"),
            key: key_path,
        };
        let err = missing.acceptor().err().unwrap().to_string();
        assert!(err.contains("nope.pem"), "{err}");
    }
}
