//! Token buckets: how fast to answer a peer's pings, to handle its onion messages and to read
//! its bytes.

use std::time::{Duration, Instant};

/// A token bucket: `tokens` refill at `per_second` up to `burst`. The limiters below differ
/// only in what they charge and what they do when it is empty.
#[derive(Debug, Clone)]
struct TokenBucket {
    per_second: f64,
    burst: f64,
    tokens: f64,
    last: Instant,
}

impl TokenBucket {
    /// A full bucket.
    fn new(burst: f64, per_second: f64, now: Instant) -> Self {
        TokenBucket {
            per_second,
            burst,
            tokens: burst,
            last: now,
        }
    }

    fn refill(&mut self, now: Instant) {
        // An earlier `now` than the last one (callers' clocks are monotonic, but tests may
        // pass any) refills nothing.
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = self.last.max(now);
        self.tokens = (self.tokens + elapsed * self.per_second).min(self.burst);
    }

    /// A full bucket of `burst` events, refilled at `per_second`.
    fn of_events(burst: u32, per_second: u32, now: Instant) -> Self {
        TokenBucket::new(f64::from(burst), f64::from(per_second), now)
    }

    /// Takes one token for an event at `now`, if there is one.
    fn take_one(&mut self, now: Instant) -> bool {
        self.refill(now);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// A token bucket for answering pings: pongs can be 65531 bytes, so an unlimited responder
/// amplifies a flood of small pings. Over the rate, pings go unanswered (not fatal: the
/// connection stays, as BOLT 1 only asks for "limited precautions").
#[derive(Debug, Clone)]
pub struct PingLimiter(TokenBucket);

impl PingLimiter {
    /// A full bucket of `burst` pings, refilled at `per_second`.
    pub fn new(burst: u32, per_second: u32, now: Instant) -> Self {
        PingLimiter(TokenBucket::of_events(burst, per_second, now))
    }

    /// Whether a ping arriving at `now` may be answered.
    pub fn allow(&mut self, now: Instant) -> bool {
        self.0.take_one(now)
    }
}

/// A token bucket for a peer's onion messages (CLN's connectd: a burst, then one per interval).
/// Over the rate, messages are dropped: BOLT 4 says a node "MAY rate-limit messages by
/// dropping them".
#[derive(Debug, Clone)]
pub struct OnionMessageLimiter(TokenBucket);

impl OnionMessageLimiter {
    /// A full bucket of `burst` messages, refilled at `per_second`.
    pub fn new(burst: u32, per_second: u32, now: Instant) -> Self {
        OnionMessageLimiter(TokenBucket::of_events(burst, per_second, now))
    }

    /// Whether an onion message arriving at `now` may be handled.
    pub fn allow(&mut self, now: Instant) -> bool {
        self.0.take_one(now)
    }
}

/// A token bucket over the bytes one peer sends us, refilled at `bytes_per_second` up to
/// `burst_bytes`. The reader charges each read after the fact (it cannot know a read's size
/// before making it), so the balance can go below zero; while it is not positive the reader
/// waits for [`InboundRateLimiter::wait`] before reading again. Over any span the peer gets at
/// most the burst, plus the rate times the span, plus one read.
#[derive(Debug, Clone)]
pub struct InboundRateLimiter(TokenBucket);

impl InboundRateLimiter {
    /// A full bucket of `burst_bytes` (at least 1), refilled at `bytes_per_second`; `None` for
    /// a rate of 0, which means no limit.
    pub fn new(bytes_per_second: u64, burst_bytes: u64, now: Instant) -> Option<Self> {
        if bytes_per_second == 0 {
            return None;
        }
        // Reading waits for a positive balance, which an empty bucket never reaches.
        let burst_bytes = burst_bytes.max(1) as f64;
        Some(InboundRateLimiter(TokenBucket::new(
            burst_bytes,
            bytes_per_second as f64,
            now,
        )))
    }

    /// `bytes` were read at `now`.
    pub fn charge(&mut self, bytes: usize, now: Instant) {
        self.0.refill(now);
        self.0.tokens -= bytes as f64;
    }

    /// How long to wait at `now` before reading again: `None` to read at once, else the time
    /// until the balance is back above zero (one byte's worth, so one wait is enough).
    pub fn wait(&mut self, now: Instant) -> Option<Duration> {
        let bucket = &mut self.0;
        bucket.refill(now);
        if bucket.tokens > 0.0 {
            return None;
        }
        // Positive and finite, as the debt is at most one read; at rates above 1 GB/s a byte's
        // worth rounds to no time at all, so wait at least a nanosecond.
        let seconds = (1.0 - bucket.tokens) / bucket.per_second;
        let wait = Duration::try_from_secs_f64(seconds).unwrap_or(Duration::MAX);
        Some(wait.max(Duration::from_nanos(1)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ping_limiter_allows_a_burst_then_the_rate() {
        let start = Instant::now();
        let mut limiter = PingLimiter::new(3, 2, start);
        assert!((0..3).all(|_| limiter.allow(start)));
        assert!(!limiter.allow(start));
        assert!(limiter.allow(start + Duration::from_millis(500)));
        assert!(!limiter.allow(start + Duration::from_millis(500)));
    }

    /// Whether `wait` is `millis` ms, give or take the float rounding of a nanosecond or so.
    fn waits_about(wait: Option<Duration>, millis: u64) -> bool {
        wait.is_some_and(|wait| {
            wait.abs_diff(Duration::from_millis(millis)) < Duration::from_micros(1)
        })
    }

    #[test]
    fn inbound_rate_limiter_lets_a_burst_through_then_waits_for_the_rate() {
        let start = Instant::now();
        let ms = Duration::from_millis;
        assert!(
            InboundRateLimiter::new(0, 100, start).is_none(),
            "0 is no limit"
        );
        // 1000 bytes/s, a burst of 500.
        let mut limiter = InboundRateLimiter::new(1000, 500, start).unwrap();
        assert_eq!(limiter.wait(start), None);
        limiter.charge(499, start);
        assert_eq!(limiter.wait(start), None, "one byte of the burst is left");
        limiter.charge(1, start);
        // Empty: one byte's worth of refill (1 ms) before the next read.
        assert!(waits_about(limiter.wait(start), 1));
        assert_eq!(limiter.wait(start + ms(1)), None);
    }

    #[test]
    fn inbound_rate_limiter_charges_a_read_larger_than_the_balance_as_debt() {
        let start = Instant::now();
        let ms = Duration::from_millis;
        let mut limiter = InboundRateLimiter::new(1000, 100, start).unwrap();
        // One read of 1100 bytes: 1000 bytes of debt, so one second (and a byte) of waiting.
        limiter.charge(1100, start);
        assert!(waits_about(limiter.wait(start), 1001));
        assert!(waits_about(limiter.wait(start + ms(500)), 501));
        assert_eq!(limiter.wait(start + ms(1001)), None);
        // The bucket refills to its burst, never beyond, however long the peer is quiet.
        let later = start + Duration::from_secs(3600);
        assert_eq!(limiter.wait(later), None);
        limiter.charge(100, later);
        assert!(waits_about(limiter.wait(later), 1));
    }

    #[test]
    fn inbound_rate_limiter_over_time_allows_the_burst_plus_the_rate() {
        let start = Instant::now();
        let mut limiter = InboundRateLimiter::new(64 * 1024, 16 * 1024, start).unwrap();
        // A reader that reads 4 KiB whenever allowed, else sleeps as told.
        let mut now = start;
        let mut read = 0usize;
        while now < start + Duration::from_secs(2) {
            match limiter.wait(now) {
                None => {
                    limiter.charge(4096, now);
                    read += 4096;
                }
                Some(wait) => now += wait,
            }
        }
        let allowed = 16 * 1024 + 2 * 64 * 1024 + 4096;
        assert!(read <= allowed, "{read} > {allowed}");
        assert!(read >= 2 * 64 * 1024, "{read} is below the rate");
    }

    #[test]
    fn inbound_rate_limiter_with_an_empty_burst_still_reads() {
        let start = Instant::now();
        let mut limiter = InboundRateLimiter::new(10, 0, start).unwrap();
        assert_eq!(limiter.wait(start), None);
        limiter.charge(1, start);
        assert!(waits_about(limiter.wait(start), 100));
        // A clock that goes backwards refills nothing and does not panic.
        assert!(waits_about(
            limiter.wait(start - Duration::from_millis(1)),
            100
        ));
    }
}
