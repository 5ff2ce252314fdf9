//! P10 of `PERFORMANCE.md`: the network pane at 4 regions of 500 nodes and
//! 2,000 real servers each. Results in `docs/BENCHMARKS.md`.
//!
//! What it measures, on one thread:
//! - a poll cycle of one region as the direct source runs it after the
//!   bytes arrived: 500 node_exporter expositions (synthetic text in
//!   node_exporter's names and label sets; 3 LVS directors each listing the
//!   region's 2,000 real servers) parsed by the real reader, ingested into
//!   a fresh `RegionNet`, merged into the shared one, then joined with the
//!   fleet store (2,000 pods by IP) into findings and triage items, as
//!   `Msg::Network` does;
//! - the frame with the pane open (nodes table and LVS view, 200x60,
//!   `TestBackend`) over the whole cockpit, after 30 minutes of history.
//!
//! Not measured: TLS and HTTP of the 500 scrapes (on the runtime's workers),
//! Prometheus' JSON. `cargo bench --bench network` runs 30 minutes of
//! history then 8 cycles per region; `cargo test --bench network -- --quick`
//! two polls and one cycle, to keep it from rotting. Nothing is asserted on timings; it asserts what is drawn.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use pitwall::app::Cockpit;
use pitwall::config::RegionConfig;
use pitwall::keymap::Keymap;
use pitwall::model::PodRow;
use pitwall::msg::{Feed, Health, Msg, PodUpdate};
use pitwall::panes::network::expo::parse;
use pitwall::panes::network::model::RegionNet;
use pitwall::theme::Styles;
use ratatui::backend::TestBackend;
use ratatui::Terminal;
use std::time::{Duration, Instant};

const REGIONS: usize = 4;
const NODES: usize = 500;
const REALS: usize = 2_000;
const DIRECTORS: usize = 3;
/// Real servers per virtual service.
const PER_SERVICE: usize = 20;
/// Real servers left behind on deleted pods, per region.
const STALE: usize = 10;

fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let rest = stat.rsplit_once(')').map(|x| x.1).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    // SAFETY: sysconf only reads a constant of the system.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    let get = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (get(11) + get(12)) / ticks.max(1.0)
}

fn pod_ip(region: usize, i: usize) -> String {
    format!("10.{}.{}.{}", 64 + region, i / 250, i % 250 + 1)
}

fn node(region: usize, n: usize) -> String {
    format!("r{region}-node-{n:03}")
}

/// One node's `/metrics` at poll `k`: conntrack, and on directors every
/// real server of the region.
fn exposition(region: usize, n: usize, k: u64) -> String {
    let hot = n == 7;
    let entries = if hot {
        262_144
    } else {
        20_000 + (n as u64 * 97 + k * 13) % 150_000
    };
    let drops = if hot { k * 400 } else { 0 };
    let mut s = format!(
        "# HELP node_nf_conntrack_entries Number of currently allocated flow entries for connection tracking.\n\
# TYPE node_nf_conntrack_entries gauge\nnode_nf_conntrack_entries {entries}\n\
# TYPE node_nf_conntrack_entries_limit gauge\nnode_nf_conntrack_entries_limit 262144\n\
# TYPE node_nf_conntrack_stat_drop gauge\nnode_nf_conntrack_stat_drop {drops}\n\
# TYPE node_nf_conntrack_stat_early_drop gauge\nnode_nf_conntrack_stat_early_drop 0\n\
# TYPE node_nf_conntrack_stat_insert_failed gauge\nnode_nf_conntrack_stat_insert_failed {}\n\
node_cpu_seconds_total{{cpu=\"0\",mode=\"idle\"}} {}\n",
        drops / 3,
        k * 10
    );
    if n < DIRECTORS {
        s.push_str(&format!("node_ipvs_connections_total {}\n", k * 1000));
        for i in 0..REALS {
            // the last STALE real servers name no pod
            let ip = if i >= REALS - STALE {
                format!("10.{}.200.{}", 64 + region, i % 250)
            } else {
                pod_ip(region, i)
            };
            let vip = format!("10.96.{}.{}", i / PER_SERVICE / 250, i / PER_SERVICE % 250);
            let l = format!("local_address=\"{vip}\",local_mark=\"\",local_port=\"80\",proto=\"TCP\",remote_address=\"{ip}\",remote_port=\"8080\"");
            let w = u32::from(i % 500 != 3);
            s.push_str(&format!(
                "node_ipvs_backend_connections_active{{{l}}} {}\nnode_ipvs_backend_connections_inactive{{{l}}} {}\nnode_ipvs_backend_weight{{{l}}} {w}\n",
                (i as u64 + k) % 40,
                (i as u64 * 7 + k) % 90
            ));
        }
    }
    s
}

fn cockpit() -> Cockpit {
    let regions: Vec<RegionConfig> = (0..REGIONS)
        .map(|r| RegionConfig {
            name: format!("region-{r}"),
            context: format!("region-{r}"),
            ..RegionConfig::default()
        })
        .collect();
    let now = pitwall::app::wall_now();
    let mut c = Cockpit::new(&regions, Keymap::default(), Styles::default(), now);
    for region in 0..REGIONS {
        let rows: Vec<PodRow> = (0..REALS - STALE)
            .map(|i| PodRow {
                region,
                uid: format!("uid-{region}-{i}"),
                namespace: "shop".into(),
                name: format!("web-{i}"),
                phase: "Running".into(),
                status: "Running".into(),
                ready: 1,
                total: 1,
                created: now - 3600,
                node: node(region, i % NODES),
                ip: pod_ip(region, i),
                owner_kind: "Deployment".into(),
                owner_name: format!("web-{}", i / PER_SERVICE),
                ..PodRow::default()
            })
            .collect();
        c.handle(Msg::Pods {
            region,
            update: PodUpdate::ListStart { namespace: None },
        });
        c.handle(Msg::Pods {
            region,
            update: PodUpdate::ListPage(rows),
        });
        c.handle(Msg::Pods {
            region,
            update: PodUpdate::ListDone { namespace: None },
        });
        // effects (the poller's task) are not run: the bench feeds the figures
        let _ = c.handle(Msg::RegionHealth {
            region,
            feed: Feed::PODS,
            health: Health::Live,
        });
    }
    c
}

/// One poll cycle of `region` at poll `k` (time `t`): parse, ingest, merge,
/// then the message that joins and ranks.
fn poll(c: &mut Cockpit, texts: &[String], region: usize, t: f64) -> usize {
    let mut fresh = RegionNet::default();
    for (n, text) in texts.iter().enumerate() {
        fresh.ingest(&node(region, n), t, &parse(text).samples);
    }
    let shared = c.state.network.regions[region].net.clone();
    shared
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .merge(fresh);
    c.handle(Msg::Network {
        region,
        error: None,
    });
    c.state.network.regions[region].findings.len()
}

fn stats(mut v: Vec<Duration>) -> (Duration, Duration, Duration) {
    v.sort();
    let mean = v.iter().sum::<Duration>() / v.len().max(1) as u32;
    let p99 = v[(v.len() * 99 / 100).min(v.len() - 1)];
    (mean, p99, *v.last().unwrap_or(&Duration::ZERO))
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let cycles: u64 = if quick { 1 } else { 8 };
    let frames = if quick { 5 } else { 60 };
    let mut c = cockpit();
    c.state.network.ensure(REGIONS);
    let bytes: usize = (0..NODES).map(|n| exposition(0, n, 0).len()).sum();
    println!(
        "P10 network: {REGIONS} regions x {NODES} nodes x {REALS} real servers ({DIRECTORS} directors each, {:.1} MB of exposition per region per poll)",
        bytes as f64 / 1e6
    );
    // 30 minutes of history at one poll a minute first (not measured; two
    // polls in the quick run)
    let history: u64 = if quick { 2 } else { 30 };
    let t0 = pitwall::app::wall_now() as f64 - history as f64 * 60.0;
    for k in 0..history {
        for region in 0..REGIONS {
            let texts: Vec<String> = (0..NODES).map(|n| exposition(region, n, k)).collect();
            poll(&mut c, &texts, region, t0 + k as f64 * 60.0);
        }
    }
    // the poll cycle: text prepared outside the measure, as bytes arrive
    let mut cycle = Vec::new();
    let mut findings = 0;
    for k in history..history + cycles {
        for region in 0..REGIONS {
            let texts: Vec<String> = (0..NODES).map(|n| exposition(region, n, k)).collect();
            let (cpu, t) = (cpu_seconds(), Instant::now());
            findings = poll(&mut c, &texts, region, t0 + k as f64 * 60.0);
            let wall = t.elapsed();
            cycle.push((wall, cpu_seconds() - cpu));
        }
    }
    let walls: Vec<Duration> = cycle.iter().map(|(w, _)| *w).collect();
    let cpu: f64 = cycle.iter().map(|(_, c)| c).sum::<f64>() / cycle.len() as f64;
    let (mean, p99, max) = stats(walls);
    println!(
        "poll cycle of one region: CPU {:.1} ms (mean of {} cycles), wall mean {:.1} ms, p99 {:.1} ms, max {:.1} ms; {findings} findings",
        cpu * 1e3,
        cycle.len(),
        mean.as_secs_f64() * 1e3,
        p99.as_secs_f64() * 1e3,
        max.as_secs_f64() * 1e3,
    );
    assert!(
        findings >= STALE + 2,
        "the hot node, its drops and the stale backends are found"
    );

    // frames with the pane open
    let mut term = Terminal::new(TestBackend::new(200, 60)).unwrap_or_else(|e| panic!("{e}"));
    c.handle(Msg::Resize(200, 60));
    c.handle(Msg::Key(KeyEvent::new(
        KeyCode::Char('M'),
        KeyModifiers::SHIFT,
    )));
    for (view, key) in [("nodes", None), ("LVS", Some('v'))] {
        if let Some(k) = key {
            c.handle(Msg::Key(KeyEvent::new(
                KeyCode::Char(k),
                KeyModifiers::NONE,
            )));
        }
        let mut times = Vec::new();
        for i in 0..frames {
            // something changed since the last frame: a cursor move
            let k = if i % 2 == 0 { 'j' } else { 'k' };
            c.handle(Msg::Key(KeyEvent::new(
                KeyCode::Char(k),
                KeyModifiers::NONE,
            )));
            let t = Instant::now();
            c.draw(&mut term).unwrap_or_else(|e| panic!("draw: {e}"));
            times.push(t.elapsed());
        }
        let screen = term.backend().to_string();
        if view == "nodes" {
            assert!(screen.contains("r0-node-007"), "the hot node is drawn");
        } else {
            assert!(screen.contains("VIRTUAL -> REAL"), "the LVS view is drawn");
        }
        let (mean, p99, max) = stats(times);
        println!(
            "frame, {view} view open (200x60): mean {:.2} ms, p99 {:.2} ms, max {:.2} ms ({frames} frames)",
            mean.as_secs_f64() * 1e3,
            p99.as_secs_f64() * 1e3,
            max.as_secs_f64() * 1e3
        );
    }
}
