//! A real `redis-server` for the cluster tests: on a free port, no persistence, started and
//! stopped (and started again on the same port) by the tests.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A `redis-server` child process on `127.0.0.1`.
pub struct RedisServer {
    /// Its port.
    pub port: u16,
    /// `redis://127.0.0.1:PORT`.
    pub url: String,
    child: Option<Child>,
}

/// A port nobody listens on (the OS's choice; free when this returns).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Runs `start` until it succeeds, three tries at most, and panics with the last error. For
/// servers on ports [`free_port`] picked: free then, a port may be taken by another process
/// before the server binds it.
pub fn retry_start<T>(mut start: impl FnMut() -> Result<T, String>) -> T {
    const TRIES: usize = 3;
    for attempt in 1..TRIES {
        match start() {
            Ok(started) => return started,
            Err(why) => eprintln!("try {attempt} of {TRIES}: {why}; starting again"),
        }
    }
    start().unwrap_or_else(|why| panic!("{why}"))
}

impl RedisServer {
    /// Starts one on a free port and waits until it answers `PING`. A server that exits
    /// at once (its port, free when picked, taken since by another process) is started
    /// again on another port, three tries.
    pub fn start() -> RedisServer {
        retry_start(|| {
            let port = free_port();
            let mut server = RedisServer {
                port,
                url: format!("redis://127.0.0.1:{port}"),
                child: None,
            };
            server.start_once().map(|()| server)
        })
    }

    /// Whether it answers `PING` now.
    pub fn ping(&self) -> bool {
        let Ok(mut s) = TcpStream::connect(("127.0.0.1", self.port)) else {
            return false;
        };
        let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
        let mut buf = [0u8; 16];
        s.write_all(b"PING\r\n").is_ok()
            && s.read(&mut buf)
                .is_ok_and(|n| buf[..n].starts_with(b"+PONG"))
    }

    /// Runs one command (binary-safe arguments) on a new connection; `Err` if Redis is not
    /// reachable or answers with an error.
    pub fn command(&self, args: &[&[u8]]) -> Result<Reply, String> {
        let s = TcpStream::connect(("127.0.0.1", self.port)).map_err(|e| e.to_string())?;
        let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
        let mut out = format!("*{}\r\n", args.len()).into_bytes();
        for a in args {
            out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
            out.extend_from_slice(a);
            out.extend_from_slice(b"\r\n");
        }
        (&s).write_all(&out).map_err(|e| e.to_string())?;
        match read_reply(&mut BufReader::new(&s))? {
            Reply::Error(e) => Err(e),
            r => Ok(r),
        }
    }

    /// `PUBLISH channel payload`: how many subscribers got it.
    pub fn publish(&self, channel: &str, payload: &[u8]) -> i64 {
        match self.command(&[b"PUBLISH", channel.as_bytes(), payload]) {
            Ok(Reply::Int(n)) => n,
            other => panic!("PUBLISH {channel}: {other:?}"),
        }
    }

    /// `PUBSUB NUMSUB channel`: how many connections subscribe to it.
    pub fn numsub(&self, channel: &str) -> i64 {
        match self.command(&[b"PUBSUB", b"NUMSUB", channel.as_bytes()]) {
            Ok(Reply::Array(items)) => match items.get(1) {
                Some(Reply::Int(n)) => *n,
                _ => 0,
            },
            other => panic!("PUBSUB NUMSUB {channel}: {other:?}"),
        }
    }

    /// Waits (at most 10 s) until `channel` has at least `n` subscribers.
    pub async fn wait_subscribers(&self, channel: &str, n: i64) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let got = self.numsub(channel);
            if got >= n {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{channel}: {got} subscribers after 10 s, want {n}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Starts it (again) on its port. Panics if it does not answer within 10 s.
    pub fn restart(&mut self) {
        if let Err(why) = self.start_once() {
            panic!("{why}");
        }
    }

    /// One start on its port: `Err` if it exits or does not answer within 10 s. Only our
    /// own child's answer counts (another process may hold the port).
    fn start_once(&mut self) -> Result<(), String> {
        self.stop();
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string()])
            .args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("redis-server (apt: redis-server) runs");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let exited = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten());
            if let Some(status) = exited {
                self.child = None;
                return Err(format!(
                    "redis-server on port {} exited ({status})",
                    self.port
                ));
            }
            if self.ping() {
                return Ok(());
            }
            if Instant::now() >= deadline {
                self.stop();
                return Err(format!("redis-server on port {} did not start", self.port));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Stops it (SIGKILL: the connections drop as in a crash).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A RESP reply.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// `+OK`.
    Simple(String),
    /// `-ERR ...`.
    Error(String),
    /// `:n`.
    Int(i64),
    /// `$n` (None: the null bulk string).
    Bulk(Option<Vec<u8>>),
    /// `*n` (an empty list for the null array).
    Array(Vec<Reply>),
}

fn read_reply(r: &mut impl BufRead) -> Result<Reply, String> {
    let mut line = Vec::new();
    r.read_until(b'\n', &mut line).map_err(|e| e.to_string())?;
    if line.len() < 3 {
        return Err("connection closed".to_owned());
    }
    let text = String::from_utf8_lossy(&line[1..line.len() - 2]).into_owned();
    let num = || text.parse::<i64>().map_err(|e| format!("{text}: {e}"));
    Ok(match line[0] {
        b'+' => Reply::Simple(text),
        b'-' => Reply::Error(text),
        b':' => Reply::Int(num()?),
        b'$' => match usize::try_from(num()?) {
            Ok(n) => {
                let mut buf = vec![0u8; n + 2];
                r.read_exact(&mut buf).map_err(|e| e.to_string())?;
                buf.truncate(n);
                Reply::Bulk(Some(buf))
            }
            Err(_) => Reply::Bulk(None),
        },
        b'*' => {
            let n = usize::try_from(num()?).unwrap_or(0);
            let mut items = Vec::with_capacity(n);
            for _ in 0..n {
                items.push(read_reply(r)?);
            }
            Reply::Array(items)
        }
        other => return Err(format!("unexpected reply type {:?}", other as char)),
    })
}
