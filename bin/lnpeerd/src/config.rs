//! Command-line options and config files, the way `lightningd` reads them.
//!
//! Sources, in the order they are applied (CLN's `common/configdir.c`):
//!
//! 1. `<lightning-dir>/config`, the base config file;
//! 2. `<lightning-dir>/<network>/config`, the network's config file;
//! 3. the command line.
//!
//! A later value overrides an earlier one, except for the repeatable options (`addr`,
//! `bind-addr`), which accumulate from all three in that order, as `lightningd-config(5)`
//! says its `addr` options do. Missing config files are fine; an unreadable file, or a bad
//! line in one, is an error naming the file and line.
//!
//! `--lightning-dir` is only read from the command line (CLN refuses it in implicit config
//! files). The network is decided by the command line, else the base config file, else
//! `bitcoin`, before the network's file is read, and that file may not set `network`.
//!
//! Config file lines are `name=value` or a bare `name` (no leading dashes); blank lines and
//! lines starting with `#` are skipped, surrounding whitespace is trimmed, and
//! `include <file>` reads another file at that point (relative to the including file).
//! On the command line, `--name=value`, `--name value` (for options that take a value) and
//! bare flags are accepted, plus `-h`. An option we don't know is kept in
//! [`Config::extra`] for a later plugin layer; like CLN, `--foo bar` gives it the value
//! `bar` unless `bar` starts with `-`. [`Config::parse`] then refuses anything left there.
//!
//! Relative paths: `--rpc-file` and `--log-file` are relative to the network directory,
//! because `lightningd` `chdir`s there before it opens either (`lightningd.c`,
//! `handle_early_opts`); `--lightning-dir` is relative to the starting directory. We don't
//! `chdir`; we join the paths instead.

use std::fmt;
use std::fs;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use peer_manager::PeerManagerConfig;
use rpc::RpcConfig;
use wire::ChainHash;

use crate::logging::LogLevel;

/// The version `--version` prints, in `lightningd`'s `v<version>` shape.
pub const VERSION: &str = concat!("v", env!("CARGO_PKG_VERSION"));

/// The default lightning directory, under `$HOME` (CLN's is `.lightning`).
pub const DEFAULT_LIGHTNING_DIR: &str = ".lnpeer";

/// The config file's name, in the lightning directory and in each network directory.
pub const CONFIG_FILE: &str = "config";

/// The JSON-RPC socket's default name inside the network directory (CLN's).
pub const DEFAULT_RPC_FILE: &str = "lightning-rpc";

/// BOLT 7 gives `node_announcement` 32 bytes of alias; CLN refuses longer ones.
pub const MAX_ALIAS_LEN: usize = 32;

/// The smallest `--peer-send-queue-bytes`: one message of the largest size (BOLT 8's 16-bit
/// length), so that any message can be queued.
const MIN_SEND_QUEUE_BYTES: u64 = 65_535;

/// The smallest `--rpc-max-request-bytes`. Any limit refuses some requests; below this it would
/// refuse everyday ones (a `connect` with its id, host and port is a few hundred bytes), which
/// is a mistake, not a hardening. A `sendcustommsg` of the largest message needs about 128 KiB.
const MIN_RPC_REQUEST_BYTES: u64 = 4096;

/// CLN's include depth limit (`gather_file_configvars`): deep enough for any real setup,
/// shallow enough to stop an include loop quickly.
const MAX_INCLUDE_DEPTH: usize = 100;

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

/// Where a setting came from, for error messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// The command line.
    CommandLine,
    /// A line of a config file.
    File {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
    },
}

/// Why the configuration could not be built. [`ConfigError::HelpRequested`] and
/// [`ConfigError::VersionRequested`] are not failures: print their text and exit 0.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// `--help` or `-h`: the usage text, listing every option with its default.
    HelpRequested(String),
    /// `--version`: the version string.
    VersionRequested(String),
    /// An option nobody claimed, e.g. `unknown option: --foo`.
    UnknownOption(String),
    /// A command-line word that is not an option; we take no positional arguments.
    UnexpectedArgument(String),
    /// An option with a bad or missing value, or one not allowed where it was found.
    Invalid {
        /// Where it was.
        origin: Origin,
        /// The option's name, without dashes.
        option: String,
        /// What is wrong, e.g. `unknown network 'foo' (expected …)`.
        problem: String,
    },
    /// A config file exists but cannot be read (or an included one is missing).
    ReadFile {
        /// The file.
        path: PathBuf,
        /// The operating system's reason.
        problem: String,
    },
    /// No `--lightning-dir` and no home directory to put the default one in.
    NoHome,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::HelpRequested(text) | ConfigError::VersionRequested(text) => {
                f.write_str(text)
            }
            ConfigError::UnknownOption(option) => write!(f, "unknown option: {option}"),
            ConfigError::UnexpectedArgument(arg) => {
                write!(f, "unexpected argument '{arg}': lnpeerd takes only options")
            }
            ConfigError::Invalid {
                origin: Origin::CommandLine,
                option,
                problem,
            } => write!(f, "--{option}: {problem}"),
            ConfigError::Invalid {
                origin: Origin::File { path, line },
                option,
                problem,
            } => write!(
                f,
                "config file {} line {line}: {option}: {problem}",
                path.display()
            ),
            ConfigError::ReadFile { path, problem } => {
                write!(f, "cannot read config file {}: {problem}", path.display())
            }
            ConfigError::NoHome => f.write_str(
                "cannot find the default lightning directory: $HOME is not set \
                 (use --lightning-dir)",
            ),
        }
    }
}

impl std::error::Error for ConfigError {}

/// Where a plugin comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PluginSource {
    /// `--plugin`.
    Plugin(PathBuf),
    /// `--important-plugin`: the node stops if it dies.
    Important(PathBuf),
    /// `--plugin-dir`.
    Dir(PathBuf),
}

/// The peer manager's denial-of-service limits that options set. The defaults are the peer
/// manager's own; its `config` module says where each number comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerLimits {
    /// `--ping-burst`: pings a peer may have answered at once.
    pub ping_burst: u32,
    /// `--pings-per-second`: pings answered per second after the burst.
    pub pings_per_second: u32,
    /// `--peer-send-queue-bytes`: custom-message bytes queued for one peer.
    pub send_queue_bytes: usize,
    /// `--max-pending-handshakes`: inbound connections in their handshake or `init` at once.
    pub max_pending_handshakes: usize,
    /// `--handshake-timeout`: deadline for the BOLT 8 handshake.
    pub handshake_timeout: Duration,
    /// `--init-timeout`: deadline for the peer's `init` after the handshake.
    pub init_timeout: Duration,
    /// `--max-inbound-peers-without-channel`: inbound peers without a channel at once.
    pub max_inbound_peers_without_channel: usize,
    /// `--peer-inbound-rate`: bytes per second read from one peer; 0 is no limit.
    pub inbound_bytes_per_second: u64,
    /// `--peer-inbound-burst`: bytes a peer may send at once above the rate.
    pub inbound_burst_bytes: u64,
}

impl Default for PeerLimits {
    fn default() -> Self {
        PeerLimits {
            ping_burst: peer_manager::PING_BURST,
            pings_per_second: peer_manager::PINGS_PER_SECOND,
            send_queue_bytes: peer_manager::SEND_QUEUE_BYTES,
            max_pending_handshakes: peer_manager::MAX_PENDING_HANDSHAKES,
            handshake_timeout: peer_manager::HANDSHAKE_TIMEOUT,
            init_timeout: peer_manager::INIT_TIMEOUT,
            max_inbound_peers_without_channel: peer_manager::MAX_INBOUND_PEERS_WITHOUT_CHANNEL,
            inbound_bytes_per_second: peer_manager::INBOUND_BYTES_PER_SECOND,
            inbound_burst_bytes: peer_manager::INBOUND_BURST_BYTES,
        }
    }
}

impl PeerLimits {
    /// Copies these limits into the peer manager's configuration.
    pub fn apply_to(&self, config: &mut PeerManagerConfig) {
        config.ping_burst = self.ping_burst;
        config.pings_per_second = self.pings_per_second;
        config.send_queue_bytes = self.send_queue_bytes;
        config.max_pending_handshakes = self.max_pending_handshakes;
        config.handshake_timeout = self.handshake_timeout;
        config.init_timeout = self.init_timeout;
        config.max_inbound_peers_without_channel = self.max_inbound_peers_without_channel;
        config.inbound_bytes_per_second = self.inbound_bytes_per_second;
        config.inbound_burst_bytes = self.inbound_burst_bytes;
    }
}

/// The JSON-RPC server's limits that options set. The defaults are the server's own
/// ([`RpcConfig`]'s `DEFAULT_*` constants), which say what each limit bounds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RpcLimits {
    /// `--rpc-max-request-bytes`: the largest request accepted.
    pub max_request_bytes: usize,
    /// `--rpc-max-nesting-depth`: arrays and objects open at once in a request, at most
    /// [`RpcConfig::MAX_NESTING_DEPTH_CEILING`].
    pub max_nesting_depth: usize,
    /// `--rpc-max-connections`: connections open at once.
    pub max_connections: usize,
}

impl Default for RpcLimits {
    fn default() -> Self {
        RpcLimits {
            max_request_bytes: RpcConfig::DEFAULT_MAX_REQUEST_BYTES,
            max_nesting_depth: RpcConfig::DEFAULT_MAX_NESTING_DEPTH,
            max_connections: RpcConfig::DEFAULT_MAX_CONNECTIONS,
        }
    }
}

impl RpcLimits {
    /// Copies these limits into the RPC server's configuration.
    pub fn apply_to(&self, config: &mut RpcConfig) {
        config.max_request_bytes = self.max_request_bytes;
        config.max_nesting_depth = self.max_nesting_depth;
        config.max_connections = self.max_connections;
    }
}

/// The node's configuration after all sources are merged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Base directory (`--lightning-dir`); default `$HOME/.lnpeer`.
    pub lightning_dir: PathBuf,
    /// `--network`; default bitcoin.
    pub network: Network,
    /// `--addr`: listen on and announce these (as given; see [`parse_listen_addr`]).
    pub addr: Vec<String>,
    /// `--bind-addr`: listen on these without announcing them.
    pub bind_addr: Vec<String>,
    /// `--alias`, at most 32 bytes; `None` leaves the choice to the node.
    pub alias: Option<String>,
    /// `--rgb`, the node's colour; `None` leaves the choice to the node.
    pub rgb: Option<[u8; 3]>,
    /// `--log-level`; default info.
    pub log_level: LogLevel,
    /// `--log-file`, resolved against the network directory; `None` (or `-`) is stdout.
    /// CLN logs to every `--log-file` given; we write one destination, so the last wins.
    pub log_file: Option<PathBuf>,
    /// `--rpc-file`, resolved against the network directory; default
    /// `<lightning-dir>/<network>/lightning-rpc`.
    pub rpc_file: PathBuf,
    /// `--developer`: enables `dev-` commands and options.
    pub developer: bool,
    /// `--plugin`, `--important-plugin` and `--plugin-dir`, in the order given (after
    /// `--clear-plugins`).
    pub plugins: Vec<PluginSource>,
    /// `--disable-plugin`: names (matched against file names) or paths.
    pub disabled_plugins: Vec<String>,
    /// Whether `<lightning-dir>/plugins` is scanned (not after `--clear-plugins`).
    pub default_plugin_dir: bool,
    /// `--plugin-hook-timeout`: how long a plugin may take to answer a hook; default 60 s.
    pub plugin_hook_timeout: std::time::Duration,
    /// `--ping-burst`, `--max-pending-handshakes` and the other peer limits.
    pub peer_limits: PeerLimits,
    /// `--rpc-max-request-bytes` and the other JSON-RPC server limits.
    pub rpc_limits: RpcLimits,
    /// Options nobody here knows, in the order read, without dashes; values as given.
    pub extra: Vec<(String, Option<String>)>,
}

impl Config {
    /// Builds the configuration from command-line `args` (without argv\[0\]) and the config
    /// files, with `home` standing in for `$HOME`.
    ///
    /// # Errors
    ///
    /// Any [`ConfigError`]; unknown options become [`ConfigError::UnknownOption`] through
    /// [`Config::reject_unknown`].
    pub fn parse(
        args: impl IntoIterator<Item = String>,
        home: Option<&Path>,
    ) -> Result<Config, ConfigError> {
        let config = Self::parse_allowing_unknown(args, home)?;
        config.reject_unknown()?;
        Ok(config)
    }

    /// Like [`Config::parse`], but leaves unknown options in [`Config::extra`], for a
    /// caller (the plugin layer) that can claim some of them.
    ///
    /// # Errors
    ///
    /// Any [`ConfigError`] except [`ConfigError::UnknownOption`] for long options.
    pub fn parse_allowing_unknown(
        args: impl IntoIterator<Item = String>,
        home: Option<&Path>,
    ) -> Result<Config, ConfigError> {
        let cmdline = command_line_settings(args)?;
        // Help and version win over anything else on the line, as they do for lightningd.
        if let Some(exit) = cmdline.iter().find_map(exit_request) {
            return Err(exit);
        }

        let mut lightning_dir = None;
        for setting in cmdline.iter().filter(|s| s.name == "lightning-dir") {
            let value = setting.value()?;
            if value.is_empty() {
                return Err(setting.invalid("requires a directory"));
            }
            lightning_dir = Some(expand_home(value, home)?);
        }
        let lightning_dir = match lightning_dir {
            Some(dir) => dir,
            None => home.ok_or(ConfigError::NoHome)?.join(DEFAULT_LIGHTNING_DIR),
        };

        let base = read_config_file(&lightning_dir.join(CONFIG_FILE), false, 0)?;
        let mut network = Network::default();
        for setting in base.iter().chain(&cmdline) {
            if let Some(chosen) = setting.network()? {
                network = chosen;
            }
        }
        let network_dir = lightning_dir.join(network.name());
        let net = read_config_file(&network_dir.join(CONFIG_FILE), false, 0)?;
        for setting in base.iter().chain(&net) {
            if setting.name == "lightning-dir" {
                return Err(setting.invalid("not permitted in configuration files"));
            }
        }
        for setting in &net {
            if setting.network()?.is_some() {
                return Err(
                    setting.invalid("not permitted in network-specific configuration files")
                );
            }
        }

        let mut config = Config {
            lightning_dir,
            network,
            addr: Vec::new(),
            bind_addr: Vec::new(),
            alias: None,
            rgb: None,
            log_level: LogLevel::default(),
            log_file: None,
            rpc_file: network_dir.join(DEFAULT_RPC_FILE),
            developer: false,
            plugins: Vec::new(),
            disabled_plugins: Vec::new(),
            default_plugin_dir: true,
            plugin_hook_timeout: std::time::Duration::from_secs(60),
            peer_limits: PeerLimits::default(),
            rpc_limits: RpcLimits::default(),
            extra: Vec::new(),
        };
        for setting in base.iter().chain(&net).chain(&cmdline) {
            config.apply(setting, &network_dir)?;
        }
        Ok(config)
    }

    /// Fails on the first option nobody claimed. The plugin layer will replace this with a
    /// check that first lets plugins claim their options.
    ///
    /// # Errors
    ///
    /// [`ConfigError::UnknownOption`] naming the option as `--name`.
    pub fn reject_unknown(&self) -> Result<(), ConfigError> {
        match self.extra.first() {
            Some((name, _)) => Err(ConfigError::UnknownOption(format!("--{name}"))),
            None => Ok(()),
        }
    }

    /// `<lightning-dir>/<network>`: where `hsm_secret`, the database and the RPC socket live.
    pub fn network_dir(&self) -> PathBuf {
        self.lightning_dir.join(self.network.name())
    }

    /// The usage text `--help` returns: every option, its argument and its default.
    pub fn usage() -> String {
        let mut out = String::from(
            "Usage: lnpeerd [OPTIONS]\n\n\
             A Lightning Network transport node. Options may also be set in\n\
             <lightning-dir>/config and <lightning-dir>/<network>/config, one\n\
             `name=value` (or bare `name`) per line, without the leading dashes.\n\nOptions:\n",
        );
        let column = OPTIONS
            .iter()
            .map(|o| o.synopsis().len())
            .max()
            .unwrap_or(0)
            + 2;
        for option in OPTIONS {
            let synopsis = option.synopsis();
            out.push_str(&format!("  {synopsis:<column$}{}", option.help));
            if let Some(default) = option.default {
                out.push_str(&format!(" [default: {default}]"));
            }
            out.push('\n');
        }
        out
    }

    fn apply(&mut self, setting: &Setting, network_dir: &Path) -> Result<(), ConfigError> {
        let Some(spec) = spec(&setting.name) else {
            self.extra
                .push((setting.name.clone(), setting.value.clone()));
            return Ok(());
        };
        if spec.kind == Kind::Flag {
            if setting.value.is_some() {
                return Err(setting.invalid("does not take an argument"));
            }
        } else if setting.value.is_none() {
            return Err(setting.invalid("requires an argument"));
        }
        let value = setting.value.as_deref().unwrap_or_default();
        match spec.name {
            // Settled before the files were read.
            "lightning-dir" | "network" | "mainnet" | "testnet" | "testnet4" | "signet"
            | "regtest" => {}
            "help" => return Err(ConfigError::HelpRequested(Config::usage())),
            "version" => return Err(ConfigError::VersionRequested(VERSION.to_owned())),
            "addr" | "bind-addr" => {
                if value.is_empty() {
                    return Err(setting.invalid("requires an address"));
                }
                let list = if spec.name == "addr" {
                    &mut self.addr
                } else {
                    &mut self.bind_addr
                };
                list.push(value.to_owned());
            }
            "alias" => {
                if value.len() > MAX_ALIAS_LEN {
                    return Err(
                        setting.invalid(&format!("alias '{value}' is over {MAX_ALIAS_LEN} bytes"))
                    );
                }
                self.alias = Some(value.to_owned());
            }
            "rgb" => {
                self.rgb = Some(parse_rgb(value).ok_or_else(|| {
                    setting.invalid(&format!("'{value}' is not 6 hex digits (RRGGBB)"))
                })?);
            }
            "log-level" => {
                if value.contains(':') {
                    return Err(setting.invalid(&format!(
                        "per-subsystem log levels ('{value}') are not supported"
                    )));
                }
                self.log_level = value
                    .parse()
                    .map_err(|e: crate::logging::UnknownLogLevel| {
                        setting.invalid(&e.to_string())
                    })?;
            }
            "log-file" => {
                self.log_file = match value {
                    "" => return Err(setting.invalid("requires a path (or - for stdout)")),
                    "-" => None,
                    path => Some(network_dir.join(path)),
                };
            }
            "rpc-file" => {
                if value.is_empty() {
                    return Err(setting.invalid("requires a path"));
                }
                self.rpc_file = network_dir.join(value);
            }
            "developer" => self.developer = true,
            "plugin" | "important-plugin" | "plugin-dir" | "disable-plugin" => {
                if value.is_empty() {
                    return Err(setting.invalid("requires a path"));
                }
                let path = expand_home(value, None).unwrap_or_else(|_| PathBuf::from(value));
                match spec.name {
                    "plugin" => self.plugins.push(PluginSource::Plugin(path)),
                    "important-plugin" => self.plugins.push(PluginSource::Important(path)),
                    "plugin-dir" => self.plugins.push(PluginSource::Dir(path)),
                    _ => self.disabled_plugins.push(value.to_owned()),
                }
            }
            "clear-plugins" => {
                self.plugins.clear();
                self.default_plugin_dir = false;
            }
            "plugin-hook-timeout" => {
                let seconds: u64 = value.parse().map_err(|_| {
                    setting.invalid(&format!("'{value}' is not a number of seconds"))
                })?;
                self.plugin_hook_timeout = std::time::Duration::from_secs(seconds);
            }
            "ping-burst" => {
                self.peer_limits.ping_burst = setting.number("pings", 1)?;
            }
            "pings-per-second" => {
                self.peer_limits.pings_per_second = setting.number("pings", 1)?;
            }
            "peer-send-queue-bytes" => {
                self.peer_limits.send_queue_bytes =
                    setting.number("bytes", MIN_SEND_QUEUE_BYTES)?;
            }
            "max-pending-handshakes" => {
                self.peer_limits.max_pending_handshakes = setting.number("connections", 1)?;
            }
            "handshake-timeout" => {
                self.peer_limits.handshake_timeout =
                    Duration::from_secs(setting.number("seconds", 1)?);
            }
            "init-timeout" => {
                self.peer_limits.init_timeout = Duration::from_secs(setting.number("seconds", 1)?);
            }
            "max-inbound-peers-without-channel" => {
                self.peer_limits.max_inbound_peers_without_channel = setting.number("peers", 0)?;
            }
            "peer-inbound-rate" => {
                self.peer_limits.inbound_bytes_per_second =
                    setting.number("bytes per second", 0)?;
            }
            "peer-inbound-burst" => {
                self.peer_limits.inbound_burst_bytes = setting.number("bytes", 1)?;
            }
            "rpc-max-request-bytes" => {
                self.rpc_limits.max_request_bytes =
                    setting.number("bytes", MIN_RPC_REQUEST_BYTES)?;
            }
            "rpc-max-nesting-depth" => {
                let depth: usize = setting.number("levels", 1)?;
                let ceiling = RpcConfig::MAX_NESTING_DEPTH_CEILING;
                if depth > ceiling {
                    // Deeper requests would pass the server's check and still fail in
                    // serde_json, whose recursion limit is 128 levels.
                    return Err(setting.invalid(&format!(
                        "{depth} is too large (at most {ceiling}: serde_json refuses values \
                         nested 128 levels deep, and a request's members sit one level below it)"
                    )));
                }
                self.rpc_limits.max_nesting_depth = depth;
            }
            "rpc-max-connections" => {
                self.rpc_limits.max_connections = setting.number("connections", 1)?;
            }
            other => {
                // Every name in OPTIONS has an arm above; a new one without is a bug here.
                return Err(setting.invalid(&format!("option '{other}' is not handled")));
            }
        }
        Ok(())
    }
}

/// Whether an option is a flag or takes a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Flag,
    Value,
}

/// One known option, for parsing and for `--help`.
struct OptSpec {
    name: &'static str,
    kind: Kind,
    /// Placeholder for the value in help text.
    arg: &'static str,
    default: Option<&'static str>,
    help: &'static str,
}

impl OptSpec {
    fn synopsis(&self) -> String {
        match self.kind {
            Kind::Flag => format!("--{}", self.name),
            Kind::Value => format!("--{}={}", self.name, self.arg),
        }
    }
}

const fn flag(name: &'static str, default: Option<&'static str>, help: &'static str) -> OptSpec {
    OptSpec {
        name,
        kind: Kind::Flag,
        arg: "",
        default,
        help,
    }
}

const fn value(
    name: &'static str,
    arg: &'static str,
    default: Option<&'static str>,
    help: &'static str,
) -> OptSpec {
    OptSpec {
        name,
        kind: Kind::Value,
        arg,
        default,
        help,
    }
}

/// Every option we know, in help order.
const OPTIONS: &[OptSpec] = &[
    value(
        "lightning-dir",
        "<dir>",
        Some("~/.lnpeer"),
        "Base directory; each network's files are in <dir>/<network> (command line only)",
    ),
    value(
        "network",
        "<network>",
        Some("bitcoin"),
        "bitcoin, testnet, testnet4, signet or regtest (not in a network's config file)",
    ),
    flag("mainnet", None, "Alias for --network=bitcoin"),
    flag("testnet", None, "Alias for --network=testnet"),
    flag("testnet4", None, "Alias for --network=testnet4"),
    flag("signet", None, "Alias for --network=signet"),
    flag("regtest", None, "Alias for --network=regtest"),
    value(
        "addr",
        "<[host][:port]>",
        Some("none"),
        "Listen on and announce this address; repeatable",
    ),
    value(
        "bind-addr",
        "<[host][:port]>",
        Some("none"),
        "Listen on this address without announcing it; repeatable",
    ),
    value(
        "alias",
        "<name>",
        Some("unset: the node chooses"),
        "Node alias, up to 32 bytes of UTF-8",
    ),
    value(
        "rgb",
        "<RRGGBB>",
        Some("unset: the node chooses"),
        "Node colour, 6 hex digits",
    ),
    value(
        "log-level",
        "<level>",
        Some("info"),
        "Lowest level logged: io, debug, info, unusual or broken",
    ),
    value(
        "log-file",
        "<path>",
        Some("- (stdout)"),
        "Append the log to this file (relative to the network directory)",
    ),
    value(
        "rpc-file",
        "<path>",
        Some("lightning-rpc"),
        "JSON-RPC socket (relative to the network directory)",
    ),
    flag(
        "developer",
        Some("off"),
        "Enable developer commands and options",
    ),
    value(
        "plugin",
        "<path>",
        Some("none"),
        "Start this plugin (relative to the working directory); repeatable",
    ),
    value(
        "plugin-dir",
        "<dir>",
        Some("<lightning-dir>/plugins"),
        "Start every executable in this directory; repeatable",
    ),
    flag(
        "clear-plugins",
        None,
        "Forget the plugins and plugin directories given before this option",
    ),
    value(
        "disable-plugin",
        "<name or path>",
        Some("none"),
        "Do not start this plugin; repeatable",
    ),
    value(
        "important-plugin",
        "<path>",
        Some("none"),
        "Start this plugin and stop the node if it dies; repeatable",
    ),
    value(
        "plugin-hook-timeout",
        "<seconds>",
        Some("60"),
        "Skip a plugin that takes longer than this to answer a hook",
    ),
    // The peer limits: each default is the peer manager's (a test checks they agree).
    value(
        "ping-burst",
        "<pings>",
        Some("20"),
        "Pings from one peer answered at once, before --pings-per-second applies",
    ),
    value(
        "pings-per-second",
        "<pings>",
        Some("10"),
        "Pings from one peer answered per second after the burst; others go unanswered",
    ),
    value(
        "peer-send-queue-bytes",
        "<bytes>",
        Some("1048576"),
        "Custom-message bytes queued for one peer before sends to it fail (at least 65535)",
    ),
    value(
        "max-pending-handshakes",
        "<count>",
        Some("256"),
        "Incoming connections in their handshake or init at once; one more closes the oldest",
    ),
    value(
        "handshake-timeout",
        "<seconds>",
        Some("15"),
        "Close a connection whose BOLT 8 handshake takes longer than this",
    ),
    value(
        "init-timeout",
        "<seconds>",
        Some("15"),
        "Close a connection whose peer sends no init this long after the handshake",
    ),
    value(
        "max-inbound-peers-without-channel",
        "<count>",
        Some("250"),
        "Incoming peers without a channel at once; more get a warning and are closed",
    ),
    value(
        "peer-inbound-rate",
        "<bytes/s>",
        Some("33554432"),
        "Bytes per second read from one peer; a faster peer is slowed down (0: no limit)",
    ),
    value(
        "peer-inbound-burst",
        "<bytes>",
        Some("8388608"),
        "Bytes one peer may send at once above --peer-inbound-rate",
    ),
    // The JSON-RPC limits: each default is the RPC server's (a test checks they agree).
    value(
        "rpc-max-request-bytes",
        "<bytes>",
        Some("16777216"),
        "Largest JSON-RPC request accepted; a larger one closes its connection (at least 4096)",
    ),
    value(
        "rpc-max-nesting-depth",
        "<levels>",
        Some("64"),
        "Arrays and objects nested in one JSON-RPC request; deeper is refused (1 to 128)",
    ),
    value(
        "rpc-max-connections",
        "<count>",
        Some("256"),
        "JSON-RPC connections open at once; one more is closed unread (at least 1)",
    ),
    flag("help", None, "Print this message and exit (also -h)"),
    flag("version", None, "Print the version and exit"),
];

fn spec(name: &str) -> Option<&'static OptSpec> {
    OPTIONS.iter().find(|o| o.name == name)
}

/// One `name[=value]` from the command line or a config file.
#[derive(Debug, Clone)]
struct Setting {
    name: String,
    value: Option<String>,
    origin: Origin,
}

impl Setting {
    fn invalid(&self, problem: &str) -> ConfigError {
        ConfigError::Invalid {
            origin: self.origin.clone(),
            option: self.name.clone(),
            problem: problem.to_owned(),
        }
    }

    fn value(&self) -> Result<&str, ConfigError> {
        self.value
            .as_deref()
            .ok_or_else(|| self.invalid("requires an argument"))
    }

    /// The value as a whole number of `unit`, at least `min`, that fits in `T`.
    fn number<T: TryFrom<u64>>(&self, unit: &str, min: u64) -> Result<T, ConfigError> {
        let value = self.value()?;
        let number: u64 = value.parse().map_err(|error: std::num::ParseIntError| {
            self.invalid(&match error.kind() {
                std::num::IntErrorKind::PosOverflow => format!("{value} is too large"),
                _ => format!("'{value}' is not a number of {unit}"),
            })
        })?;
        if number < min {
            return Err(self.invalid(&format!("{number} is too small (at least {min})")));
        }
        T::try_from(number).map_err(|_| self.invalid(&format!("{number} is too large")))
    }

    /// The network this setting selects, if it is `network` or one of its aliases.
    fn network(&self) -> Result<Option<Network>, ConfigError> {
        let alias = match self.name.as_str() {
            "network" => {
                let value = self.value()?;
                return value
                    .parse()
                    .map(Some)
                    .map_err(|e: UnknownNetwork| self.invalid(&e.to_string()));
            }
            "mainnet" => Network::Bitcoin,
            "testnet" => Network::Testnet,
            "testnet4" => Network::Testnet4,
            "signet" => Network::Signet,
            "regtest" => Network::Regtest,
            _ => return Ok(None),
        };
        if self.value.is_some() {
            return Err(self.invalid("does not take an argument"));
        }
        Ok(Some(alias))
    }
}

fn exit_request(setting: &Setting) -> Option<ConfigError> {
    match setting.name.as_str() {
        "help" => Some(ConfigError::HelpRequested(Config::usage())),
        "version" => Some(ConfigError::VersionRequested(VERSION.to_owned())),
        _ => None,
    }
}

/// Splits the command line into settings, consuming `--name value` pairs.
fn command_line_settings(
    args: impl IntoIterator<Item = String>,
) -> Result<Vec<Setting>, ConfigError> {
    let mut settings = Vec::new();
    let mut args = args.into_iter().peekable();
    while let Some(arg) = args.next() {
        if arg == "--" {
            // Options end here, and we take no positional arguments.
            return match args.next() {
                Some(extra) => Err(ConfigError::UnexpectedArgument(extra)),
                None => Ok(settings),
            };
        }
        if arg == "-h" {
            settings.push(Setting {
                name: "help".to_owned(),
                value: None,
                origin: Origin::CommandLine,
            });
            continue;
        }
        let Some(long) = arg.strip_prefix("--") else {
            if arg.starts_with('-') {
                return Err(ConfigError::UnknownOption(arg));
            }
            return Err(ConfigError::UnexpectedArgument(arg));
        };
        let (name, mut value) = match long.split_once('=') {
            Some((name, value)) => (name.to_owned(), Some(value.to_owned())),
            None => (long.to_owned(), None),
        };
        if name.is_empty() {
            return Err(ConfigError::UnknownOption(arg));
        }
        if value.is_none() {
            value = match spec(&name).map(|o| o.kind) {
                Some(Kind::Flag) => None,
                Some(Kind::Value) => match args.next() {
                    Some(next) => Some(next),
                    None => {
                        return Err(ConfigError::Invalid {
                            origin: Origin::CommandLine,
                            option: name,
                            problem: "requires an argument".to_owned(),
                        })
                    }
                },
                // Unknown: CLN guesses that a following non-option word is its value.
                None => args.next_if(|next| !next.starts_with('-')),
            };
        }
        settings.push(Setting {
            name,
            value,
            origin: Origin::CommandLine,
        });
    }
    Ok(settings)
}

/// Reads one config file (and what it includes) into settings. A missing file is empty
/// unless `required` (included files must exist, as in CLN).
fn read_config_file(
    path: &Path,
    required: bool,
    depth: usize,
) -> Result<Vec<Setting>, ConfigError> {
    let contents = match fs::read_to_string(path) {
        Ok(contents) => contents,
        Err(e) if e.kind() == io::ErrorKind::NotFound && !required => return Ok(Vec::new()),
        Err(e) => {
            return Err(ConfigError::ReadFile {
                path: path.to_owned(),
                problem: e.to_string(),
            })
        }
    };
    let mut settings = Vec::new();
    for (index, raw) in contents.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let origin = Origin::File {
            path: path.to_owned(),
            line: index + 1,
        };
        if let Some(included) = line.strip_prefix("include ") {
            if depth >= MAX_INCLUDE_DEPTH {
                return Err(ConfigError::Invalid {
                    origin,
                    option: "include".to_owned(),
                    problem: format!("includes nest deeper than {MAX_INCLUDE_DEPTH} (a loop?)"),
                });
            }
            let dir = path.parent().unwrap_or(Path::new(""));
            settings.extend(read_config_file(
                &dir.join(included.trim()),
                true,
                depth + 1,
            )?);
            continue;
        }
        let (name, value) = match line.split_once('=') {
            Some((name, value)) => (name.trim(), Some(value.trim().to_owned())),
            None => (line, None),
        };
        if name.starts_with('-') {
            return Err(ConfigError::Invalid {
                origin,
                option: name.to_owned(),
                problem: "config file options are written without leading dashes".to_owned(),
            });
        }
        settings.push(Setting {
            name: name.to_owned(),
            value,
            origin,
        });
    }
    Ok(settings)
}

/// Expands a leading `~` (alone or before `/`) to `home`; other paths are returned as is.
fn expand_home(value: &str, home: Option<&Path>) -> Result<PathBuf, ConfigError> {
    let rest = match value.strip_prefix('~') {
        Some("") => "",
        Some(rest) if rest.starts_with('/') => rest.trim_start_matches('/'),
        _ => return Ok(PathBuf::from(value)),
    };
    Ok(home.ok_or(ConfigError::NoHome)?.join(rest))
}

fn parse_rgb(value: &str) -> Option<[u8; 3]> {
    if value.len() != 6 {
        return None;
    }
    let mut rgb = [0u8; 3];
    hex::decode_to_slice(value, &mut rgb).ok()?;
    Some(rgb)
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
    let parse_port = |port: &str| {
        port.parse::<u16>()
            .map_err(|_| err(format!("invalid port '{port}'")))
    };
    if s.is_empty() {
        return Err(err("empty address".to_owned()));
    }
    // Bare IPs first: `::1` would otherwise look like `:<port>` or split at its last colon.
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Ok(SocketAddr::new(ip, default_port));
    }
    if let Ok(addr) = s.parse::<SocketAddr>() {
        return Ok(addr);
    }
    if let Some(port) = s.strip_prefix(':') {
        return Ok(SocketAddr::new(
            IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            parse_port(port)?,
        ));
    }
    if let Some(inner) = s.strip_prefix('[') {
        let (ip, port) = match inner.split_once(']') {
            Some((ip, "")) => (ip, default_port),
            Some((ip, rest)) => match rest.strip_prefix(':') {
                Some(port) => (ip, parse_port(port)?),
                None => return Err(err("expected ':' after ']'".to_owned())),
            },
            None => return Err(err("missing ']'".to_owned())),
        };
        let ip = ip
            .parse::<Ipv6Addr>()
            .map_err(|_| err(format!("'{ip}' is not an IPv6 address")))?;
        return Ok(SocketAddr::new(IpAddr::V6(ip), port));
    }
    let (host, port) = match s.rsplit_once(':') {
        Some((host, port)) => (host, parse_port(port)?),
        None => (s, default_port),
    };
    if host.contains(':') {
        return Err(err(
            "not an IP address; write IPv6 with a port as [addr]:port".to_owned(),
        ));
    }
    (host, port)
        .to_socket_addrs()
        .map_err(|e| err(format!("cannot resolve '{host}': {e}")))?
        .next()
        .ok_or_else(|| err(format!("'{host}' resolved to no addresses")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    /// A fresh $HOME with the default lightning dir inside.
    struct Home {
        dir: tempfile::TempDir,
    }

    impl Home {
        fn new() -> Home {
            Home {
                dir: tempfile::tempdir().unwrap(),
            }
        }
        fn path(&self) -> &Path {
            self.dir.path()
        }
        fn ldir(&self) -> PathBuf {
            self.path().join(".lnpeer")
        }
        /// Writes `<lightning-dir>/<sub>/config`.
        fn write(&self, sub: &str, contents: &str) -> PathBuf {
            let dir = self.ldir().join(sub);
            fs::create_dir_all(&dir).unwrap();
            let path = dir.join(CONFIG_FILE);
            fs::write(&path, contents).unwrap();
            path
        }
        fn parse(&self, list: &[&str]) -> Result<Config, ConfigError> {
            Config::parse(args(list), Some(self.path()))
        }
        fn defaults(&self) -> Config {
            let ldir = self.ldir();
            Config {
                rpc_file: ldir.join("bitcoin/lightning-rpc"),
                lightning_dir: ldir,
                network: Network::Bitcoin,
                addr: vec![],
                bind_addr: vec![],
                alias: None,
                rgb: None,
                log_level: LogLevel::Info,
                log_file: None,
                developer: false,
                plugins: vec![],
                disabled_plugins: vec![],
                default_plugin_dir: true,
                plugin_hook_timeout: std::time::Duration::from_secs(60),
                peer_limits: PeerLimits::default(),
                rpc_limits: RpcLimits::default(),
                extra: vec![],
            }
        }
    }

    #[test]
    fn defaults() {
        let home = Home::new();
        let config = home.parse(&[]).unwrap();
        assert_eq!(config, home.defaults());
        assert_eq!(config.network_dir(), home.ldir().join("bitcoin"));
    }

    #[test]
    fn command_line_forms() {
        type Case = (&'static [&'static str], fn(&mut Config, &Path));
        let cases: &[Case] = &[
            (&["--network=regtest"], |c, l| {
                c.network = Network::Regtest;
                c.rpc_file = l.join("regtest/lightning-rpc");
            }),
            (&["--network", "signet"], |c, l| {
                c.network = Network::Signet;
                c.rpc_file = l.join("signet/lightning-rpc");
            }),
            (&["--testnet4"], |c, l| {
                c.network = Network::Testnet4;
                c.rpc_file = l.join("testnet4/lightning-rpc");
            }),
            (&["--regtest", "--mainnet"], |_, _| {}),
            (&["--network=mainnet"], |_, _| {}),
            (&["--addr=1.2.3.4", "--addr", ":9735"], |c, _| {
                c.addr = vec!["1.2.3.4".into(), ":9735".into()];
            }),
            (&["--bind-addr", "127.0.0.1:1"], |c, _| {
                c.bind_addr = vec!["127.0.0.1:1".into()];
            }),
            (&["--alias=LNPEER"], |c, _| c.alias = Some("LNPEER".into())),
            (&["--alias", "a=b c"], |c, _| c.alias = Some("a=b c".into())),
            (&["--alias=x", "--alias=y"], |c, _| {
                c.alias = Some("y".into())
            }),
            (&["--rgb=02ab12"], |c, _| c.rgb = Some([0x02, 0xab, 0x12])),
            (&["--rgb", "FFfF00"], |c, _| c.rgb = Some([0xff, 0xff, 0])),
            (&["--log-level=io"], |c, _| c.log_level = LogLevel::Io),
            (&["--log-level", "broken"], |c, _| {
                c.log_level = LogLevel::Broken;
            }),
            (&["--log-file=log"], |c, l| {
                c.log_file = Some(l.join("bitcoin/log"));
            }),
            (&["--log-file=/var/log/x"], |c, _| {
                c.log_file = Some("/var/log/x".into());
            }),
            (&["--log-file=/var/log/x", "--log-file=-"], |c, _| {
                c.log_file = None;
            }),
            (&["--rpc-file=sock"], |c, l| {
                c.rpc_file = l.join("bitcoin/sock")
            }),
            (&["--regtest", "--rpc-file", "/tmp/rpc"], |c, _| {
                c.network = Network::Regtest;
                c.rpc_file = "/tmp/rpc".into();
            }),
            (&["--developer"], |c, _| c.developer = true),
            (&["--"], |_, _| {}),
            (&["--ping-burst=1"], |c, _| c.peer_limits.ping_burst = 1),
            (&["--ping-burst", "4294967295"], |c, _| {
                c.peer_limits.ping_burst = u32::MAX;
            }),
            (&["--pings-per-second=200"], |c, _| {
                c.peer_limits.pings_per_second = 200;
            }),
            (&["--peer-send-queue-bytes=65535"], |c, _| {
                c.peer_limits.send_queue_bytes = 65_535;
            }),
            (&["--peer-send-queue-bytes=16777216"], |c, _| {
                c.peer_limits.send_queue_bytes = 16 << 20;
            }),
            (&["--max-pending-handshakes=1"], |c, _| {
                c.peer_limits.max_pending_handshakes = 1;
            }),
            (&["--handshake-timeout", "5"], |c, _| {
                c.peer_limits.handshake_timeout = Duration::from_secs(5);
            }),
            (&["--init-timeout=120"], |c, _| {
                c.peer_limits.init_timeout = Duration::from_secs(120);
            }),
            (&["--max-inbound-peers-without-channel=0"], |c, _| {
                c.peer_limits.max_inbound_peers_without_channel = 0;
            }),
            (&["--max-inbound-peers-without-channel=10000"], |c, _| {
                c.peer_limits.max_inbound_peers_without_channel = 10_000;
            }),
            (&["--peer-inbound-rate=0"], |c, _| {
                c.peer_limits.inbound_bytes_per_second = 0;
            }),
            (
                &["--peer-inbound-rate=65536", "--peer-inbound-burst=1"],
                |c, _| {
                    c.peer_limits.inbound_bytes_per_second = 65_536;
                    c.peer_limits.inbound_burst_bytes = 1;
                },
            ),
            (&["--rpc-max-request-bytes=4096"], |c, _| {
                c.rpc_limits.max_request_bytes = 4096;
            }),
            (&["--rpc-max-request-bytes", "1073741824"], |c, _| {
                c.rpc_limits.max_request_bytes = 1 << 30;
            }),
            (&["--rpc-max-nesting-depth=1"], |c, _| {
                c.rpc_limits.max_nesting_depth = 1;
            }),
            (&["--rpc-max-nesting-depth=128"], |c, _| {
                c.rpc_limits.max_nesting_depth = RpcConfig::MAX_NESTING_DEPTH_CEILING;
            }),
            (&["--rpc-max-connections=1"], |c, _| {
                c.rpc_limits.max_connections = 1;
            }),
            (&["--rpc-max-connections", "100000"], |c, _| {
                c.rpc_limits.max_connections = 100_000;
            }),
        ];
        for (list, edit) in cases {
            let home = Home::new();
            let mut want = home.defaults();
            edit(&mut want, &home.ldir());
            assert_eq!(home.parse(list).unwrap(), want, "{list:?}");
        }
    }

    #[test]
    fn lightning_dir_sources() {
        let home = Home::new();
        let other = home.path().join("elsewhere");
        let config = home
            .parse(&["--lightning-dir", other.to_str().unwrap()])
            .unwrap();
        assert_eq!(config.lightning_dir, other);
        assert_eq!(config.rpc_file, other.join("bitcoin/lightning-rpc"));

        let config = home.parse(&["--lightning-dir=~/ln"]).unwrap();
        assert_eq!(config.lightning_dir, home.path().join("ln"));
        let config = home.parse(&["--lightning-dir=~"]).unwrap();
        assert_eq!(config.lightning_dir, home.path());
        let config = home.parse(&["--lightning-dir=rel/dir"]).unwrap();
        assert_eq!(config.lightning_dir, PathBuf::from("rel/dir"));

        // Without $HOME, only an explicit non-~ directory works.
        assert_eq!(
            Config::parse(Vec::new(), None).unwrap_err(),
            ConfigError::NoHome
        );
        assert_eq!(
            Config::parse(args(&["--lightning-dir=~/x"]), None).unwrap_err(),
            ConfigError::NoHome
        );
        let dir = tempfile::tempdir().unwrap();
        let flag = format!("--lightning-dir={}", dir.path().display());
        assert_eq!(
            Config::parse(args(&[&flag]), None).unwrap().lightning_dir,
            dir.path()
        );
    }

    #[test]
    fn command_line_errors() {
        let cases: &[(&[&str], &str)] = &[
            (
                &["--network=foo"],
                "--network: unknown network 'foo' (expected bitcoin, testnet, testnet4, signet, regtest)",
            ),
            (
                &["--rgb=12345"],
                "--rgb: '12345' is not 6 hex digits (RRGGBB)",
            ),
            (&["--rgb=zz0000"], "--rgb: 'zz0000' is not 6 hex digits (RRGGBB)"),
            (
                &["--log-level=loud"],
                "--log-level: unknown log level 'loud' (expected io, debug, info, unusual, broken)",
            ),
            (
                &["--log-level=debug:connectd"],
                "--log-level: per-subsystem log levels ('debug:connectd') are not supported",
            ),
            (
                &["--alias=123456789012345678901234567890123"],
                "--alias: alias '123456789012345678901234567890123' is over 32 bytes",
            ),
            (&["--alias"], "--alias: requires an argument"),
            (&["--developer=yes"], "--developer: does not take an argument"),
            (&["--regtest=1"], "--regtest: does not take an argument"),
            (&["--addr="], "--addr: requires an address"),
            (&["--rpc-file="], "--rpc-file: requires a path"),
            (&["--lightning-dir="], "--lightning-dir: requires a directory"),
            (&["--ping-burst=0"], "--ping-burst: 0 is too small (at least 1)"),
            (
                &["--ping-burst=4294967296"],
                "--ping-burst: 4294967296 is too large",
            ),
            (&["--ping-burst"], "--ping-burst: requires an argument"),
            (
                &["--pings-per-second=-1"],
                "--pings-per-second: '-1' is not a number of pings",
            ),
            (
                &["--pings-per-second=0"],
                "--pings-per-second: 0 is too small (at least 1)",
            ),
            (
                &["--peer-send-queue-bytes=65534"],
                "--peer-send-queue-bytes: 65534 is too small (at least 65535)",
            ),
            (
                &["--peer-send-queue-bytes=1M"],
                "--peer-send-queue-bytes: '1M' is not a number of bytes",
            ),
            (
                &["--max-pending-handshakes=0"],
                "--max-pending-handshakes: 0 is too small (at least 1)",
            ),
            (
                &["--max-pending-handshakes="],
                "--max-pending-handshakes: '' is not a number of connections",
            ),
            (
                &["--handshake-timeout=0"],
                "--handshake-timeout: 0 is too small (at least 1)",
            ),
            (
                &["--handshake-timeout=1.5"],
                "--handshake-timeout: '1.5' is not a number of seconds",
            ),
            (
                &["--init-timeout=15s"],
                "--init-timeout: '15s' is not a number of seconds",
            ),
            (
                &["--max-inbound-peers-without-channel=many"],
                "--max-inbound-peers-without-channel: 'many' is not a number of peers",
            ),
            (
                &["--peer-inbound-rate=99999999999999999999"],
                "--peer-inbound-rate: 99999999999999999999 is too large",
            ),
            (
                &["--peer-inbound-rate=fast"],
                "--peer-inbound-rate: 'fast' is not a number of bytes per second",
            ),
            (
                &["--peer-inbound-burst=0"],
                "--peer-inbound-burst: 0 is too small (at least 1)",
            ),
            (
                &["--rpc-max-request-bytes=4095"],
                "--rpc-max-request-bytes: 4095 is too small (at least 4096)",
            ),
            (
                &["--rpc-max-request-bytes=16MiB"],
                "--rpc-max-request-bytes: '16MiB' is not a number of bytes",
            ),
            (
                &["--rpc-max-request-bytes"],
                "--rpc-max-request-bytes: requires an argument",
            ),
            (
                &["--rpc-max-nesting-depth=0"],
                "--rpc-max-nesting-depth: 0 is too small (at least 1)",
            ),
            (
                &["--rpc-max-nesting-depth=129"],
                "--rpc-max-nesting-depth: 129 is too large (at most 128: serde_json refuses \
                 values nested 128 levels deep, and a request's members sit one level below it)",
            ),
            (
                &["--rpc-max-nesting-depth=99999999999999999999"],
                "--rpc-max-nesting-depth: 99999999999999999999 is too large",
            ),
            (
                &["--rpc-max-nesting-depth=-1"],
                "--rpc-max-nesting-depth: '-1' is not a number of levels",
            ),
            (
                &["--rpc-max-connections=0"],
                "--rpc-max-connections: 0 is too small (at least 1)",
            ),
            (
                &["--rpc-max-connections=lots"],
                "--rpc-max-connections: 'lots' is not a number of connections",
            ),
            (&["--foo"], "unknown option: --foo"),
            (&["--foo=bar"], "unknown option: --foo"),
            (&["-x"], "unknown option: -x"),
            (
                &["positional"],
                "unexpected argument 'positional': lnpeerd takes only options",
            ),
            (
                &["--", "positional"],
                "unexpected argument 'positional': lnpeerd takes only options",
            ),
        ];
        for (list, want) in cases {
            let home = Home::new();
            let err = home.parse(list).unwrap_err();
            assert_eq!(err.to_string(), *want, "{list:?}");
        }
    }

    #[test]
    fn help_and_version() {
        let home = Home::new();
        for list in [&["--help"][..], &["-h"], &["--network=foo", "--help"]] {
            let ConfigError::HelpRequested(text) = home.parse(list).unwrap_err() else {
                panic!("{list:?} should ask for help");
            };
            for option in OPTIONS {
                assert!(
                    text.contains(&format!("--{}", option.name)),
                    "{}",
                    option.name
                );
            }
            for default in [
                "[default: ~/.lnpeer]",
                "[default: bitcoin]",
                "[default: info]",
            ] {
                assert!(text.contains(default), "{default} in\n{text}");
            }
        }
        assert_eq!(
            home.parse(&["--version"]).unwrap_err(),
            ConfigError::VersionRequested(VERSION.to_owned())
        );
        assert_eq!(VERSION, "v0.1.0");
    }

    #[test]
    fn precedence_command_line_over_network_file_over_base_file() {
        let home = Home::new();
        home.write(
            "",
            "# base config\n\
             network=regtest\n\
             alias=BASE\n\
             rgb=000001\n\
             log-level=unusual\n\
             addr=base:1\n\
             rpc-max-connections=8\n\
             rpc-max-nesting-depth=16\n\
             \n\
             developer\n",
        );
        home.write(
            "regtest",
            "alias=NET\r\n\
             log-level=debug\n\
             addr=net:2\n\
             bind-addr=127.0.0.1:3\n\
             rpc-max-connections=9\n\
             rpc-file=rpc\n",
        );
        // A config for another network is not read.
        home.write("bitcoin", "alias=WRONG\n");
        let config = home
            .parse(&["--alias=CLI", "--addr=cli:3", "--rpc-max-nesting-depth=32"])
            .unwrap();
        let ldir = home.ldir();
        assert_eq!(
            config,
            Config {
                lightning_dir: ldir.clone(),
                network: Network::Regtest,
                addr: vec!["base:1".into(), "net:2".into(), "cli:3".into()],
                bind_addr: vec!["127.0.0.1:3".into()],
                alias: Some("CLI".into()),
                rgb: Some([0, 0, 1]),
                log_level: LogLevel::Debug,
                log_file: None,
                rpc_file: ldir.join("regtest/rpc"),
                developer: true,
                plugins: vec![],
                disabled_plugins: vec![],
                default_plugin_dir: true,
                plugin_hook_timeout: std::time::Duration::from_secs(60),
                peer_limits: PeerLimits::default(),
                rpc_limits: RpcLimits {
                    max_connections: 9,
                    max_nesting_depth: 32,
                    ..RpcLimits::default()
                },
                extra: vec![],
            }
        );
    }

    #[test]
    fn plugin_options_accumulate_in_order_and_clear_plugins_resets_them() {
        let home = Home::new();
        let config = home
            .parse(&[
                "--plugin=/a",
                "--plugin-dir=/d",
                "--important-plugin=/i",
                "--disable-plugin=x.py",
                "--plugin-hook-timeout=5",
            ])
            .unwrap();
        assert_eq!(
            config.plugins,
            [
                PluginSource::Plugin("/a".into()),
                PluginSource::Dir("/d".into()),
                PluginSource::Important("/i".into())
            ]
        );
        assert_eq!(config.disabled_plugins, ["x.py"]);
        assert_eq!(
            config.plugin_hook_timeout,
            std::time::Duration::from_secs(5)
        );
        let cleared = home
            .parse(&["--plugin=/a", "--clear-plugins", "--plugin=/b"])
            .unwrap();
        assert_eq!(cleared.plugins, [PluginSource::Plugin("/b".into())]);
        assert!(!cleared.default_plugin_dir);
        assert!(home.parse(&["--plugin-hook-timeout=soon"]).is_err());
    }

    #[test]
    fn limit_defaults_in_help_are_the_peer_managers_and_the_rpc_servers() {
        let home = Home::new();
        let limits = [
            "ping-burst",
            "pings-per-second",
            "peer-send-queue-bytes",
            "max-pending-handshakes",
            "handshake-timeout",
            "init-timeout",
            "max-inbound-peers-without-channel",
            "peer-inbound-rate",
            "peer-inbound-burst",
        ];
        for name in limits {
            let default = spec(name).and_then(|o| o.default).unwrap();
            let config = home.parse(&[&format!("--{name}={default}")]).unwrap();
            assert_eq!(
                config.peer_limits,
                PeerLimits::default(),
                "{name}={default}"
            );
        }
        // And they reach the peer manager.
        let key = noise_transport::SecretKey::from_slice(&[1; 32]).unwrap();
        let mut config = PeerManagerConfig::new(key, ChainHash::REGTEST, 19846);
        let limits = PeerLimits {
            init_timeout: Duration::from_secs(3),
            inbound_bytes_per_second: 0,
            ..PeerLimits::default()
        };
        limits.apply_to(&mut config);
        assert_eq!(config.init_timeout, Duration::from_secs(3));
        assert_eq!(config.inbound_bytes_per_second, 0);
        assert_eq!(config.handshake_timeout, peer_manager::HANDSHAKE_TIMEOUT);

        // The same for the RPC server's limits, against its constants.
        let rpc_defaults = [
            (
                "rpc-max-request-bytes",
                RpcConfig::DEFAULT_MAX_REQUEST_BYTES,
            ),
            (
                "rpc-max-nesting-depth",
                RpcConfig::DEFAULT_MAX_NESTING_DEPTH,
            ),
            ("rpc-max-connections", RpcConfig::DEFAULT_MAX_CONNECTIONS),
        ];
        for (name, constant) in rpc_defaults {
            let default = spec(name).and_then(|o| o.default).unwrap();
            assert_eq!(default, constant.to_string(), "{name}");
            let config = home.parse(&[&format!("--{name}={default}")]).unwrap();
            assert_eq!(config.rpc_limits, RpcLimits::default(), "{name}={default}");
        }
        let server = RpcConfig::new(PathBuf::from("rpc"));
        let mut config = RpcConfig::new(PathBuf::from("rpc"));
        RpcLimits::default().apply_to(&mut config);
        assert_eq!(
            (
                config.max_request_bytes,
                config.max_nesting_depth,
                config.max_connections
            ),
            (
                server.max_request_bytes,
                server.max_nesting_depth,
                server.max_connections
            )
        );
        // And options reach the server.
        let limits = RpcLimits {
            max_request_bytes: 4096,
            max_nesting_depth: 128,
            max_connections: 1,
        };
        limits.apply_to(&mut config);
        assert_eq!(config.max_request_bytes, 4096);
        assert_eq!(config.max_nesting_depth, 128);
        assert_eq!(config.max_connections, 1);
        assert_eq!(
            config.max_pending_responses,
            RpcConfig::DEFAULT_MAX_PENDING_RESPONSES
        );
    }

    #[test]
    fn command_line_network_picks_the_network_file() {
        let home = Home::new();
        home.write("", "network=regtest\nalias=BASE\n");
        home.write("regtest", "alias=REG\n");
        home.write("signet", "alias=SIG\n");
        let config = home.parse(&["--signet"]).unwrap();
        assert_eq!(config.network, Network::Signet);
        assert_eq!(config.alias.as_deref(), Some("SIG"));
        assert_eq!(config.network_dir(), home.ldir().join("signet"));
        let config = home.parse(&[]).unwrap();
        assert_eq!(config.alias.as_deref(), Some("REG"));
    }

    #[test]
    fn file_errors_name_file_and_line() {
        let cases: &[(&str, &str, &str, usize, &str)] = &[
            // (sub dir, contents, option, line, problem)
            (
                "",
                "alias=ok\n# comment\nrgb=red\n",
                "rgb",
                3,
                "'red' is not 6 hex digits (RRGGBB)",
            ),
            (
                "",
                "\n\nnetwork=moon\n",
                "network",
                3,
                "unknown network 'moon' (expected bitcoin, testnet, testnet4, signet, regtest)",
            ),
            ("", "log-level\n", "log-level", 1, "requires an argument"),
            (
                "",
                "developer=1\n",
                "developer",
                1,
                "does not take an argument",
            ),
            (
                "",
                "lightning-dir=/x\n",
                "lightning-dir",
                1,
                "not permitted in configuration files",
            ),
            (
                "bitcoin",
                "alias=a\nnetwork=bitcoin\n",
                "network",
                2,
                "not permitted in network-specific configuration files",
            ),
            (
                "bitcoin",
                "testnet\n",
                "testnet",
                1,
                "not permitted in network-specific configuration files",
            ),
            (
                "bitcoin",
                "init-timeout=0\n",
                "init-timeout",
                1,
                "0 is too small (at least 1)",
            ),
            (
                "",
                "rpc-max-nesting-depth=64\nrpc-max-nesting-depth=200\n",
                "rpc-max-nesting-depth",
                2,
                "200 is too large (at most 128: serde_json refuses values nested 128 levels \
                 deep, and a request's members sit one level below it)",
            ),
            (
                "bitcoin",
                "rpc-max-request-bytes=1024\n",
                "rpc-max-request-bytes",
                1,
                "1024 is too small (at least 4096)",
            ),
            (
                "",
                "--alias=x\n",
                "--alias",
                1,
                "config file options are written without leading dashes",
            ),
        ];
        for (sub, contents, option, line, problem) in cases {
            let home = Home::new();
            let path = home.write(sub, contents);
            let err = home.parse(&[]).unwrap_err();
            assert_eq!(
                err,
                ConfigError::Invalid {
                    origin: Origin::File {
                        path: path.clone(),
                        line: *line
                    },
                    option: (*option).to_owned(),
                    problem: (*problem).to_owned(),
                },
                "{contents:?}"
            );
            assert_eq!(
                err.to_string(),
                format!(
                    "config file {} line {line}: {option}: {problem}",
                    path.display()
                )
            );
        }
    }

    #[test]
    fn unreadable_config_file() {
        let home = Home::new();
        // A directory where the file should be cannot be read, whoever we run as.
        fs::create_dir_all(home.ldir().join(CONFIG_FILE)).unwrap();
        let err = home.parse(&[]).unwrap_err();
        assert!(
            matches!(&err, ConfigError::ReadFile { path, .. } if *path == home.ldir().join(CONFIG_FILE)),
            "{err:?}"
        );
        assert!(
            err.to_string().starts_with("cannot read config file "),
            "{err}"
        );

        let home = Home::new();
        let path = home.write("", "alias=x\n");
        fs::set_permissions(&path, fs::Permissions::from_mode(0o000)).unwrap();
        // Root reads anything; only check the error when the permission bites.
        if fs::read(&path).is_err() {
            assert!(matches!(
                home.parse(&[]).unwrap_err(),
                ConfigError::ReadFile { .. }
            ));
        }
    }

    #[test]
    fn includes_are_relative_to_the_including_file() {
        let home = Home::new();
        home.write("", "alias=before\ninclude extra/more.conf\naddr=after:1\n");
        fs::create_dir_all(home.ldir().join("extra")).unwrap();
        fs::write(
            home.ldir().join("extra/more.conf"),
            "alias=included\naddr=inc:1\n",
        )
        .unwrap();
        let config = home.parse(&[]).unwrap();
        assert_eq!(config.alias.as_deref(), Some("included"));
        assert_eq!(config.addr, vec!["inc:1".to_owned(), "after:1".to_owned()]);

        // A missing include is an error; a self-include is a loop.
        let home = Home::new();
        home.write("", "include nope\n");
        assert!(matches!(
            home.parse(&[]).unwrap_err(),
            ConfigError::ReadFile { path, .. } if path.ends_with("nope")
        ));
        let home = Home::new();
        let path = home.write("", "include config\n");
        let err = home.parse(&[]).unwrap_err();
        assert!(
            matches!(&err, ConfigError::Invalid { origin: Origin::File { path: p, line: 1 }, option, .. }
                if *p == path && option == "include"),
            "{err:?}"
        );
    }

    #[test]
    fn unknown_options_are_kept_for_plugins_then_rejected() {
        let home = Home::new();
        home.write("", "plugin-opt=1\nbare-plugin-flag\n");
        let list = args(&["--foo", "bar", "--baz", "--qux=1", "--developer", "--last"]);
        let config = Config::parse_allowing_unknown(list.clone(), Some(home.path())).unwrap();
        assert_eq!(
            config.extra,
            vec![
                ("plugin-opt".to_owned(), Some("1".to_owned())),
                ("bare-plugin-flag".to_owned(), None),
                ("foo".to_owned(), Some("bar".to_owned())),
                ("baz".to_owned(), None),
                ("qux".to_owned(), Some("1".to_owned())),
                ("last".to_owned(), None),
            ]
        );
        assert!(config.developer);
        assert_eq!(
            config.reject_unknown().unwrap_err().to_string(),
            "unknown option: --plugin-opt"
        );
        assert_eq!(
            Config::parse(list, Some(home.path())).unwrap_err(),
            ConfigError::UnknownOption("--plugin-opt".to_owned())
        );
    }

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
        let err = parse_listen_addr("no-such-host.invalid:1", 9735).unwrap_err();
        assert!(
            err.reason
                .starts_with("cannot resolve 'no-such-host.invalid'"),
            "{err}"
        );
    }
}
