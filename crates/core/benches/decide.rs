//! Cost of one routing decision, of bucketing alone and of User-Agent classification.
//!
//! The request is a real `http::Request` (header lookup as the proxy does it), for a table of
//! 10 services, each with a rollout whose audience has 5 rules (header equals, cookie prefix,
//! IP CIDR, country header, app-version range) that the request all passes, so every rule runs.
#![allow(clippy::unwrap_used)]

use std::hint::black_box;
use std::net::IpAddr;

use criterion::{Criterion, criterion_group, criterion_main};
use rollgate_core::{
    BucketingVersion, DeviceClass, EdgeContext, GeoSource, RequestView, RoutingSpec, RoutingTable,
    bucket,
};

/// A request as the proxy sees it: `http` parts, the peer address, cookies read from the
/// `Cookie` header on demand.
struct Req {
    parts: http::request::Parts,
    ip: IpAddr,
}

impl RequestView for Req {
    fn host(&self) -> Option<&str> {
        self.parts
            .headers
            .get(http::header::HOST)
            .and_then(|h| h.to_str().ok())
    }
    fn path(&self) -> &str {
        self.parts.uri.path()
    }
    fn header(&self, name: &str) -> Option<&str> {
        self.parts.headers.get(name).and_then(|h| h.to_str().ok())
    }
    fn cookie(&self, name: &str) -> Option<&str> {
        self.parts
            .headers
            .get_all(http::header::COOKIE)
            .iter()
            .find_map(|h| {
                h.to_str().ok()?.split(';').find_map(|kv| {
                    let (k, v) = kv.trim().split_once('=')?;
                    (k == name).then_some(v)
                })
            })
    }
    fn query(&self, name: &str) -> Option<&str> {
        self.parts.uri.query()?.split('&').find_map(|kv| {
            let (k, v) = kv.split_once('=')?;
            (k == name).then_some(v)
        })
    }
    fn client_ip(&self) -> Option<IpAddr> {
        Some(self.ip)
    }
}

/// A request whose headers and cookies were split once into small lists (lower-case header
/// names): what a host that pre-parses its request pays, isolating the cost of the decision.
struct Indexed {
    path: String,
    headers: Vec<(String, String)>,
    cookies: Vec<(String, String)>,
    ip: IpAddr,
}

impl Indexed {
    fn from(req: &Req) -> Indexed {
        let headers: Vec<(String, String)> = req
            .parts
            .headers
            .iter()
            .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap().to_string()))
            .collect();
        let cookies = headers
            .iter()
            .filter(|(k, _)| k == "cookie")
            .flat_map(|(_, v)| v.split(';'))
            .filter_map(|kv| kv.trim().split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Indexed {
            path: req.parts.uri.path().to_string(),
            headers,
            cookies,
            ip: req.ip,
        }
    }
}

impl RequestView for Indexed {
    fn host(&self) -> Option<&str> {
        self.header("host")
    }
    fn path(&self) -> &str {
        &self.path
    }
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    fn cookie(&self, name: &str) -> Option<&str> {
        self.cookies
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
    fn query(&self, _: &str) -> Option<&str> {
        None
    }
    fn client_ip(&self) -> Option<IpAddr> {
        Some(self.ip)
    }
}

fn spec(device_rule: bool) -> RoutingSpec {
    let mut toml_text = String::new();
    for i in 0..10 {
        let device = if device_rule {
            r#", { device = ["desktop", "mobile"] }"#
        } else {
            ""
        };
        toml_text.push_str(&format!(
            r#"
[[services]]
name = "svc{i}"
hosts = ["svc{i}.example.com"]
unit = {{ header = "X-User-Id", cookie = "uid" }}
[[services.versions]]
name = "stable"
endpoints = ["127.0.0.1:{p1}"]
[[services.versions]]
name = "canary"
endpoints = ["127.0.0.1:{p2}"]

[[rollouts]]
name = "svc{i}-canary"
service = "svc{i}"
stable = "stable"
canary = "canary"
weight = "10%"
audience = {{ all = [
  {{ header = {{ name = "X-Beta", equals = "1" }} }},
  {{ cookie = {{ name = "plan", prefix = "pro" }} }},
  {{ ip = ["10.0.0.0/8", "192.168.0.0/16", "2001:db8::/32"] }},
  {{ country = ["DE", "FR", "NL"] }},
  {{ app_version = {{ header = "X-App-Version", range = ">=2.3.0, <3" }} }}{device}
] }}
"#,
            p1 = 8000 + 2 * i,
            p2 = 8001 + 2 * i,
        ));
    }
    toml::from_str(&toml_text).unwrap()
}

fn request(host: &str) -> Req {
    let req = http::Request::get("/cart/items?ref=mail")
        .header("host", host)
        .header("user-agent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36")
        .header("accept", "text/html")
        .header("x-user-id", "user-8f14e45f")
        .header("x-beta", "1")
        .header("x-app-version", "2.4.1")
        .header("cf-ipcountry", "DE")
        .header("cookie", "session=abc; plan=pro-annual; uid=u-1")
        .body(())
        .unwrap();
    Req {
        parts: req.into_parts().0,
        ip: "10.1.2.3".parse().unwrap(),
    }
}

fn bench_decide(c: &mut Criterion) {
    let ctx = EdgeContext {
        geo: GeoSource::Header("CF-IPCountry".into()),
        overrides: None,
    };
    let req = request("svc7.example.com");
    let indexed = Indexed::from(&req);
    for (name, device) in [
        ("10-services-5-rules", false),
        ("10-services-5-rules+device", true),
    ] {
        let table = RoutingTable::build(&spec(device), &ctx).unwrap();
        let d = table.decide(&req, 0, String::new).unwrap();
        assert!(
            d.bucket().is_some(),
            "the request must pass the audience: {}",
            d.reason()
        );
        c.bench_function(&format!("decide/{name}/http-request"), |b| {
            b.iter(|| {
                let d = table.decide(black_box(&req), 0, String::new).unwrap();
                black_box((d.service_index(), d.version_index(), d.cohort()))
            })
        });
        c.bench_function(&format!("decide/{name}/indexed-request"), |b| {
            b.iter(|| {
                let d = table.decide(black_box(&indexed), 0, String::new).unwrap();
                black_box((d.service_index(), d.version_index(), d.cohort()))
            })
        });
    }
}

fn bench_parts(c: &mut Criterion) {
    c.bench_function("bucket/v1/short", |b| {
        b.iter(|| {
            bucket(
                BucketingVersion::V1,
                black_box("shop-v1.2"),
                black_box("user-8f14e45f"),
            )
        })
    });
    let long = "x".repeat(300);
    c.bench_function("bucket/v1/300-byte-unit", |b| {
        b.iter(|| {
            bucket(
                BucketingVersion::V1,
                black_box("shop-v1.2"),
                black_box(&long),
            )
        })
    });
    let ua = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1";
    // The same agent again: answered by the per-thread cache.
    c.bench_function("device/from_user_agent/repeated", |b| {
        b.iter(|| DeviceClass::from_user_agent(black_box(Some(ua))))
    });
    // 4,096 distinct agents in turn, eight times the cache: (nearly) every call parses.
    let agents: Vec<String> = (0..4096).map(|i| format!("{ua} build/{i}")).collect();
    let mut next = agents.iter().cycle();
    c.bench_function("device/from_user_agent/4096-distinct", |b| {
        b.iter(|| DeviceClass::from_user_agent(black_box(next.next().map(String::as_str))))
    });
}

criterion_group!(benches, bench_decide, bench_parts);
criterion_main!(benches);
