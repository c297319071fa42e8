//! Per-node rate limits keyed on a hash of the client's network. The hash key is random, kept
//! only in memory and replaced every day, so neither the address nor a stable pseudonym of it is
//! ever stored.
//!
//! - A client is an IPv4 address or an IPv6 network (a /64 by default; `client::network`).
//! - Each counter is a sliding window of two fixed windows (the count of the current one plus the
//!   previous one's, weighted by how much of it still overlaps): constant memory per client,
//!   however high the limit.
//! - Memory is bounded: at most `capacity` counters in 16 shards, each with its own lock. Every
//!   request does a constant amount of clean-up (two counters looked at, expired ones dropped);
//!   a full shard drops its oldest counter. Nothing ever scans a whole table.
//! - At the day's key change the previous key is kept for a day: a client's counter is carried
//!   over to the new key the first time it is seen, so no budget starts afresh at midnight.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::{Mutex, RwLock};
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
    Report,
    Subscribe,
    Search,
}

const SHARDS: usize = 16;
/// Counters kept at most: about 64 bytes each with the tables' overhead, so about 13 MB.
pub const DEFAULT_CAPACITY: usize = 200_000;
/// Counters looked at by each request's clean-up.
const SWEEP_PER_REQUEST: usize = 2;

type Client = [u8; 16];
type Key = (Action, Client);

#[derive(Debug, Clone, Copy)]
struct Counter {
    /// Milliseconds since the limiter started.
    window_start: u64,
    window: u64,
    current: u32,
    previous: u32,
}

impl Counter {
    fn new(now: u64, window: u64) -> Self {
        Counter {
            window_start: now,
            window,
            current: 0,
            previous: 0,
        }
    }

    /// Nothing of it counts any more.
    fn expired(&self, now: u64) -> bool {
        now >= self.window_start.saturating_add(2 * self.window)
    }

    fn roll(&mut self, now: u64) {
        let elapsed = now.saturating_sub(self.window_start);
        if elapsed >= self.window {
            let windows = elapsed / self.window;
            self.previous = if windows == 1 { self.current } else { 0 };
            self.current = 0;
            self.window_start += windows * self.window;
        }
    }

    /// The attempts in the last window: the current window's, and the previous one's share that
    /// still falls within it.
    fn estimate(&self, now: u64) -> u64 {
        let into = now.saturating_sub(self.window_start).min(self.window);
        let carried = u64::from(self.previous) * (self.window - into);
        u64::from(self.current) + carried.div_ceil(self.window)
    }
}

#[derive(Default)]
struct Shard {
    counters: HashMap<Key, Counter>,
    /// Keys in the order their counters were made; one may no longer have a counter (it was
    /// carried over to the new day's key), and is skipped when it comes up.
    order: VecDeque<Key>,
}

impl Shard {
    /// Looks at the oldest counters: drops expired ones, sends live ones to the back.
    fn sweep(&mut self, now: u64) {
        for _ in 0..SWEEP_PER_REQUEST {
            let Some(key) = self.order.pop_front() else {
                return;
            };
            match self.counters.get(&key) {
                None => {}
                Some(c) if c.expired(now) => {
                    self.counters.remove(&key);
                }
                Some(_) => self.order.push_back(key),
            }
        }
    }

    /// Makes room for one more counter by dropping the oldest.
    fn evict(&mut self) {
        while let Some(key) = self.order.pop_front() {
            if self.counters.remove(&key).is_some() {
                return;
            }
        }
    }
}

struct Keys {
    day: NaiveDate,
    current: [u8; 32],
    previous: Option<[u8; 32]>,
}

pub struct RateLimiter {
    keys: RwLock<Keys>,
    shards: Vec<Mutex<Shard>>,
    per_shard: usize,
    ipv6_prefix: u8,
    epoch: Instant,
}

fn fresh_key() -> [u8; 32] {
    let mut key = [0u8; 32];
    rand::rng().fill_bytes(&mut key);
    key
}

impl Default for RateLimiter {
    fn default() -> Self {
        Self::new(64, DEFAULT_CAPACITY)
    }
}

impl RateLimiter {
    /// IPv6 clients are counted per `/ipv6_prefix` network; at most `capacity` counters.
    pub fn new(ipv6_prefix: u8, capacity: usize) -> Self {
        RateLimiter {
            keys: RwLock::new(Keys {
                day: Utc::now().date_naive(),
                current: fresh_key(),
                previous: None,
            }),
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
            per_shard: capacity.div_ceil(SHARDS).max(1),
            ipv6_prefix,
            epoch: Instant::now(),
        }
    }

    fn hash(key: &[u8; 32], network: &Client) -> Client {
        let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
        mac.update(network);
        let full: [u8; 32] = mac.finalize().into_bytes().into();
        let mut short = [0u8; 16];
        short.copy_from_slice(&full[..16]);
        short
    }

    /// Today's hash of `network`, and yesterday's while yesterday's counters may still count.
    fn hashes(&self, network: &Client, today: NaiveDate) -> (Client, Option<Client>) {
        {
            let keys = self.keys.read().unwrap_or_else(|p| p.into_inner());
            // A request dated a moment before the change (or a clock stepping back) uses the
            // current key: keys only ever move forward.
            if keys.day >= today {
                return (
                    Self::hash(&keys.current, network),
                    keys.previous.map(|k| Self::hash(&k, network)),
                );
            }
        }
        self.rotate(today);
        self.hashes(network, today)
    }

    /// A new key for `day`; the one before is kept for a day.
    fn rotate(&self, day: NaiveDate) {
        let mut keys = self.keys.write().unwrap_or_else(|p| p.into_inner());
        if day > keys.day {
            keys.previous = Some(keys.current);
            keys.current = fresh_key();
            keys.day = day;
        }
    }

    fn shard(&self, client: &Client) -> std::sync::MutexGuard<'_, Shard> {
        self.shards[usize::from(client[0]) % SHARDS]
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }

    /// Counts one attempt of `action` from `addr`; false (and not counted) when it would exceed
    /// `limit` in `window`. A request without an address (a Unix socket) shares one counter.
    pub fn allow(
        &self,
        action: Action,
        addr: Option<IpAddr>,
        limit: usize,
        window: Duration,
    ) -> bool {
        let now = u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.allow_at(Utc::now().date_naive(), now, action, addr, limit, window)
    }

    /// `allow` on `day`, `now` milliseconds after the limiter started.
    fn allow_at(
        &self,
        day: NaiveDate,
        now: u64,
        action: Action,
        addr: Option<IpAddr>,
        limit: usize,
        window: Duration,
    ) -> bool {
        let window = u64::try_from(window.as_millis()).unwrap_or(u64::MAX).max(1);
        let network = crate::client::network(addr, self.ipv6_prefix);
        let (today, yesterday) = self.hashes(&network, day);
        let key = (action, today);

        // Yesterday's counter, if this client has one, moves to today's key (one shard lock at
        // a time, so no two requests ever wait on each other's shards).
        let carried = match yesterday {
            Some(old) => {
                let known = self.shard(&today).counters.contains_key(&key);
                if known {
                    None
                } else {
                    self.shard(&old).counters.remove(&(action, old))
                }
            }
            None => None,
        };

        let mut shard = self.shard(&today);
        shard.sweep(now);
        if !shard.counters.contains_key(&key) {
            if shard.counters.len() >= self.per_shard {
                shard.evict();
            }
            shard.order.push_back(key);
        }
        // A counter carried over keeps its windows: the key changed, the client did not.
        let counter = shard
            .counters
            .entry(key)
            .or_insert_with(|| carried.unwrap_or_else(|| Counter::new(now, window)));
        counter.roll(now);
        if counter.estimate(now) >= u64::try_from(limit).unwrap_or(u64::MAX) {
            return false;
        }
        counter.current = counter.current.saturating_add(1);
        true
    }

    /// Counters held, and keys queued for clean-up (at most one per counter plus those carried
    /// over): both bounded by the capacity.
    pub fn footprint(&self) -> (usize, usize) {
        self.shards.iter().fold((0, 0), |(c, q), s| {
            let s = s.lock().unwrap_or_else(|p| p.into_inner());
            (c + s.counters.len(), q + s.order.len())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: Duration = Duration::from_secs(3600);

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn the_limit_applies_per_action_and_address() {
        let limiter = RateLimiter::default();
        for _ in 0..5 {
            assert!(limiter.allow(Action::Submit, ip("192.0.2.1"), 5, HOUR));
        }
        assert!(!limiter.allow(Action::Submit, ip("192.0.2.1"), 5, HOUR));
        assert!(limiter.allow(Action::Submit, ip("192.0.2.2"), 5, HOUR));
        assert!(limiter.allow(Action::Submit, ip("2001:db8::1"), 5, HOUR));
        assert!(limiter.allow(Action::Report, ip("192.0.2.1"), 5, HOUR));
    }

    #[test]
    fn an_ipv6_network_shares_one_budget_and_mapped_ipv4_is_ipv4() {
        let limiter = RateLimiter::default();
        for i in 0..5 {
            let addr = format!("2001:db8:1:2:{i:x}:{i:x}:{i:x}:{i:x}");
            assert!(limiter.allow(Action::Submit, ip(&addr), 5, HOUR));
        }
        assert!(!limiter.allow(Action::Submit, ip("2001:db8:1:2:ffff::9"), 5, HOUR));
        assert!(limiter.allow(Action::Submit, ip("2001:db8:1:3::1"), 5, HOUR));

        for _ in 0..5 {
            assert!(limiter.allow(Action::Submit, ip("::ffff:192.0.2.7"), 5, HOUR));
        }
        assert!(!limiter.allow(Action::Submit, ip("192.0.2.7"), 5, HOUR));
        assert!(limiter.allow(Action::Submit, ip("::ffff:192.0.2.8"), 5, HOUR));

        let per_address = RateLimiter::new(128, 1000);
        assert!(per_address.allow(Action::Submit, ip("2001:db8::1"), 1, HOUR));
        assert!(per_address.allow(Action::Submit, ip("2001:db8::2"), 1, HOUR));
    }

    /// Counters whose windows have passed are dropped as requests come: the table holds the
    /// clients of the last windows, not every client ever seen.
    #[test]
    fn expired_counters_are_dropped_as_requests_come() {
        let limiter = RateLimiter::new(64, 100_000);
        let today = Utc::now().date_naive();
        let second = Duration::from_secs(1);
        let client = |n: u32| Some(IpAddr::from(std::net::Ipv4Addr::from(0x0a00_0000 + n)));
        for n in 0..200 {
            assert!(limiter.allow_at(today, 0, Action::Search, client(n), 5, second));
        }
        assert_eq!(limiter.footprint(), (200, 200));
        // Two windows later, 200 other clients: each request looks at two old counters.
        for n in 200..400 {
            assert!(limiter.allow_at(today, 10_000, Action::Search, client(n), 5, second));
        }
        let (counters, queued) = limiter.footprint();
        assert!(counters < 260, "{counters} counters kept");
        assert!(queued < 260, "{queued} keys queued");
        assert!(counters >= 200, "the live ones stay: {counters}");
    }

    #[test]
    fn each_limiter_and_each_day_has_a_key_of_its_own() {
        let (a, b) = (RateLimiter::default(), RateLimiter::default());
        let key = |l: &RateLimiter| l.keys.read().unwrap().current;
        assert_ne!(key(&a), key(&b));
        assert_ne!(key(&a), [0; 32]);
        let today = a.keys.read().unwrap().day;
        let tomorrow = today + chrono::Days::new(1);
        let first = key(&a);
        a.rotate(tomorrow);
        let second = key(&a);
        assert_ne!(first, second);
        assert_eq!(a.keys.read().unwrap().previous, Some(first));
        // Two requests seeing the change at once rotate once: yesterday's key is kept.
        a.rotate(tomorrow);
        assert_eq!(key(&a), second);
        assert_eq!(a.keys.read().unwrap().previous, Some(first));
    }

    /// `allow` at `ms` milliseconds, today.
    fn at(limiter: &RateLimiter, ms: u64, limit: usize, window: Duration) -> bool {
        let today = Utc::now().date_naive();
        limiter.allow_at(today, ms, Action::Search, None, limit, window)
    }

    #[test]
    fn attempts_expire_with_the_window() {
        let limiter = RateLimiter::default();
        let window = Duration::from_millis(1_000);
        assert!(at(&limiter, 0, 1, window));
        assert!(!at(&limiter, 10, 1, window));
        // Two windows later nothing of the first attempt counts.
        assert!(at(&limiter, 2_000, 1, window));
    }

    #[test]
    fn the_sliding_window_never_allows_a_fresh_burst_at_a_window_edge() {
        let limiter = RateLimiter::default();
        let window = Duration::from_secs(1);
        for _ in 0..10 {
            assert!(at(&limiter, 0, 10, window));
        }
        // Just into the next window, the previous one's ten still all but count.
        assert!(!at(&limiter, 1_050, 10, window));
        // Half-way through it, half of them do.
        let allowed = (0..10).filter(|_| at(&limiter, 1_500, 10, window)).count();
        assert_eq!(allowed, 5);
        // Refused attempts were not counted: a window later the five count for half.
        let allowed = (0..10).filter(|_| at(&limiter, 2_500, 10, window)).count();
        assert_eq!(allowed, 7, "10 − ⌈5 × 0.5⌉");
    }

    #[test]
    fn the_key_change_keeps_the_previous_days_counts() {
        let limiter = RateLimiter::default();
        let today = Utc::now().date_naive();
        let tomorrow = today + chrono::Days::new(1);
        let a = ip("192.0.2.1");
        let submit = |day, ms, addr| limiter.allow_at(day, ms, Action::Submit, addr, 5, HOUR);
        for _ in 0..5 {
            assert!(submit(today, 0, a));
        }
        assert!(!submit(tomorrow, 1_000, a));
        assert!(submit(tomorrow, 1_000, ip("192.0.2.2")));
        // The counter moved to the new key unchanged: one counter per client, and an hour
        // after the five it allows again.
        assert!(!submit(tomorrow, 2_000, a));
        assert_eq!(limiter.footprint().0, 2);
        assert!(submit(tomorrow, 2 * 3_600_000, a));
        // A request dated yesterday after the change does not turn the keys back.
        assert!(submit(today, 2 * 3_600_000 + 1, ip("192.0.2.3")));
        assert_eq!(limiter.keys.read().unwrap().day, tomorrow);
        assert!(limiter.keys.read().unwrap().previous.is_some());
    }

    #[test]
    fn memory_stays_bounded_under_rotating_addresses() {
        let limiter = RateLimiter::new(64, 1_000);
        for i in 0u32..100_000 {
            let addr = IpAddr::from(i.wrapping_mul(2_654_435_761).to_be_bytes());
            assert!(limiter.allow(Action::Search, Some(addr), 10, HOUR));
            let v6 = IpAddr::from(std::net::Ipv6Addr::from(
                (0x2001_0db8_u128 << 96) | (u128::from(i) << 64),
            ));
            assert!(limiter.allow(Action::Search, Some(v6), 10, HOUR));
        }
        let (counters, queued) = limiter.footprint();
        assert!(counters <= 1_000 + SHARDS, "{counters}");
        assert!(queued <= 2 * (1_000 + SHARDS), "{queued}");
        // A client seen just now is still counted.
        let last = IpAddr::from(99_999u32.wrapping_mul(2_654_435_761).to_be_bytes());
        for _ in 0..9 {
            assert!(limiter.allow(Action::Search, Some(last), 10, HOUR));
        }
        assert!(!limiter.allow(Action::Search, Some(last), 10, HOUR));
    }
}
