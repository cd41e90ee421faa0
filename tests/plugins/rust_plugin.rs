//! `lnpeer-test-plugin`: a Core Lightning plugin written with the `cln-plugin` crate, for the
//! plugin-host tests (`tests/plugins.rs`).
//!
//! - hook `custommsg`: logs `Rust plugin got custommsg <payload> from <peer_id>` at info level
//!   and answers `{"result": "continue"}`;
//! - rpcmethod `rusthello [name]`: answers `{"greeting": "Hello from Rust, <name>"}` (`name`
//!   defaults to `world`, by position or by name) and logs `rusthello called for <name>`.

use cln_plugin::{Builder, Error, Plugin};
use serde_json::{json, Value};

#[tokio::main]
async fn main() -> Result<(), anyhow::Error> {
    let configured = Builder::new(tokio::io::stdin(), tokio::io::stdout())
        .hook("custommsg", on_custommsg)
        .rpcmethod("rusthello", "Greets [name] from Rust", rusthello)
        .start(())
        .await?;
    match configured {
        Some(plugin) => plugin.join().await,
        // Started outside lightningd's handshake (e.g. `--help`): nothing to do.
        None => Ok(()),
    }
}

async fn on_custommsg(_plugin: Plugin<()>, params: Value) -> Result<Value, Error> {
    let payload = params["payload"].as_str().unwrap_or("<none>");
    let peer_id = params["peer_id"].as_str().unwrap_or("<none>");
    log::info!("Rust plugin got custommsg {payload} from {peer_id}");
    Ok(json!({"result": "continue"}))
}

async fn rusthello(_plugin: Plugin<()>, params: Value) -> Result<Value, Error> {
    let name = match &params {
        Value::Array(items) => items.first().and_then(Value::as_str),
        Value::Object(fields) => fields.get("name").and_then(Value::as_str),
        _ => None,
    }
    .unwrap_or("world")
    .to_owned();
    log::info!("rusthello called for {name}");
    Ok(json!({"greeting": format!("Hello from Rust, {name}")}))
}
