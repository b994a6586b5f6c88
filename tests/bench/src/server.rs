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

/// A running server.
pub struct Server {
    child: Child,
    pub pid: u32,
    pub port: u16,
}

impl ServerSpec {
    /// Starts the server on a free port (`--port 0`) and waits for its `listening on` line.
    pub async fn start(&self) -> Result<Server, BoxError> {
        let mut child = Command::new(&self.program)
            .args(&self.args)
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
