//! TLS termination: the certificate chain and key from PEM files, served with ALPN for
//! HTTP/2 and HTTP/1.1.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arc_swap::ArcSwap;
use rustls::ServerConfig;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use tokio_rustls::TlsAcceptor;

use crate::reload::POLL_INTERVAL;

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
    /// An acceptor serving this certificate, offering `h2` and `http/1.1` by ALPN. (The edge
    /// itself uses [`TlsFiles::serve`], whose certificate can be replaced while it runs.)
    pub fn acceptor(&self) -> Result<TlsAcceptor, TlsError> {
        Ok(self.serve()?.0)
    }

    /// An acceptor, and the store of the certificate it serves: [`CertStore::watch`] loads
    /// the files again when they change.
    pub(crate) fn serve(&self) -> Result<(TlsAcceptor, Arc<CertStore>), TlsError> {
        let store = Arc::new(CertStore {
            current: ArcSwap::from_pointee(self.certified_key()?),
            files: self.clone(),
        });
        let mut config = ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(|source| self.config_error(source))?
            .with_no_client_auth()
            .with_cert_resolver(Arc::clone(&store) as Arc<dyn ResolvesServerCert>);
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok((TlsAcceptor::from(Arc::new(config)), store))
    }

    /// The chain and key, read and checked against each other.
    fn certified_key(&self) -> Result<CertifiedKey, TlsError> {
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
        CertifiedKey::from_der(certs, key, &provider()).map_err(|source| self.config_error(source))
    }

    fn config_error(&self, source: rustls::Error) -> TlsError {
        TlsError::Config {
            cert: self.cert.clone(),
            key: self.key.clone(),
            source,
        }
    }
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// The certificate the edge serves, replaced while it runs: new handshakes get the new one,
/// connections already open keep theirs.
pub(crate) struct CertStore {
    files: TlsFiles,
    current: ArcSwap<CertifiedKey>,
}

impl CertStore {
    /// Loads the files again. A chain or key that cannot be read, or a key that does not
    /// match the certificate (one file replaced before the other), is logged and the current
    /// certificate keeps serving; the next change of either file is tried again.
    pub(crate) fn reload(&self, why: &str) -> bool {
        match self.files.certified_key() {
            Ok(key) => {
                self.current.store(Arc::new(key));
                tracing::info!(trigger = why, cert = %self.files.cert.display(), "TLS certificate reloaded");
                true
            }
            Err(e) => {
                tracing::error!(trigger = why, error = %e, "new TLS certificate rejected; the current one keeps serving");
                false
            }
        }
    }

    /// Reloads on `SIGHUP` and whenever the certificate or key file changes (renewals by
    /// certbot or cert-manager replace them), until `shutdown` resolves.
    pub(crate) async fn watch(self: Arc<Self>, shutdown: impl Future<Output = ()>) {
        let files = [self.files.cert.clone(), self.files.key.clone()];
        crate::reload::watch_files(&files, POLL_INTERVAL, shutdown, |why| {
            self.reload(why);
            std::future::ready(())
        })
        .await;
    }
}

impl ResolvesServerCert for CertStore {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current.load_full())
    }
}

impl std::fmt::Debug for CertStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CertStore")
            .field("files", &self.files)
            .finish_non_exhaustive()
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
