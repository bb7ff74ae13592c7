//! Load balancing over a version's endpoints: round robin or least requests, skipping
//! endpoints that are ejected or failing their health checks.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use rollgate_core::LoadBalancing;

use crate::clock::Millis;
use crate::endpoint::Endpoint;

/// Picks endpoints of one version.
#[derive(Debug)]
pub(crate) struct Balancer {
    policy: LoadBalancing,
    next: AtomicUsize,
}

impl Balancer {
    /// A balancer with `policy`.
    pub(crate) fn new(policy: LoadBalancing) -> Balancer {
        Balancer {
            policy,
            next: AtomicUsize::new(0),
        }
    }

    /// The position of an available endpoint at `now`, or `None` when every endpoint is out.
    ///
    /// Round robin takes the available endpoints in turn (an ejected endpoint's share is
    /// spread evenly over the others, not dumped on its neighbour). Least requests takes the
    /// available endpoint with the fewest requests in flight, starting the scan at the
    /// round-robin position so ties are spread evenly.
    #[inline]
    pub(crate) fn pick(&self, endpoints: &[Arc<Endpoint>], now: Millis) -> Option<usize> {
        let n = endpoints.len();
        if n <= 1 {
            return endpoints.first().filter(|e| e.available(now)).map(|_| 0);
        }
        let turn = self.next.fetch_add(1, Ordering::Relaxed);
        match self.policy {
            LoadBalancing::RoundRobin => {
                let up = endpoints.iter().filter(|e| e.available(now)).count();
                if up == 0 {
                    return None;
                }
                let k = turn % up;
                endpoints
                    .iter()
                    .enumerate()
                    .filter(|(_, e)| e.available(now))
                    .nth(k)
                    .map(|(i, _)| i)
            }
            LoadBalancing::LeastRequests => (0..n)
                .map(|i| (turn + i) % n)
                .filter(|&i| endpoints[i].available(now))
                .min_by_key(|&i| endpoints[i].in_flight()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::endpoint::HealthPolicy;
    use crate::pool::IdlePool;

    fn endpoints(n: usize) -> Vec<Arc<Endpoint>> {
        let policy = HealthPolicy {
            active: false,
            unhealthy_threshold: 1,
            healthy_threshold: 1,
            ejection_ms: 1_000,
        };
        (0..n)
            .map(|i| {
                Arc::new(Endpoint::new(
                    &format!("127.0.0.1:{}", i + 1),
                    policy,
                    IdlePool::new(1, 1_000),
                    None,
                ))
            })
            .collect()
    }

    fn picks(b: &Balancer, eps: &[Arc<Endpoint>], times: usize) -> Vec<String> {
        (0..times)
            .map(|_| {
                b.pick(eps, 0)
                    .map_or("-".into(), |i| eps[i].addr().to_string())
            })
            .collect()
    }

    #[test]
    fn round_robin_takes_turns_and_skips_ejected_endpoints() {
        let eps = endpoints(3);
        let b = Balancer::new(LoadBalancing::RoundRobin);
        assert_eq!(
            picks(&b, &eps, 4),
            ["127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:3", "127.0.0.1:1"]
        );
        assert!(eps[1].connect_failed(0));
        let got = picks(&b, &eps, 6);
        assert!(!got.contains(&"127.0.0.1:2".to_string()), "{got:?}");
        assert_eq!(
            got.iter().filter(|a| *a == "127.0.0.1:1").count(),
            3,
            "{got:?}"
        );
        assert_eq!(
            got.iter().filter(|a| *a == "127.0.0.1:3").count(),
            3,
            "{got:?}"
        );
    }

    #[test]
    fn least_requests_prefers_the_idlest_endpoint() {
        let eps = endpoints(3);
        let b = Balancer::new(LoadBalancing::LeastRequests);
        eps[0].begin();
        eps[0].begin();
        eps[2].begin();
        for _ in 0..5 {
            assert_eq!(b.pick(&eps, 0), Some(1));
        }
        eps[1].begin();
        eps[1].begin();
        assert_eq!(b.pick(&eps, 0), Some(2));
    }

    #[test]
    fn nothing_is_picked_when_every_endpoint_is_out() {
        let eps = endpoints(2);
        let b = Balancer::new(LoadBalancing::LeastRequests);
        for e in &eps {
            e.connect_failed(0);
        }
        assert!(b.pick(&eps, 10).is_none());
        assert!(b.pick(&eps, 1_000).is_some());
        assert!(b.pick(&[], 0).is_none());
    }
}
