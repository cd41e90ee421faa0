//! Where a node is: [`DialAddress`], the one type for a host with an optional port, as `connect`
//! takes it, the dialer dials it and the store remembers it; and the listen addresses of
//! `--addr` and `--bind-addr`, which are dial addresses resolved to a socket address.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};
use std::str::FromStr;

/// A host (an IP address or a DNS name) and, if given, a port.
///
/// Written `host`, `host:port`, `[v6]`, `[v6]:port`, or as a bare IPv6 address, which has no
/// port (its colons are its own). [`fmt::Display`] writes the canonical form, which parses back
/// to the same address: IPv6 hosts in brackets.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DialAddress {
    host: String,
    port: Option<u16>,
}

/// Why text is not a [`DialAddress`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressError(pub String);

impl fmt::Display for AddressError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for AddressError {}

impl DialAddress {
    /// `host` with `port`.
    pub fn new(host: impl Into<String>, port: Option<u16>) -> Self {
        DialAddress {
            host: host.into(),
            port,
        }
    }

    /// The host, without brackets.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The port, if one was given.
    pub fn port(&self) -> Option<u16> {
        self.port
    }

    /// The same host with `port` where none was given.
    pub fn or_port(&self, port: u16) -> DialAddress {
        DialAddress {
            host: self.host.clone(),
            port: Some(self.port.unwrap_or(port)),
        }
    }
}

fn parse_port(port: &str) -> Result<u16, AddressError> {
    port.parse::<u16>()
        .map_err(|_| AddressError(format!("invalid port '{port}'")))
}

impl FromStr for DialAddress {
    type Err = AddressError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.is_empty() {
            return Err(AddressError("empty address".to_owned()));
        }
        if let Some(inner) = s.strip_prefix('[') {
            let (host, port) = match inner.split_once(']') {
                Some((host, "")) => (host, None),
                Some((host, rest)) => match rest.strip_prefix(':') {
                    Some(port) => (host, Some(parse_port(port)?)),
                    None => return Err(AddressError("expected ':' after ']'".to_owned())),
                },
                None => return Err(AddressError("missing ']'".to_owned())),
            };
            if host.is_empty() {
                return Err(AddressError("empty host".to_owned()));
            }
            return Ok(DialAddress::new(host, port));
        }
        match s.matches(':').count() {
            0 => Ok(DialAddress::new(s, None)),
            1 => {
                let (host, port) = s.split_once(':').unwrap_or((s, ""));
                if host.is_empty() {
                    return Err(AddressError("empty host".to_owned()));
                }
                Ok(DialAddress::new(host, Some(parse_port(port)?)))
            }
            // A bare IPv6 address: the colons are its own, and there is no port.
            _ => Ok(DialAddress::new(s, None)),
        }
    }
}

impl fmt::Display for DialAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]", self.host)?;
        } else {
            f.write_str(&self.host)?;
        }
        match self.port {
            Some(port) => write!(f, ":{port}"),
            None => Ok(()),
        }
    }
}

/// An address `--addr`/`--bind-addr` cannot listen on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddrError {
    /// The address as given.
    pub input: String,
    /// What is wrong with it.
    pub reason: String,
}

impl fmt::Display for AddrError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid address '{}': {}", self.input, self.reason)
    }
}

impl std::error::Error for AddrError {}

/// An address to listen on, and what its connections speak before BOLT 8.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListenAddr {
    /// BOLT 8 on TCP.
    Tcp(SocketAddr),
    /// BOLT 8 in binary WebSocket messages (`--bind-addr=ws:HOST[:PORT]`, CLN's syntax).
    WebSocket(SocketAddr),
}

/// Parses a `--bind-addr` value: a listen address ([`parse_listen_addr`]), or `ws:` and one.
///
/// # Errors
///
/// [`AddrError`] as [`parse_listen_addr`] gives it.
pub fn parse_bind_addr(s: &str, default_port: u16) -> Result<ListenAddr, AddrError> {
    match s.strip_prefix(WEBSOCKET_PREFIX) {
        Some(rest) => parse_listen_addr(rest, default_port)
            .map(ListenAddr::WebSocket)
            .map_err(|error| AddrError {
                input: s.to_owned(),
                reason: error.reason,
            }),
        None => parse_listen_addr(s, default_port).map(ListenAddr::Tcp),
    }
}

/// What marks a WebSocket listen address.
pub const WEBSOCKET_PREFIX: &str = "ws:";

/// Parses a listen address as `--addr`/`--bind-addr` accept it, using `default_port` when
/// none is given: `1.2.3.4`, `1.2.3.4:9735`, `::1`, `[::1]`, `[::1]:9735`, `:9735` (all
/// IPv4 interfaces), or `host[:port]`, resolved with the system resolver (first result).
///
/// # Errors
///
/// [`AddrError`] for an empty address, a bad port or a name that does not resolve.
pub fn parse_listen_addr(s: &str, default_port: u16) -> Result<SocketAddr, AddrError> {
    let err = |reason: String| AddrError {
        input: s.to_owned(),
        reason,
    };
    // Bare IPs first: `::1` would otherwise look like `:<port>`.
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Ok(SocketAddr::new(ip, default_port));
    }
    if let Ok(addr) = s.parse::<SocketAddr>() {
        return Ok(addr);
    }
    if let Some(port) = s.strip_prefix(':') {
        let port = parse_port(port).map_err(|e| err(e.0))?;
        return Ok(SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), port));
    }
    let address: DialAddress = s.parse().map_err(|e: AddressError| err(e.0))?;
    let port = address.port().unwrap_or(default_port);
    if s.starts_with('[') {
        let ip = address
            .host()
            .parse::<Ipv6Addr>()
            .map_err(|_| err(format!("'{}' is not an IPv6 address", address.host())))?;
        return Ok(SocketAddr::new(IpAddr::V6(ip), port));
    }
    if address.host().contains(':') {
        return Err(err(
            "not an IP address; write IPv6 with a port as [addr]:port".to_owned(),
        ));
    }
    (address.host(), port)
        .to_socket_addrs()
        .map_err(|e| err(format!("cannot resolve '{}': {e}", address.host())))?
        .next()
        .ok_or_else(|| err(format!("'{}' resolved to no addresses", address.host())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dial_addresses_parse_as_connect_takes_them_and_print_back() {
        let ok: &[(&str, &str, Option<u16>, &str)] = &[
            ("example.com", "example.com", None, "example.com"),
            ("1.2.3.4:9735", "1.2.3.4", Some(9735), "1.2.3.4:9735"),
            ("[::1]:19846", "::1", Some(19846), "[::1]:19846"),
            ("[::1]", "::1", None, "[::1]"),
            ("::1", "::1", None, "[::1]"),
            ("host:0", "host", Some(0), "host:0"),
        ];
        for (text, host, port, shown) in ok {
            let address: DialAddress = text.parse().unwrap();
            assert_eq!((address.host(), address.port()), (*host, *port), "{text}");
            assert_eq!(address.to_string(), *shown);
            assert_eq!(shown.parse::<DialAddress>(), Ok(address));
        }
        for bad in [
            "",
            ":9735",
            "host:x",
            "[::1]x",
            "[::1",
            "[]:1",
            "host:65536",
        ] {
            assert!(bad.parse::<DialAddress>().is_err(), "{bad}");
        }
        let with_default = "h".parse::<DialAddress>().unwrap().or_port(9735);
        assert_eq!(with_default.to_string(), "h:9735");
        let kept = "h:1".parse::<DialAddress>().unwrap().or_port(9735);
        assert_eq!(kept.port(), Some(1));
    }

    #[test]
    fn listen_addresses() {
        let ok: &[(&str, &str)] = &[
            ("1.2.3.4", "1.2.3.4:9735"),
            ("1.2.3.4:19846", "1.2.3.4:19846"),
            ("[::1]:9736", "[::1]:9736"),
            ("[::1]", "[::1]:9735"),
            ("::1", "[::1]:9735"),
            ("fe80::1:2", "[fe80::1:2]:9735"),
            (":9737", "0.0.0.0:9737"),
            (":0", "0.0.0.0:0"),
            ("0.0.0.0", "0.0.0.0:9735"),
        ];
        for (input, want) in ok {
            assert_eq!(
                parse_listen_addr(input, 9735),
                Ok(want.parse().unwrap()),
                "{input}"
            );
        }
        for (input, port) in [("localhost:9738", 9738), ("localhost", 9735)] {
            let addr = parse_listen_addr(input, 9735).unwrap();
            assert!(addr.ip().is_loopback(), "{input} -> {addr}");
            assert_eq!(addr.port(), port);
        }
        let bad: &[(&str, &str)] = &[
            ("", "empty address"),
            (":", "invalid port ''"),
            (":65536", "invalid port '65536'"),
            ("1.2.3.4:x", "invalid port 'x'"),
            ("[::1", "missing ']'"),
            ("[::1]9735", "expected ':' after ']'"),
            ("[1.2.3.4]:1", "'1.2.3.4' is not an IPv6 address"),
            (
                "fe80::zz:1",
                "not an IP address; write IPv6 with a port as [addr]:port",
            ),
        ];
        for (input, reason) in bad {
            assert_eq!(
                parse_listen_addr(input, 9735),
                Err(AddrError {
                    input: (*input).to_owned(),
                    reason: (*reason).to_owned()
                }),
                "{input}"
            );
        }
        assert_eq!(
            parse_bind_addr("ws:127.0.0.1:9736", 9735),
            Ok(ListenAddr::WebSocket("127.0.0.1:9736".parse().unwrap()))
        );
        assert_eq!(
            parse_bind_addr("ws::9737", 9735),
            Ok(ListenAddr::WebSocket("0.0.0.0:9737".parse().unwrap()))
        );
        assert_eq!(
            parse_bind_addr("127.0.0.1", 9735),
            Ok(ListenAddr::Tcp("127.0.0.1:9735".parse().unwrap()))
        );
        assert_eq!(
            parse_bind_addr("ws:[::1", 9735).unwrap_err().to_string(),
            "invalid address 'ws:[::1': missing ']'"
        );
        let err = parse_listen_addr("no-such-host.invalid:1", 9735).unwrap_err();
        assert!(
            err.reason
                .starts_with("cannot resolve 'no-such-host.invalid'"),
            "{err}"
        );
    }
}
