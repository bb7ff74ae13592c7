//! `rollgate control --etcd URLS`: one control-plane replica of several. The store is shared
//! in etcd; replicas campaign for the leader key. The leader seeds the store from the
//! configuration, runs the reconcile loop, publishes routing snapshots, merges the edges'
//! telemetry and serves the API; a follower redirects every API request to the leader. When
//! leadership is lost the replica stops deciding at once (its writes are fenced by etcd anyway)
//! and campaigns again; on `SIGTERM` the leader resigns so a follower takes over at once.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Result, anyhow, bail};
use rollgate_config::Config;
use rollgate_control::{ControlOptions, ControlPlane, MetricProvider};
use rollgate_etcd::{
    ClusterKeys, DistributedApi, Election, Etcd, EtcdPublisher, EtcdStore, Leadership,
    RouterSwitch, follower_router,
};
use rollgate_server::ServerOptions;
use tokio::sync::watch;

use crate::commands::control::{
    app, bind_api, notifier, provider, reload_loop, stopped, write_ready_file,
};
use crate::commands::edge::shutdown_signal;

/// How long a merged window waits for a slow edge before the analysis gets it anyway.
const WINDOW_GRACE: Duration = Duration::from_secs(3);

/// The distributed-mode options of `rollgate control`.
#[derive(Clone, Debug, clap::Args)]
pub struct ControlCluster {
    /// Where etcd is.
    #[command(flatten)]
    pub cluster: super::Cluster,
    /// The URL edges and other replicas reach this replica's API at (default: http:// and the
    /// bound address; required when the API listens on 0.0.0.0 or ::).
    #[arg(long, value_name = "URL", requires = "etcd")]
    pub advertise: Option<String>,
    /// This replica's name in the leader key (default: `control-<pid>`).
    #[arg(long, value_name = "NAME", requires = "etcd")]
    pub id: Option<String>,
}

/// What every term of leadership starts from.
struct Replica {
    etcd: Etcd,
    keys: ClusterKeys,
    store: EtcdStore,
    config_path: PathBuf,
    opts: ControlOptions,
    provider: Arc<dyn MetricProvider>,
    server: ServerOptions,
    id: String,
    /// What this replica serves while it does not lead.
    follower: axum::Router,
    switch: RouterSwitch,
}

/// Runs one replica until `SIGTERM`/`SIGINT`.
pub async fn serve(
    cluster: &ControlCluster,
    (etcd, keys): (Etcd, ClusterKeys),
    config: Config,
    config_path: PathBuf,
    listen: SocketAddr,
    ready_file: Option<PathBuf>,
) -> Result<()> {
    let api = bind_api(listen).await?;
    let addr = api.local_addr()?;
    let advertise = match &cluster.advertise {
        Some(url) => url.trim_end_matches('/').to_owned(),
        None if addr.ip().is_unspecified() => {
            bail!(
                "the API listens on {addr}: pass --advertise http://HOST:PORT so edges and other replicas can reach it"
            )
        }
        None => format!("http://{addr}"),
    };
    let id = cluster
        .id
        .clone()
        .unwrap_or_else(|| format!("control-{}", std::process::id()));
    let opts =
        ControlOptions::new(&config, config.edge.context()?).with_notifier(notifier(&config)?);
    let follower = follower_router(etcd.clone(), keys.clone(), &id)?;
    let replica = Replica {
        switch: RouterSwitch::new(follower.clone()),
        follower,
        store: EtcdStore::new(etcd.clone(), keys.prefix()),
        provider: provider(&config, &opts)?,
        server: ServerOptions::from_settings(&config.control).map_err(|e| anyhow!("{e}"))?,
        etcd,
        keys,
        config_path,
        opts,
        id,
    };
    println!(
        "rollgate control: API on http://{addr}, store etcd {} under {}, replica {} ({advertise})",
        replica.etcd.config().endpoints.join(","),
        replica.keys.prefix(),
        replica.id
    );
    write_ready_file(ready_file.as_deref(), &[("api", addr)])?;

    let stop = shutdown_signal();
    let server = tokio::spawn(
        axum::serve(api, replica.switch.router())
            .with_graceful_shutdown(stopped(stop.clone()))
            .into_future(),
    );
    let election = Election::new(replica.etcd.clone(), replica.keys.clone());
    loop {
        let leadership = tokio::select! {
            l = election.campaign(&replica.id, Some(advertise.clone())) => l,
            () = stopped(stop.clone()) => break,
        };
        let shutdown = replica.lead(&leadership, stop.clone()).await;
        // Resign at once (the key is deleted, a follower takes over without waiting for the
        // lease to expire); after a lost term this usually finds the lease gone already.
        match tokio::time::timeout(Duration::from_secs(2), leadership.resign()).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                tracing::debug!(error = %e, "could not resign; the lease expires on its own")
            }
            Err(_) => {
                tracing::debug!("etcd did not answer the resignation; the lease expires on its own")
            }
        }
        if shutdown {
            break;
        }
    }
    server.await??;
    tracing::info!("control plane stopped");
    Ok(())
}

impl Replica {
    /// One term: start the control plane on the guarded store and publisher, serve its API,
    /// run its loops until leadership is lost (`false`) or shutdown (`true`).
    async fn lead(&self, leadership: &Leadership, stop: watch::Receiver<bool>) -> bool {
        let guard = leadership.guard();
        let store = Arc::new(self.store.with_guard(guard.clone()));
        let publisher =
            Arc::new(EtcdPublisher::new(self.etcd.clone(), self.keys.clone()).with_guard(guard));
        let started = ControlPlane::start(
            self.opts.clone(),
            store,
            publisher,
            Arc::clone(&self.provider),
        )
        .await;
        let plane = match started {
            Ok(plane) => plane,
            Err(e) => {
                tracing::error!(error = %e, "cannot start the control plane as leader; stepping down");
                tokio::time::sleep(Duration::from_secs(1)).await;
                return false;
            }
        };
        tracing::info!(id = %self.id, "leading: reconciling rollouts and publishing snapshots");
        let fleet = DistributedApi::new(
            plane.clone(),
            self.etcd.clone(),
            self.keys.clone(),
            self.server.ingest_key.clone(),
            WINDOW_GRACE,
        );
        self.switch
            .set(app(plane.clone(), self.server.clone()).merge(fleet.router()));
        let (end_term, term) = watch::channel(false);
        let tasks = [
            tokio::spawn({
                let plane = plane.clone();
                let term = term.clone();
                async move { plane.run(stopped(term)).await }
            }),
            tokio::spawn(fleet.run(stopped(term.clone()))),
            tokio::spawn(reload_loop(
                plane,
                self.config_path.clone(),
                None,
                stopped(term),
            )),
        ];
        let shutdown = tokio::select! {
            () = leadership.lost() => {
                tracing::warn!("leadership lost: stopped deciding; campaigning again");
                false
            }
            () = stopped(stop) => true,
        };
        let _ = end_term.send(true);
        for task in tasks {
            let _ = task.await;
        }
        self.switch.set(self.follower.clone());
        shutdown
    }
}
