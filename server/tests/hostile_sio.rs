//! Hostile clients against the Socket.IO layer (in process, paused clock; see
//! `support/mod.rs`): every cap a client can run into, odd orderings that must not leak, and
//! events whose ack no handler can answer.

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};
use sockeye::adapter::{Adapter, AdapterFactory, LocalAdapter};
use sockeye::{AckSender, Data, NamespaceRef, SocketIo, SocketIoBuilder, SocketRef};
use sockeye_core::engine::Transport;
use sockeye_core::socket::client::{ConnectError as ClientConnectError, Event};
use support::{config, Server, TestClient};
use tokio::time::Instant;

async fn until(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Every adapter the server made, by namespace, to look at their rooms.
#[derive(Clone, Default)]
struct Spy(Arc<Mutex<Vec<Made>>>);

/// An adapter and the namespace it was made for.
type Made = (NamespaceRef, Arc<LocalAdapter>);

impl AdapterFactory for Spy {
    fn create(&self, ns: NamespaceRef) -> Arc<dyn Adapter> {
        let adapter = Arc::new(LocalAdapter::new(ns.clone()));
        self.0.lock().unwrap().push((ns, adapter.clone()));
        adapter
    }
}

impl Spy {
    /// Rooms of every adapter made for `nsp` (a namespace no longer there counts too, by
    /// its adapter, so a removed one is still checked).
    fn rooms(&self, nsp: &str) -> Vec<String> {
        let all = self.0.lock().unwrap();
        assert!(!all.is_empty());
        all.iter()
            .filter(|(n, _)| n.name() == nsp)
            .flat_map(|(_, a)| a.all_rooms())
            .collect()
    }

    /// How many adapters were made for `nsp` and are still alive.
    fn made_for(&self, nsp: &str) -> usize {
        let all = self.0.lock().unwrap();
        all.iter().filter(|(n, _)| n.name() == nsp).count()
    }
}

/// `/` with `echo` (acks its arguments back) and `join` (acks `{"ok": true}` or
/// `{"err": ...}`).
fn server(builder: SocketIoBuilder) -> (Server, SocketIo) {
    let (server, io) = Server::start(builder);
    io.ns("/", |socket: SocketRef| async move {
        register_echo(&socket);
        socket.on(
            "join",
            |socket: SocketRef, Data(room): Data<String>, ack: AckSender| async move {
                match socket.join(room).await {
                    Ok(()) => ack.send(&json!({ "ok": true })),
                    Err(e) => ack.send(&json!({ "err": e.to_string() })),
                }
                .ok();
            },
        );
    });
    (server, io)
}

fn register_echo(socket: &SocketRef) {
    socket.on("echo", |Data(v): Data<Value>, ack: AckSender| async move {
        ack.send(&v).ok();
    });
}

async fn echo(client: &mut TestClient, nsp: &str, text: &str) {
    let data = json!(["echo", text]).to_string();
    let id = client.emit_with_ack(nsp, &data, vec![], None).await;
    assert_eq!(client.wait_ack(id).await.0, json!([text]));
}

async fn ack_of(client: &mut TestClient, nsp: &str, data: Value) -> Value {
    let id = client
        .emit_with_ack(nsp, &data.to_string(), vec![], None)
        .await;
    client.wait_ack(id).await.0
}

fn ws() -> sockeye_core::socket::client::Config {
    config(&[Transport::WebSocket])
}

async fn connect_error(client: &mut TestClient, nsp: &str) -> Value {
    let nsp = nsp.to_owned();
    let e = client
        .wait_for(
            "connect error",
            |e| matches!(e, Event::ConnectError { nsp: n, .. } if *n == *nsp),
        )
        .await;
    let Event::ConnectError {
        error: ClientConnectError::Server(data),
        ..
    } = e
    else {
        panic!("{e:?}");
    };
    serde_json::from_str(&data).unwrap()
}

#[tokio::test(start_paused = true)]
async fn join_past_the_room_cap_fails_with_an_error_the_handler_sees() {
    let (server, _io) = server(SocketIo::builder().max_rooms_per_socket(3));
    let mut client = TestClient::new(&server, ws());
    client.connected("/", None).await;
    for room in ["a", "b", "c", "a"] {
        let ack = ack_of(&mut client, "/", json!(["join", room])).await;
        assert_eq!(ack, json!([{ "ok": true }]), "{room}");
    }
    let ack = ack_of(&mut client, "/", json!(["join", "d"])).await;
    assert_eq!(
        ack,
        json!([{ "err": "too many rooms (at most 3 per socket)" }])
    );
    // Still usable.
    echo(&mut client, "/", "still here").await;
}

#[tokio::test(start_paused = true)]
async fn dynamic_namespaces_are_capped_and_removed_once_empty() {
    let (server, io) = server(SocketIo::builder().max_dynamic_namespaces(3));
    io.dyn_ns(
        |n: &str| n.starts_with("/dyn-"),
        |socket: SocketRef| async move { register_echo(&socket) },
    );
    let mut honest = TestClient::new(&server, ws());
    honest.connected("/", None).await;
    assert_eq!(io.namespace_count(), 1);

    let mut flood = TestClient::new(&server, ws());
    for i in 0..3 {
        flood.connected(&format!("/dyn-{i}"), None).await;
    }
    assert_eq!(io.namespace_count(), 4);
    flood.connect("/dyn-3", None).await;
    assert_eq!(
        connect_error(&mut flood, "/dyn-3").await,
        json!({ "message": "Invalid namespace" })
    );
    assert_eq!(io.namespace_count(), 4);
    // The honest client is served meanwhile, and so are the flooder's accepted namespaces.
    echo(&mut honest, "/", "hi").await;
    echo(&mut flood, "/dyn-0", "hi").await;

    // Leaving one frees its place.
    flood.with(|c, _| c.disconnect("/dyn-0")).await;
    until("/dyn-0 to go", || io.namespace_count() == 3).await;
    flood.connected("/dyn-3", None).await;
    echo(&mut flood, "/dyn-3", "in").await;

    // The flooder goes: every dynamic namespace with it.
    drop(flood);
    until("the dynamic namespaces to go", || io.namespace_count() == 1).await;
    echo(&mut honest, "/", "still").await;
}

#[tokio::test(start_paused = true)]
async fn recovery_store_over_its_packet_cap_drops_the_oldest() {
    let builder = SocketIo::builder()
        .connection_state_recovery(Duration::from_secs(60))
        .recovery_limits(3, 1 << 20, 100);
    let (server, io) = Server::start(builder);
    io.ns("/", |socket: SocketRef| async move {
        socket.emit("hello", &1).ok();
    });

    // Within the cap: recovered.
    let mut client = TestClient::new(&server, ws());
    let (sid, _) = client.connected("/", None).await;
    client.wait_event("/", "hello").await;
    client.set_offline(true);
    client.drop_transport();
    until("the session to go", || io.session_count() == 0).await;
    io.emit("news", "a").await.unwrap();
    client.set_offline(false);
    let (sid2, recovered) = reconnected(&mut client).await;
    assert!(recovered && sid2 == sid);
    client.wait_event("/", "news").await;

    // Past it: the client's offset was dropped, so it comes back as a new socket.
    client.set_offline(true);
    client.drop_transport();
    until("the session to go", || io.session_count() == 0).await;
    for i in 0..5 {
        io.emit("news", &i).await.unwrap();
    }
    client.set_offline(false);
    let (sid3, recovered) = reconnected(&mut client).await;
    assert!(!recovered, "seen: {:#?}", client.seen);
    assert_ne!(sid3, sid);
}

async fn reconnected(client: &mut TestClient) -> (String, bool) {
    match client
        .wait_for("reconnect", |e| matches!(e, Event::Connect { .. }))
        .await
    {
        Event::Connect { sid, recovered, .. } => (sid.to_string(), recovered),
        _ => unreachable!(),
    }
}

#[tokio::test(start_paused = true)]
async fn too_many_connects_in_flight_close_the_session_and_leak_nothing() {
    let spy = Spy::default();
    let (server, io) = server(
        SocketIo::builder()
            .max_pending_connects(4)
            .adapter(spy.clone()),
    );
    io.dyn_ns(
        |n: &str| n.starts_with("/slow-"),
        |socket: SocketRef| async move { register_echo(&socket) },
    )
    .with(|| async {
        tokio::time::sleep(Duration::from_secs(20)).await;
        Ok(())
    });
    let mut honest = TestClient::new(&server, ws());
    honest.connected("/", None).await;

    let mut flood = TestClient::new(&server, ws());
    flood.set_offline(true);
    for i in 0..10 {
        flood.connect(&format!("/slow-{i}"), None).await;
    }
    flood
        .wait_for("close", |e| matches!(e, Event::Close(_)))
        .await;
    until("the flooder's session to go", || io.session_count() == 1).await;
    // The honest client is served while the middlewares still run.
    echo(&mut honest, "/", "hi").await;

    // Once they finish, nothing of the flooder stays: no socket, no room, no namespace.
    tokio::time::sleep(Duration::from_secs(25)).await;
    until("the dynamic namespaces to go", || io.namespace_count() == 1).await;
    for i in 0..10 {
        assert!(spy.rooms(&format!("/slow-{i}")).is_empty());
    }
    echo(&mut honest, "/", "still").await;
}

#[tokio::test(start_paused = true)]
async fn a_session_closing_while_its_connect_is_in_flight_leaves_no_trace() {
    let spy = Spy::default();
    let (server, io) = server(SocketIo::builder().adapter(spy.clone()));
    io.ns("/guarded", |socket: SocketRef| async move {
        socket.join("members").await.ok();
    })
    .with(|| async {
        tokio::time::sleep(Duration::from_secs(5)).await;
        Ok(())
    });
    let mut client = TestClient::new(&server, ws());
    client.connected("/", None).await;
    client.connect("/guarded", None).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(spy.made_for("/guarded"), 1);
    client.set_offline(true);
    client.drop_transport();
    until("the session to go", || io.session_count() == 0).await;
    // The middleware finishes after the session is gone.
    tokio::time::sleep(Duration::from_secs(10)).await;
    assert_eq!(spy.rooms("/guarded"), Vec::<String>::new());
    assert!(io.of("/guarded").fetch_sockets().await.unwrap().is_empty());
    assert_eq!(spy.rooms("/"), Vec::<String>::new());
}

#[tokio::test(start_paused = true)]
async fn a_panicking_handler_is_isolated() {
    let (server, io) = Server::start(SocketIo::builder());
    io.ns("/", |socket: SocketRef| async move {
        register_echo(&socket);
        socket.on("boom", |_: SocketRef| async move {
            panic!("boom at once");
        });
        socket.on("boom_later", |_: SocketRef| async move {
            tokio::time::sleep(Duration::from_millis(10)).await;
            panic!("boom later");
        });
    });
    let mut client = TestClient::new(&server, ws());
    client.connected("/", None).await;
    // Panics in the handler's first poll and after a suspension point: the client waiting
    // for an ack hears of it, and the next events are still handled.
    for event in ["boom", "boom_later", "boom"] {
        let ack = ack_of(&mut client, "/", json!([event])).await;
        assert_eq!(ack, json!([{ "error": "handler failed" }]), "{event}");
        echo(&mut client, "/", event).await;
    }
    client.emit("/", r#"["boom"]"#, vec![]).await;
    echo(&mut client, "/", "after").await;
    assert!(client.is_connected("/").await);
}

/// An event name whose conversion panics: `socket.on` runs it, and it used to do so with the
/// handler map's lock held, poisoning it (every later `on` was then dropped silently).
struct PanickyName;

impl From<PanickyName> for std::borrow::Cow<'static, str> {
    fn from(_: PanickyName) -> Self {
        panic!("no name")
    }
}

#[tokio::test(start_paused = true)]
async fn a_panic_inside_a_registration_does_not_disable_the_socket() {
    let (server, io) = Server::start(SocketIo::builder());
    io.ns("/", |socket: SocketRef| async move {
        let s = socket.clone();
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
            s.on(PanickyName, |_: SocketRef| async move {});
        }));
        assert!(r.is_err());
        register_echo(&socket);
    });
    let mut client = TestClient::new(&server, ws());
    client.connected("/", None).await;
    echo(&mut client, "/", "works").await;
}

#[tokio::test(start_paused = true)]
async fn acks_no_handler_can_answer_get_an_error() {
    let (server, io) = Server::start(SocketIo::builder());
    io.ns("/", |socket: SocketRef| async move {
        socket.on("double", |Data(n): Data<u32>, ack: AckSender| async move {
            ack.send(&(n * 2)).ok();
        });
    });
    let mut client = TestClient::new(&server, ws());
    client.connected("/", None).await;
    assert_eq!(
        ack_of(&mut client, "/", json!(["double", 21])).await,
        json!([42])
    );
    assert_eq!(
        ack_of(&mut client, "/", json!(["double", "x"])).await,
        json!([{ "error": "invalid arguments" }])
    );
    assert_eq!(
        ack_of(&mut client, "/", json!(["nope", 1])).await,
        json!([{ "error": "unknown event" }])
    );
    // Without an ack id nothing is sent back, and the socket goes on.
    client.emit("/", r#"["double","x"]"#, vec![]).await;
    assert_eq!(
        ack_of(&mut client, "/", json!(["double", 1])).await,
        json!([2])
    );
}

/// A `dyn_ns` predicate that panics refuses that name (the client gets `Invalid
/// namespace`); the session and its other namespaces go on.
#[tokio::test(start_paused = true)]
async fn a_panicking_dyn_ns_predicate_refuses_the_name_and_the_session_goes_on() {
    let (server, io) = server(SocketIo::builder());
    io.dyn_ns(
        |n: &str| {
            assert!(n != "/boom", "predicate bug");
            n.starts_with("/dyn-")
        },
        |socket: SocketRef| async move { register_echo(&socket) },
    );
    let mut client = TestClient::new(&server, ws());
    client.connected("/", None).await;
    client.connect("/boom", None).await;
    assert_eq!(
        connect_error(&mut client, "/boom").await,
        json!({ "message": "Invalid namespace" })
    );
    echo(&mut client, "/", "still here").await;
    client.connected("/dyn-1", None).await;
    echo(&mut client, "/dyn-1", "and here").await;
}
