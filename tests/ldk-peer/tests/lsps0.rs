//! LSPS0 (bLIP-50) between two LDK nodes on loopback: `lsps0.list_protocols` from a client to a
//! service, what the service advertises (feature bit 729 only when told to), and how a call
//! ends when there is no answer.

mod common;

use common::{connect, start, start_default, within};
use ldk_peer::{
    advertises_lsps, LdkConfig, LiquidityConfig, ListProtocolsError, LspsServiceConfig,
};

fn service(service: LspsServiceConfig) -> LdkConfig {
    LdkConfig {
        liquidity: LiquidityConfig {
            service: Some(service),
        },
        ..LdkConfig::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_lists_its_protocols_and_advertises_bit_729() {
    let lsp = start(
        "lsp",
        service(LspsServiceConfig {
            advertise_service: true,
            lsps2_promise_secret: Some([42; 32]),
            lsps5: true,
        }),
    )
    .await;
    let client = start_default("client").await;
    connect(&client, &lsp).await;

    let protocols = within("list_protocols", client.lsps0_list_protocols(lsp.node_id())).await;
    // LDK lists the services it runs, in order, and never 0.
    assert_eq!(protocols, Ok(vec![2, 5]));

    let lsp_init = client
        .peer_init_features(&lsp.node_id())
        .expect("the LSP's init");
    assert!(advertises_lsps(&lsp_init), "the LSP sets bit 729");
    let client_init = lsp
        .peer_init_features(&client.node_id())
        .expect("the client's init");
    assert!(!advertises_lsps(&client_init), "a client must not set 729");

    // Calls in a row, and at once, each get their answer.
    let (first, second) = tokio::join!(
        client.lsps0_list_protocols(lsp.node_id()),
        client.lsps0_list_protocols(lsp.node_id()),
    );
    assert_eq!((first, second), (Ok(vec![2, 5]), Ok(vec![2, 5])));

    client.shutdown().await;
    lsp.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bare_unadvertised_service_lists_nothing_and_sets_no_bit() {
    let lsp = start("lsp", service(LspsServiceConfig::default())).await;
    let client = start_default("client").await;
    // The service dials this time: roles do not depend on who dials.
    connect(&lsp, &client).await;

    let protocols = within("list_protocols", client.lsps0_list_protocols(lsp.node_id())).await;
    assert_eq!(protocols, Ok(vec![]));
    let lsp_init = client
        .peer_init_features(&lsp.node_id())
        .expect("the LSP's init");
    assert!(!advertises_lsps(&lsp_init));

    client.shutdown().await;
    lsp.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn asking_a_peer_that_is_not_connected_sends_nothing() {
    let client = start_default("client").await;
    let lsp = start("lsp", service(LspsServiceConfig::default())).await;
    let result = client.lsps0_list_protocols(lsp.node_id()).await;
    assert_eq!(result, Err(ListProtocolsError::NotConnected(lsp.node_id())));
    client.shutdown().await;
    lsp.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_ends_when_the_peer_disconnects() {
    // A node without the service drops the request (LDK logs it and sends nothing), so the
    // call waits until the peer goes.
    let client = start_default("client").await;
    let not_an_lsp = start_default("not-an-lsp").await;
    connect(&client, &not_an_lsp).await;
    let lsp_id = not_an_lsp.node_id();

    // `join!` polls the call first, so it is sent and waiting before the disconnect.
    let (result, ()) = within("the call to end", async {
        tokio::join!(client.lsps0_list_protocols(lsp_id), async {
            not_an_lsp.disconnect(client.node_id());
        })
    })
    .await;
    assert_eq!(result, Err(ListProtocolsError::Disconnected(lsp_id)));

    client.shutdown().await;
    not_an_lsp.shutdown().await;
}
