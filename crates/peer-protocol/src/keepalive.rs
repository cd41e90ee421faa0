//! CLN's keepalive rule: ping a silent peer, hang up if the ping goes unanswered.

use std::time::{Duration, Instant};

use wire::{Encode, Message, Ping, TlvStream};

/// CLN's keepalive: on each timer tick, if nothing has arrived for `idle`, ping; if our last
/// ping is still unanswered by then, hang up. Any received message counts as liveness, so a
/// peer busy sending bulk traffic is never pinged, and a late pong is not fatal.
#[derive(Debug, Clone)]
pub struct Keepalive {
    idle: Duration,
    last_received: Instant,
    ping_outstanding: bool,
}

/// What the keepalive timer decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeepaliveAction {
    /// The peer is alive.
    Nothing,
    /// Send a ping.
    SendPing,
    /// The last ping went unanswered for a whole idle period: close.
    HangUp,
}

impl Keepalive {
    /// Starts the clock at `now` with no ping outstanding.
    pub fn new(idle: Duration, now: Instant) -> Self {
        Keepalive {
            idle,
            last_received: now,
            ping_outstanding: false,
        }
    }

    /// Any message arrived.
    pub fn on_message(&mut self, now: Instant) {
        self.last_received = now;
    }

    /// A pong arrived.
    pub fn on_pong(&mut self) {
        self.ping_outstanding = false;
    }

    /// The timer fired.
    pub fn on_timer(&mut self, now: Instant) -> KeepaliveAction {
        if now.duration_since(self.last_received) < self.idle {
            return KeepaliveAction::Nothing;
        }
        if self.ping_outstanding {
            return KeepaliveAction::HangUp;
        }
        self.ping_outstanding = true;
        KeepaliveAction::SendPing
    }
}

/// Our keepalive ping, as CLN sends it: one pong byte asked for, nothing ignored.
pub fn keepalive_ping() -> Vec<u8> {
    Message::Ping(Ping {
        num_pong_bytes: 1,
        ignored: Vec::new(),
        tlvs: TlvStream::new(),
    })
    .to_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keepalive_pings_when_idle_and_hangs_up_when_unanswered() {
        let start = Instant::now();
        let idle = Duration::from_secs(60);
        let mut keepalive = Keepalive::new(idle, start);
        assert_eq!(
            keepalive.on_timer(start + Duration::from_secs(59)),
            KeepaliveAction::Nothing
        );
        assert_eq!(
            keepalive.on_timer(start + Duration::from_secs(61)),
            KeepaliveAction::SendPing
        );
        // Traffic other than the pong still counts as liveness.
        keepalive.on_message(start + Duration::from_secs(70));
        assert_eq!(
            keepalive.on_timer(start + Duration::from_secs(100)),
            KeepaliveAction::Nothing
        );
        assert_eq!(
            keepalive.on_timer(start + Duration::from_secs(131)),
            KeepaliveAction::HangUp
        );
        keepalive.on_pong();
        assert_eq!(
            keepalive.on_timer(start + Duration::from_secs(131)),
            KeepaliveAction::SendPing
        );
    }
}
