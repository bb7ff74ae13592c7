//! Device classes from the User-Agent header.

use std::fmt;

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
    pub fn from_user_agent(ua: Option<&str>) -> DeviceClass {
        let Some(ua) = ua.map(str::trim).filter(|ua| !ua.is_empty()) else {
            return DeviceClass::Bot;
        };
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

    /// The bit of this class in a set of classes.
    pub(crate) fn bit(self) -> u8 {
        1 << (self as u8)
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
}
