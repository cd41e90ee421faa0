//! How many commando calls each peer may make: a token bucket per peer. CLN has no such limit
//! (only a rune's own `rate` restriction, which needs a rune that asks for it), so any peer
//! can make the node parse JSON, check runes and run commands as fast as it can send.

use std::collections::HashMap;
use std::hash::Hash;
use std::time::{Duration, Instant};

/// The per-peer call limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallLimitConfig {
    /// Calls a peer may make at once after being quiet. 10: a wallet or dashboard opening
    /// (lnmessage apps such as Clams) sends a handful of calls together (`getinfo`,
    /// `listfunds`, `listpeers`, `listinvoices`, `listpays`, ...); 10 lets that through
    /// without delay. 0 is taken as 1.
    pub burst: u32,
    /// Calls per second after the burst; 0 means no limit. 2: far above what a person
    /// clicking through an app needs, while a peer looping on `listchannels`-sized commands
    /// gets two runs a second, not as many as its link carries.
    pub per_second: u32,
    /// Peers remembered at once. 1024: above peer-manager's 250 channel-less inbound peers,
    /// so the bound only bites under churn; about 100 bytes each. A peer forgotten while its
    /// bucket is not full gets a full one back, so the least-drained bucket goes first.
    pub max_peers: usize,
}

impl Default for CallLimitConfig {
    fn default() -> Self {
        CallLimitConfig {
            burst: 10,
            per_second: 2,
            max_peers: 1024,
        }
    }
}

/// One token bucket per peer, in GCRA form: instead of a token count refilled on each call,
/// each peer has the time at which its bucket will be full again (`full_at`). A call at `now`
/// is allowed while `full_at` is at most `burst - 1` intervals ahead of `now`, and moves it
/// one interval on. This is the same limit with exact `Instant` arithmetic, and a bucket
/// whose `full_at` has passed is the same as no bucket, so it can be forgotten.
#[derive(Debug)]
pub struct CallLimiter<P> {
    config: CallLimitConfig,
    /// `None` when unlimited.
    interval: Option<Duration>,
    /// How far ahead of `now` a peer's `full_at` may be for its call to be allowed.
    tolerance: Duration,
    // Keyed by peer ids the peers chose: the default SipHash with a random key keeps them from
    // choosing colliding ones; the order it iterates in never decides anything below.
    buckets: HashMap<P, Bucket>,
    next_seq: u64,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    full_at: Instant,
    /// Breaks ties between equal `full_at`s, so eviction does not depend on hash order.
    seq: u64,
}

impl<P: Eq + Hash + Clone> CallLimiter<P> {
    /// A limiter in which every peer starts with a full bucket.
    pub fn new(config: CallLimitConfig) -> Self {
        let interval = match config.per_second {
            0 => None,
            rate => Some(Duration::from_secs(1) / rate),
        };
        let tolerance = interval.unwrap_or_default() * config.burst.max(1).saturating_sub(1);
        CallLimiter {
            config,
            interval,
            tolerance,
            buckets: HashMap::new(),
            next_seq: 0,
        }
    }

    /// Whether `peer` may make a call at `now`; an allowed call uses one token, a refused one
    /// none.
    pub fn allow(&mut self, peer: &P, now: Instant) -> bool {
        let Some(interval) = self.interval else {
            return true;
        };
        if !self.buckets.contains_key(peer) {
            self.make_room(now);
            if self.config.max_peers == 0 {
                return true;
            }
            self.next_seq += 1;
            let bucket = Bucket {
                full_at: now,
                seq: self.next_seq,
            };
            self.buckets.insert(peer.clone(), bucket);
        }
        let Some(bucket) = self.buckets.get_mut(peer) else {
            return true;
        };
        // A clock that goes backwards (tests may pass any `now`) only makes calls wait.
        if bucket.full_at.saturating_duration_since(now) > self.tolerance {
            return false;
        }
        let from = bucket.full_at.max(now);
        // Overflow would need an `Instant` near the end of time; then stay put (allowing).
        bucket.full_at = from.checked_add(interval).unwrap_or(from);
        true
    }

    /// Peers remembered.
    pub fn len(&self) -> usize {
        self.buckets.len()
    }

    /// Whether no peer is remembered.
    pub fn is_empty(&self) -> bool {
        self.buckets.is_empty()
    }

    /// Before remembering one more peer: forget every full bucket, and if that is not enough,
    /// the one nearest to full.
    fn make_room(&mut self, now: Instant) {
        if self.buckets.len() < self.config.max_peers {
            return;
        }
        self.buckets.retain(|_, bucket| bucket.full_at > now);
        while self.buckets.len() >= self.config.max_peers {
            let nearest = self
                .buckets
                .iter()
                .min_by_key(|(_, bucket)| (bucket.full_at, bucket.seq))
                .map(|(peer, _)| peer.clone());
            match nearest {
                Some(peer) => self.buckets.remove(&peer),
                None => break,
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(millis: u64) -> Duration {
        Duration::from_millis(millis)
    }

    #[test]
    fn a_burst_then_the_rate() {
        let start = Instant::now();
        let mut limiter = CallLimiter::new(CallLimitConfig::default());
        assert!((0..10).all(|_| limiter.allow(&'a', start)), "burst of 10");
        assert!(!limiter.allow(&'a', start));
        assert!(!limiter.allow(&'a', start + ms(499)));
        assert!(limiter.allow(&'a', start + ms(500)), "2 per second");
        assert!(!limiter.allow(&'a', start + ms(500)));
        assert!(limiter.allow(&'b', start), "each peer has its own bucket");
        // Refused calls cost nothing: after 5 s the whole burst is back.
        let later = start + ms(5500);
        assert!((0..10).all(|_| limiter.allow(&'a', later)));
        assert!(!limiter.allow(&'a', later));
        // A clock going backwards refills nothing and does not panic.
        assert!(!limiter.allow(&'a', start));
    }

    #[test]
    fn zero_rate_is_unlimited_and_zero_burst_is_one() {
        let start = Instant::now();
        let mut unlimited = CallLimiter::new(CallLimitConfig {
            per_second: 0,
            ..CallLimitConfig::default()
        });
        assert!((0..1000).all(|_| unlimited.allow(&1, start)));
        assert!(unlimited.is_empty());
        let mut one = CallLimiter::new(CallLimitConfig {
            burst: 0,
            per_second: 1,
            max_peers: 8,
        });
        assert!(one.allow(&1, start));
        assert!(!one.allow(&1, start));
        assert!(one.allow(&1, start + ms(1000)));
    }

    #[test]
    fn the_map_of_peers_is_bounded() {
        let start = Instant::now();
        let config = CallLimitConfig {
            burst: 2,
            per_second: 1,
            max_peers: 3,
        };
        let mut limiter = CallLimiter::new(config);
        for peer in 0..3 {
            assert!(limiter.allow(&peer, start));
        }
        assert!(limiter.allow(&0, start), "peer 0 drains its bucket");
        assert!(!limiter.allow(&0, start));
        // A fourth peer: nothing is full yet, so the nearest to full (peer 1) goes.
        assert!(limiter.allow(&3, start));
        assert_eq!(limiter.len(), 3);
        assert!(!limiter.allow(&0, start), "the drained bucket was kept");
        // Once buckets have refilled they are all forgotten together.
        let later = start + Duration::from_secs(10);
        assert!(limiter.allow(&9, later));
        assert_eq!(limiter.len(), 1);
        // Thousands of peers never grow the map past its bound.
        for peer in 100..5000 {
            assert!(limiter.allow(&peer, later));
            assert!(limiter.len() <= 3);
        }
    }
}
