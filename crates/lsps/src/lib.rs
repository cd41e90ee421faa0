//! `lsps`: LSPS0 (bLIP-50) on the node, over the sans-IO `lsps0` crate.
//!
//! # What it owns
//!
//! * The client (`client.rs`): our requests to LSPs, each waiting for its answer, its
//!   timeout or its peer's disconnection; the commands `lsps-listprotocols` (CLN's name and
//!   shape) and `lsps0-request` (`commands/`).
//! * The service (`service.rs`, on with `--lsps-service`): `lsps0.list_protocols` and the
//!   bLIP's errors, and every further `lspsN.*` method passed to the plugin that registered an
//!   RPC method of that name.
//! * The timer that expires both sides' deadlines.
//!
//! # What it must not touch
//!
//! The protocol's rules (`lsps0`), sockets (it sends through the peer manager), the routing of
//! received messages (the node's router asks [`Lsps::handle_custom`]) and feature bits (the
//! node sets bit 729, [`lsps0::OPTION_SUPPORTS_LSPS`], when the service is on).
//!
//! # Wiring
//!
//! ```text
//! Lsps::new(manager, service on?, limits)
//!   ─▶ register(&mut dispatcher)       lsps-listprotocols, lsps0-request
//!   ─▶ serve(&Arc<Dispatcher>)         plugin methods serve LSPS methods through it
//!   ─▶ start()                         disconnections and deadlines, until dropped
//! custom message 37913 (peer, bytes) ─▶ handle_custom: answers for the client, requests for
//!   the service; false (not taken: for plugins) when neither wants it
//! ```

#![forbid(unsafe_code)]

mod client;
mod commands;
mod message;
mod service;

use std::sync::Arc;
use std::time::Instant;

use lsps0::ServiceConfig;
use node_config::Limits;
use noise_transport::PublicKey;
use peer_manager::{PeerEvent, PeerManager};
use rpc::{CommandTaken, Dispatcher};

pub use lsps0::OPTION_SUPPORTS_LSPS;

use client::LspsClient;
use service::LspsService;

/// LSPS0 for one node.
pub struct Lsps {
    client: Arc<LspsClient>,
    service: Option<Arc<LspsService>>,
    manager: PeerManager,
    tasks: std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>,
}

impl std::fmt::Debug for Lsps {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lsps")
            .field("service", &self.service.is_some())
            .finish_non_exhaustive()
    }
}

impl Lsps {
    /// LSPS0 through `manager`; the service too if `service`, within `limits`' LSPS rows.
    pub fn new(manager: PeerManager, service: bool, limits: &Limits) -> Lsps {
        let config = ServiceConfig {
            max_request_bytes: limits.lsps_max_request_bytes,
            max_pending_per_peer: limits.lsps_pending_per_peer,
            forward_timeout: limits.lsps_forward_timeout,
        };
        Lsps {
            client: Arc::new(LspsClient::new(manager.clone())),
            service: service.then(|| Arc::new(LspsService::new(manager.clone(), config))),
            manager,
            tasks: std::sync::Mutex::new(Vec::new()),
        }
    }

    /// Whether the service is on.
    pub fn serves(&self) -> bool {
        self.service.is_some()
    }

    /// Adds `lsps-listprotocols` and `lsps0-request` to `dispatcher`.
    ///
    /// # Errors
    /// One of those names is taken.
    pub fn register(&self, dispatcher: &mut Dispatcher) -> Result<(), CommandTaken> {
        dispatcher.register(Arc::new(commands::lsps_listprotocols::LspsListProtocols(
            self.client.clone(),
        )))?;
        dispatcher.register(Arc::new(commands::lsps0_request::Lsps0Request(
            self.client.clone(),
        )))?;
        Ok(())
    }

    /// Passes LSPS methods to plugin methods through `dispatcher` from now on.
    pub fn serve(&self, dispatcher: &Arc<Dispatcher>) {
        if let Some(service) = &self.service {
            service.serve(dispatcher);
        }
    }

    /// A custom message from `peer`: taken (true) if it is LSPS0 and the client expects it
    /// or the service is on; otherwise it is for the plugins.
    pub fn handle_custom(&self, peer: PublicKey, message: &[u8]) -> bool {
        let Some(payload) = message::payload(message) else {
            return false;
        };
        if self.client.expects(&peer) {
            self.client.receive(&peer, payload);
            return true;
        }
        match &self.service {
            Some(service) => {
                service.receive(peer, payload);
                true
            }
            None => false,
        }
    }

    /// Starts the tasks that fail calls when their peer leaves and apply deadlines. They end
    /// when `self` is dropped.
    pub fn start(&self) {
        let mut tasks = self.tasks.lock().unwrap_or_else(|e| e.into_inner());
        let mut events = self.manager.subscribe();
        let client = Arc::downgrade(&self.client);
        tasks.push(tokio::spawn(async move {
            loop {
                match events.recv().await {
                    Ok(PeerEvent::Disconnected { id, .. }) => {
                        let Some(client) = client.upgrade() else {
                            return;
                        };
                        client.peer_disconnected(&id);
                    }
                    Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                }
            }
        }));
        tasks.push(tokio::spawn(deadlines(
            Arc::downgrade(&self.client),
            self.service.as_ref().map(Arc::downgrade),
        )));
    }
}

impl Drop for Lsps {
    fn drop(&mut self) {
        for task in self.tasks.lock().unwrap_or_else(|e| e.into_inner()).iter() {
            task.abort();
        }
    }
}

/// Expires the client's calls and the service's forwarded requests at their deadlines.
async fn deadlines(
    client: std::sync::Weak<LspsClient>,
    service: Option<std::sync::Weak<LspsService>>,
) {
    loop {
        let Some(client) = client.upgrade() else {
            return;
        };
        let service = service.as_ref().and_then(std::sync::Weak::upgrade);
        let now = Instant::now();
        client.expire(now);
        if let Some(service) = &service {
            service.expire(now);
        }
        let next = [
            client.poll_timeout(),
            service.as_ref().and_then(|s| s.poll_timeout()),
        ]
        .into_iter()
        .flatten()
        .min();
        let sleep = async {
            match next {
                Some(at) => tokio::time::sleep_until(tokio::time::Instant::from_std(at)).await,
                None => std::future::pending().await,
            }
        };
        let service_woken = async {
            match &service {
                Some(service) => service.deadlines.notified().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            () = sleep => {}
            () = client.deadlines.notified() => {}
            () = service_woken => {}
        }
    }
}
