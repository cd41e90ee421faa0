//! What a benchmark measured, and how the report prints it.

use std::time::{Duration, Instant};

/// A one-way transfer: how many messages of which size moved in how long.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Throughput {
    /// Messages received by the far side.
    pub(crate) messages: u64,
    /// Bytes per message, type included (what `sendcustommsg` would carry).
    pub(crate) message_len: usize,
    /// From the first send to the last message received.
    pub(crate) elapsed: Duration,
}

impl Throughput {
    /// Messages per second.
    pub(crate) fn per_second(&self) -> f64 {
        self.messages as f64 / self.elapsed.as_secs_f64()
    }

    /// Megabytes (10^6 bytes) of message per second.
    pub(crate) fn megabytes_per_second(&self) -> f64 {
        self.per_second() * self.message_len as f64 / 1e6
    }
}

/// Round-trip (or one-way) latency samples.
#[derive(Debug, Clone, Default)]
pub(crate) struct Latencies(Vec<Duration>);

impl Latencies {
    /// Collects `samples`.
    pub(crate) fn new(mut samples: Vec<Duration>) -> Latencies {
        samples.sort_unstable();
        Latencies(samples)
    }

    /// The `q`-quantile (0.5: median), or zero without samples.
    pub(crate) fn quantile(&self, q: f64) -> Duration {
        if self.0.is_empty() {
            return Duration::ZERO;
        }
        let index = ((self.0.len() - 1) as f64 * q).round() as usize;
        self.0[index.min(self.0.len() - 1)]
    }

    /// The median.
    pub(crate) fn p50(&self) -> Duration {
        self.quantile(0.5)
    }

    /// The 99th percentile.
    pub(crate) fn p99(&self) -> Duration {
        self.quantile(0.99)
    }

    /// How many samples.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }
}

/// Microseconds, for the table.
pub(crate) fn micros(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e6
}

/// Makes `warm_up + samples` calls one after another and times the last `samples`: their
/// latencies, and calls per second over them.
pub(crate) fn time_calls<F: FnMut()>(
    warm_up: usize,
    samples: usize,
    mut call: F,
) -> (Latencies, f64) {
    let mut taken = Vec::with_capacity(samples);
    let mut started = Instant::now();
    for n in 0..warm_up + samples {
        if n == warm_up {
            started = Instant::now();
        }
        let sent = Instant::now();
        call();
        if n >= warm_up {
            taken.push(sent.elapsed());
        }
    }
    let per_second = samples as f64 / started.elapsed().as_secs_f64();
    (Latencies::new(taken), per_second)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_of_a_known_sample() {
        let samples = (1..=100).map(Duration::from_micros).collect();
        let latencies = Latencies::new(samples);
        assert_eq!(latencies.p50(), Duration::from_micros(51));
        assert_eq!(latencies.p99(), Duration::from_micros(99));
        assert_eq!(Latencies::default().p50(), Duration::ZERO);
    }

    #[test]
    fn throughput_in_messages_and_megabytes() {
        let run = Throughput {
            messages: 2_000,
            message_len: 1_000,
            elapsed: Duration::from_millis(500),
        };
        assert_eq!(run.per_second(), 4_000.0);
        assert_eq!(run.megabytes_per_second(), 4.0);
    }
}
