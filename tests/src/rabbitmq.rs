//! A real `rabbitmq-server` for the AMQP cluster tests: on a free port, in a private
//! directory, started and stopped (and started again on the same port) by the tests.
//!
//! Each instance has its own node name (`sockeye-PORT@localhost`), its own distribution
//! port and its own `epmd` (on a port of its own: nothing is shared between instances, and
//! nothing outlives the test). Everything runs in one process group under a small `sh`
//! supervisor whose standard input is a pipe from the test process: [`RabbitServer::stop`]
//! kills the group at once, and if the test process dies without dropping the server (a
//! SIGKILL, an `exit`), the supervisor reads end-of-file and kills the group itself.
//!
//! As root, the broker runs as user `rabbitmq` (as Debian's package wants it); as another
//! user, as that user. A start takes about 5 s (the broker's boot), hence the AMQP tests
//! share a server per test where they can.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use crate::redis::{free_port, retry_start};

/// How long a (re)start may take before [`RabbitServer::start`] panics.
const START_LIMIT: Duration = Duration::from_secs(30);

/// Debian's entry point (the one in `/usr/sbin` insists on its own paths and `su`s).
const DEBIAN_SERVER: &str = "/usr/lib/rabbitmq/bin/rabbitmq-server";

/// The supervisor: starts epmd (on `$ERL_EPMD_PORT`) and the broker, and kills its whole
/// process group when its standard input closes or when the broker exits (so that a broker
/// that failed to start is seen at once, not after [`START_LIMIT`]).
const SUPERVISOR: &str = r#"
epmd -port "$ERL_EPMD_PORT" >>"$SOCKEYE_RMQ_DIR/epmd.log" 2>&1 &
n=0
until epmd -port "$ERL_EPMD_PORT" -names >/dev/null 2>&1; do
  n=$((n + 1)); [ "$n" -gt 500 ] && break; sleep 0.01
done
"$SOCKEYE_RMQ_SERVER" </dev/null >>"$SOCKEYE_RMQ_DIR/server.log" 2>&1 &
server=$!
# An asynchronous list reads /dev/null unless told otherwise: hand it our stdin as fd 3.
exec 3<&0
{ read _ignored <&3 || true; kill -KILL 0; } &
wait "$server"
echo "sockeye: the broker exited" >>"$SOCKEYE_RMQ_DIR/server.log"
kill -KILL 0
"#;

/// A `rabbitmq-server` on `127.0.0.1` (user `guest`, password `guest`, vhost `/`).
pub struct RabbitServer {
    /// Its AMQP port.
    pub port: u16,
    /// `amqp://guest:guest@127.0.0.1:PORT/%2f` (the vhost `/`, as lapin wants it).
    pub url: String,
    /// Its Erlang node name, `sockeye-PORT@localhost`.
    pub node: String,
    dir: PathBuf,
    /// `rabbitmq`'s uid and gid when we run as root.
    owner: Option<(u32, u32)>,
    child: Option<(Child, ChildStdin)>,
    /// The supervisor's process group (its pid).
    pgid: Option<u32>,
    /// The epmd port of the current run.
    epmd_port: u16,
}

impl RabbitServer {
    /// Starts one on a free port and waits until it answers an AMQP handshake (login as
    /// guest, open vhost `/`). Panics with the end of its log if that takes over 30 s.
    pub fn start() -> RabbitServer {
        static SEQ: AtomicU32 = AtomicU32::new(0);
        let port = free_port();
        let dir = std::env::temp_dir().join(format!(
            "sockeye-rabbitmq-{port}-{}-{}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        ));
        let owner = if running_as_root() {
            Some(user_ids("rabbitmq").unwrap_or_else(|| {
                panic!("no user rabbitmq: install rabbitmq-server (scripts/setup.sh)")
            }))
        } else {
            None
        };
        for sub in ["", "mnesia", "log"] {
            std::fs::create_dir_all(dir.join(sub)).expect("create the RabbitMQ directory");
        }
        // No plugins (a fast start), no configuration file, no rabbitmq-env.conf.
        std::fs::write(dir.join("enabled_plugins"), "").expect("write enabled_plugins");
        std::fs::write(dir.join("rabbitmq-env.conf"), "").expect("write rabbitmq-env.conf");
        let mut server = RabbitServer {
            port,
            url: format!("amqp://guest:guest@127.0.0.1:{port}/%2f"),
            node: format!("sockeye-{port}@localhost"),
            dir,
            owner,
            child: None,
            pgid: None,
            epmd_port: 0,
        };
        server.chown_dir();
        server.restart();
        server
    }

    /// The kombu-style URL `amqp://guest:guest@127.0.0.1:PORT//` (python-socketio's
    /// `KombuManager` and `AsyncAioPikaManager` examples write the vhost `/` so).
    pub fn amqp_url_vhost_slashes(&self) -> String {
        format!("amqp://guest:guest@127.0.0.1:{}//", self.port)
    }

    /// Its private directory (logs in `log/` and `server.log`).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The port of its own `epmd` in the current run: `rabbitmqctl -n NODE` reaches it with
    /// `ERL_EPMD_PORT` set to this (and `HOME` set to [`Self::dir`], for the cookie).
    pub fn epmd_port(&self) -> u16 {
        self.epmd_port
    }

    /// Whether it completes an AMQP handshake now (login, vhost `/` opened, closed again).
    pub fn ping(&self) -> bool {
        amqp_handshake(self.port).is_ok()
    }

    /// Starts it (again) on its port, with the same node name and data directory (as a
    /// restarted broker: non-durable exchanges and queues are gone). Panics with the end of
    /// its log if it does not answer an AMQP handshake within 30 s.
    ///
    /// A broker that exits while starting is started again (three tries) on fresh epmd and
    /// distribution ports: those are picked free but may be taken by another process (an
    /// outgoing connection's ephemeral port) before the broker binds them.
    pub fn restart(&mut self) {
        retry_start(|| self.start_once());
    }

    /// One start: `Err` with the end of its log if it exited or did not answer in time.
    fn start_once(&mut self) -> Result<(), String> {
        self.stop();
        // A fresh epmd port and distribution port per run: no TIME_WAIT on the old ones.
        self.epmd_port = free_port();
        let dist_port = free_port();
        let server = if Path::new(DEBIAN_SERVER).exists() {
            DEBIAN_SERVER
        } else {
            "rabbitmq-server"
        };
        let d = |sub: &str| self.dir.join(sub).to_string_lossy().into_owned();
        let mut cmd = Command::new("sh");
        cmd.arg("-c")
            .arg(SUPERVISOR)
            // $0 and $1: names it in `ps`.
            .arg("sockeye-rabbitmq")
            .arg(&self.dir)
            .current_dir(&self.dir)
            .env_clear()
            .env(
                "PATH",
                "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            )
            .env("LANG", "C.UTF-8")
            .env("HOME", d(""))
            .env("SOCKEYE_RMQ_DIR", d(""))
            .env("SOCKEYE_RMQ_SERVER", server)
            .env("ERL_EPMD_PORT", self.epmd_port.to_string())
            .env("RABBITMQ_NODE_IP_ADDRESS", "127.0.0.1")
            .env("RABBITMQ_NODE_PORT", self.port.to_string())
            .env("RABBITMQ_DIST_PORT", dist_port.to_string())
            .env("RABBITMQ_NODENAME", &self.node)
            .env("RABBITMQ_MNESIA_BASE", d("mnesia"))
            .env("RABBITMQ_LOG_BASE", d("log"))
            .env("RABBITMQ_ENABLED_PLUGINS_FILE", d("enabled_plugins"))
            .env("RABBITMQ_CONF_ENV_FILE", d("rabbitmq-env.conf"))
            // A base name without a file: no configuration.
            .env("RABBITMQ_CONFIG_FILE", d("rabbitmq"))
            .env("RABBITMQ_ADVANCED_CONFIG_FILE", d("advanced.config"))
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        {
            use std::os::unix::process::CommandExt;
            cmd.process_group(0);
            if let Some((uid, gid)) = self.owner {
                cmd.uid(uid).gid(gid);
            }
        }
        let mut child = cmd.spawn().expect("sh runs");
        let stdin = child.stdin.take().expect("the supervisor's stdin");
        self.pgid = Some(child.id());
        self.child = Some((child, stdin));

        let deadline = Instant::now() + START_LIMIT;
        loop {
            if self.ping() {
                return Ok(());
            }
            let exited = self
                .child
                .as_mut()
                .and_then(|(c, _)| c.try_wait().ok().flatten());
            if exited.is_some() || Instant::now() >= deadline {
                let tail = self.log_tail(40);
                self.stop();
                return Err(format!(
                    "rabbitmq-server on port {} did not answer an AMQP handshake within {:?} \
                     (supervisor: {exited:?}); log tail:\n{tail}",
                    self.port, START_LIMIT
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stops it at once (SIGKILL to its whole process group: the connections drop as in
    /// a crash) and waits until its port refuses connections. Does nothing if stopped.
    pub fn stop(&mut self) {
        let Some((mut child, stdin)) = self.child.take() else {
            return;
        };
        if let Some(pgid) = self.pgid.take() {
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{pgid}")])
                .stderr(Stdio::null())
                .status();
        }
        // The supervisor kills its group itself when its stdin closes.
        drop(stdin);
        let _ = child.kill();
        let _ = child.wait();
        let deadline = Instant::now() + Duration::from_secs(5);
        while TcpStream::connect(("127.0.0.1", self.port)).is_ok() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The last `n` lines of its logs (the start-up output, then the node's log).
    pub fn log_tail(&self, n: usize) -> String {
        let mut out = String::new();
        let node_log = self.dir.join("log").join(format!("{}.log", self.node));
        for file in [self.dir.join("server.log"), node_log] {
            let text = std::fs::read_to_string(&file).unwrap_or_default();
            let lines: Vec<&str> = text.lines().collect();
            out.push_str(&format!("==> {} <==\n", file.display()));
            for l in &lines[lines.len().saturating_sub(n)..] {
                out.push_str(l);
                out.push('\n');
            }
        }
        out
    }

    /// Publishes `body` to the fanout `exchange` with routing key `""`, declaring the
    /// exchange first as python-socketio does (fanout, not durable, not auto-delete, no
    /// arguments), with `content_type` if given and no other property; waits for the
    /// broker's publisher confirm. For malformed-message tests.
    pub async fn publish_raw(&self, exchange: &str, body: &[u8], content_type: Option<&str>) {
        let mut props = lapin::BasicProperties::default();
        if let Some(ct) = content_type {
            props = props.with_content_type(ct.into());
        }
        self.publish(exchange, body, props).await;
    }

    /// Declares the fanout `exchange` as python-socketio does (fanout, not durable, not
    /// auto-delete, no arguments), publishes `body` with `props` and routing key `""`, and
    /// waits for the broker's publisher confirm.
    async fn publish(&self, exchange: &str, body: &[u8], props: lapin::BasicProperties) {
        use lapin::options::{BasicPublishOptions, ConfirmSelectOptions, ExchangeDeclareOptions};
        use lapin::types::FieldTable;
        use lapin::{Connection, ConnectionProperties, ExchangeKind};

        let conn = Connection::connect(&self.url, ConnectionProperties::default())
            .await
            .unwrap_or_else(|e| panic!("connect to {}: {e}", self.url));
        let ch = conn.create_channel().await.expect("a channel");
        let options = ExchangeDeclareOptions {
            durable: false,
            auto_delete: false,
            ..ExchangeDeclareOptions::default()
        };
        ch.exchange_declare(
            exchange.into(),
            ExchangeKind::Fanout,
            options,
            FieldTable::default(),
        )
        .await
        .unwrap_or_else(|e| panic!("declare exchange {exchange}: {e}"));
        ch.confirm_select(ConfirmSelectOptions::default())
            .await
            .expect("confirm.select");
        let confirm = ch
            .basic_publish(
                exchange.into(),
                "".into(),
                BasicPublishOptions::default(),
                body,
                props,
            )
            .await
            .expect("basic.publish")
            .await
            .expect("the publisher confirm");
        assert!(confirm.is_ack(), "publish to {exchange}: {confirm:?}");
        let _ = conn.close(200, "bye".into()).await;
    }

    fn chown_dir(&self) {
        let Some((uid, gid)) = self.owner else { return };
        fn walk(p: &Path, uid: u32, gid: u32) {
            std::os::unix::fs::chown(p, Some(uid), Some(gid))
                .unwrap_or_else(|e| panic!("chown {}: {e}", p.display()));
            if p.is_dir() {
                for e in std::fs::read_dir(p).into_iter().flatten().flatten() {
                    walk(&e.path(), uid, gid);
                }
            }
        }
        walk(&self.dir, uid, gid);
    }
}

impl Drop for RabbitServer {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.trim_ascii() == b"0")
}

/// `(uid, gid)` of `user`, from `id`.
fn user_ids(user: &str) -> Option<(u32, u32)> {
    let id = |flag: &str| -> Option<u32> {
        let out = Command::new("id").args([flag, user]).output().ok()?;
        if !out.status.success() {
            return None;
        }
        std::str::from_utf8(&out.stdout).ok()?.trim().parse().ok()
    };
    Some((id("-u")?, id("-g")?))
}

/// An AMQP 0-9-1 handshake by hand: protocol header, `Start-Ok` (PLAIN guest/guest),
/// `Tune-Ok`, `Open` of vhost `/`, then `Close`. `Ok` once `Open-Ok` arrived.
fn amqp_handshake(port: u16) -> Result<(), String> {
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let mut s =
        TcpStream::connect_timeout(&addr, Duration::from_millis(500)).map_err(|e| e.to_string())?;
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    let _ = s.set_nodelay(true);
    let e = |e: std::io::Error| e.to_string();
    s.write_all(b"AMQP\x00\x00\x09\x01").map_err(e)?;
    expect_method(&mut s, 10, 10)?; // connection.start

    let mut start_ok = method_args(10, 11);
    start_ok.extend_from_slice(&0u32.to_be_bytes()); // client-properties: {}
    push_shortstr(&mut start_ok, "PLAIN");
    let response = b"\0guest\0guest";
    start_ok.extend_from_slice(&(response.len() as u32).to_be_bytes());
    start_ok.extend_from_slice(response);
    push_shortstr(&mut start_ok, "en_US");
    send_method(&mut s, &start_ok).map_err(e)?;

    let tune = expect_method(&mut s, 10, 30)?; // connection.tune
    let mut tune_ok = method_args(10, 31);
    tune_ok.extend_from_slice(tune.get(4..10).ok_or("short connection.tune")?); // channel-max, frame-max
    tune_ok.extend_from_slice(&0u16.to_be_bytes()); // no heartbeat
    send_method(&mut s, &tune_ok).map_err(e)?;

    let mut open = method_args(10, 40);
    push_shortstr(&mut open, "/");
    push_shortstr(&mut open, "");
    open.push(0);
    send_method(&mut s, &open).map_err(e)?;
    expect_method(&mut s, 10, 41)?; // connection.open-ok

    let mut close = method_args(10, 50);
    close.extend_from_slice(&200u16.to_be_bytes());
    push_shortstr(&mut close, "");
    close.extend_from_slice(&[0, 0, 0, 0]);
    let _ = send_method(&mut s, &close);
    let _ = expect_method(&mut s, 10, 51);
    Ok(())
}

fn method_args(class: u16, method: u16) -> Vec<u8> {
    let mut v = class.to_be_bytes().to_vec();
    v.extend_from_slice(&method.to_be_bytes());
    v
}

fn push_shortstr(v: &mut Vec<u8>, s: &str) {
    v.push(s.len() as u8);
    v.extend_from_slice(s.as_bytes());
}

fn send_method(s: &mut TcpStream, payload: &[u8]) -> std::io::Result<()> {
    let mut frame = vec![1u8, 0, 0];
    frame.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    frame.extend_from_slice(payload);
    frame.push(0xCE);
    s.write_all(&frame)
}

/// Reads one frame on channel 0; `Ok(payload)` if it is the method `class.method`.
fn expect_method(s: &mut TcpStream, class: u16, method: u16) -> Result<Vec<u8>, String> {
    let mut head = [0u8; 7];
    s.read_exact(&mut head).map_err(|e| e.to_string())?;
    if head.starts_with(b"AMQP") {
        return Err("the broker refused the protocol version".to_owned());
    }
    let size = u32::from_be_bytes([head[3], head[4], head[5], head[6]]) as usize;
    if size > 1 << 20 {
        return Err(format!("frame of {size} bytes"));
    }
    let mut payload = vec![0u8; size + 1];
    s.read_exact(&mut payload).map_err(|e| e.to_string())?;
    payload.truncate(size);
    let got = (
        u16::from_be_bytes([
            payload.first().copied().unwrap_or(0),
            payload.get(1).copied().unwrap_or(0),
        ]),
        u16::from_be_bytes([
            payload.get(2).copied().unwrap_or(0),
            payload.get(3).copied().unwrap_or(0),
        ]),
    );
    if head[0] != 1 || got != (class, method) {
        return Err(format!(
            "expected method {class}.{method}, got frame type {} method {got:?}",
            head[0]
        ));
    }
    Ok(payload)
}

impl RabbitServer {
    /// Publishes `body` to the fanout `exchange` with string `headers` (as Sockeye's own
    /// messages carry them: `sockeye`, `from`, `nsp`, `room`), undecodable-by-python
    /// properties, and waits for the confirm. For malformed-message tests.
    pub async fn publish_raw_with_headers(
        &self,
        exchange: &str,
        body: &[u8],
        headers: &[(&str, &str)],
    ) {
        use lapin::types::{AMQPValue, FieldTable, LongString};

        let mut table = FieldTable::default();
        for (k, v) in headers {
            table.insert(
                (*k).into(),
                AMQPValue::LongString(LongString::from(v.as_bytes().to_vec())),
            );
        }
        let props = lapin::BasicProperties::default()
            .with_content_type("application/octet-stream".into())
            .with_content_encoding("binary".into())
            .with_headers(table);
        self.publish(exchange, body, props).await;
    }
}
