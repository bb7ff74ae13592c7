//! The edge end to end in one call: two real upstreams, `v1` (stable) and `v2` (canary), and
//! the real `rollgate edge` in front of them running a [`shop`] config from a temporary
//! directory.

use super::config::{shop, write};
use super::edge::Edge;
use super::upstream::Upstream;

/// Two upstreams and an edge routing between them.
pub struct ShopEdge {
    /// The stable version's upstream.
    pub stable: Upstream,
    /// The canary's upstream.
    pub canary: Upstream,
    /// The edge.
    pub edge: Edge,
    _dir: tempfile::TempDir,
}

impl ShopEdge {
    /// Starts everything with rollout weight `weight`, the rollout `audience` and extra lines
    /// for the service table (see [`shop`]).
    pub async fn start(weight: &str, audience: Option<&str>, service_extra: &str) -> ShopEdge {
        let (stable, canary) = (Upstream::start("v1").await, Upstream::start("v2").await);
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("rollgate.toml");
        write(
            &path,
            &shop(
                &stable.endpoint(),
                &canary.endpoint(),
                weight,
                audience,
                service_extra,
            ),
        );
        let edge = Edge::start(&path);
        ShopEdge {
            stable,
            canary,
            edge,
            _dir: dir,
        }
    }

    /// The config text for the same upstreams with other settings (to reload with).
    pub fn config(&self, weight: &str, audience: Option<&str>, service_extra: &str) -> String {
        shop(
            &self.stable.endpoint(),
            &self.canary.endpoint(),
            weight,
            audience,
            service_extra,
        )
    }

    /// Rewrites the config file with `text`, sends SIGHUP and waits until the new table
    /// serves.
    pub async fn reload(&self, text: &str) {
        let before = self.edge.swaps().await;
        write(&self.edge.config, text);
        self.edge.proc.signal("HUP");
        assert!(
            self.edge.swapped_since(before).await,
            "the edge did not reload:\n{}",
            self.edge.proc.logs()
        );
    }
}
