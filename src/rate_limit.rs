//! Per-node rate limits keyed on a hash of the client's address. The hash key is random, kept
//! only in memory and replaced every day, so neither the address nor a stable pseudonym of it is
//! ever stored.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::{NaiveDate, Utc};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

/// What is being limited; each has its own counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    Submit,
    /// Every post of the story form, counted before it is read.
    SubmitAttempt,
    ReceiptLookup,
    Login,
    Report,
    Subscribe,
    Search,
}

struct State {
    day: NaiveDate,
    key: [u8; 32],
    hits: HashMap<(Action, [u8; 32]), VecDeque<Instant>>,
}

pub struct RateLimiter {
    state: Mutex<State>,
}

impl Default for RateLimiter {
    fn default() -> Self {
        RateLimiter {
            state: Mutex::new(State {
                day: Utc::now().date_naive(),
                key: fresh_key(),
                hits: HashMap::new(),
            }),
        }
    }
}

fn fresh_key() -> [u8; 32] {
    let mut key = [0u8; 32];
    rand::rng().fill_bytes(&mut key);
    key
}

impl RateLimiter {
    /// Counts one attempt of `action` from `addr`; false when it exceeds `limit` in `window`.
    /// A request without an address (a Unix socket) shares one counter.
    pub fn allow(
        &self,
        action: Action,
        addr: Option<IpAddr>,
        limit: usize,
        window: Duration,
    ) -> bool {
        let now = Instant::now();
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let today = Utc::now().date_naive();
        if state.day != today {
            state.day = today;
            state.key = fresh_key();
            state.hits.clear();
        }
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&state.key).expect("HMAC takes any key length");
        match addr {
            Some(IpAddr::V4(a)) => mac.update(&a.octets()),
            Some(IpAddr::V6(a)) => mac.update(&a.octets()),
            None => mac.update(b"unknown"),
        }
        let client: [u8; 32] = mac.finalize().into_bytes().into();

        if state.hits.len() > 50_000 {
            state.hits.retain(|_, times| {
                times
                    .back()
                    .is_some_and(|t| now.duration_since(*t) < Duration::from_secs(86_400))
            });
        }
        let times = state.hits.entry((action, client)).or_default();
        while times
            .front()
            .is_some_and(|t| now.duration_since(*t) >= window)
        {
            times.pop_front();
        }
        if times.len() >= limit {
            return false;
        }
        times.push_back(now);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_applies_per_action_and_address() {
        let limiter = RateLimiter::default();
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "2001:db8::1".parse().unwrap();
        let hour = Duration::from_secs(3600);
        for _ in 0..5 {
            assert!(limiter.allow(Action::Submit, Some(a), 5, hour));
        }
        assert!(!limiter.allow(Action::Submit, Some(a), 5, hour));
        assert!(limiter.allow(Action::Submit, Some(b), 5, hour));
        assert!(limiter.allow(Action::Login, Some(a), 5, hour));
    }

    #[test]
    fn attempts_expire_with_the_window() {
        let limiter = RateLimiter::default();
        let window = Duration::from_millis(30);
        assert!(limiter.allow(Action::Report, None, 1, window));
        assert!(!limiter.allow(Action::Report, None, 1, window));
        std::thread::sleep(Duration::from_millis(40));
        assert!(limiter.allow(Action::Report, None, 1, window));
    }
}
