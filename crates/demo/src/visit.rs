//! What a visitor does on one visit, decided up front so the live load generator and the
//! simulated one (`tests/schedule.rs`) behave alike: load the page, let its script load the
//! products, maybe click a product, maybe go to the checkout. Whether the checkout completes
//! is up to the version that answers it.

use rand::{Rng, RngExt};

use crate::behaviour::CHECKOUT_INTENT;
use crate::users::Device;

/// Share of page views with a click on a product.
pub const CLICK_RATE: f64 = 0.30;

/// The choices of one visit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Visit {
    /// The visitor's browser runs the page's script: products are loaded and events are sent.
    /// Bots load the page only.
    pub runs_script: bool,
    /// A product is clicked.
    pub clicks: bool,
    /// The visitor goes to the checkout.
    pub checks_out: bool,
}

/// Requests one visit sends at most: page, products, checkout.
pub const MAX_REQUESTS: u32 = 3;

impl Visit {
    /// The choices of a visit by a `device` user.
    pub fn draw(device: Device, rng: &mut impl Rng) -> Visit {
        let clicks = rng.random_bool(CLICK_RATE);
        let checks_out = rng.random_bool(CHECKOUT_INTENT);
        Visit {
            runs_script: device != Device::Bot,
            clicks,
            checks_out,
        }
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand::rngs::SmallRng;

    use super::*;

    #[test]
    fn bots_run_no_script_and_people_click_and_buy_at_their_rates() {
        let mut rng = SmallRng::seed_from_u64(5);
        assert!(!Visit::draw(Device::Bot, &mut rng).runs_script);
        let visits: Vec<Visit> = (0..40_000)
            .map(|_| Visit::draw(Device::Mobile, &mut rng))
            .collect();
        let share = |f: fn(&Visit) -> bool| {
            visits.iter().filter(|v| f(v)).count() as f64 / visits.len() as f64
        };
        assert!((share(|v| v.clicks) - CLICK_RATE).abs() < 0.01);
        assert!((share(|v| v.checks_out) - CHECKOUT_INTENT).abs() < 0.01);
        assert!(visits.iter().all(|v| v.runs_script));
    }
}
