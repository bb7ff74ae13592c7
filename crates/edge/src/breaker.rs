//! The circuit breaker of one version: opens on consecutive failures or on an error ratio in
//! a rolling window, stays open for a cool-down, then lets a few probe requests test the
//! version before closing again. Every operation is a handful of atomic loads and
//! compare-and-swaps: the breaker sits on the hot path of every request.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use rollgate_core::{BreakerSpec, Ppm};

use crate::clock::{Millis, millis};

mod window;

use window::RollingWindow;

/// Where a version's breaker stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BreakerState {
    /// Traffic flows normally.
    Closed,
    /// Too many failures: the version gets no traffic until the cool-down has passed.
    Open,
    /// The cool-down has passed: a few probe requests test the version.
    HalfOpen,
}

/// May a request go to the version?
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Admission {
    /// Yes (the breaker is closed).
    Normal,
    /// Yes, as one of the half-open probes: its outcome decides whether the breaker closes.
    Probe,
    /// No: the breaker is open.
    Rejected,
}

/// How a request that reached the version ended, as far as the breaker is concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// The version answered (anything but a 5xx).
    Success,
    /// The version failed: connection refused or reset, timeout, or a 5xx.
    Failure,
    /// Nothing to learn about the version (the client went away, the proxy failed).
    Neutral,
}

/// The circuit breaker of one version.
#[derive(Debug)]
pub(crate) struct Breaker {
    spec: BreakerSpec,
    /// The state (top two bits) and the time it was entered (the rest), in one word so a
    /// transition is one compare-and-swap.
    state: AtomicU64,
    consecutive: AtomicU32,
    probes_left: AtomicU32,
    probes_ok: AtomicU32,
    window: RollingWindow,
}

const STATE_SHIFT: u32 = 62;
const SINCE_MASK: u64 = (1 << STATE_SHIFT) - 1;

impl BreakerState {
    /// The name shown in the admin API and metrics (`closed`, `open`, `half_open`).
    pub fn as_str(self) -> &'static str {
        match self {
            BreakerState::Closed => "closed",
            BreakerState::Open => "open",
            BreakerState::HalfOpen => "half_open",
        }
    }

    fn bits(self) -> u64 {
        match self {
            BreakerState::Closed => 0,
            BreakerState::Open => 1,
            BreakerState::HalfOpen => 2,
        }
    }

    fn from_bits(bits: u64) -> BreakerState {
        match bits {
            1 => BreakerState::Open,
            2 => BreakerState::HalfOpen,
            _ => BreakerState::Closed,
        }
    }
}

fn pack_state(state: BreakerState, since: Millis) -> u64 {
    (state.bits() << STATE_SHIFT) | (since & SINCE_MASK)
}

fn unpack_state(word: u64) -> (BreakerState, Millis) {
    (
        BreakerState::from_bits(word >> STATE_SHIFT),
        word & SINCE_MASK,
    )
}

impl Breaker {
    /// A closed breaker configured by `spec`, as of `now`.
    pub(crate) fn new(spec: BreakerSpec, now: Millis) -> Breaker {
        Breaker {
            spec,
            state: AtomicU64::new(pack_state(BreakerState::Closed, now)),
            consecutive: AtomicU32::new(0),
            probes_left: AtomicU32::new(0),
            probes_ok: AtomicU32::new(0),
            window: RollingWindow::new(millis(spec.window.get())),
        }
    }

    /// The configuration this breaker runs with.
    pub(crate) fn spec(&self) -> &BreakerSpec {
        &self.spec
    }

    /// The current state and when it was entered.
    pub(crate) fn state(&self) -> (BreakerState, Millis) {
        unpack_state(self.state.load(Ordering::Acquire))
    }

    /// Whether a request may go to the version at `now`. A [`Admission::Probe`] must be
    /// followed by [`Breaker::record`] with `probe = true`, or its permit is lost until the
    /// next cool-down.
    pub(crate) fn admit(&self, now: Millis) -> Admission {
        let word = self.state.load(Ordering::Acquire);
        let (state, since) = unpack_state(word);
        let cooled = now.saturating_sub(since) >= millis(self.spec.cool_down.get());
        match state {
            BreakerState::Closed => Admission::Normal,
            BreakerState::Open if !cooled => Admission::Rejected,
            // Open and cooled down, or half-open with every probe stuck for a whole cool-down
            // (their requests never reported): start a round of probes.
            BreakerState::Open => self.start_probes(word, now),
            BreakerState::HalfOpen => {
                let took =
                    self.probes_left
                        .fetch_update(Ordering::AcqRel, Ordering::Acquire, |p| p.checked_sub(1));
                match took {
                    Ok(_) => Admission::Probe,
                    Err(_) if cooled => self.start_probes(word, now),
                    Err(_) => Admission::Rejected,
                }
            }
        }
    }

    fn start_probes(&self, seen: u64, now: Millis) -> Admission {
        let next = pack_state(BreakerState::HalfOpen, now);
        match self
            .state
            .compare_exchange(seen, next, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => {
                self.probes_ok.store(0, Ordering::Release);
                self.probes_left.store(
                    self.spec.half_open_probes.saturating_sub(1),
                    Ordering::Release,
                );
                Admission::Probe
            }
            Err(_) => Admission::Rejected,
        }
    }

    /// Records how a request admitted at `now` ended; `probe` when it was admitted as one.
    pub(crate) fn record(&self, outcome: Outcome, probe: bool, now: Millis) {
        let word = self.state.load(Ordering::Acquire);
        let (state, _) = unpack_state(word);
        match (state, probe) {
            (BreakerState::Closed, false) => self.record_closed(outcome, word, now),
            (BreakerState::HalfOpen, true) => self.record_probe(outcome, word, now),
            // Requests admitted before the breaker changed state teach it nothing new.
            _ => {}
        }
    }

    fn record_closed(&self, outcome: Outcome, word: u64, now: Millis) {
        match outcome {
            Outcome::Neutral => {}
            Outcome::Success => {
                if self.consecutive.load(Ordering::Relaxed) != 0 {
                    self.consecutive.store(0, Ordering::Relaxed);
                }
                self.window.add(now, false);
            }
            Outcome::Failure => {
                let run = self
                    .consecutive
                    .fetch_add(1, Ordering::AcqRel)
                    .saturating_add(1);
                self.window.add(now, true);
                if run >= self.spec.consecutive_failures || self.ratio_exceeded(now) {
                    self.open(word, now);
                }
            }
        }
    }

    fn ratio_exceeded(&self, now: Millis) -> bool {
        let (requests, failures) = self.window.totals(now);
        requests >= u64::from(self.spec.min_requests)
            && failures * u64::from(Ppm::SCALE) >= u64::from(self.spec.error_ratio.get()) * requests
    }

    fn record_probe(&self, outcome: Outcome, word: u64, now: Millis) {
        match outcome {
            Outcome::Neutral => {
                self.probes_left.fetch_add(1, Ordering::AcqRel);
            }
            Outcome::Failure => self.open(word, now),
            Outcome::Success => {
                let ok = self
                    .probes_ok
                    .fetch_add(1, Ordering::AcqRel)
                    .saturating_add(1);
                if ok >= self.spec.half_open_probes {
                    self.close(word, now);
                }
            }
        }
    }

    fn open(&self, seen: u64, now: Millis) {
        self.probes_left.store(0, Ordering::Release);
        let next = pack_state(BreakerState::Open, now);
        if self
            .state
            .compare_exchange(seen, next, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
        {
            tracing::debug!(window = ?self.window.totals(now), "circuit breaker opened");
        }
    }

    fn close(&self, seen: u64, now: Millis) {
        let next = pack_state(BreakerState::Closed, now);
        if self
            .state
            .compare_exchange(seen, next, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
        {
            self.consecutive.store(0, Ordering::Release);
            self.window.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use rollgate_core::DurationSpec;

    use super::*;

    fn spec() -> BreakerSpec {
        BreakerSpec {
            consecutive_failures: 3,
            error_ratio: Ppm::percent(50),
            window: DurationSpec::from_secs(10),
            min_requests: 10,
            cool_down: DurationSpec::from_secs(5),
            half_open_probes: 2,
        }
    }

    fn run(b: &Breaker, now: Millis, outcome: Outcome) -> Admission {
        let a = b.admit(now);
        if a != Admission::Rejected {
            b.record(outcome, a == Admission::Probe, now);
        }
        a
    }

    #[test]
    fn consecutive_failures_open_it_and_a_success_resets_the_run() {
        let b = Breaker::new(spec(), 0);
        run(&b, 1, Outcome::Failure);
        run(&b, 2, Outcome::Failure);
        run(&b, 3, Outcome::Success);
        run(&b, 4, Outcome::Failure);
        run(&b, 5, Outcome::Failure);
        assert_eq!(b.state(), (BreakerState::Closed, 0));
        run(&b, 6, Outcome::Failure);
        assert_eq!(b.state(), (BreakerState::Open, 6));
        assert_eq!(b.admit(7), Admission::Rejected);
        assert_eq!(b.admit(5_005), Admission::Rejected);
    }

    #[test]
    fn neutral_outcomes_do_not_count() {
        let b = Breaker::new(spec(), 0);
        for t in 0..100 {
            run(&b, t, Outcome::Neutral);
        }
        run(&b, 100, Outcome::Failure);
        run(&b, 101, Outcome::Failure);
        assert_eq!(b.state().0, BreakerState::Closed);
    }

    #[test]
    fn the_error_ratio_opens_it_only_above_the_minimum_request_count() {
        let mut s = spec();
        s.consecutive_failures = 100;
        let b = Breaker::new(s, 0);
        // Alternating: 50% errors but only 8 requests so far.
        for t in 0..8 {
            let o = if t % 2 == 0 {
                Outcome::Success
            } else {
                Outcome::Failure
            };
            run(&b, t, o);
        }
        assert_eq!(b.state().0, BreakerState::Closed);
        run(&b, 8, Outcome::Success);
        run(&b, 9, Outcome::Failure);
        assert_eq!(b.state(), (BreakerState::Open, 9));
    }

    #[test]
    fn old_requests_leave_the_window() {
        let mut s = spec();
        s.consecutive_failures = 100;
        let b = Breaker::new(s, 0);
        // Nine failures long ago, then successes far later: the failures have left the window.
        for t in 0..9 {
            run(&b, t, Outcome::Failure);
        }
        run(&b, 9, Outcome::Success);
        for t in 0..9 {
            run(&b, 20_000 + t, Outcome::Success);
        }
        run(&b, 20_010, Outcome::Failure);
        assert_eq!(b.state().0, BreakerState::Closed);
        assert_eq!(b.window.totals(20_010), (10, 1));
    }

    #[test]
    fn half_open_probes_close_it_after_enough_successes() {
        let b = Breaker::new(spec(), 0);
        for t in 0..3 {
            run(&b, t, Outcome::Failure);
        }
        assert_eq!(b.state(), (BreakerState::Open, 2));
        // Cool-down passed: two probes, a third request is still refused.
        assert_eq!(b.admit(5_002), Admission::Probe);
        assert_eq!(b.state(), (BreakerState::HalfOpen, 5_002));
        assert_eq!(b.admit(5_003), Admission::Probe);
        assert_eq!(b.admit(5_004), Admission::Rejected);
        b.record(Outcome::Success, true, 5_010);
        assert_eq!(b.state().0, BreakerState::HalfOpen);
        b.record(Outcome::Success, true, 5_011);
        assert_eq!(b.state(), (BreakerState::Closed, 5_011));
        assert_eq!(b.admit(5_012), Admission::Normal);
        // The old failures are forgotten: two more do not reopen it.
        run(&b, 5_013, Outcome::Failure);
        run(&b, 5_014, Outcome::Failure);
        assert_eq!(b.state().0, BreakerState::Closed);
    }

    #[test]
    fn a_failed_probe_reopens_it_for_another_cool_down() {
        let b = Breaker::new(spec(), 0);
        for t in 0..3 {
            run(&b, t, Outcome::Failure);
        }
        assert_eq!(run(&b, 6_000, Outcome::Failure), Admission::Probe);
        assert_eq!(b.state(), (BreakerState::Open, 6_000));
        assert_eq!(b.admit(10_000), Admission::Rejected);
        assert_eq!(b.admit(11_000), Admission::Probe);
    }

    #[test]
    fn a_neutral_probe_gives_its_permit_back_and_stuck_probes_are_renewed() {
        let b = Breaker::new(spec(), 0);
        for t in 0..3 {
            run(&b, t, Outcome::Failure);
        }
        assert_eq!(b.admit(6_000), Admission::Probe);
        assert_eq!(b.admit(6_001), Admission::Probe);
        assert_eq!(b.admit(6_002), Admission::Rejected);
        b.record(Outcome::Neutral, true, 6_003);
        assert_eq!(b.admit(6_004), Admission::Probe);
        // Two probes never report; after a whole cool-down a new round starts.
        assert_eq!(b.admit(9_000), Admission::Rejected);
        assert_eq!(b.admit(11_004), Admission::Probe);
        assert_eq!(b.state(), (BreakerState::HalfOpen, 11_004));
    }

    #[test]
    fn outcomes_of_requests_admitted_before_a_change_are_ignored() {
        let b = Breaker::new(spec(), 0);
        for t in 0..3 {
            run(&b, t, Outcome::Failure);
        }
        // A request admitted while closed ends after the breaker opened.
        b.record(Outcome::Success, false, 10);
        assert_eq!(b.state(), (BreakerState::Open, 2));
    }

    #[test]
    fn concurrent_failures_open_it_exactly_once() {
        let b = std::sync::Arc::new(Breaker::new(spec(), 0));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let b = b.clone();
                std::thread::spawn(move || {
                    for t in 0..1000 {
                        run(&b, 100 + t % 3, Outcome::Failure);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let (state, since) = b.state();
        assert_eq!(state, BreakerState::Open);
        assert!((100..103).contains(&since), "{since}");
    }
}
