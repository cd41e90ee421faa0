//! BOLT 7 address descriptors: what `init`'s `remote_addr` TLV carries (and, in lists,
//! `node_announcement`'s `addresses`).

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};

use crate::{Decode, DecodeError, Encode, Reader};

/// Descriptor type of an IPv4 address (BOLT 7): `[4:ipv4_addr][2:port]`.
const TYPE_IPV4: u8 = 1;
/// Descriptor type of an IPv6 address (BOLT 7): `[16:ipv6_addr][2:port]`.
const TYPE_IPV6: u8 = 2;
/// Descriptor type of a Tor v2 onion service (BOLT 7, now "Deprecated (length 12)"):
/// `[10:onion_addr][2:port]`.
const TYPE_TOR_V2: u8 = 3;
/// Descriptor type of a Tor v3 onion service (BOLT 7): `[35:onion_addr][2:port]`.
const TYPE_TOR_V3: u8 = 4;
/// Descriptor type of a DNS hostname (BOLT 7): `[1:hostname_len][hostname_len:hostname][2:port]`.
const TYPE_HOSTNAME: u8 = 5;

/// A BOLT 7 address descriptor.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum NetAddress {
    /// Type 1: an IPv4 address and port.
    Ipv4 {
        /// The address.
        addr: Ipv4Addr,
        /// The TCP port.
        port: u16,
    },
    /// Type 2: an IPv6 address and port.
    Ipv6 {
        /// The address.
        addr: Ipv6Addr,
        /// The TCP port.
        port: u16,
    },
    /// Type 3: a Tor v2 onion service. Deprecated (Tor dropped v2 services in 2021) but still
    /// parsed, so an old peer's message does not fail to decode.
    TorV2 {
        /// The 80-bit service id.
        addr: [u8; 10],
        /// The TCP port.
        port: u16,
    },
    /// Type 4: a Tor v3 onion service.
    TorV3 {
        /// `ed25519 pubkey (32) || checksum (2) || version (1)`, as in the `.onion` name.
        addr: [u8; 35],
        /// The TCP port.
        port: u16,
    },
    /// Type 5: a DNS hostname.
    Hostname {
        /// The name.
        name: Hostname,
        /// The TCP port.
        port: u16,
    },
}

impl NetAddress {
    /// The TCP port.
    pub fn port(&self) -> u16 {
        match self {
            Self::Ipv4 { port, .. }
            | Self::Ipv6 { port, .. }
            | Self::TorV2 { port, .. }
            | Self::TorV3 { port, .. }
            | Self::Hostname { port, .. } => *port,
        }
    }
}

impl From<SocketAddr> for NetAddress {
    fn from(socket: SocketAddr) -> Self {
        match socket {
            SocketAddr::V4(v4) => Self::Ipv4 {
                addr: *v4.ip(),
                port: v4.port(),
            },
            SocketAddr::V6(v6) => Self::Ipv6 {
                addr: *v6.ip(),
                port: v6.port(),
            },
        }
    }
}

impl Encode for NetAddress {
    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Self::Ipv4 { addr, .. } => {
                out.push(TYPE_IPV4);
                out.extend_from_slice(&addr.octets());
            }
            Self::Ipv6 { addr, .. } => {
                out.push(TYPE_IPV6);
                out.extend_from_slice(&addr.octets());
            }
            Self::TorV2 { addr, .. } => {
                out.push(TYPE_TOR_V2);
                out.extend_from_slice(addr);
            }
            Self::TorV3 { addr, .. } => {
                out.push(TYPE_TOR_V3);
                out.extend_from_slice(addr);
            }
            Self::Hostname { name, .. } => {
                out.push(TYPE_HOSTNAME);
                name.encode(out);
            }
        }
        out.extend_from_slice(&self.port().to_be_bytes());
    }
}

impl Decode for NetAddress {
    /// # Errors
    ///
    /// [`DecodeError::UnknownAddressType`] for a type other than 1 to 5: its length is
    /// unknown, so nothing after it can be read either.
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let address = match r.read_u8("address.type")? {
            TYPE_IPV4 => Self::Ipv4 {
                addr: Ipv4Addr::from(r.read_array::<4>("address.ipv4")?),
                port: r.read_u16("address.port")?,
            },
            TYPE_IPV6 => Self::Ipv6 {
                addr: Ipv6Addr::from(r.read_array::<16>("address.ipv6")?),
                port: r.read_u16("address.port")?,
            },
            TYPE_TOR_V2 => Self::TorV2 {
                addr: r.read_array("address.tor_v2")?,
                port: r.read_u16("address.port")?,
            },
            TYPE_TOR_V3 => Self::TorV3 {
                addr: r.read_array("address.tor_v3")?,
                port: r.read_u16("address.port")?,
            },
            TYPE_HOSTNAME => Self::Hostname {
                name: Hostname::decode(r)?,
                port: r.read_u16("address.port")?,
            },
            ty => return Err(DecodeError::UnknownAddressType { ty }),
        };
        Ok(address)
    }
}

impl fmt::Display for NetAddress {
    /// `1.2.3.4:9735`, `[::1]:9735`, `<base32>.onion:9735`, `example.com:9735`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Ipv4 { addr, port } => write!(f, "{addr}:{port}"),
            Self::Ipv6 { addr, port } => write!(f, "[{addr}]:{port}"),
            Self::TorV2 { addr, port } => write!(f, "{}.onion:{port}", base32_lower(addr)),
            Self::TorV3 { addr, port } => write!(f, "{}.onion:{port}", base32_lower(addr)),
            Self::Hostname { name, port } => write!(f, "{name}:{port}"),
        }
    }
}

/// A DNS hostname for a type 5 descriptor: 0 to 255 ASCII bytes (BOLT 7 gives it a one-byte
/// length and asks for ASCII).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Hostname(String);

impl Hostname {
    /// `name` as a hostname, if it is ASCII and at most 255 bytes long.
    pub fn new(name: impl Into<String>) -> Option<Hostname> {
        let name = name.into();
        (name.is_ascii() && name.len() <= usize::from(u8::MAX)).then_some(Hostname(name))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Hostname {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Encode for Hostname {
    /// `[1:hostname_len][hostname_len:hostname]`.
    fn encode(&self, out: &mut Vec<u8>) {
        // `Hostname::new` guarantees the length fits a byte.
        out.push(self.0.len() as u8);
        out.extend_from_slice(self.0.as_bytes());
    }
}

impl Decode for Hostname {
    /// # Errors
    ///
    /// [`DecodeError::InvalidValue`] if the name is not ASCII.
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let len = r.read_u8("address.hostname_len")?;
        let bytes = r.read_bytes(usize::from(len), "address.hostname")?;
        std::str::from_utf8(bytes)
            .ok()
            .and_then(Hostname::new)
            .ok_or(DecodeError::InvalidValue {
                field: "address.hostname",
            })
    }
}

/// RFC 4648 base32, lower case, as in `.onion` names. Both onion address sizes (10 and 35
/// bytes) are multiples of 5 bytes, so no padding is ever needed.
fn base32_lower(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let mut buffer: u16 = 0;
    let mut buffered_bits = 0;
    let mut push = |index: u16| {
        if let Some(&letter) = ALPHABET.get(usize::from(index & 0x1f)) {
            out.push(char::from(letter));
        }
    };
    for &byte in bytes {
        buffer = (buffer << 8) | u16::from(byte);
        buffered_bits += 8;
        while buffered_bits >= 5 {
            buffered_bits -= 5;
            push(buffer >> buffered_bits);
        }
        // Keep only the bits not yet written, so the shift above never overflows.
        buffer &= (1 << buffered_bits) - 1;
    }
    if buffered_bits > 0 {
        push(buffer << (5 - buffered_bits));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(bytes: &[u8]) -> Result<NetAddress, DecodeError> {
        let mut r = Reader::new(bytes);
        let address = NetAddress::decode(&mut r)?;
        r.finish("address")?;
        Ok(address)
    }

    fn examples() -> Vec<(NetAddress, Vec<u8>, String)> {
        let mut tor_v3 = [0u8; 35];
        tor_v3[34] = 3;
        vec![
            (
                NetAddress::Ipv4 {
                    addr: Ipv4Addr::new(1, 2, 3, 4),
                    port: 9735,
                },
                vec![1, 1, 2, 3, 4, 0x26, 0x07],
                "1.2.3.4:9735".to_owned(),
            ),
            (
                NetAddress::Ipv6 {
                    addr: Ipv6Addr::LOCALHOST,
                    port: 9735,
                },
                [&[2][..], &Ipv6Addr::LOCALHOST.octets(), &[0x26, 0x07]].concat(),
                "[::1]:9735".to_owned(),
            ),
            (
                NetAddress::TorV2 {
                    addr: [0xff; 10],
                    port: 1,
                },
                [&[3][..], &[0xff; 10], &[0, 1]].concat(),
                "7777777777777777.onion:1".to_owned(),
            ),
            (
                NetAddress::TorV3 {
                    addr: tor_v3,
                    port: 9735,
                },
                [&[4][..], &tor_v3, &[0x26, 0x07]].concat(),
                format!("{}ad.onion:9735", "a".repeat(54)),
            ),
            (
                NetAddress::Hostname {
                    name: Hostname::new("example.com").unwrap(),
                    port: 443,
                },
                [&[5, 11][..], b"example.com", &[0x01, 0xbb]].concat(),
                "example.com:443".to_owned(),
            ),
        ]
    }

    #[test]
    fn descriptors_encode_decode_and_display() {
        for (address, bytes, text) in examples() {
            assert_eq!(address.to_bytes(), bytes, "{text}");
            assert_eq!(decode(&bytes), Ok(address.clone()), "{text}");
            assert_eq!(address.to_string(), text);
        }
    }

    #[test]
    fn every_proper_prefix_is_truncated() {
        for (_, bytes, text) in examples() {
            for len in 0..bytes.len() {
                assert!(
                    matches!(decode(&bytes[..len]), Err(DecodeError::Truncated { .. })),
                    "{text} cut to {len} bytes"
                );
            }
        }
    }

    #[test]
    fn unknown_types_and_non_ascii_hostnames_are_rejected() {
        assert_eq!(
            decode(&[6, 0x26, 0x07]),
            Err(DecodeError::UnknownAddressType { ty: 6 })
        );
        assert_eq!(decode(&[0]), Err(DecodeError::UnknownAddressType { ty: 0 }));
        assert_eq!(
            decode(&[5, 2, 0xc3, 0xa9, 0, 1]),
            Err(DecodeError::InvalidValue {
                field: "address.hostname"
            })
        );
    }

    #[test]
    fn hostname_limits() {
        assert!(Hostname::new("a".repeat(255)).is_some());
        assert!(Hostname::new("a".repeat(256)).is_none());
        assert!(Hostname::new("café").is_none());
        let longest = NetAddress::Hostname {
            name: Hostname::new("h".repeat(255)).unwrap(),
            port: 1,
        };
        assert_eq!(decode(&longest.to_bytes()), Ok(longest));
    }

    #[test]
    fn from_socket_addr() {
        let v6: SocketAddr = "[2001:db8::1]:9735".parse().unwrap();
        assert_eq!(NetAddress::from(v6).to_string(), "[2001:db8::1]:9735");
        let v4: SocketAddr = "127.0.0.1:19735".parse().unwrap();
        assert_eq!(NetAddress::from(v4).port(), 19735);
    }

    #[test]
    fn base32_matches_rfc4648() {
        // RFC 4648 section 10 vectors, lower-cased and without padding.
        let cases = [
            ("", ""),
            ("f", "my"),
            ("fo", "mzxq"),
            ("foo", "mzxw6"),
            ("foob", "mzxw6yq"),
            ("fooba", "mzxw6ytb"),
            ("foobar", "mzxw6ytboi"),
        ];
        for (input, output) in cases {
            assert_eq!(base32_lower(input.as_bytes()), output);
        }
    }
}
