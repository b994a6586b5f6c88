//! Raw Engine.IO requests (Node's fetch, `tests/node/engine.mjs`) against the server: the
//! reference server's HTTP errors, and bad input that closes one session and no other.

use std::time::Duration;

use sockeye_tests::{run_client, TestServer};

async fn scenario(server: &TestServer, name: &str) {
    run_client("node", &["node/engine.mjs", &server.url, name]).await;
}

async fn with_server(name: &str) {
    let server = TestServer::start().await;
    scenario(&server, name).await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn engine_http_errors_match_node() {
    with_server("http_errors").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn engine_allow_request_refusal_is_403_forbidden() {
    let server = TestServer::start_with(|b| {
        b.allow_request(|parts| {
            if parts.headers.contains_key("x-allowed") {
                Ok(())
            } else {
                Err("missing x-allowed".to_owned())
            }
        })
    })
    .await;
    scenario(&server, "forbidden").await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn engine_overlapping_poll_closes_only_that_session() {
    with_server("overlapping_poll_closes_session").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn engine_malformed_packets_close_only_that_session() {
    with_server("malformed_packet_closes_session").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn engine_oversized_payload_closes_only_that_session() {
    with_server("oversized_payload_closes_session").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn engine_too_many_attachments_close_only_that_session() {
    with_server("too_many_attachments_closes_session").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn engine_binary_over_polling_is_base64() {
    with_server("binary_over_polling_is_base64").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn engine_heartbeat_and_ping_timeout() {
    let server = TestServer::start_with(|b| {
        b.ping_interval(Duration::from_millis(300))
            .ping_timeout(Duration::from_millis(3000))
    })
    .await;
    scenario(&server, "heartbeat").await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn engine_client_that_does_not_read_is_disconnected() {
    let server = TestServer::start_with(|b| b.max_buffer_size(10)).await;
    scenario(&server, "slow_reader_is_disconnected").await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn engine_client_flooding_slow_handlers_is_disconnected() {
    with_server("flooding_slow_handlers_is_disconnected").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn engine_cors_preflight_and_headers() {
    with_server("cors").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn engine_volatile_packets_are_dropped_for_a_busy_client() {
    let server = TestServer::start_with(|b| b.max_buffer_size(10)).await;
    scenario(&server, "volatile_is_dropped_not_disconnected").await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn engine_connect_timeout_closes_idle_session() {
    let server = TestServer::start_with(|b| b.connect_timeout(Duration::from_millis(300))).await;
    scenario(&server, "connect_timeout").await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn engine_websocket_only_text_and_binary() {
    with_server("ws_only_text_and_binary").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn engine_websocket_upgrade_probe_and_refusals() {
    with_server("ws_upgrade_from_polling").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn engine_websocket_bad_input_closes_only_that_session() {
    let server = TestServer::start_with(|b| b.max_payload(1000)).await;
    scenario(&server, "ws_bad_input_closes_only_that_session").await;
    server.stop().await;
}
