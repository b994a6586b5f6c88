//! The `sockeye-demo` binary itself: it listens on the port it is given (0: a free one),
//! speaks the demo contract to the official socket.io-client (`tests/node/scenarios.mjs`,
//! installed by scripts/setup.sh), and exits cleanly on SIGTERM.

mod demo_process;

use demo_process::Demo;

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

fn node_scenario(url: &str, scenario: &str) {
    let tests = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests");
    let out = Command::new("node")
        .args(["node/scenarios.mjs", url, scenario])
        .current_dir(tests)
        .output()
        .expect("run node (scripts/setup.sh installs it)");
    assert!(
        out.status.success(),
        "{scenario} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn demo_binary_speaks_the_contract_and_stops_on_sigterm() {
    let mut demo = Demo::start(&[]);
    assert!(
        demo.url().starts_with("http://127.0.0.1:"),
        "{}",
        demo.url()
    );
    node_scenario(&demo.url(), "seed_leave_lobby");
    node_scenario(&demo.url(), "rooms_broadcast");

    let status = Command::new("kill")
        .args(["-TERM", &demo.child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(status.success());
    let mut stopped = false;
    while let Ok(line) = demo.lines.recv_timeout(Duration::from_secs(10)) {
        if line.contains("sockeye-demo stopped") {
            stopped = true;
            break;
        }
    }
    assert!(stopped, "no 'stopped' line after SIGTERM");
    let exit = demo.child.wait().expect("wait for sockeye-demo");
    assert!(exit.success(), "{exit}");
}
