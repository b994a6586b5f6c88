//! The official `socket.io-client` (npm, under Node) against the server: each test starts a
//! [`TestServer`] and runs one scenario of `tests/node/scenarios.mjs`.

use sockeye_tests::{run_client, TestServer};

async fn scenario(name: &str) {
    let server = TestServer::start().await;
    run_client("node", &["node/scenarios.mjs", &server.url, name]).await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn js_polling_only() {
    scenario("polling_only").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn js_websocket_only() {
    scenario("websocket_only").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn js_upgrade_from_polling() {
    scenario("upgrade").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn js_acks_both_ways_and_catch_all() {
    scenario("acks_both_ways").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn js_binary_both_ways() {
    scenario("binary_both_ways").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn js_binary_over_polling() {
    scenario("binary_polling").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn js_rooms_and_broadcasts_seen_by_three_clients() {
    scenario("rooms_broadcast").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn js_seed_leave_sends_lobby_to_other_client() {
    scenario("seed_leave_lobby").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn js_auth_middleware_accepts_and_rejects() {
    scenario("auth").await;
    scenario("auth_welcome").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn js_namespaces_static_dynamic_and_invalid() {
    scenario("namespaces").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn js_handshake_query_and_headers() {
    scenario("handshake_info").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn js_disconnect_reasons() {
    scenario("disconnects").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn js_fetch_sockets_join_broadcast_acks_and_disconnect_sockets() {
    scenario("server_wide_operations").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn js_reconnects_after_server_restart() {
    restart("restart_ready").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn js_polling_client_gets_close_packet_on_shutdown_and_reconnects() {
    restart("restart_ready_polling").await;
}

/// Runs `scenario`, which prints READY once connected; restarts the server on the same
/// port; the scenario checks the disconnect and the reconnection.
async fn restart(scenario: &str) {
    use std::process::Stdio;
    use tokio::io::{AsyncBufReadExt, BufReader};

    let server = TestServer::start().await;
    let port = server.addr.port();
    let mut child = tokio::process::Command::new("node")
        .args(["node/scenarios.mjs", &server.url, scenario])
        .current_dir(sockeye_tests::tests_dir())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("run node (scripts/setup.sh installs it)");
    let stdout = child.stdout.take().expect("piped stdout");
    let mut lines = BufReader::new(stdout).lines();
    let ready = tokio::time::timeout(std::time::Duration::from_secs(15), async {
        while let Ok(Some(line)) = lines.next_line().await {
            if line == "READY" {
                return true;
            }
        }
        false
    })
    .await;
    assert_eq!(ready, Ok(true), "the client did not connect");
    // Graceful shutdown: every session gets a close packet; then the same port again.
    server.stop().await;
    let server = TestServer::start_on(port).await;
    let status = tokio::time::timeout(std::time::Duration::from_secs(20), child.wait())
        .await
        .expect("the client did not finish")
        .expect("wait for node");
    assert!(status.success(), "the restart scenario failed: {status}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn js_connection_state_recovery_after_dropped_transport() {
    let server = TestServer::start_with(|b| {
        b.connection_state_recovery(std::time::Duration::from_secs(120))
    })
    .await;
    run_client(
        "node",
        &["node/scenarios.mjs", &server.url, "state_recovery"],
    )
    .await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn js_sessions_and_sockets_are_released_after_clients_leave() {
    let server = TestServer::start().await;
    run_client(
        "node",
        &["node/scenarios.mjs", &server.url, "rooms_broadcast"],
    )
    .await;
    run_client("node", &["node/scenarios.mjs", &server.url, "polling_only"]).await;
    let mut released = false;
    for _ in 0..250 {
        let sockets = server
            .io
            .fetch_sockets()
            .await
            .map(|s| s.len())
            .unwrap_or(1);
        if server.io.session_count() == 0 && sockets == 0 {
            released = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(
        released,
        "sessions: {}, sockets left in /",
        server.io.session_count()
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn js_handlers_start_in_event_order() {
    scenario("handlers_start_in_event_order").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn js_except_leave_all_bin_and_try_data() {
    scenario("except_leave_all_and_extractors").await;
}
