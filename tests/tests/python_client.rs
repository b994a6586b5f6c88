//! The official python-socketio `AsyncClient` against the server: each test starts a
//! [`TestServer`] and runs one scenario of `tests/python/scenarios.py`.

use sockeye_tests::{run_client, TestServer};

async fn scenario(name: &str) {
    let server = TestServer::start().await;
    run_client("python3", &["python/scenarios.py", &server.url, name]).await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn py_events_and_acks_over_polling() {
    scenario("polling").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn py_events_and_acks_over_websocket() {
    scenario("websocket").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn py_rooms_and_broadcasts() {
    scenario("rooms").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn py_server_to_client_ack_and_auth() {
    scenario("server_ack_and_auth").await;
}
