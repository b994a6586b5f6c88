//! `sockeye-demo` as a child process on a free port, for the tests of the binary: started
//! with extra flags, its address read from the line it logs when it listens, killed on drop.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// A running `sockeye-demo`.
pub struct Demo {
    pub child: Child,
    /// `127.0.0.1:PORT`.
    pub addr: String,
    /// Its log lines (stdout), as they come.
    pub lines: mpsc::Receiver<String>,
}

impl Demo {
    /// Starts the binary on a free port with `args`; waits (20 s at most) until it listens.
    pub fn start(args: &[&str]) -> Demo {
        let mut child = Command::new(env!("CARGO_BIN_EXE_sockeye-demo"))
            .args(["--port", "0"])
            .args(args)
            .env("NO_COLOR", "1")
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start sockeye-demo");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let addr = loop {
            let line = lines
                .recv_timeout(Duration::from_secs(20))
                .expect("sockeye-demo logs that it listens");
            if let Some(i) = line.find("listening on http://") {
                break line[i + "listening on http://".len()..].trim().to_owned();
            }
        };
        Demo { child, addr, lines }
    }

    /// `http://127.0.0.1:PORT`.
    #[allow(dead_code)] // not every test file uses it
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
