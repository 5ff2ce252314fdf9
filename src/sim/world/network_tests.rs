//! Unit tests of the network counters, stepped through simulated time.

use crate::world::build::build;
use crate::world::faults::Fault;
use crate::world::network::{director_count, CONNTRACK_LIMIT};
use crate::world::region::Region;
use crate::world::scenario::ScenarioFile;

const SCENARIO: &str = r#"
node_exporter = true
[[region]]
name = "a"
nodes = 5

[[workload]]
name = "web"
namespace = "shop"
replicas = 4
image = "registry.local/web:1"
ports = [8080]
"#;

fn world() -> Region {
    let file = ScenarioFile::parse(SCENARIO, "test").expect("scenario");
    let clock = crate::world::clock::Clock::new(file.time_scale);
    build(&file, 0, &file.regions[0], clock, "token".into())
}

/// The value of the first sample named exactly `name` (with its labels).
fn sample(text: &str, name: &str) -> f64 {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find(|l| l.split([' ', '{']).next() == Some(name))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{name} missing"))
}

fn metrics(r: &Region, node: &str) -> String {
    let now = r.clock.elapsed();
    r.lock().node_metrics(node, now).expect("a node")
}

#[test]
fn directors_are_a_few_nodes() {
    assert_eq!(director_count(0), 0);
    assert_eq!(director_count(2), 1);
    assert_eq!(director_count(8), 2);
    assert_eq!(director_count(500), 3);
}

#[test]
fn exporter_pods_one_per_node_on_their_node() {
    let r = world();
    let st = r.lock();
    let mut nodes: Vec<String> = st
        .pods
        .iter()
        .filter(|((ns, _), _)| ns == "monitoring")
        .map(|((ns, name), p)| {
            assert_eq!(st.exporter_node(ns, name).as_deref(), Some(p.node.as_str()));
            p.node.clone()
        })
        .collect();
    nodes.sort();
    let want: Vec<String> = st.nodes.iter().map(|(n, _)| n.clone()).collect();
    assert_eq!(nodes, want);
    // Every pod of the region has its own IP.
    let mut ips: Vec<&str> = st.pods.values().map(|p| p.ip.as_str()).collect();
    ips.sort();
    let n = ips.len();
    ips.dedup();
    assert_eq!(ips.len(), n, "pod IPs are unique");
}

#[test]
fn conntrack_fills_then_drops_while_others_stay_quiet() {
    let r = world();
    let m = metrics(&r, "a-node-02");
    let usual = sample(&m, "node_nf_conntrack_entries");
    assert!(
        usual > 0.0 && usual < CONNTRACK_LIMIT as f64 / 4.0,
        "{usual}"
    );
    r.lock()
        .apply_workload_fault(
            &r.clock,
            &Fault::ConntrackFull {
                node: "a-node-02".into(),
            },
        )
        .expect("fault applies");
    r.clock.advance(10.0);
    let m = metrics(&r, "a-node-02");
    let climbing = sample(&m, "node_nf_conntrack_entries");
    assert!(
        climbing > usual && climbing < CONNTRACK_LIMIT as f64,
        "{climbing}"
    );
    assert_eq!(sample(&m, "node_nf_conntrack_stat_drop"), 0.0);
    r.clock.advance(25.0);
    let _ = metrics(&r, "a-node-02");
    r.clock.advance(10.0);
    let m = metrics(&r, "a-node-02");
    assert_eq!(
        sample(&m, "node_nf_conntrack_entries"),
        CONNTRACK_LIMIT as f64
    );
    assert!(sample(&m, "node_nf_conntrack_stat_drop") > 0.0);
    assert!(sample(&m, "node_nf_conntrack_stat_insert_failed") > 0.0);
    let other = metrics(&r, "a-node-03");
    assert_eq!(sample(&other, "node_nf_conntrack_stat_drop"), 0.0);
    assert!(r
        .lock()
        .apply_workload_fault(
            &r.clock,
            &Fault::ConntrackFull {
                node: "nope".into()
            }
        )
        .is_err());
}

#[test]
fn lvs_counters_only_grow_and_only_on_directors() {
    let r = world();
    let first = metrics(&r, "a-node-01");
    assert!(!metrics(&r, "a-node-05").contains("node_ipvs"));
    r.clock.advance(5.0);
    let later = metrics(&r, "a-node-01");
    for name in [
        "node_ipvs_connections_total",
        "node_ipvs_incoming_packets_total",
        "node_ipvs_outgoing_bytes_total",
        "node_nf_conntrack_stat_found",
    ] {
        assert!(sample(&later, name) > sample(&first, name), "{name}");
    }
    // Four real servers of web, weight 1, on the director.
    let weights: Vec<&str> = later
        .lines()
        .filter(|l| l.starts_with("node_ipvs_backend_weight{"))
        .collect();
    assert_eq!(weights.len(), 4, "{weights:?}");
    assert!(weights
        .iter()
        .all(|l| l.ends_with(" 1") && l.contains("proto=\"TCP\"")));
}
