//! Two `sockeye-demo --adapter redis://…` nodes on one real Redis behind Debian's nginx,
//! configured with `tests/nginx/sockeye.conf` (the README's configuration, ports replaced),
//! and socket.io-client 4.8 (`tests/nginx/client.mjs`) on nginx's port: polling and
//! WebSocket clients on different nodes share a room, polling stays on one node for many
//! requests, the upgrade works through nginx; nginx's access log shows every request of a
//! session went to one node and both nodes served traffic.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use sockeye_tests::process::{demo_binary, Process, TempDir};
use sockeye_tests::redis::{free_port, RedisServer};
use sockeye_tests::tests_dir;
use tokio::process::Command;

const README_PORTS: [&str; 3] = ["127.0.0.1:3001", "127.0.0.1:3002", "127.0.0.1:8080"];

/// The README's nginx configuration, as tested.
fn site_config() -> String {
    std::fs::read_to_string(tests_dir().join("nginx/sockeye.conf")).expect("nginx/sockeye.conf")
}

/// nginx's main configuration: everything in `dir`, the site included, and for the test
/// the node that served each request (response header `X-Upstream`, access log).
fn main_config(dir: &Path) -> String {
    let d = dir.display();
    format!(
        "worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 256; }}
http {{
    log_format upstream '$upstream_addr $status \"$request\"';
    access_log {d}/access.log upstream;
    client_body_temp_path {d}/client_body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    add_header X-Upstream $upstream_addr always;
    include {d}/sockeye.conf;
}}
"
    )
}

/// The engine session id of a request line (`sid=…` in the query), if any.
fn sid_of(request: &str) -> Option<&str> {
    let start = request.find("sid=")? + 4;
    let rest = &request[start..];
    let end = rest.find(['&', ' ']).unwrap_or(rest.len());
    Some(&rest[..end])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_behind_nginx_share_rooms_with_sticky_sessions() {
    // The README shows this very configuration.
    let site = site_config();
    let readme = std::fs::read_to_string(tests_dir().join("../README.md")).expect("README.md");
    assert!(
        readme.contains(&site),
        "README.md must show tests/nginx/sockeye.conf verbatim"
    );
    for p in README_PORTS {
        assert!(site.contains(p), "{p} in the configuration");
    }

    let dir = TempDir::new("nginx");
    let dir = &dir.0;
    let redis = RedisServer::start();
    let demo = demo_binary().await;
    let www = tests_dir().join("../www");

    let ports = [free_port(), free_port()];
    let mut nodes = Vec::new();
    for (i, port) in ports.iter().enumerate() {
        let mut cmd = Command::new(&demo);
        cmd.args(["--port", &port.to_string(), "--host", "127.0.0.1"])
            .args(["--adapter", &redis.url])
            .arg("--static")
            .arg(&www)
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1");
        let mut node = Process::spawn(&mut cmd, dir.join(format!("node{i}.log")));
        node.wait_ready("sockeye-demo", *port, Some("listening on"))
            .await;
        nodes.push(node);
    }

    let nginx_port = free_port();
    let site = site
        .replace(README_PORTS[0], &format!("127.0.0.1:{}", ports[0]))
        .replace(README_PORTS[1], &format!("127.0.0.1:{}", ports[1]))
        .replace(README_PORTS[2], &format!("127.0.0.1:{nginx_port}"));
    std::fs::write(dir.join("sockeye.conf"), site).expect("write the site");
    let conf = dir.join("nginx.conf");
    std::fs::write(&conf, main_config(dir)).expect("write nginx.conf");
    let mut cmd = Command::new("/usr/sbin/nginx");
    cmd.arg("-c")
        .arg(&conf)
        .arg("-e")
        .arg(dir.join("error.log"))
        .args(["-g", "daemon off;"]);
    let mut nginx = Process::spawn(&mut cmd, dir.join("nginx.out"));
    nginx.wait_ready("nginx", nginx_port, None).await;

    let url = format!("http://127.0.0.1:{nginx_port}");
    let client = Command::new("node")
        .args(["nginx/client.mjs", &url])
        .current_dir(tests_dir())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(60), client)
        .await
        .expect("the client finishes within 60 s")
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "node nginx/client.mjs failed ({})\nstdout:\n{stdout}\nstderr:\n{}\nnginx:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr),
        std::fs::read_to_string(dir.join("error.log")).unwrap_or_default()
    );
    let summary: Value = serde_json::from_str(stdout.lines().last().unwrap_or_default())
        .unwrap_or_else(|e| panic!("{e}: {stdout}"));

    nginx.stop();
    let access = std::fs::read_to_string(dir.join("access.log")).expect("access.log");
    // Per engine session: the nodes that served it, and how many requests.
    let mut sessions: HashMap<&str, (HashSet<&str>, usize)> = HashMap::new();
    for line in access.lines() {
        let Some((upstream, rest)) = line.split_once(' ') else {
            continue;
        };
        if let Some(sid) = sid_of(rest) {
            let e = sessions.entry(sid).or_default();
            e.0.insert(upstream);
            e.1 += 1;
        }
    }
    let node_of = |key: &str| {
        let sid = summary[key].as_str().expect("a sid");
        let (upstreams, requests) = sessions
            .get(sid)
            .unwrap_or_else(|| panic!("{key} session {sid} not in the access log:\n{access}"));
        assert_eq!(
            upstreams.len(),
            1,
            "{key}: one node per session: {upstreams:?}"
        );
        (
            upstreams.iter().next().copied().unwrap_or_default(),
            *requests,
        )
    };
    let (polling_node, polling_requests) = node_of("polling");
    let (upgraded_node, _) = node_of("upgraded");
    // A WebSocket-only session's one request carries no sid: the only such request.
    let ws_only: Vec<&str> = access
        .lines()
        .filter(|l| l.contains("transport=websocket") && !l.contains("sid="))
        .filter_map(|l| l.split(' ').next())
        .collect();
    let [ws_node] = ws_only[..] else {
        panic!("one WebSocket-only session expected:\n{access}")
    };
    // The nodes the client found for its two source addresses.
    assert_eq!(summary["nodes"][0]["upstream"].as_str(), Some(polling_node));
    assert_eq!(summary["nodes"][1]["upstream"].as_str(), Some(ws_node));
    // 40 echo round trips: a POST and a GET each, plus the handshake traffic.
    assert!(polling_requests > 80, "{polling_requests} polling requests");
    assert_ne!(polling_node, ws_node, "both nodes served a client");
    assert_eq!(
        upgraded_node, polling_node,
        "same source address, same node"
    );
    let expected: HashSet<String> = ports.iter().map(|p| format!("127.0.0.1:{p}")).collect();
    let served: HashSet<String> = [polling_node, ws_node]
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(served, expected);
    // No request failed at nginx (no 502 while both nodes ran).
    assert!(
        !access.contains(" 502 "),
        "nginx could not reach a node:\n{access}"
    );

    for node in nodes {
        node.stop();
    }
}
