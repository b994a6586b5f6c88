//! `sockeye-bench`: the same load scenarios against sockeye-demo, socketioxide (0.18) and Node
//! socket.io (4.8), one server after another in one run, measured from outside the server
//! process (CPU and RSS from `/proc/<pid>/`, latency and counts at the clients).
//!
//! ```text
//! sockeye-bench [--smoke] [--out FILE] [--sockeye-bin P] [--socketioxide-bin P] [--node P]
//!               [--servers sockeye,socketioxide,node] [--scenarios fanout,redis,...]
//!               [--fanout-clients N] [--fanout-all-clients 1000,10000] [--idle-clients N] ...
//! ```
//!
//! Scenarios: `fanout` (a room), `fanout-all` (every client, at each size), `echo`, `idle`
//! (memory), `connect`, `binary` (64 KiB), `redis` (two nodes of each server over a
//! `redis-server` the bench starts on a free port: `redis-server` must be on the `PATH`).
//! Every count can be lowered from the command line (see `--help`).
//!
//! Codec micro-benchmarks are out of scope here.

mod client;
mod scenario;
mod server;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

use crate::scenario::{Params, Row};
use crate::server::ServerSpec;

/// Side-by-side load benchmark: sockeye-demo, socketioxide, Node socket.io.
#[derive(Parser, Debug)]
#[command(name = "sockeye-bench")]
struct Args {
    /// Tiny counts; asserts that every scenario ran against every server and delivered what
    /// it sent (exit status 1 otherwise).
    #[arg(long)]
    smoke: bool,
    /// Markdown output (default: tests/bench/results.md; in smoke mode, none unless given).
    #[arg(long)]
    out: Option<PathBuf>,
    /// sockeye-demo binary (default: beside this binary).
    #[arg(long)]
    sockeye_bin: Option<PathBuf>,
    /// socketioxide-demo binary (default: beside this binary).
    #[arg(long)]
    socketioxide_bin: Option<PathBuf>,
    /// The node executable.
    #[arg(long, default_value = "node")]
    node: PathBuf,
    /// Which servers, comma-separated.
    #[arg(
        long,
        default_value = "sockeye,socketioxide,node",
        value_delimiter = ','
    )]
    servers: Vec<String>,
    /// Which scenarios, comma-separated (fanout, fanout-all, echo, idle, connect, binary,
    /// redis).
    #[arg(
        long,
        default_value = "fanout,fanout-all,echo,idle,connect,binary,redis",
        value_delimiter = ','
    )]
    scenarios: Vec<String>,
    /// Fan-out: clients in the room.
    #[arg(long)]
    fanout_clients: Option<usize>,
    /// Fan-out: chat messages sent.
    #[arg(long)]
    fanout_messages: Option<usize>,
    /// Fan-out: messages per second.
    #[arg(long)]
    fanout_rate: Option<f64>,
    /// Fan-out to every client: client counts, comma-separated (one run each).
    #[arg(long, value_delimiter = ',')]
    fanout_all_clients: Option<Vec<usize>>,
    /// Fan-out to every client: deliveries per run (`leave`s sent: this ÷ clients).
    #[arg(long)]
    fanout_all_deliveries: Option<usize>,
    /// Fan-out to every client: deliveries per second (`leave`s per second: this ÷ clients).
    #[arg(long)]
    fanout_all_delivery_rate: Option<f64>,
    /// Echo: clients, each in a request → ack loop.
    #[arg(long)]
    echo_clients: Option<usize>,
    /// Echo: seconds.
    #[arg(long)]
    echo_secs: Option<f64>,
    /// Idle memory: clients per transport.
    #[arg(long)]
    idle_clients: Option<usize>,
    /// Connect rate: connects per transport.
    #[arg(long)]
    connects: Option<usize>,
    /// Binary: clients, each echoing 64 KiB attachments.
    #[arg(long)]
    binary_clients: Option<usize>,
    /// Binary: echoes per client.
    #[arg(long)]
    binary_echoes: Option<usize>,
    /// 2-node Redis fan-out: clients in the room (half on each node).
    #[arg(long)]
    redis_clients: Option<usize>,
    /// 2-node Redis fan-out: chat messages sent.
    #[arg(long)]
    redis_messages: Option<usize>,
    /// 2-node Redis fan-out: messages per second.
    #[arg(long)]
    redis_rate: Option<f64>,
    /// Connections opened at once (connect concurrency bound).
    #[arg(long)]
    concurrency: Option<usize>,
    /// Rounds of every scenario; the table shows each figure's median over the rounds.
    /// The servers take turns in opposite orders from one round to the next (one machine's
    /// CPU figures vary by 10-15% from run to run, and the order favoured some).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=9))]
    rounds: u32,
}

fn beside_me(name: &str) -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(|d| d.join(name)))
        .unwrap_or_else(|| PathBuf::from(name))
}

fn main() -> ExitCode {
    let args = Args::parse();
    let nofile = server::raise_nofile();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    rt.block_on(run(args, nofile))
}

async fn run(args: Args, nofile: u64) -> ExitCode {
    let mut p = if args.smoke {
        Params::smoke()
    } else {
        Params::full()
    };
    macro_rules! set {
        ($($f:ident),*) => { $(if let Some(v) = args.$f { p.$f = v; })* };
    }
    set!(
        fanout_clients,
        fanout_messages,
        fanout_rate,
        fanout_all_clients,
        fanout_all_deliveries,
        fanout_all_delivery_rate,
        echo_clients,
        echo_secs,
        idle_clients,
        connects,
        binary_clients,
        binary_echoes,
        redis_clients,
        redis_messages,
        redis_rate,
        concurrency
    );
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let node_dir = manifest.join("node");
    let all = [
        ServerSpec {
            name: "sockeye",
            program: args
                .sockeye_bin
                .clone()
                .unwrap_or_else(|| beside_me("sockeye-demo")),
            args: vec![],
        },
        ServerSpec {
            name: "socketioxide",
            program: args
                .socketioxide_bin
                .clone()
                .unwrap_or_else(|| beside_me("socketioxide-demo")),
            args: vec![],
        },
        ServerSpec {
            name: "node",
            program: args.node.clone(),
            args: vec![node_dir.join("server.mjs").display().to_string()],
        },
    ];
    let servers: Vec<ServerSpec> = all
        .into_iter()
        .filter(|s| args.servers.iter().any(|n| n == s.name))
        .collect();
    if servers.iter().any(|s| s.name == "node") && !node_dir.join("node_modules").exists() {
        eprintln!(
            "missing {}/node_modules: run `npm ci --prefix tests/bench/node`",
            node_dir.display()
        );
        return ExitCode::FAILURE;
    }
    eprintln!(
        "sockeye-bench: {} mode, RLIMIT_NOFILE {nofile}, {:?}",
        if args.smoke { "smoke" } else { "full" },
        p
    );
    let started = std::time::Instant::now();
    let mut rows: Vec<Row> = Vec::new();
    let mut failures: Vec<String> = Vec::new();
    let mut notes: Vec<String> = Vec::new();
    for sc in &args.scenarios {
        let order: Vec<&ServerSpec> = (0..args.rounds)
            .flat_map(|round| {
                let mut o: Vec<&ServerSpec> = servers.iter().collect();
                if round % 2 == 1 {
                    o.reverse();
                }
                o
            })
            .collect();
        for spec in order {
            eprintln!("== {sc} on {}", spec.name);
            match scenario::run(sc, spec, &p).await {
                Ok(out) => {
                    for (metric, unit, value, lower_better) in out.metrics {
                        let key = format!("{sc}: {metric}");
                        let row = match rows.iter_mut().find(|r| r.key == key) {
                            Some(r) => r,
                            None => {
                                rows.push(Row::new(key, unit, lower_better));
                                rows.last_mut().unwrap()
                            }
                        };
                        row.values.push((spec.name, value));
                    }
                    notes.extend(out.notes.iter().map(|n| format!("{} — {n}", spec.name)));
                    if let Some(f) = out.failure {
                        failures.push(format!("{sc} on {}: {f}", spec.name));
                    }
                }
                Err(e) => failures.push(format!("{sc} on {}: {e}", spec.name)),
            }
        }
    }
    for row in &mut rows {
        row.values = scenario::medians(&row.values);
    }
    if args.rounds > 1 {
        notes.push(format!(
            "every figure is the median of {} rounds, the servers taking turns in alternating order",
            args.rounds
        ));
    }
    let names: Vec<&str> = servers.iter().map(|s| s.name).collect();
    let table = scenario::markdown(&rows, &names, &notes, &p, args.smoke, started.elapsed());
    println!("{table}");
    let out = args
        .out
        .clone()
        .or_else(|| (!args.smoke).then(|| manifest.join("results.md")));
    if let Some(path) = out {
        if let Err(e) = std::fs::write(&path, &table) {
            eprintln!("cannot write {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
        eprintln!("written to {}", path.display());
    }
    if failures.is_empty() {
        eprintln!(
            "all {} scenarios ran against all {} servers in {:.1} s",
            args.scenarios.len(),
            servers.len(),
            started.elapsed().as_secs_f64()
        );
        ExitCode::SUCCESS
    } else {
        for f in &failures {
            eprintln!("FAILED: {f}");
        }
        ExitCode::FAILURE
    }
}
