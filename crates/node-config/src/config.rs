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

use std::path::{Path, PathBuf};

use crate::error::ConfigError;
use crate::limits::{LimitRefusal, Limits};
use crate::log_level::LogLevel;
use crate::network::Network;
use crate::options::{spec, usage, Kind};
use crate::settings::{
    command_line_settings, exit_request, expand_home, parse_privkey, read_config_file, Setting,
};
use crate::{CONFIG_FILE, DEFAULT_LIGHTNING_DIR, DEFAULT_RPC_FILE, MAX_ALIAS_LEN, VERSION};

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
    /// `--dev-force-privkey` (developer only): the node key to use instead of the one derived
    /// from `hsm_secret`, e.g. `00..01` for test harnesses that expect a known node id.
    pub dev_force_privkey: Option<[u8; 32]>,
    /// `--dev-keylog-file` (developer only), resolved against the network directory: append
    /// every BOLT 8 key to this file for Wireshark, as the `LIGHTNINGKEYLOGFILE` environment
    /// variable does (the node reads that; this option wins over it).
    pub dev_keylog_file: Option<PathBuf>,
    /// `--dev-disconnect` (developer only), resolved against the network directory: CLN's
    /// file of disconnection points (`-WIRE_PING`, `+WIRE_INIT`, ...), which the node reads
    /// at start.
    pub dev_disconnect: Option<PathBuf>,
    /// `--plugin`, `--important-plugin` and `--plugin-dir`, in the order given (after
    /// `--clear-plugins`).
    pub plugins: Vec<PluginSource>,
    /// `--disable-plugin`: names (matched against file names) or paths.
    pub disabled_plugins: Vec<String>,
    /// Whether `<lightning-dir>/plugins` is scanned (not after `--clear-plugins`).
    pub default_plugin_dir: bool,
    /// `--plugin-hook-timeout`: how long a plugin may take to answer a hook; default 60 s.
    pub plugin_hook_timeout: std::time::Duration,
    /// `--custommsg-inbox`: whether received custom messages are recorded; default true.
    pub custommsg_inbox: bool,
    /// `--lsps-service`: serve LSPS0 (bLIP-50).
    pub lsps_service: bool,
    /// `--ping-burst`, `--rpc-max-connections` and every other limit ([`crate::limits`]).
    pub limits: Limits,
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
            // Known before any option is applied, so a developer option may come before
            // `--developer` (its own arm still checks how it was written).
            developer: base
                .iter()
                .chain(&net)
                .chain(&cmdline)
                .any(|setting| setting.name == "developer"),
            dev_force_privkey: None,
            dev_keylog_file: None,
            dev_disconnect: None,
            plugins: Vec::new(),
            disabled_plugins: Vec::new(),
            default_plugin_dir: true,
            plugin_hook_timeout: std::time::Duration::from_secs(60),
            custommsg_inbox: true,
            lsps_service: false,
            limits: Limits::default(),
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
        usage()
    }

    fn apply(&mut self, setting: &Setting, network_dir: &Path) -> Result<(), ConfigError> {
        if crate::limits::spec(&setting.name).is_some() {
            return self.apply_limit(setting);
        }
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
                if spec.name == "addr" && value.starts_with(crate::address::WEBSOCKET_PREFIX) {
                    // CLN's wording: a WebSocket address is never announced.
                    return Err(setting.invalid(&format!(
                        "Cannot announce websocket address, use --bind-addr={value}"
                    )));
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
                self.log_level =
                    value
                        .parse()
                        .map_err(|e: crate::log_level::UnknownLogLevel| {
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
            "dev-force-privkey" => {
                setting.require_developer(self.developer)?;
                self.dev_force_privkey = Some(parse_privkey(setting, value)?);
            }
            "dev-keylog-file" | "dev-disconnect" => {
                setting.require_developer(self.developer)?;
                if value.is_empty() {
                    return Err(setting.invalid("requires a path"));
                }
                let path = Some(network_dir.join(value));
                match spec.name {
                    "dev-keylog-file" => self.dev_keylog_file = path,
                    _ => self.dev_disconnect = path,
                }
            }
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
            "lsps-service" => self.lsps_service = true,
            "custommsg-inbox" => {
                self.custommsg_inbox = match value {
                    "true" => true,
                    "false" => false,
                    _ => return Err(setting.invalid(&format!("'{value}' is not true or false"))),
                };
            }
            other => {
                // Every name in OPTIONS has an arm above; a new one without is a bug here.
                return Err(setting.invalid(&format!("option '{other}' is not handled")));
            }
        }
        Ok(())
    }

    /// A limit's option: a whole number checked against its row of [`crate::limits`].
    fn apply_limit(&mut self, setting: &Setting) -> Result<(), ConfigError> {
        let unit = crate::limits::spec(&setting.name).map_or("", |row| row.unit);
        let value = setting.value()?;
        let number: u64 = value.parse().map_err(|error: std::num::ParseIntError| {
            setting.invalid(&match error.kind() {
                std::num::IntErrorKind::PosOverflow => format!("{value} is too large"),
                _ => format!("'{value}' is not a number of {unit}"),
            })
        })?;
        match self.limits.set(&setting.name, number) {
            Some(Ok(())) | None => Ok(()),
            Some(Err(LimitRefusal::TooSmall { min })) => {
                Err(setting.invalid(&format!("{number} is too small (at least {min})")))
            }
            Some(Err(LimitRefusal::TooLarge)) => {
                Err(setting.invalid(&format!("{number} is too large")))
            }
            Some(Err(LimitRefusal::AboveMax { max, why })) => {
                Err(setting.invalid(&format!("{number} is too large (at most {max}: {why})")))
            }
        }
    }
}

fn parse_rgb(value: &str) -> Option<[u8; 3]> {
    if value.len() != 6 {
        return None;
    }
    let mut rgb = [0u8; 3];
    hex::decode_to_slice(value, &mut rgb).ok()?;
    Some(rgb)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Origin;
    use std::fs;
    use std::os::unix::fs::PermissionsExt;
    use std::time::Duration;

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
                dev_force_privkey: None,
                dev_keylog_file: None,
                dev_disconnect: None,
                plugins: vec![],
                disabled_plugins: vec![],
                default_plugin_dir: true,
                plugin_hook_timeout: std::time::Duration::from_secs(60),
                custommsg_inbox: true,
                lsps_service: false,
                limits: Limits::default(),
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
            (&["--lsps-service"], |c, _| c.lsps_service = true),
            (&["--custommsg-inbox=false"], |c, _| {
                c.custommsg_inbox = false
            }),
            (
                &["--custommsg-inbox=false", "--custommsg-inbox=true"],
                |_, _| {},
            ),
            (&["--custommsg-inbox-max-age=60"], |c, _| {
                c.limits.custommsg_inbox_max_age = std::time::Duration::from_secs(60);
            }),
            (
                &[
                    "--dev-force-privkey=000000000000000000000000000000000000000000000000000000000000001F",
                    "--developer",
                ],
                |c, _| {
                    c.developer = true;
                    let mut key = [0; 32];
                    key[31] = 0x1f;
                    c.dev_force_privkey = Some(key);
                },
            ),
            (
                &["--developer", "--dev-keylog-file=keys.log"],
                |c, ldir| {
                    c.developer = true;
                    c.dev_keylog_file = Some(ldir.join("bitcoin/keys.log"));
                },
            ),
            (
                &["--dev-disconnect=/tmp/dev_disconnect", "--developer"],
                |c, _| {
                    c.developer = true;
                    c.dev_disconnect = Some("/tmp/dev_disconnect".into());
                },
            ),
            (&["--"], |_, _| {}),
            (&["--ping-burst=1"], |c, _| c.limits.ping_burst = 1),
            (&["--ping-burst", "4294967295"], |c, _| {
                c.limits.ping_burst = u32::MAX;
            }),
            (&["--pings-per-second=200"], |c, _| {
                c.limits.pings_per_second = 200;
            }),
            (&["--peer-send-queue-bytes=65535"], |c, _| {
                c.limits.peer_send_queue_bytes = 65_535;
            }),
            (&["--peer-send-queue-bytes=16777216"], |c, _| {
                c.limits.peer_send_queue_bytes = 16 << 20;
            }),
            (&["--max-pending-handshakes=1"], |c, _| {
                c.limits.max_pending_handshakes = 1;
            }),
            (&["--handshake-timeout", "5"], |c, _| {
                c.limits.handshake_timeout = Duration::from_secs(5);
            }),
            (&["--init-timeout=120"], |c, _| {
                c.limits.init_timeout = Duration::from_secs(120);
            }),
            (&["--max-inbound-peers-without-channel=0"], |c, _| {
                c.limits.max_inbound_peers_without_channel = 0;
            }),
            (&["--max-inbound-peers-without-channel=10000"], |c, _| {
                c.limits.max_inbound_peers_without_channel = 10_000;
            }),
            (&["--peer-inbound-rate=0"], |c, _| {
                c.limits.peer_inbound_rate = 0;
            }),
            (
                &["--peer-inbound-rate=65536", "--peer-inbound-burst=1"],
                |c, _| {
                    c.limits.peer_inbound_rate = 65_536;
                    c.limits.peer_inbound_burst = 1;
                },
            ),
            (&["--rpc-max-request-bytes=4096"], |c, _| {
                c.limits.rpc_max_request_bytes = 4096;
            }),
            (&["--rpc-max-request-bytes", "1073741824"], |c, _| {
                c.limits.rpc_max_request_bytes = 1 << 30;
            }),
            (&["--rpc-max-nesting-depth=1"], |c, _| {
                c.limits.rpc_max_nesting_depth = 1;
            }),
            (&["--rpc-max-nesting-depth=128"], |c, _| {
                c.limits.rpc_max_nesting_depth = crate::limits::RPC_NESTING_DEPTH_CEILING as usize;
            }),
            (&["--rpc-max-connections=1"], |c, _| {
                c.limits.rpc_max_connections = 1;
            }),
            (&["--rpc-max-connections", "100000"], |c, _| {
                c.limits.rpc_max_connections = 100_000;
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
            (
                &["--custommsg-inbox=no"],
                "--custommsg-inbox: 'no' is not true or false",
            ),
            (
                &["--dev-force-privkey=0000000000000000000000000000000000000000000000000000000000000001"],
                "--dev-force-privkey: requires --developer",
            ),
            (
                &["--dev-keylog-file=keys.log"],
                "--dev-keylog-file: requires --developer",
            ),
            (
                &["--dev-disconnect=script"],
                "--dev-disconnect: requires --developer",
            ),
            (
                &["--developer", "--dev-disconnect="],
                "--dev-disconnect: requires a path",
            ),
            (
                &["--developer", "--dev-force-privkey=01"],
                "--dev-force-privkey: Unable to parse privkey '01'",
            ),
            (&["--regtest=1"], "--regtest: does not take an argument"),
            (&["--addr="], "--addr: requires an address"),
            (
                &["--addr=ws:127.0.0.1:1"],
                "--addr: Cannot announce websocket address, use --bind-addr=ws:127.0.0.1:1",
            ),
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
            let names = crate::options::OPTIONS
                .iter()
                .map(|option| option.name)
                .chain(crate::limits::LIMITS.iter().map(|limit| limit.name));
            for name in names {
                assert!(text.contains(&format!("--{name}")), "{name}");
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
                dev_force_privkey: None,
                dev_keylog_file: None,
                dev_disconnect: None,
                plugins: vec![],
                disabled_plugins: vec![],
                default_plugin_dir: true,
                plugin_hook_timeout: std::time::Duration::from_secs(60),
                custommsg_inbox: true,
                lsps_service: false,
                limits: Limits {
                    rpc_max_connections: 9,
                    rpc_max_nesting_depth: 32,
                    ..Limits::default()
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
    fn every_limit_default_in_help_parses_back_to_the_default() {
        let home = Home::new();
        let help = Config::usage();
        for row in crate::limits::LIMITS {
            assert!(
                help.contains(&format!("--{}={}", row.name, row.arg)),
                "{}",
                row.name
            );
            assert!(
                help.contains(&format!("[default: {}]", row.default)),
                "{}",
                row.name
            );
            let config = home
                .parse(&[&format!("--{}={}", row.name, row.default)])
                .unwrap();
            assert_eq!(config.limits, Limits::default(), "{}", row.name);
        }
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
                "bitcoin",
                "alias=a\ndev-force-privkey=0000000000000000000000000000000000000000000000000000000000000001\n",
                "dev-force-privkey",
                2,
                "requires --developer",
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
}
