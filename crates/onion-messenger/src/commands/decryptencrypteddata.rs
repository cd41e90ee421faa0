//! `decryptencrypteddata encrypted_data path_key` (CLN): decrypts one hop's
//! `encrypted_recipient_data` with this node's key. Result:
//! `{"decryptencrypteddata": {"decrypted": hex, "next_path_key": pubkey}}`; data that does not
//! decrypt fails with `Decryption failed!` (-32602).

use std::sync::Arc;

use jsonrpc::error::RpcError;
use jsonrpc::params::Params;
use noise_transport::PublicKey;
use onion_message::decrypt_encrypted_data;
use rpc::{Context, Reply, Signature, TypedCommand};
use serde_json::json;

use super::params::{hex_bytes, pubkey};
use crate::relay::Relay;

static SIGNATURE: Signature = Signature {
    name: "decryptencrypteddata",
    params: &["encrypted_data", "path_key"],
    usage: "encrypted_data path_key",
    developer: false,
};

/// `decryptencrypteddata`.
pub(crate) struct DecryptEncryptedData(pub(crate) Arc<Relay>);

impl TypedCommand for DecryptEncryptedData {
    type Args = (Vec<u8>, PublicKey);

    fn signature(&self) -> &Signature {
        &SIGNATURE
    }

    fn parse(&self, p: &Params<'_>) -> Result<(Vec<u8>, PublicKey), RpcError> {
        Ok((p.required(0, hex_bytes)?, p.required(1, pubkey)?))
    }

    fn validate(
        &self,
        _: &Context<'_>,
        (data, path_key): &(Vec<u8>, PublicKey),
    ) -> Result<(), RpcError> {
        // CLN decrypts before its check-only return, so `check` reports this too.
        decrypt_encrypted_data(&self.0.node_secret, path_key, data)
            .map(|_| ())
            .map_err(|error| RpcError::invalid_params(error.to_string()))
    }

    fn execute(
        &self,
        _: &Context<'_>,
        (data, path_key): (Vec<u8>, PublicKey),
    ) -> Result<Reply, RpcError> {
        let decrypted = decrypt_encrypted_data(&self.0.node_secret, &path_key, &data)
            .map_err(|error| RpcError::invalid_params(error.to_string()))?;
        Ok(Reply::Now(json!({"decryptencrypteddata": {
            "decrypted": hex::encode(&decrypted.decrypted),
            "next_path_key": hex::encode(decrypted.next_path_key.serialize()),
        }})))
    }
}
