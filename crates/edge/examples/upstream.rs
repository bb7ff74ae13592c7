//! A fast HTTP/1.1 upstream for `bench/proxy.sh` and manual testing: the same server the
//! tests use (`tests/support/upstream.rs`), as a process.
//!
//! ```text
//! cargo run --release -p rollgate-edge --example upstream -- v1 127.0.0.1:18081 [threads]
//! ```
#![allow(clippy::unwrap_used, clippy::print_stdout)]

#[path = "../../../tests/support/upstream.rs"]
mod upstream;

use std::net::SocketAddr;

fn main() {
    let mut args = std::env::args().skip(1);
    let usage = "usage: upstream NAME ADDR [THREADS]";
    let name = args.next().expect(usage);
    let addr: SocketAddr = args
        .next()
        .expect(usage)
        .parse()
        .expect("ADDR is host:port");
    let threads: usize = args
        .next()
        .map_or(1, |t| t.parse().expect("THREADS is a number"));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let up = upstream::Upstream::start_on(&name, addr).await;
        println!("upstream {name} listening on {}", up.addr);
        let _ = tokio::signal::ctrl_c().await;
    });
}
