//! What the integration tests share: a client tuned for tests, a small routing config, and a
//! shutdown future from a watch flag. Include with `mod support;`.
#![allow(dead_code)]

use std::time::Duration;

use rollgate_etcd::{Etcd, EtcdConfig, LocalEtcd};
use tokio::sync::watch;

/// A client for `urls` with short back-offs and a 2 s call timeout.
pub fn client_for(urls: &[String]) -> Etcd {
    let mut config = EtcdConfig::new(urls.iter().cloned());
    config.backoff = Duration::from_millis(10);
    config.request_timeout = Duration::from_secs(2);
    Etcd::new(config).expect("a valid client")
}

/// A client for one local etcd.
pub fn client(etcd: &LocalEtcd) -> Etcd {
    client_for(&[etcd.url()])
}

/// A config with service `shop` (versions `v1`, `v2`) and, with a weight, rollout `shop-v2`.
pub fn shop(weight: Option<&str>) -> String {
    let rollout = weight.map_or(String::new(), |w| {
        format!(
            "[[rollouts]]\nname = \"shop-v2\"\nservice = \"shop\"\nstable = \"v1\"\ncanary = \"v2\"\nweight = \"{w}\"\n"
        )
    });
    format!(
        r#"
[control]
window = "1s"

[[services]]
name = "shop"
[[services.versions]]
name = "v1"
endpoints = ["127.0.0.1:1"]
[[services.versions]]
name = "v2"
endpoints = ["127.0.0.1:2"]
{rollout}"#
    )
}

/// Resolves once the flag behind `rx` is true.
pub async fn stopped(mut rx: watch::Receiver<bool>) {
    let _ = rx.wait_for(|s| *s).await;
}
