//! `connect id[@host[:port]] [host] [port]`: dials a peer, or reports the connection it
//! already has.

use node_config::DialAddress;
use noise_transport::PublicKey;
use peer_manager::ConnectionInfo;
use serde_json::{json, Value};

use crate::command::{Context, Reply, Signature, TypedCommand};
use crate::errors;
use crate::params::{self, Params};
use crate::shapes::{address_json, direction_name, hex_id};
use jsonrpc::error::RpcError;

static SIGNATURE: Signature = Signature {
    name: "connect",
    params: &["id", "host", "port"],
    usage: "id [host] [port]",
    developer: false,
};

/// `connect`.
pub(crate) struct Connect;

/// Where to connect, as given.
#[derive(Debug)]
pub(crate) struct ConnectArgs {
    pub(crate) id: PublicKey,
    pub(crate) host: Option<String>,
    pub(crate) port: Option<u16>,
}

/// `host`, `host:port`, `[v6]` or `[v6]:port` (a bare IPv6 address has no port); port 0 is
/// no address to dial.
fn dial_address(text: &str) -> Option<DialAddress> {
    text.parse::<DialAddress>()
        .ok()
        .filter(|address| address.port() != Some(0))
}

fn connection_json(connection: &ConnectionInfo) -> Value {
    json!({
        "id": hex_id(&connection.id),
        "features": hex::encode(connection.features.as_wire()),
        "direction": direction_name(connection.direction),
        "address": address_json(&connection.address),
    })
}

impl TypedCommand for Connect {
    type Args = ConnectArgs;

    fn signature(&self) -> &Signature {
        &SIGNATURE
    }

    fn parse(&self, p: &Params<'_>) -> Result<ConnectArgs, RpcError> {
        let id_text = p.required(0, params::string)?;
        // The id is checked first, as CLN parses `id` before `host` and `port`.
        let (id_part, at_address) = match id_text.split_once('@') {
            Some((id_part, address)) => (id_part, Some(address)),
            None => (id_text.as_str(), None),
        };
        let id = params::parse_node_id(id_part).ok_or_else(|| {
            let token = p.raw(0).map(|t| t.get()).unwrap_or_default();
            RpcError::invalid_params(format!("id: should be a node id: invalid token '{token}'"))
        })?;
        let host = p.optional(1, params::string)?;
        let port = p.optional(2, params::port)?;
        let (host, port) = match at_address {
            Some(address) => {
                if host.is_some() {
                    return Err(RpcError::invalid_params(
                        "Can't specify host as both xxx@yyy and separate argument",
                    ));
                }
                let at = dial_address(address)
                    .ok_or_else(|| RpcError::invalid_params("malformed host @part"))?;
                let (at_host, at_port) = (at.host().to_owned(), at.port());
                if at_port.is_some() && port.is_some() {
                    return Err(RpcError::invalid_params(
                        "Can't specify port as both xxx@yyy:port and separate argument",
                    ));
                }
                (Some(at_host), at_port.or(port))
            }
            None => (host, port),
        };
        if host.is_none() && port.is_some() {
            return Err(RpcError::invalid_params("Can't specify port without host"));
        }
        Ok(ConnectArgs { id, host, port })
    }

    fn execute(&self, ctx: &Context<'_>, args: ConnectArgs) -> Result<Reply, RpcError> {
        let ConnectArgs {
            id,
            mut host,
            mut port,
        } = args;
        let node = ctx.node.clone();
        Ok(Reply::Later(Box::pin(async move {
            let manager = node.manager();
            if let Some(connection) = manager.peer(&id).and_then(|peer| peer.connection) {
                return Ok(connection_json(&connection));
            }
            if host.is_none() {
                // A peer we dialed before: use the address we reached it at.
                if let Some(known) = manager.peer(&id).and_then(|peer| peer.address) {
                    host = Some(known.host().to_owned());
                    port = known.port();
                }
            }
            let Some(host) = host else {
                return Err(errors::connect_no_known_address());
            };
            let port = port.unwrap_or(node.info().default_port);
            let address = DialAddress::new(host.clone(), Some(port));
            match manager.connect(id, &address).await {
                Ok(connection) => Ok(connection_json(&connection)),
                Err(error) => Err(errors::connect_error(&host, port, error)),
            }
        })))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_parts_split_like_clns_connect() {
        let parts = |text: &str| dial_address(text).map(|a| (a.host().to_owned(), a.port()));
        assert_eq!(parts("example.com"), Some(("example.com".into(), None)));
        assert_eq!(parts("1.2.3.4:9735"), Some(("1.2.3.4".into(), Some(9735))));
        assert_eq!(parts("[::1]:19846"), Some(("::1".into(), Some(19846))));
        assert_eq!(parts("[::1]"), Some(("::1".into(), None)));
        assert_eq!(parts("::1"), Some(("::1".into(), None)));
        assert_eq!(parts(""), None);
        assert_eq!(parts(":9735"), None);
        assert_eq!(parts("host:0"), None);
        assert_eq!(parts("host:x"), None);
        assert_eq!(parts("[::1]x"), None);
    }
}
