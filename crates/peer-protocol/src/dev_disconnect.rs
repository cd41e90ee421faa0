//! Core Lightning's `--dev-disconnect` file, for a channel-less node: a script of points at
//! which our side of a connection misbehaves on purpose, to test how a peer copes.
//!
//! One point per line, `<action><message>[*<count>]`, consumed in order: only the first
//! unconsumed point is looked at, and it fires on the `count`th message of that type we send
//! (1 if no count is given), on any connection, as in CLN's connectd. The message is CLN's
//! name (`WIRE_PING`, `UNKNOWN 32769`) or, as lnpeer adds, a decimal type (`32769`). Actions:
//!
//! | action | CLN's meaning, kept |
//! |---|---|
//! | `-` | close the connection before sending the message (it is not sent) |
//! | `+` | send the message, then close the connection |
//! | `$` | drop the message (not sent); the connection goes on |
//! | `@` | drop the message and close the connection (CLN's older `DROPPKT`) |
//! | `=` | send the message as usual (a point that only moves the script on) |
//!
//! CLN's `0` (blackhole) and `x` (disable after sending) are refused with a clear error, as is
//! any line that does not parse; blank lines are skipped. The file is read once, at start
//! (CLN reads it as it goes, so a test can append to it; lnpeer does not).

use std::fmt;

use wire::MsgType;

/// What a point does to the message that fires it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DisconnectAction {
    /// `-`: close before sending; the message is not sent.
    Before,
    /// `+`: send, then close.
    After,
    /// `$`: drop the message; the connection goes on.
    Drop,
    /// `@`: drop the message and close.
    DropAndClose,
    /// `=`: send as usual.
    Pass,
}

/// One line of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisconnectPoint {
    /// What happens.
    pub action: DisconnectAction,
    /// The message type it waits for.
    pub ty: MsgType,
    /// It fires on the `count`th message of that type (at least 1).
    pub count: u32,
    /// The line without its count, as CLN logs it (`-WIRE_PING`).
    pub line: String,
}

/// A line that does not parse, with its number (from 1) and text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DevDisconnectError {
    /// The line's number, from 1.
    pub line: usize,
    /// The line as written.
    pub text: String,
    /// What is wrong with it.
    pub reason: String,
}

impl fmt::Display for DevDisconnectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}: '{}'", self.line, self.reason, self.text)
    }
}

impl std::error::Error for DevDisconnectError {}

/// The parsed file and how far the connections have got through it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DevDisconnect {
    points: Vec<DisconnectPoint>,
    /// The first unconsumed point.
    next: usize,
    /// Messages of `points[next]`'s type sent so far.
    seen: u32,
}

impl DevDisconnect {
    /// Parses the file's text.
    ///
    /// # Errors
    /// The first line that is not a point, with why.
    pub fn parse(text: &str) -> Result<DevDisconnect, DevDisconnectError> {
        let mut points = Vec::new();
        for (index, raw) in text.split('\n').enumerate() {
            let line = raw.trim_end();
            if line.is_empty() {
                continue;
            }
            let refuse = |reason: &str| DevDisconnectError {
                line: index + 1,
                text: line.to_owned(),
                reason: reason.to_owned(),
            };
            points.push(parse_point(line).map_err(refuse)?);
        }
        Ok(DevDisconnect {
            points,
            next: 0,
            seen: 0,
        })
    }

    /// Every point, consumed or not, in file order.
    pub fn points(&self) -> &[DisconnectPoint] {
        &self.points
    }

    /// Whether every point has fired.
    pub fn is_finished(&self) -> bool {
        self.next == self.points.len()
    }

    /// Called for each message we are about to send: the point it fires, which is then
    /// consumed, or `None` to send it as usual.
    pub fn on_send(&mut self, ty: MsgType) -> Option<&DisconnectPoint> {
        let point = self.points.get(self.next)?;
        if point.ty != ty {
            return None;
        }
        self.seen += 1;
        if self.seen < point.count {
            return None;
        }
        self.seen = 0;
        self.next += 1;
        Some(point)
    }
}

fn parse_point(line: &str) -> Result<DisconnectPoint, &'static str> {
    let mut chars = line.chars();
    let action = match chars.next() {
        Some('-') => DisconnectAction::Before,
        Some('+') => DisconnectAction::After,
        Some('$') => DisconnectAction::Drop,
        Some('@') => DisconnectAction::DropAndClose,
        Some('=') => DisconnectAction::Pass,
        Some('0' | 'x') => return Err("action not supported by lnpeer (use - + $ @ or =)"),
        _ => return Err("unknown action (use - + $ @ or =)"),
    };
    let rest = chars.as_str();
    let (message, count) = match rest.split_once('*') {
        Some((message, written)) => {
            // Digits only, no leading zero, at least 1.
            let count = written
                .parse::<u32>()
                .ok()
                .filter(|count| *count >= 1 && count.to_string() == written)
                .ok_or("dev_disconnect invalid count")?;
            (message, count)
        }
        None => (rest, 1),
    };
    let ty = match message.parse::<u16>() {
        Ok(number) if number.to_string() == message => MsgType(number),
        _ => MsgType::from_name(message).ok_or("unknown message name")?,
    };
    Ok(DisconnectPoint {
        action,
        ty,
        count,
        line: line[..1 + message.len()].to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(action: DisconnectAction, ty: u16, count: u32, line: &str) -> DisconnectPoint {
        DisconnectPoint {
            action,
            ty: MsgType(ty),
            count,
            line: line.to_owned(),
        }
    }

    #[test]
    fn parses_cln_lines_and_type_numbers() {
        let script = DevDisconnect::parse(
            "-WIRE_PING\n+WIRE_INIT\n\n$WIRE_PONG*3\r\n@32769\n=UNKNOWN 32771*2\n",
        )
        .unwrap();
        assert_eq!(
            script.points(),
            [
                point(DisconnectAction::Before, 18, 1, "-WIRE_PING"),
                point(DisconnectAction::After, 16, 1, "+WIRE_INIT"),
                point(DisconnectAction::Drop, 19, 3, "$WIRE_PONG"),
                point(DisconnectAction::DropAndClose, 32769, 1, "@32769"),
                point(DisconnectAction::Pass, 32771, 2, "=UNKNOWN 32771"),
            ]
        );
    }

    #[test]
    fn refuses_what_does_not_parse_naming_the_line() {
        let cases = [
            (
                "WIRE_PING",
                "line 1: unknown action (use - + $ @ or =): 'WIRE_PING'",
            ),
            (
                "\n0WIRE_PING",
                "line 2: action not supported by lnpeer (use - + $ @ or =): '0WIRE_PING'",
            ),
            (
                "xWIRE_PING",
                "line 1: action not supported by lnpeer (use - + $ @ or =): 'xWIRE_PING'",
            ),
            (
                "-WIRE_PONG*0",
                "line 1: dev_disconnect invalid count: '-WIRE_PONG*0'",
            ),
            (
                "-WIRE_PONG*",
                "line 1: dev_disconnect invalid count: '-WIRE_PONG*'",
            ),
            (
                "-WIRE_PONG*01",
                "line 1: dev_disconnect invalid count: '-WIRE_PONG*01'",
            ),
            (
                "-WIRE_PONG*-1",
                "line 1: dev_disconnect invalid count: '-WIRE_PONG*-1'",
            ),
            (
                "-WIRE_PONG*4294967296",
                "line 1: dev_disconnect invalid count: '-WIRE_PONG*4294967296'",
            ),
            ("-WIRE_PINGS", "line 1: unknown message name: '-WIRE_PINGS'"),
            ("-65536", "line 1: unknown message name: '-65536'"),
            ("-018", "line 1: unknown message name: '-018'"),
            ("-", "line 1: unknown message name: '-'"),
            ("-WIRE_PING\n+", "line 2: unknown message name: '+'"),
        ];
        for (text, error) in cases {
            assert_eq!(
                DevDisconnect::parse(text).unwrap_err().to_string(),
                error,
                "{text:?}"
            );
        }
    }

    #[test]
    fn points_fire_in_order_on_their_count() {
        let mut script = DevDisconnect::parse("$WIRE_PONG*2\n-WIRE_PING").unwrap();
        // A ping before the pong point is done passes: only the first point is looked at.
        assert_eq!(script.on_send(MsgType::PING), None);
        assert_eq!(script.on_send(MsgType::PONG), None);
        assert_eq!(script.on_send(MsgType(32769)), None);
        let fired = script.on_send(MsgType::PONG).cloned();
        assert_eq!(fired.map(|p| p.action), Some(DisconnectAction::Drop));
        assert_eq!(script.on_send(MsgType::PONG), None);
        assert!(!script.is_finished());
        let fired = script.on_send(MsgType::PING).cloned();
        assert_eq!(fired.map(|p| p.line), Some("-WIRE_PING".to_owned()));
        assert!(script.is_finished());
        assert_eq!(script.on_send(MsgType::PING), None);
    }

    #[test]
    fn an_empty_file_never_fires() {
        let mut script = DevDisconnect::parse("\n\n").unwrap();
        assert!(script.is_finished());
        assert_eq!(script.on_send(MsgType::INIT), None);
    }
}
