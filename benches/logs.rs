//! P9 of `PERFORMANCE.md`: 200 log streams, 100,000 lines/s in total, with
//! a regex filter and sanitising on. Results in `docs/BENCHMARKS.md`.
//!
//! What it measures: the logs pane's pipeline after the bytes arrived (each
//! raw line parsed, sanitised, cut, assembled by its stream, merged across
//! streams in the reorder window, filtered, pushed into the byte-bounded
//! ring), paced at the target rate on one thread, as the loop runs it. Not
//! measured here: TLS and HTTP of the 200 follows (their tasks run on the
//! runtime's workers). `cargo bench --bench logs` runs 10 s;
//! `cargo test --bench logs -- --quick` 1 s, to keep it from rotting.
//! Nothing is asserted on timings; it asserts every line is accounted for.
//!
//! Then P9 end to end (`logs_support`): the cockpit's own path from the
//! streams to the state. 200 pods in the fleet store, the pane's selection
//! and plan, one long-lived task per stream in the task registry running
//! the real `follow` (line reader, resume, assembly, batches, drops counted)
//! and its forwarder, `Msg::Logs` through the loop's bounded channel, the
//! loop's drain into `Cockpit::handle`, the reorder window, the filter, the
//! ring, and a frame of the pane at 200x50 at most every 16 ms. Only the
//! bytes come from memory instead of the kubelet (a `LogClient` that writes
//! the kubelet's lines at the offered rate), so the loop thread's CPU is
//! measured apart from the generator's.

mod logs_support;

use pitwall::panes::logs::follow::Batch;
use pitwall::panes::logs::line::{build_cut, Origin};
use pitwall::panes::logs::state::{LogsSettings, LogsState};
use pitwall::panes::logs::stream::Assembler;
use std::sync::Arc;
use std::time::{Duration, Instant};

const STREAMS: usize = 200;
const RATE: u64 = 100_000;
/// Lines per stream per 10 ms step.
const STEP: Duration = Duration::from_millis(10);

fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let rest = stat.rsplit_once(')').map(|x| x.1).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    let get = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (get(11) + get(12)) / ticks.max(1.0)
}

fn rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// A line as the simulator writes them: mostly JSON, some plain, a few
/// stack traces, every 50th hostile.
fn raw(stream: usize, i: u64, t: jiff::Timestamp) -> Vec<String> {
    let stamp = t.strftime("%Y-%m-%dT%H:%M:%S%.9fZ").to_string();
    let h = (i.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ stream as u64) % 100;
    let mut lines = if h < 80 {
        let level = ["info", "info", "info", "warn", "error", "debug"][(h % 6) as usize];
        vec![format!(
            "{stamp} {{\"ts\":\"{stamp}\",\"level\":\"{level}\",\"msg\":\"request served\",\"trace_id\":\"{h:016x}\",\"latency_ms\":{h},\"path\":\"/api/v1/cart\",\"status\":200,\"seq\":{i}}}"
        )]
    } else if h < 97 {
        vec![format!(
            "{stamp} {stamp} INFO  [worker-{h}] processed batch size={i} took=3ms"
        )]
    } else {
        vec![
            format!("{stamp} {stamp} ERROR [worker-1] unhandled exception seq={i}"),
            format!("{stamp} java.lang.IllegalStateException: connection reset"),
            format!("{stamp} \tat com.shop.net.Pool.acquire(Pool.java:12)"),
        ]
    };
    if i.is_multiple_of(50) {
        lines[0].push_str(" \u{1b}]52;c;cHduZWQ=\u{7}\u{1b}[2J\u{202e}");
    }
    lines
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let secs = if quick { 1 } else { 10 };
    pipeline(secs);
    logs_support::run(secs);
}

/// The pipeline alone, paced on one thread.
fn pipeline(secs: u64) {
    let settings = LogsSettings::default();
    let mut state = LogsState::new(settings.clone());
    assert!(state.set_filter(|f| f.set_include("(?i)error|timeout|status\":5\\d\\d")));
    let origins: Vec<Arc<Origin>> = (0..STREAMS)
        .map(|s| {
            Arc::new(Origin {
                region: ["eu", "us", "ap", "cn"][s % 4].into(),
                namespace: "shop".into(),
                pod: format!("checkout-{s}"),
                container: "app".into(),
            })
        })
        .collect();
    let mut asm: Vec<Assembler> = (0..STREAMS).map(|_| Assembler::default()).collect();
    let per_step = (RATE as f64 * STEP.as_secs_f64() / STREAMS as f64).ceil() as u64;
    let (cpu0, rss0, t0) = (cpu_seconds(), rss_kb(), Instant::now());
    let start = jiff::Timestamp::now();
    let (mut sent, mut entries) = (0u64, 0u64);
    let mut i = 0u64;
    let mut worst_step = Duration::ZERO;
    while t0.elapsed() < Duration::from_secs(secs) {
        let step_start = Instant::now();
        for (s, origin) in origins.iter().enumerate() {
            let mut lines = Vec::new();
            for k in 0..per_step {
                let t = start
                    .checked_add(jiff::SignedDuration::from_micros(
                        ((i + k) * 1000 + s as u64) as i64,
                    ))
                    .unwrap_or(start);
                for r in raw(s, i + k, t) {
                    sent += 1;
                    let l = build_cut(origin, r.as_bytes(), &settings.names, settings.max_line, 0);
                    lines.extend(asm[s].push(l));
                }
            }
            entries += lines.len() as u64;
            state.ingest(
                Batch {
                    container_id: format!("c{s}").into(),
                    lines,
                    held: Default::default(),
                },
                Instant::now(),
            );
        }
        i += per_step;
        state.tick(Instant::now());
        let took = step_start.elapsed();
        worst_step = worst_step.max(took);
        if let Some(rest) = STEP.checked_sub(took) {
            std::thread::sleep(rest);
        }
    }
    for (s, a) in asm.iter_mut().enumerate() {
        let lines: Vec<_> = a.flush().into_iter().collect();
        entries += lines.len() as u64;
        state.ingest(
            Batch {
                container_id: format!("c{s}").into(),
                lines,
                held: Default::default(),
            },
            Instant::now(),
        );
    }
    state.tick(Instant::now() + Duration::from_secs(1));
    let wall = t0.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu0;
    let c = state.counts();
    assert_eq!(
        c.entries as u64 + c.dropped_oldest,
        entries,
        "every entry is in the ring or counted as dropped"
    );
    println!("| scenario | target | result |");
    println!("|---|---|---|");
    println!(
        "| P9 logs: {STREAMS} streams, {:.0} lines/s offered, include regex, sanitising | <= 1 core, memory within the buffer budget, every drop counted | {:.2} cores ({:.1} s CPU over {:.1} s), {} physical lines -> {} entries, ring {} entries / {:.1} MiB of {:.0} MiB, {} dropped oldest (counted), {} shown by the filter, worst 10 ms step {:.1} ms, RSS +{} MiB |",
        sent as f64 / wall,
        cpu / wall,
        cpu,
        wall,
        sent,
        entries,
        c.entries,
        c.bytes as f64 / 1048576.0,
        settings.buffer_bytes as f64 / 1048576.0,
        c.dropped_oldest,
        state.shown().len(),
        worst_step.as_secs_f64() * 1000.0,
        (rss_kb().saturating_sub(rss0)) / 1024,
    );
}
