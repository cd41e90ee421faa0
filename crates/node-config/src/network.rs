//! The Bitcoin networks a node can run on, with the names, ports and chain hashes CLN uses.

use std::fmt;
use std::str::FromStr;

use wire::ChainHash;

/// The Bitcoin network a node runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Network {
    /// Mainnet.
    #[default]
    Bitcoin,
    /// Testnet3.
    Testnet,
    /// Testnet4 (BIP 94).
    Testnet4,
    /// The default signet.
    Signet,
    /// A local regtest chain.
    Regtest,
}

impl Network {
    /// Every network, in the order help text lists them.
    pub const ALL: [Network; 5] = [
        Network::Bitcoin,
        Network::Testnet,
        Network::Testnet4,
        Network::Signet,
        Network::Regtest,
    ];

    /// The name CLN and `bitcoind` use, which is also the network directory's name.
    pub fn name(self) -> &'static str {
        match self {
            Network::Bitcoin => "bitcoin",
            Network::Testnet => "testnet",
            Network::Testnet4 => "testnet4",
            Network::Signet => "signet",
            Network::Regtest => "regtest",
        }
    }

    /// The Lightning port CLN uses on this network (`bitcoin/chainparams.c` `ln_port`).
    pub fn default_port(self) -> u16 {
        match self {
            Network::Bitcoin => 9735,
            Network::Testnet => 19735,
            Network::Testnet4 => 49735,
            Network::Signet => 39735,
            Network::Regtest => 19846,
        }
    }

    /// The genesis hash `init` messages carry for this network.
    pub fn chain_hash(self) -> ChainHash {
        match self {
            Network::Bitcoin => ChainHash::BITCOIN,
            Network::Testnet => ChainHash::TESTNET,
            Network::Testnet4 => ChainHash::TESTNET4,
            Network::Signet => ChainHash::SIGNET,
            Network::Regtest => ChainHash::REGTEST,
        }
    }
}

impl fmt::Display for Network {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A network name that is none of [`Network::ALL`] (nor `mainnet`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownNetwork(pub String);

impl fmt::Display for UnknownNetwork {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown network '{}' (expected bitcoin, testnet, testnet4, signet, regtest)",
            self.0
        )
    }
}

impl std::error::Error for UnknownNetwork {}

impl FromStr for Network {
    type Err = UnknownNetwork;

    /// Parses a network name; `mainnet` is accepted as `bitcoin`, as CLN's `--mainnet` is.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s == "mainnet" {
            return Ok(Network::Bitcoin);
        }
        Network::ALL
            .into_iter()
            .find(|n| n.name() == s)
            .ok_or_else(|| UnknownNetwork(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks() {
        let table = [
            (Network::Bitcoin, "bitcoin", 9735),
            (Network::Testnet, "testnet", 19735),
            (Network::Testnet4, "testnet4", 49735),
            (Network::Signet, "signet", 39735),
            (Network::Regtest, "regtest", 19846),
        ];
        for (network, name, port) in table {
            assert_eq!(network.name(), name);
            assert_eq!(network.to_string(), name);
            assert_eq!(name.parse::<Network>(), Ok(network));
            assert_eq!(network.default_port(), port);
            assert_eq!(ChainHash::for_network(name), Some(network.chain_hash()));
        }
        assert_eq!("mainnet".parse::<Network>(), Ok(Network::Bitcoin));
        assert_eq!(
            "Bitcoin".parse::<Network>(),
            Err(UnknownNetwork("Bitcoin".to_owned()))
        );
        assert_eq!(Network::default(), Network::Bitcoin);
    }
}
