//! `remote-control`: driving a node from a phone or a browser without opening its RPC socket,
//! as Core Lightning's commando does: JSON-RPC carried in custom messages over the node's own
//! BOLT 8 connections, authorised by runes.
//!
//! # What it owns
//!
//! * [`RuneAuthority`] (`authority.rs`): the master rune (from `hsm_secret`), issuing,
//!   checking (with each rune's last use, for `rate` and `per`), listing and blacklisting,
//!   over a [`RuneStore`] the node implements on its database.
//! * The commands (`commands/`): `createrune`, `checkrune`, `showrunes`, `blacklistrune` and
//!   `commando`, registered into the RPC dispatcher by [`RemoteControl::register`].
//! * The commando server (`server.rs`): requests from peers, checked against the calling
//!   peer's node id and run through the same dispatcher as the RPC socket.
//! * The commando client (`client.rs`): the `commando` command's requests and their replies.
//!
//! # What it must not touch
//!
//! The protocols' rules (the `runes` and `commando` crates, both sans-IO), sockets (it sends
//! through the peer manager), and the database (through [`RuneStore`]).
//!
//! # Wiring
//!
//! ```text
//! RemoteControl::new(master, store, manager, limits)
//!   ─▶ register(&mut dispatcher)          the five commands
//!   ─▶ serve(&Arc<Dispatcher>)            commands from peers run through it
//!   ─▶ watch_peers()                      disconnects drop partial requests, fail calls
//! custom message (peer, bytes) ─▶ claims(type)? ─▶ handle_custom(peer, bytes)
//! ```

#![forbid(unsafe_code)]

mod authority;
mod client;
mod commands;
mod server;
mod store;
#[cfg(test)]
mod testing;

use std::sync::Arc;

use commando::{CallLimitConfig, Chunk, ChunkKind, ClientConfig, Direction, ServerConfig};
use node_config::Limits;
use noise_transport::PublicKey;
use peer_manager::{PeerEvent, PeerManager};
use rpc::{CommandTaken, Dispatcher};
use runes::Rune;

pub use authority::{Asking, CheckFailure, Created, RuneAuthority};
pub use store::{RuneStore, StoreFailure, StoredRune};

use client::CommandoClient;
use server::CommandoServer;

/// Runes and commando, wired to one node.
pub struct RemoteControl {
    authority: Arc<RuneAuthority>,
    server: Arc<CommandoServer>,
    client: Arc<CommandoClient>,
    manager: PeerManager,
}

impl std::fmt::Debug for RemoteControl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteControl").finish_non_exhaustive()
    }
}

impl RemoteControl {
    /// Remote control for the node whose master rune is `master` (`runes::master_rune` of its
    /// `hsm_secret`), storing runes in `store`, talking to peers through `manager`, within
    /// `limits`' commando rows.
    ///
    /// # Errors
    /// The store failed when the blacklist was loaded.
    pub fn new(
        master: Rune,
        store: Arc<dyn RuneStore>,
        manager: PeerManager,
        limits: &Limits,
    ) -> Result<RemoteControl, StoreFailure> {
        let authority = Arc::new(RuneAuthority::new(master, store)?);
        let server_config = ServerConfig {
            calls: CallLimitConfig {
                burst: limits.commando_burst,
                per_second: limits.commando_calls_per_second,
                ..CallLimitConfig::default()
            },
            ..ServerConfig::default()
        };
        Ok(RemoteControl {
            server: Arc::new(CommandoServer::new(
                server_config,
                authority.clone(),
                manager.clone(),
            )),
            client: Arc::new(CommandoClient::new(
                ClientConfig::default(),
                manager.clone(),
                limits.commando_timeout,
            )),
            authority,
            manager,
        })
    }

    /// The rune authority (for tests and tools).
    pub fn authority(&self) -> &Arc<RuneAuthority> {
        &self.authority
    }

    /// Adds `createrune`, `checkrune`, `showrunes`, `blacklistrune` and `commando` to
    /// `dispatcher`.
    ///
    /// # Errors
    /// One of those names is taken.
    pub fn register(&self, dispatcher: &mut Dispatcher) -> Result<(), CommandTaken> {
        let authority = &self.authority;
        dispatcher.register(Arc::new(commands::createrune::CreateRune(
            authority.clone(),
        )))?;
        dispatcher.register(Arc::new(commands::checkrune::CheckRune(authority.clone())))?;
        dispatcher.register(Arc::new(commands::showrunes::ShowRunes(authority.clone())))?;
        dispatcher.register(Arc::new(commands::blacklistrune::BlacklistRune(
            authority.clone(),
        )))?;
        dispatcher.register(Arc::new(commands::commando::Commando(self.client.clone())))?;
        Ok(())
    }

    /// Runs peers' commands through `dispatcher` from now on.
    pub fn serve(&self, dispatcher: &Arc<Dispatcher>) {
        self.server.serve(dispatcher);
    }

    /// Whether messages of type `ty` are commando's (and so not for plugins).
    pub fn claims(ty: u16) -> bool {
        ChunkKind::from_msg_type(ty).is_some()
    }

    /// A custom message (type and payload) from `peer` of a type [`RemoteControl::claims`]:
    /// a command chunk for the server or a reply chunk for the client. Quick: commands run on
    /// tasks of their own.
    pub fn handle_custom(&self, peer: PublicKey, message: &[u8]) {
        let Some(chunk) = Chunk::decode(message) else {
            return;
        };
        match chunk.kind.direction() {
            Direction::Command => self.server.handle(peer, &chunk),
            Direction::Reply => self.client.handle(peer, &chunk),
        }
    }

    /// Forgets a peer's partial request and fails the calls waiting on it when it
    /// disconnects, until the manager stops.
    pub fn watch_peers(&self) -> tokio::task::JoinHandle<()> {
        let mut events = self.manager.subscribe();
        let server = self.server.clone();
        let client = self.client.clone();
        tokio::spawn(async move {
            loop {
                match events.recv().await {
                    Ok(PeerEvent::Disconnected { id, .. }) => {
                        server.peer_disconnected(&id);
                        client.peer_disconnected(&id);
                    }
                    Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{cln_master, Rig, TestPlugin};

    #[test]
    fn commandos_four_message_types_are_claimed_and_no_others() {
        for ty in [0x4c4d, 0x4c4f, 0x594b, 0x594d] {
            assert!(RemoteControl::claims(ty), "{ty:#x}");
        }
        for ty in [0x4c4b, 0x4c4e, 0x4c50, 0x594c, 0x594e, 32_769, 16, 18] {
            assert!(!RemoteControl::claims(ty), "{ty:#x}");
        }
    }

    #[tokio::test]
    async fn the_five_commands_are_registered_once() {
        let rig = Rig::start(1).await;
        for name in [
            "createrune",
            "checkrune",
            "showrunes",
            "blacklistrune",
            "commando",
        ] {
            assert!(rig.dispatcher.command(name).is_some(), "{name}");
        }
        let mut again = Dispatcher::new(rig.node.clone());
        again.set_external_methods(std::sync::Arc::new(TestPlugin));
        rig.remote.register(&mut again).unwrap();
        assert_eq!(
            rig.remote.register(&mut again),
            Err(CommandTaken("createrune".into()))
        );
    }

    #[tokio::test]
    async fn a_message_that_is_no_chunk_is_ignored() {
        let rig = Rig::start(1).await;
        let peer = peer_manager::testing::node_id(7);
        for message in [&[][..], &[0x4c], &[0x4c, 0x4f, 1, 2, 3], &[0, 16, 0, 0]] {
            rig.remote.handle_custom(peer, message);
        }
    }

    #[tokio::test]
    async fn a_corrupt_stored_blacklist_stops_remote_control_from_starting() {
        let store = crate::testing::MemoryRuneStore::with_blacklist(&[(9, 3)]);
        let manager = crate::testing::idle_manager(1).await;
        let failure = RemoteControl::new(cln_master(), store, manager, &Limits::default())
            .map(|_| ())
            .unwrap_err();
        assert!(failure.0.starts_with("stored rune blacklist:"), "{failure}");
    }
}
