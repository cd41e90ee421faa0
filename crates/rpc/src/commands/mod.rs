//! The built-in commands, one file each: its parameters, CLN's result shape and the texts
//! of its own refusals. Failures of the node and the peer layer are worded in
//! [`crate::errors`]; shapes shared with plugin notifications are in [`crate::shapes`].

use std::sync::Arc;

use crate::command::Command;

mod check;
mod connect;
mod dev_channel;
mod dev_peer_write_delay;
mod dev_sendrawmsg;
mod disconnect;
mod getinfo;
mod help;
mod listpeerchannels;
mod listpeers;
mod notifications;
mod ping;
mod sendcustommsg;
mod stop;

#[cfg(feature = "fuzzing")]
pub(crate) use self::{
    connect::Connect, disconnect::Disconnect, listpeers::ListPeers, ping::Ping,
    sendcustommsg::SendCustomMsg,
};

/// Every built-in command, in name order (the order `help` lists them).
pub(crate) fn builtins() -> Vec<Arc<dyn Command>> {
    vec![
        Arc::new(check::Check),
        Arc::new(connect::Connect),
        Arc::new(dev_channel::DevChannelStep::CLOSE),
        Arc::new(dev_channel::DevChannelStep::FORGET),
        Arc::new(dev_channel::DevOpenChannel),
        Arc::new(dev_peer_write_delay::DevPeerWriteDelay),
        Arc::new(sendcustommsg::SendCustomMsg::DEVELOPER),
        Arc::new(dev_sendrawmsg::DevSendRawMsg),
        Arc::new(dev_channel::DevChannelStep::SPEND_FUNDING),
        Arc::new(disconnect::Disconnect),
        Arc::new(getinfo::GetInfo),
        Arc::new(help::Help),
        Arc::new(listpeerchannels::ListPeerChannels),
        Arc::new(listpeers::ListPeers),
        Arc::new(notifications::Notifications),
        Arc::new(ping::Ping),
        Arc::new(sendcustommsg::SendCustomMsg::PUBLIC),
        Arc::new(stop::Stop),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_sorted_and_usages_match_parameters() {
        let commands = builtins();
        let names: Vec<_> = commands.iter().map(|c| c.signature().name).collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        assert_eq!(names, sorted, "help lists commands in table order");
        for command in &commands {
            let signature = command.signature();
            let usage: Vec<_> = signature
                .usage
                .split_whitespace()
                .map(|word| word.trim_matches(|c| c == '[' || c == ']'))
                .collect();
            assert_eq!(usage, signature.params, "{}", signature.name);
        }
    }
}
