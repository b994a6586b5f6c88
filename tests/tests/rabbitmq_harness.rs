//! The RabbitMQ harness itself (`sockeye_tests::rabbitmq`): two brokers start side by side,
//! one restarts on its port, a raw publish arrives byte for byte, and nothing of a dropped
//! broker is left running.

use std::time::{Duration, Instant};

use lapin::options::{BasicGetOptions, QueueBindOptions, QueueDeclareOptions};
use lapin::types::FieldTable;
use lapin::{Connection, ConnectionProperties};
use sockeye_tests::rabbitmq::RabbitServer;

/// Live processes (not zombies) whose `ps` line mentions one of `needles`.
fn processes_mentioning(needles: &[String]) -> Vec<String> {
    let out = std::process::Command::new("ps")
        .args(["-eo", "pid,stat,args"])
        .output()
        .expect("ps runs");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        // A space at the end: `epmd -port 123 ` does not match `epmd -port 1234`.
        .map(|l| format!("{l} "))
        .filter(|l| needles.iter().any(|n| l.contains(n.as_str())) && !l.contains(" Z "))
        .collect()
}

/// Binds a fresh exclusive queue to `exchange`, publishes through `publish_raw`, and
/// returns what the queue got (body, content type).
async fn round_trip(
    rabbit: &RabbitServer,
    exchange: &str,
    body: &[u8],
    ct: Option<&str>,
) -> (Vec<u8>, Option<String>) {
    // Declares the exchange (as python-socketio does) before the queue binds to it.
    rabbit.publish_raw(exchange, b"warm-up", None).await;
    let conn = Connection::connect(&rabbit.url, ConnectionProperties::default())
        .await
        .expect("connect");
    let ch = conn.create_channel().await.expect("channel");
    let q = ch
        .queue_declare(
            "".into(),
            QueueDeclareOptions {
                exclusive: true,
                ..QueueDeclareOptions::default()
            },
            FieldTable::default(),
        )
        .await
        .expect("queue.declare");
    ch.queue_bind(
        q.name().clone(),
        exchange.into(),
        "".into(),
        QueueBindOptions::default(),
        FieldTable::default(),
    )
    .await
    .expect("queue.bind");
    rabbit.publish_raw(exchange, body, ct).await;
    let deadline = Instant::now() + Duration::from_secs(5);
    let got = loop {
        if let Some(m) = ch
            .basic_get(q.name().clone(), BasicGetOptions { no_ack: true })
            .await
            .expect("basic.get")
        {
            break m;
        }
        assert!(Instant::now() < deadline, "nothing arrived on {exchange}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let _ = conn.close(200, "bye".into()).await;
    let ct = got
        .delivery
        .properties
        .content_type()
        .as_ref()
        .map(|s| s.as_str().to_owned());
    (got.delivery.data.clone(), ct)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_brokers_in_parallel_restart_and_raw_publish() {
    let t0 = Instant::now();
    let (a, b) = tokio::task::spawn_blocking(|| {
        let a = std::thread::spawn(RabbitServer::start);
        let b = RabbitServer::start();
        (a.join().expect("broker a starts"), b)
    })
    .await
    .expect("start");
    eprintln!("two brokers started in parallel in {:?}", t0.elapsed());
    assert_ne!(a.port, b.port);
    assert_ne!(a.node, b.node);
    assert!(a.url.ends_with(&format!(":{}/%2f", a.port)), "{}", a.url);
    assert_eq!(
        a.amqp_url_vhost_slashes(),
        format!("amqp://guest:guest@127.0.0.1:{}//", a.port)
    );

    let body = b"\x93\xa5abcde\x01\xc4\x03\x01\x02\xff";
    let got = round_trip(&a, "socketio", body, Some("application/octet-stream")).await;
    assert_eq!(
        got,
        (body.to_vec(), Some("application/octet-stream".to_owned()))
    );
    let got = round_trip(&b, "socketio", b"{}", None).await;
    assert_eq!(got, (b"{}".to_vec(), None));

    // An outage: b goes away (its port refuses), then comes back on the same port.
    let mut b = b;
    let port = b.port;
    b.stop();
    assert!(!b.ping());
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err());
    let t1 = Instant::now();
    let b = tokio::task::spawn_blocking(move || {
        b.restart();
        b
    })
    .await
    .expect("restart");
    eprintln!("restart took {:?}", t1.elapsed());
    assert_eq!(b.port, port);
    let got = round_trip(&b, "other", b"after restart", Some("text/plain")).await;
    assert_eq!(
        got,
        (b"after restart".to_vec(), Some("text/plain".to_owned()))
    );
    assert!(a.ping(), "a is unaffected");

    // Nothing of a dropped broker keeps running (beam and the supervisor mention its
    // directory, epmd its port).
    for server in [a, b] {
        let dir = server.dir().to_string_lossy().into_owned();
        let needles = [dir.clone(), format!("epmd -port {} ", server.epmd_port())];
        let running = processes_mentioning(&needles);
        assert!(running.len() >= 3, "beam, epmd, supervisor: {running:?}");
        drop(server);
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let left = processes_mentioning(&needles);
            if left.is_empty() {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "still running after drop: {left:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        assert!(!std::path::Path::new(&dir).exists(), "{dir} removed");
    }
}
