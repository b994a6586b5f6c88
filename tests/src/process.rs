//! Child processes of the tests: the `sockeye-demo` binary, servers with a log file, temp
//! directories.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::process::{Child, Command};

use crate::redis::free_port;
use crate::tests_dir;

/// A child process, stopped with SIGTERM so that nginx's master takes its workers along.
pub struct Process {
    child: Child,
    log: PathBuf,
}

impl Process {
    /// Starts `cmd` with its output to `log`.
    pub fn spawn(cmd: &mut Command, log: PathBuf) -> Process {
        let file = std::fs::File::create(&log).expect("a log file");
        let child = cmd
            .stdin(Stdio::null())
            .stdout(file.try_clone().expect("log file"))
            .stderr(file)
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
        Process { child, log }
    }

    /// What it wrote so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits (at most 30 s) until the log contains `text` or the port accepts connections.
    pub async fn wait_ready(&mut self, what: &str, port: u16, text: Option<&str>) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let ready = match text {
                Some(t) => self.log().contains(t),
                None => tokio::net::TcpStream::connect(("127.0.0.1", port))
                    .await
                    .is_ok(),
            };
            if ready {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("{what} exited ({status}):\n{}", self.log());
            }
            assert!(
                Instant::now() < deadline,
                "{what} not ready in 30 s:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Stops it (see [`Drop`]).
    pub fn stop(self) {}
}

impl Drop for Process {
    /// SIGTERM, up to 10 s to exit (nginx's master stops its workers), then SIGKILL (on
    /// drop of the child). Also when a test panics.
    fn drop(&mut self) {
        let Some(pid) = self.child.id() else { return };
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// A directory under the system's temp dir, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    /// A new one, named after `what`.
    pub fn new(what: &str) -> TempDir {
        let name = format!("sockeye-{what}-{}-{}", std::process::id(), free_port());
        let dir = std::env::temp_dir().join(name);
        std::fs::create_dir_all(&dir).expect("a temp dir");
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The `sockeye-demo` binary: `SOCKEYE_DEMO`, else built now (debug, next to this test).
pub async fn demo_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("SOCKEYE_DEMO") {
        return PathBuf::from(path);
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let status = Command::new(cargo)
        .args(["build", "-q", "-p", "sockeye", "--bin", "sockeye-demo"])
        .current_dir(tests_dir().join(".."))
        .status()
        .await
        .expect("cargo runs");
    assert!(status.success(), "cargo build sockeye-demo: {status}");
    // target/debug/deps/<test>-… → target/debug/sockeye-demo
    let exe = std::env::current_exe().expect("the test's path");
    exe.parent()
        .and_then(Path::parent)
        .expect("target/debug")
        .join("sockeye-demo")
}
