//! Device classes from the User-Agent header.

use std::cell::RefCell;
use std::fmt;

use xxhash_rust::xxh3::xxh3_64;

use serde::{Deserialize, Serialize};

/// The kind of device a request comes from, read from its User-Agent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceClass {
    /// Phones (smartphones and feature phones).
    Mobile,
    /// Tablets: iPads, Android devices without "Mobile" in their User-Agent, Kindles.
    Tablet,
    /// Desktop and laptop browsers, consoles and TVs.
    Desktop,
    /// Crawlers, scripts and HTTP libraries, and requests without a User-Agent.
    Bot,
}

impl DeviceClass {
    /// Every class.
    pub const ALL: [DeviceClass; 4] = [
        DeviceClass::Mobile,
        DeviceClass::Tablet,
        DeviceClass::Desktop,
        DeviceClass::Bot,
    ];

    /// The name used in config (`mobile`, `tablet`, `desktop`, `bot`).
    pub fn as_str(self) -> &'static str {
        match self {
            DeviceClass::Mobile => "mobile",
            DeviceClass::Tablet => "tablet",
            DeviceClass::Desktop => "desktop",
            DeviceClass::Bot => "bot",
        }
    }

    /// Parses a config name, in any case.
    pub fn parse(s: &str) -> Option<DeviceClass> {
        DeviceClass::ALL
            .into_iter()
            .find(|d| d.as_str().eq_ignore_ascii_case(s))
    }

    /// The class of a User-Agent (`None` when the request has no User-Agent: a bot).
    ///
    /// The browser and crawler database is woothee's; on top of it, iPads, Kindles and
    /// Android devices whose User-Agent lacks "Mobile" are tablets, and unrecognised
    /// non-browser agents (curl, HTTP libraries) are bots.
    ///
    /// Parsing costs 1–2 µs; the answer for a recently seen User-Agent comes from a small
    /// per-thread cache instead (see [`UaCache`]).
    pub fn from_user_agent(ua: Option<&str>) -> DeviceClass {
        let Some(ua) = ua.map(str::trim).filter(|ua| !ua.is_empty()) else {
            return DeviceClass::Bot;
        };
        if ua.len() > UaCache::MAX_LEN {
            return classify(ua);
        }
        UA_CACHE.with(|cache| cache.borrow_mut().get_or_classify(ua))
    }

    /// The bit of this class in a set of classes.
    pub(crate) fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

thread_local! {
    static UA_CACHE: RefCell<UaCache> = RefCell::new(UaCache::new());
}

/// The device classes of the User-Agents a thread saw last: direct-mapped by the agent's xxh3
/// hash, each slot holding the whole agent string (a hit compares it; a hash collision is a
/// miss, never a wrong answer). A real audience sends a few hundred distinct agents, which stay
/// resident; a flood of random agents costs what no cache costs (one parse each) and at most
/// `SLOTS × MAX_LEN` bytes per thread.
struct UaCache {
    slots: Box<[Option<Kept>]>,
}

/// An agent and its class.
type Kept = (Box<str>, DeviceClass);

impl UaCache {
    /// Number of slots (a power of two).
    const SLOTS: usize = 512;
    /// Longer agents are parsed every time and never kept.
    const MAX_LEN: usize = 512;

    fn new() -> UaCache {
        UaCache {
            slots: vec![None; Self::SLOTS].into_boxed_slice(),
        }
    }

    fn get_or_classify(&mut self, ua: &str) -> DeviceClass {
        let slot = (xxh3_64(ua.as_bytes()) as usize) & (Self::SLOTS - 1);
        match &self.slots[slot] {
            Some((kept, class)) if **kept == *ua => *class,
            _ => {
                let class = classify(ua);
                self.slots[slot] = Some((ua.into(), class));
                class
            }
        }
    }
}

/// The class of a non-empty, trimmed User-Agent, parsed.
fn classify(ua: &str) -> DeviceClass {
    let parsed = woothee::parser::Parser::new().parse(ua);
    let (category, os) = parsed
        .as_ref()
        .map_or(("UNKNOWN", ""), |r| (r.category, r.os));
    match category {
        "crawler" => DeviceClass::Bot,
        "smartphone" | "mobilephone" if is_tablet(ua, os) => DeviceClass::Tablet,
        "smartphone" | "mobilephone" => DeviceClass::Mobile,
        "pc" if ua.contains("Silk/") || ua.contains("Kindle") => DeviceClass::Tablet,
        "pc" | "appliance" => DeviceClass::Desktop,
        _ if ua.starts_with("Mozilla/") || ua.starts_with("Opera/") => DeviceClass::Desktop,
        _ => DeviceClass::Bot,
    }
}

/// Tablets that woothee files under smartphones.
fn is_tablet(ua: &str, os: &str) -> bool {
    os == "iPad"
        || ua.contains("iPad")
        || ua.contains("Tablet")
        || ua.contains("Kindle")
        || ua.contains("Silk/")
        || (os == "Android" && !ua.contains("Mobile"))
}

impl fmt::Display for DeviceClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(ua: &str) -> DeviceClass {
        DeviceClass::from_user_agent(Some(ua))
    }

    #[test]
    fn phones() {
        assert_eq!(
            class(
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"
            ),
            DeviceClass::Mobile
        );
        assert_eq!(
            class(
                "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36"
            ),
            DeviceClass::Mobile
        );
    }

    #[test]
    fn tablets() {
        assert_eq!(
            class(
                "Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"
            ),
            DeviceClass::Tablet
        );
        assert_eq!(
            class(
                "Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"
            ),
            DeviceClass::Tablet
        );
    }

    #[test]
    fn desktops() {
        assert_eq!(
            class(
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"
            ),
            DeviceClass::Desktop
        );
        assert_eq!(
            class(
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15"
            ),
            DeviceClass::Desktop
        );
        assert_eq!(
            class("Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0"),
            DeviceClass::Desktop
        );
    }

    #[test]
    fn bots() {
        assert_eq!(
            class("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"),
            DeviceClass::Bot
        );
        assert_eq!(
            class("Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)"),
            DeviceClass::Bot
        );
        assert_eq!(class("curl/8.5.0"), DeviceClass::Bot);
        assert_eq!(class("python-requests/2.31.0"), DeviceClass::Bot);
        assert_eq!(DeviceClass::from_user_agent(None), DeviceClass::Bot);
        assert_eq!(DeviceClass::from_user_agent(Some("  ")), DeviceClass::Bot);
    }

    #[test]
    fn names() {
        for d in DeviceClass::ALL {
            assert_eq!(DeviceClass::parse(d.as_str()), Some(d));
        }
        assert_eq!(DeviceClass::parse("Mobile"), Some(DeviceClass::Mobile));
        assert_eq!(DeviceClass::parse("phone"), None);
        let bits: u8 = DeviceClass::ALL.iter().map(|d| d.bit()).sum();
        assert_eq!(bits, 0b1111);
    }

    const PHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1";
    const DESKTOP: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36";

    #[test]
    fn the_cache_answers_what_parsing_answers() {
        let agents = [
            PHONE,
            DESKTOP,
            "Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15",
            "Mozilla/5.0 (Linux; Android 14; SM-X910) AppleWebKit/537.36 Chrome/124.0 Safari/537.36",
            "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
            "curl/8.5.0",
        ];
        let mut cache = UaCache::new();
        for _ in 0..3 {
            for ua in agents {
                assert_eq!(cache.get_or_classify(ua), classify(ua), "{ua}");
                assert_eq!(class(ua), classify(ua), "{ua}");
            }
        }
    }

    #[test]
    fn agents_sharing_a_slot_never_borrow_each_others_class() {
        let slot = |ua: &str| (xxh3_64(ua.as_bytes()) as usize) & (UaCache::SLOTS - 1);
        let bot = "curl/8.5.0";
        // A desktop agent that lands in the bot's slot (one in SLOTS does).
        let twin = (0..100 * UaCache::SLOTS)
            .map(|i| format!("{DESKTOP} x/{i}"))
            .find(|ua| slot(ua) == slot(bot))
            .expect("a desktop agent in the same slot");
        let mut cache = UaCache::new();
        for _ in 0..3 {
            assert_eq!(cache.get_or_classify(bot), DeviceClass::Bot);
            assert_eq!(cache.get_or_classify(&twin), DeviceClass::Desktop);
        }
    }

    #[test]
    fn long_agents_are_parsed_and_not_kept() {
        let long = format!("{PHONE} {}", "x".repeat(UaCache::MAX_LEN));
        assert_eq!(class(&long), DeviceClass::Mobile);
        UA_CACHE.with(|c| {
            assert!(
                c.borrow()
                    .slots
                    .iter()
                    .flatten()
                    .all(|(kept, _)| kept.len() <= UaCache::MAX_LEN)
            );
        });
    }
}
