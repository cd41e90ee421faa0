//! One connection after both `init`s, without IO: every decision the reader used to make
//! itself (keepalive, the ping limiter, the inbound byte rate, the odd/even rule) behind the
//! shape of quinn-proto's `Connection`. The driver (peer-manager's reader) reads the clock once
//! per wake-up and pushes in what happened with that `now`: a decrypted message
//! ([`Session::handle_message`]), bytes read ([`Session::handle_read`]), or the timer
//! ([`Session::handle_timeout`]). It asks when to wake next ([`Session::poll_timeout`]) and
//! whether to hold off reading ([`Session::read_delay`]), and carries out what comes back.
//!
//! Time is an argument everywhere, so tests drive a session through hours of virtual time with
//! no sockets and no sleeping.

use std::time::{Duration, Instant};

use wire::MsgType;

use crate::dispatch::{dispatch, Action};
use crate::keepalive::keepalive_ping;
use crate::keepalive::{Keepalive, KeepaliveAction};
use crate::rate::{InboundRateLimiter, OnionMessageLimiter, PingLimiter};

/// What a session needs to know; peer-manager fills it from its configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionConfig {
    /// Silence after which we ping, and after which an unanswered ping hangs up.
    pub keepalive_idle: Duration,
    /// The keepalive timer fires every `keepalive_tick_min` plus up to
    /// `keepalive_tick_jitter`, so that many peers don't ping in lockstep.
    pub keepalive_tick_min: Duration,
    /// See [`SessionConfig::keepalive_tick_min`].
    pub keepalive_tick_jitter: Duration,
    /// Pings answered at once.
    pub ping_burst: u32,
    /// Pings answered per second after the burst.
    pub pings_per_second: u32,
    /// Bytes per second read from the peer; 0 is no limit.
    pub inbound_bytes_per_second: u64,
    /// Bytes the peer may send at once above the rate.
    pub inbound_burst_bytes: u64,
    /// Whether we offer `option_onion_messages`: if not, `onion_message` is ignored.
    pub onion_messages: bool,
    /// Onion messages handled at once.
    pub onion_message_burst: u32,
    /// Onion messages handled per second after the burst; more are dropped.
    pub onion_messages_per_second: u32,
}

/// What to do about a message the peer sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Received {
    /// Nothing: gossip, onion messages when we do not offer them, unknown odd BOLT types, a
    /// ping asking for no pong.
    Nothing,
    /// Send this reply (a pong, or an `error` for a channel message) on the control budget.
    Reply(Vec<u8>),
    /// A ping over the rate limit: it goes unanswered, and the connection stays.
    PingRefused,
    /// A pong arrived, `len` bytes long with its type and length fields (CLN's `totlen`):
    /// a caller waiting for one gets it.
    Pong {
        /// The whole message's length.
        len: usize,
    },
    /// A custom message (or an otherwise unhandled odd one): hand it to the custom path.
    Custom(MsgType),
    /// An `onion_message` within the peer's rate: hand it to the onion messenger.
    OnionMessage,
    /// An `onion_message` over the peer's rate: it is dropped. The first of a connection
    /// carries CLN's `warning` to send (the connection stays); later ones carry none.
    OnionMessageDropped(Option<Vec<u8>>),
    /// The peer sent `warning`: log this text (CLN's form) and carry on.
    Warning(String),
    /// The peer sent `error`: log this text (CLN's form) and close.
    Error(String),
    /// Send a `warning` with this text, then close.
    WarnAndClose(String),
}

/// What the timer decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Timer {
    /// Nothing to do yet.
    Nothing,
    /// Send this keepalive ping.
    SendPing(Vec<u8>),
    /// The last ping went unanswered for a whole idle period: close.
    HangUp,
}

/// The warning a peer gets the first time it exceeds its onion message rate (CLN's text,
/// which names its fixed interval; ours is `--onion-messages-per-second`).
pub const ONION_RATE_WARNING: &str = "Ratelimited onion_message: exceeded one per 250msec";

/// Why [`Timer::HangUp`] closes the connection, in CLN's words.
pub const HANG_UP_REASON: &str = "Last ping unreturned: hanging up";

/// One connection's BOLT 1 state after `init`.
#[derive(Debug, Clone)]
pub struct Session {
    keepalive: Keepalive,
    pings: PingLimiter,
    /// `None` when we do not offer onion messages.
    onion_messages: Option<OnionMessageLimiter>,
    /// Whether the peer was warned about its onion message rate on this connection.
    onion_warned: bool,
    /// `None` when the rate is unlimited: then reads cost no arithmetic.
    inbound: Option<InboundRateLimiter>,
    tick_min: Duration,
    tick_spread_ms: u64,
    /// Spreads this connection's timer ticks; moved on at every tick.
    jitter: u64,
    next_tick: Instant,
}

impl Session {
    /// A session that starts at `now`; `jitter_seed` spreads its timer ticks (any value will
    /// do; the driver passes a random one).
    pub fn new(config: &SessionConfig, jitter_seed: u64, now: Instant) -> Session {
        let tick_spread_ms =
            u64::try_from(config.keepalive_tick_jitter.as_millis()).unwrap_or(u64::MAX);
        let mut session = Session {
            keepalive: Keepalive::new(config.keepalive_idle, now),
            pings: PingLimiter::new(config.ping_burst, config.pings_per_second, now),
            onion_messages: config.onion_messages.then(|| {
                OnionMessageLimiter::new(
                    config.onion_message_burst,
                    config.onion_messages_per_second,
                    now,
                )
            }),
            onion_warned: false,
            inbound: InboundRateLimiter::new(
                config.inbound_bytes_per_second,
                config.inbound_burst_bytes,
                now,
            ),
            tick_min: config.keepalive_tick_min,
            tick_spread_ms: tick_spread_ms.max(1),
            jitter: jitter_seed,
            next_tick: now,
        };
        session.schedule_tick(now);
        session
    }

    fn schedule_tick(&mut self, now: Instant) {
        let jitter = Duration::from_millis(self.jitter % self.tick_spread_ms);
        self.next_tick = now + self.tick_min + jitter;
        self.jitter = self.jitter.rotate_left(7);
    }

    /// A decrypted message arrived at `now`. `allow_even` says whether a plugin claimed an
    /// even type outside the BOLTs; it is asked only about such types.
    pub fn handle_message(
        &mut self,
        message: &[u8],
        now: Instant,
        allow_even: impl Fn(MsgType) -> bool,
    ) -> Received {
        // Anything received counts as liveness, so a peer busy sending is never pinged.
        self.keepalive.on_message(now);
        match dispatch(message, allow_even) {
            Action::Ignore => Received::Nothing,
            Action::Reply(reply) => Received::Reply(reply),
            Action::Pong(pong) => {
                if self.pings.allow(now) {
                    Received::Reply(pong)
                } else {
                    Received::PingRefused
                }
            }
            Action::PongReceived => {
                self.keepalive.on_pong();
                Received::Pong { len: message.len() }
            }
            Action::Custom(ty) => Received::Custom(ty),
            Action::OnionMessage => match self.onion_messages.as_mut().map(|l| l.allow(now)) {
                None => Received::Nothing,
                Some(true) => Received::OnionMessage,
                Some(false) if self.onion_warned => Received::OnionMessageDropped(None),
                Some(false) => {
                    self.onion_warned = true;
                    Received::OnionMessageDropped(Some(crate::dispatch::warning(
                        ONION_RATE_WARNING,
                    )))
                }
            },
            Action::LogWarning(text) => Received::Warning(text),
            Action::CloseOnError(text) => Received::Error(text),
            Action::WarnAndClose(text) => Received::WarnAndClose(text),
        }
    }

    /// `bytes` were read from the socket at `now`.
    pub fn handle_read(&mut self, bytes: usize, now: Instant) {
        if let Some(limiter) = self.inbound.as_mut() {
            limiter.charge(bytes, now);
        }
    }

    /// How long to wait at `now` before reading again: `None` to read at once. While a peer
    /// is held back it has sent more than we read, so it counts as alive.
    pub fn read_delay(&mut self, now: Instant) -> Option<Duration> {
        let delay = self.inbound.as_mut()?.wait(now)?;
        self.keepalive.on_message(now);
        Some(delay)
    }

    /// When [`Session::handle_timeout`] next has something to decide.
    pub fn poll_timeout(&self) -> Instant {
        self.next_tick
    }

    /// The timer: at or after [`Session::poll_timeout`], pings a silent peer or hangs up on one
    /// that left our last ping unanswered, and schedules the next tick.
    pub fn handle_timeout(&mut self, now: Instant) -> Timer {
        if now < self.next_tick {
            return Timer::Nothing;
        }
        self.schedule_tick(now);
        match self.keepalive.on_timer(now) {
            KeepaliveAction::Nothing => Timer::Nothing,
            KeepaliveAction::SendPing => Timer::SendPing(keepalive_ping()),
            KeepaliveAction::HangUp => Timer::HangUp,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wire::{Encode, Message, Ping, Pong, TlvStream};

    fn config() -> SessionConfig {
        SessionConfig {
            keepalive_idle: Duration::from_secs(60),
            keepalive_tick_min: Duration::from_secs(15),
            keepalive_tick_jitter: Duration::from_secs(30),
            ping_burst: 20,
            pings_per_second: 10,
            inbound_bytes_per_second: 0,
            inbound_burst_bytes: 1,
            onion_messages: true,
            onion_message_burst: 4,
            onion_messages_per_second: 4,
        }
    }

    fn ping(pong_bytes: u16) -> Vec<u8> {
        Message::Ping(Ping {
            num_pong_bytes: pong_bytes,
            ignored: Vec::new(),
            tlvs: TlvStream::new(),
        })
        .to_bytes()
    }

    fn pong() -> Vec<u8> {
        Message::Pong(Pong {
            ignored: vec![0],
            tlvs: TlvStream::new(),
        })
        .to_bytes()
    }

    fn no_even(_: MsgType) -> bool {
        false
    }

    /// Drives the timer from `start` for `span` of virtual time, as a driver would: wake at
    /// each `poll_timeout`. Returns what each wake-up decided, with its time since `start`.
    fn run_timer(
        session: &mut Session,
        start: Instant,
        from: Instant,
        span: Duration,
    ) -> Vec<(Duration, Timer)> {
        let mut decided = Vec::new();
        let end = from + span;
        loop {
            let wake = session.poll_timeout();
            if wake > end {
                return decided;
            }
            let timer = session.handle_timeout(wake);
            if timer != Timer::Nothing {
                decided.push((wake - start, timer));
            }
        }
    }

    #[test]
    fn a_silent_peer_is_pinged_after_the_idle_time_then_hung_up_on() {
        let start = Instant::now();
        let mut session = Session::new(&config(), 12_345, start);
        let decided = run_timer(&mut session, start, start, Duration::from_secs(300));
        let (first_at, first) = &decided[0];
        assert_eq!(*first, Timer::SendPing(keepalive_ping()));
        assert!(
            *first_at >= Duration::from_secs(60) && *first_at < Duration::from_secs(60 + 45),
            "first ping at {first_at:?}"
        );
        let (hang_up_at, hang_up) = &decided[1];
        assert_eq!(*hang_up, Timer::HangUp);
        // At the next tick the peer is still silent and our ping unanswered (CLN's rule).
        let waited = *hang_up_at - *first_at;
        assert!(waited >= Duration::from_secs(15) && waited < Duration::from_secs(45));
    }

    #[test]
    fn ticks_are_spread_between_the_minimum_and_the_jitter() {
        let start = Instant::now();
        for seed in [0, 1, 7, u64::MAX, 0xdead_beef] {
            let mut session = Session::new(&config(), seed, start);
            let mut last = start;
            for _ in 0..50 {
                let wake = session.poll_timeout();
                let gap = wake - last;
                assert!(gap >= Duration::from_secs(15), "{gap:?}");
                assert!(gap < Duration::from_secs(45), "{gap:?}");
                assert_eq!(session.handle_timeout(last), Timer::Nothing, "early");
                session.handle_timeout(wake);
                last = wake;
            }
        }
    }

    #[test]
    fn any_message_or_a_pong_keeps_a_busy_peer_from_being_pinged() {
        let start = Instant::now();
        let mut session = Session::new(&config(), 99, start);
        let mut now = start;
        // A custom message every 10 s for an hour: never pinged.
        for _ in 0..360 {
            now += Duration::from_secs(10);
            assert_eq!(
                session.handle_message(&[0x80, 0x01], now, no_even),
                Received::Custom(MsgType(0x8001))
            );
            while session.poll_timeout() <= now {
                let wake = session.poll_timeout();
                assert_eq!(session.handle_timeout(wake), Timer::Nothing);
            }
        }
        // Silent, pinged; the pong arrives late but before the next tick: no hang-up.
        let decided = run_timer(&mut session, now, now, Duration::from_secs(100));
        let (at, first) = &decided[0];
        assert!(matches!(first, Timer::SendPing(_)));
        let pong_at = now + *at + Duration::from_secs(30);
        assert_eq!(
            session.handle_message(&pong(), pong_at, no_even),
            Received::Pong { len: 5 }
        );
        let after = run_timer(&mut session, pong_at, pong_at, Duration::from_secs(50));
        assert!(after.iter().all(|(_, t)| *t != Timer::HangUp), "{after:?}");
    }

    #[test]
    fn a_ping_flood_gets_the_burst_then_the_rate() {
        let start = Instant::now();
        let mut session = Session::new(&config(), 1, start);
        // 1,000 pings in the same instant: the burst of 20 is answered.
        let answered = (0..1000)
            .filter(|_| {
                matches!(
                    session.handle_message(&ping(4), start, no_even),
                    Received::Reply(_)
                )
            })
            .count();
        assert_eq!(answered, 20);
        // Then 100 pings a second for 10 virtual seconds: 10 a second are answered.
        let mut answered = 0;
        let mut refused = 0;
        for i in 1..=1000u32 {
            let now = start + Duration::from_millis(u64::from(i) * 10);
            match session.handle_message(&ping(4), now, no_even) {
                Received::Reply(pong) => {
                    assert_eq!(pong, vec![0, 19, 0, 4, 0, 0, 0, 0]);
                    answered += 1;
                }
                Received::PingRefused => refused += 1,
                other => panic!("{other:?}"),
            }
        }
        assert!((99..=101).contains(&answered), "{answered}");
        assert_eq!(answered + refused, 1000);
    }

    #[test]
    fn the_inbound_rate_holds_a_fast_peer_back_and_counts_it_alive() {
        let start = Instant::now();
        let mut config = config();
        config.inbound_bytes_per_second = 64 * 1024;
        config.inbound_burst_bytes = 16 * 1024;
        let mut session = Session::new(&config, 5, start);
        // A reader that reads 4 KiB whenever allowed, for 10 virtual seconds.
        let mut now = start;
        let mut read = 0usize;
        while now < start + Duration::from_secs(10) {
            match session.read_delay(now) {
                None => {
                    session.handle_read(4096, now);
                    read += 4096;
                }
                Some(wait) => now += wait,
            }
        }
        let allowed = 16 * 1024 + 10 * 64 * 1024 + 4096;
        assert!(read <= allowed, "{read} > {allowed}");
        assert!(read >= 10 * 64 * 1024, "{read} is below the rate");
        // Held back all along, the peer was never silent: no ping is due.
        let decided = run_timer(&mut session, start, start, Duration::from_secs(10));
        assert!(decided.is_empty(), "{decided:?}");
    }

    #[test]
    fn an_unlimited_rate_never_delays_reading() {
        let start = Instant::now();
        let mut session = Session::new(&config(), 5, start);
        session.handle_read(usize::MAX / 2, start);
        assert_eq!(session.read_delay(start), None);
    }

    #[test]
    fn messages_follow_the_odd_even_rule_and_errors_close() {
        let start = Instant::now();
        let mut session = Session::new(&config(), 5, start);
        assert_eq!(
            session.handle_message(&[0xaa, 0xab], start, no_even),
            Received::Custom(MsgType(0xaaab))
        );
        assert!(matches!(
            session.handle_message(&[0xaa, 0xaa], start, no_even),
            Received::WarnAndClose(text) if text == "Invalid unknown even msg aaaa"
        ));
        assert_eq!(
            session.handle_message(&[0xaa, 0xaa], start, |ty| ty.0 == 0xaaaa),
            Received::Custom(MsgType(0xaaaa))
        );
        let mut error = vec![0, 17];
        error.extend_from_slice(&[0; 32]);
        error.extend_from_slice(&[0, 3]);
        error.extend_from_slice(b"bye");
        assert_eq!(
            session.handle_message(&error, start, no_even),
            Received::Error("ERROR: bye".to_owned())
        );
    }

    fn onion_message() -> Vec<u8> {
        let mut message = vec![0x02, 0x01];
        message.extend_from_slice(&[0x02; 33]);
        message.extend_from_slice(&[0, 0]);
        message
    }

    #[test]
    fn onion_messages_are_rate_limited_with_one_warning() {
        let start = Instant::now();
        let mut session = Session::new(&config(), 5, start);
        for _ in 0..4 {
            assert_eq!(
                session.handle_message(&onion_message(), start, no_even),
                Received::OnionMessage
            );
        }
        let Received::OnionMessageDropped(Some(warning)) =
            session.handle_message(&onion_message(), start, no_even)
        else {
            panic!("the fifth message in the burst must be dropped with a warning");
        };
        assert!(String::from_utf8_lossy(&warning).contains(ONION_RATE_WARNING));
        assert_eq!(
            session.handle_message(&onion_message(), start, no_even),
            Received::OnionMessageDropped(None)
        );
        // A quarter second refills one message.
        let later = start + Duration::from_millis(250);
        assert_eq!(
            session.handle_message(&onion_message(), later, no_even),
            Received::OnionMessage
        );
        assert_eq!(
            session.handle_message(&onion_message(), later, no_even),
            Received::OnionMessageDropped(None)
        );
    }

    #[test]
    fn onion_messages_are_ignored_unless_offered() {
        let start = Instant::now();
        let config = SessionConfig {
            onion_messages: false,
            ..config()
        };
        let mut session = Session::new(&config, 5, start);
        for _ in 0..10 {
            assert_eq!(
                session.handle_message(&onion_message(), start, no_even),
                Received::Nothing
            );
        }
    }
}
