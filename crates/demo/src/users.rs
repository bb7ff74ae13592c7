//! The demo's visitors: a fixed pool of users, each with a stable id, a device (and the
//! User-Agent it sends) and a country, drawn once from the seed. Ids are stable, so a user
//! stays in the same cohort for the whole run, as real users do with a real bucketing.

use rand::rngs::SmallRng;
use rand::{RngExt, SeedableRng};

/// Users in the pool.
pub const POOL_SIZE: usize = 20_000;

/// The kind of client a user has.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Device {
    /// A phone or tablet browser.
    Mobile,
    /// A desktop browser.
    Desktop,
    /// A crawler: loads pages, runs no script, sends no events, never buys.
    Bot,
}

/// One visitor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    /// The id the edge buckets (`X-User-Id`) and events carry.
    pub id: String,
    /// The device class.
    pub device: Device,
    /// The User-Agent header it sends.
    pub user_agent: &'static str,
    /// ISO country code (sent in the CDN geo header).
    pub country: &'static str,
}

/// User-Agents by device, with their share within the device class.
const MOBILE_AGENTS: [(&str, u32); 3] = [
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
        45,
    ),
    (
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36",
        40,
    ),
    (
        "Mozilla/5.0 (Linux; Android 13; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/123.0.0.0 Mobile Safari/537.36",
        15,
    ),
];
const DESKTOP_AGENTS: [(&str, u32); 3] = [
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
        55,
    ),
    (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
        30,
    ),
    (
        "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
        15,
    ),
];
const BOT_AGENTS: [(&str, u32); 2] = [
    (
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        70,
    ),
    (
        "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
        30,
    ),
];
/// Devices and their share of users.
const DEVICES: [(Device, u32); 3] = [
    (Device::Mobile, 58),
    (Device::Desktop, 39),
    (Device::Bot, 3),
];
/// Countries and their share of users.
const COUNTRIES: [(&str, u32); 10] = [
    ("US", 30),
    ("DE", 14),
    ("GB", 11),
    ("FR", 9),
    ("IN", 9),
    ("BR", 7),
    ("NL", 6),
    ("JP", 6),
    ("CA", 5),
    ("ES", 3),
];

/// The pool of users a run draws its visitors from.
#[derive(Clone, Debug)]
pub struct Users {
    users: Vec<User>,
}

impl Users {
    /// `size` users drawn from `seed`: the same seed gives the same users.
    pub fn new(size: usize, seed: u64) -> Users {
        let mut rng = SmallRng::seed_from_u64(seed ^ 0x7573_6572_7300_0000);
        let users = (0..size)
            .map(|_| {
                let device = pick(&mut rng, &DEVICES);
                let agents: &[(&'static str, u32)] = match device {
                    Device::Mobile => &MOBILE_AGENTS,
                    Device::Desktop => &DESKTOP_AGENTS,
                    Device::Bot => &BOT_AGENTS,
                };
                User {
                    id: format!("u-{:016x}", rng.random::<u64>()),
                    device,
                    user_agent: pick(&mut rng, agents),
                    country: pick(&mut rng, &COUNTRIES),
                }
            })
            .collect();
        Users { users }
    }

    /// A user chosen uniformly.
    pub fn any(&self, rng: &mut SmallRng) -> Option<&User> {
        if self.users.is_empty() {
            return None;
        }
        self.users.get(rng.random_range(0..self.users.len()))
    }

    /// Every user.
    pub fn all(&self) -> &[User] {
        &self.users
    }
}

/// A weighted choice from a non-empty table.
fn pick<T: Copy>(rng: &mut SmallRng, table: &[(T, u32)]) -> T {
    let total: u32 = table.iter().map(|(_, w)| w).sum();
    let mut x = rng.random_range(0..total.max(1));
    for &(item, w) in table {
        if x < w {
            return item;
        }
        x -= w;
    }
    // Only reached for an empty table, which the constants above never are.
    table[0].0
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_users_with_unique_ids() {
        let a = Users::new(2_000, 42);
        let b = Users::new(2_000, 42);
        assert_eq!(a.all(), b.all());
        let ids: HashSet<&str> = a.all().iter().map(|u| u.id.as_str()).collect();
        assert_eq!(ids.len(), 2_000);
        assert_ne!(Users::new(10, 43).all(), Users::new(10, 42).all());
    }

    #[test]
    fn the_edge_classes_every_user_agent_as_its_device() {
        use rollgate_core::DeviceClass;
        for u in Users::new(2_000, 9).all() {
            let class = DeviceClass::from_user_agent(Some(u.user_agent));
            let expected = match u.device {
                Device::Mobile => DeviceClass::Mobile,
                Device::Desktop => DeviceClass::Desktop,
                Device::Bot => DeviceClass::Bot,
            };
            assert_eq!(class, expected, "{}", u.user_agent);
        }
    }

    #[test]
    fn devices_and_countries_follow_their_shares() {
        let users = Users::new(POOL_SIZE, 1);
        let share = |f: &dyn Fn(&User) -> bool| {
            users.all().iter().filter(|u| f(u)).count() as f64 / POOL_SIZE as f64
        };
        let mobile = share(&|u| u.device == Device::Mobile);
        let bots = share(&|u| u.device == Device::Bot);
        let us = share(&|u| u.country == "US");
        assert!((mobile - 0.58).abs() < 0.02, "{mobile}");
        assert!((bots - 0.03).abs() < 0.01, "{bots}");
        assert!((us - 0.30).abs() < 0.02, "{us}");
        assert!(users.all().iter().all(|u| match u.device {
            Device::Bot => u.user_agent.contains("bot"),
            _ => u.user_agent.starts_with("Mozilla/5.0 ("),
        }));
    }
}
