//! The servers under test, started as child processes, and their CPU time and RSS read from
//! `/proc/<pid>/`.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::client::BoxError;

/// One of the three servers of the comparison.
#[derive(Clone, Debug)]
pub struct ServerSpec {
    pub name: &'static str,
    pub program: PathBuf,
    pub args: Vec<String>,
}

/// A running server (or the `redis-server` of the Redis scenario).
pub struct Server {
    child: Child,
    pub pid: u32,
    pub port: u16,
}

impl ServerSpec {
    /// Starts the server on a free port (`--port 0`) and waits for its `listening on` line.
    pub async fn start(&self) -> Result<Server, BoxError> {
        self.start_with(&[]).await
    }

    /// Like [`ServerSpec::start`], with `extra` arguments (every server of the comparison
    /// takes `--adapter redis://HOST:PORT`).
    pub async fn start_with(&self, extra: &[&str]) -> Result<Server, BoxError> {
        let mut child = Command::new(&self.program)
            .args(&self.args)
            .args(extra)
            .args(["--port", "0"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("{}: cannot start {:?}: {e}", self.name, self.program))?;
        let pid = child.id().ok_or("no pid")?;
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
        // Both streams are drained for the server's whole life (a full pipe would block it).
        let out = child.stdout.take().ok_or("no stdout")?;
        let errs = child.stderr.take().ok_or("no stderr")?;
        let tx2 = tx.clone();
        tokio::spawn(async move {
            let mut lines = BufReader::new(out).lines();
            while let Ok(Some(l)) = lines.next_line().await {
                let _ = tx.send(l);
            }
        });
        tokio::spawn(async move {
            let mut lines = BufReader::new(errs).lines();
            while let Ok(Some(l)) = lines.next_line().await {
                let _ = tx2.send(l);
            }
        });
        let name = self.name;
        let port = tokio::time::timeout(Duration::from_secs(30), async {
            while let Some(line) = rx.recv().await {
                if let Some(i) = line.find("listening on") {
                    let rest = &line[i..];
                    let digits: String = rest
                        .rsplit(':')
                        .next()
                        .unwrap_or("")
                        .chars()
                        .take_while(|c| c.is_ascii_digit())
                        .collect();
                    if let Ok(p) = digits.parse::<u16>() {
                        return Ok(p);
                    }
                }
            }
            Err(format!("{name}: exited before listening"))
        })
        .await
        .map_err(|_| format!("{name}: no `listening on` within 30 s"))??;
        // Keep draining after the port line.
        tokio::spawn(async move { while rx.recv().await.is_some() {} });
        Ok(Server { child, pid, port })
    }
}

impl Server {
    /// User + system CPU time of the process so far, in microseconds.
    pub fn cpu_us(&self) -> f64 {
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{}/stat", self.pid)) else {
            return f64::NAN;
        };
        // Fields after the `(comm)`: state is field 3, utime 14, stime 15.
        let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
        let f: Vec<&str> = rest.split_whitespace().collect();
        let ticks: f64 = f
            .get(11)
            .and_then(|s| s.parse::<f64>().ok())
            .unwrap_or(f64::NAN)
            + f.get(12)
                .and_then(|s| s.parse::<f64>().ok())
                .unwrap_or(f64::NAN);
        ticks * 1e6 / clock_ticks()
    }

    /// Resident set size, in KiB.
    pub fn rss_kib(&self) -> f64 {
        let Ok(status) = std::fs::read_to_string(format!("/proc/{}/status", self.pid)) else {
            return f64::NAN;
        };
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(f64::NAN)
    }

    pub async fn stop(mut self) {
        // SIGTERM first (Node exits on it; the Rust servers too), then SIGKILL.
        // SAFETY: kill(2) on our own child's pid.
        unsafe {
            libc::kill(self.pid as libc::pid_t, libc::SIGTERM);
        }
        if tokio::time::timeout(Duration::from_secs(3), self.child.wait())
            .await
            .is_err()
        {
            let _ = self.child.kill().await;
        }
    }
}

/// Starts `redis-server` on a free loopback port, without persistence, and waits (at most
/// 10 s) until it answers `PING`.
pub async fn start_redis() -> Result<Server, BoxError> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let mut child = Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--save", "", "--appendonly", "no"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("cannot start redis-server (apt: redis-server): {e}"))?;
    let pid = child.id().ok_or("no pid")?;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        if redis_ping(port).await {
            return Ok(Server { child, pid, port });
        }
        if let Some(status) = child.try_wait()? {
            return Err(format!("redis-server on port {port} exited: {status}").into());
        }
        if tokio::time::Instant::now() > deadline {
            return Err(format!("redis-server on port {port}: no PONG within 10 s").into());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn redis_ping(port: u16) -> bool {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let attempt = async {
        let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
        s.write_all(b"PING\r\n").await?;
        let mut buf = [0u8; 16];
        let n = s.read(&mut buf).await?;
        Ok::<_, std::io::Error>(buf[..n].starts_with(b"+PONG"))
    };
    matches!(
        tokio::time::timeout(Duration::from_millis(500), attempt).await,
        Ok(Ok(true))
    )
}

fn clock_ticks() -> f64 {
    // SAFETY: sysconf has no preconditions.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 {
        t as f64
    } else {
        100.0
    }
}

/// Raises the soft `RLIMIT_NOFILE` to the hard limit (children inherit it); returns it.
pub fn raise_nofile() -> u64 {
    let mut r = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: plain libc calls on a valid struct.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut r) == 0 {
            r.rlim_cur = r.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &r);
            libc::getrlimit(libc::RLIMIT_NOFILE, &mut r);
        }
    }
    #[allow(clippy::unnecessary_cast)] // rlim_t is not u64 everywhere
    let cur = r.rlim_cur as u64;
    cur
}
