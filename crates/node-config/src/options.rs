//! The table of options that are not limits (those are [`crate::limits`]'s), and the `--help`
//! text built from both tables.

use crate::limits::LIMITS;

/// Whether an option is a flag or takes a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Flag,
    Value,
}

/// One known option, for parsing and for `--help`.
pub(crate) struct OptSpec {
    pub(crate) name: &'static str,
    pub(crate) kind: Kind,
    /// Placeholder for the value in help text.
    arg: &'static str,
    pub(crate) default: Option<&'static str>,
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

/// Every option that is not a limit, in help order; the limits follow them in `--help`, then
/// [`LAST`].
pub(crate) const OPTIONS: &[OptSpec] = &[
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
        "<[ws:][host][:port]>",
        Some("none"),
        "Listen on this address without announcing it (ws: for WebSocket peers); repeatable",
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
        "dev-force-privkey",
        "<64 hex digits>",
        None,
        "Force HSM to use this as node private key (requires --developer)",
    ),
    value(
        "dev-keylog-file",
        "<path>",
        Some("$LIGHTNINGKEYLOGFILE"),
        "Append every BOLT 8 key to this file, for Wireshark's lightning-dissector: whoever \
         reads it can decrypt the traffic (requires --developer)",
    ),
    value(
        "dev-disconnect",
        "<filename>",
        None,
        "File containing disconnection points (requires --developer)",
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
    flag(
        "lsps-service",
        Some("off"),
        "Serve LSPS0 (bLIP-50): answer lsps0.list_protocols, set feature bit 729, and pass \
         further LSPS methods to the plugins that serve them",
    ),
    value(
        "custommsg-inbox",
        "<true|false>",
        Some("true"),
        "Record received custom messages for listcustommsgs and waitcustommsg",
    ),
];

/// The options `--help` lists after the limits.
pub(crate) const LAST: &[OptSpec] = &[
    flag("help", None, "Print this message and exit (also -h)"),
    flag("version", None, "Print the version and exit"),
];

/// The known option called `name` that is not a limit.
pub(crate) fn spec(name: &str) -> Option<&'static OptSpec> {
    OPTIONS.iter().chain(LAST).find(|o| o.name == name)
}

/// Whether `name` is a flag or takes a value, for any known option.
pub(crate) fn kind_of(name: &str) -> Option<Kind> {
    match spec(name) {
        Some(option) => Some(option.kind),
        None => crate::limits::spec(name).map(|_| Kind::Value),
    }
}

/// The usage text `--help` returns: every option, its argument and its default.
pub fn usage() -> String {
    let mut out = String::from(
        "Usage: lnpeerd [OPTIONS]\n\n\
         A Lightning Network transport node. Options may also be set in\n\
         <lightning-dir>/config and <lightning-dir>/<network>/config, one\n\
         `name=value` (or bare `name`) per line, without the leading dashes.\n\nOptions:\n",
    );
    let mut lines: Vec<(String, &str, Option<String>)> = OPTIONS
        .iter()
        .map(|o| (o.synopsis(), o.help, o.default.map(str::to_owned)))
        .collect();
    lines.extend(LIMITS.iter().map(|limit| {
        (
            format!("--{}={}", limit.name, limit.arg),
            limit.help,
            Some(limit.default.to_string()),
        )
    }));
    lines.extend(
        LAST.iter()
            .map(|o| (o.synopsis(), o.help, o.default.map(str::to_owned))),
    );
    let column = lines.iter().map(|(s, _, _)| s.len()).max().unwrap_or(0) + 2;
    for (synopsis, help, default) in lines {
        out.push_str(&format!("  {synopsis:<column$}{help}"));
        if let Some(default) = default {
            out.push_str(&format!(" [default: {default}]"));
        }
        out.push('\n');
    }
    out
}
