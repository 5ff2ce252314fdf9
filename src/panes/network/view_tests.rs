//! The network view drawn on a `TestBackend`: nodes, LVS, detail, triage lines.

use super::*;
use crate::panes::network::expo::parse;
use crate::panes::network::join::PodInfo;
use ratatui::backend::TestBackend;
use ratatui::Terminal;

struct Fake;
impl Lookup for Fake {
    fn nodes(&self) -> Vec<(String, String)> {
        Vec::new()
    }
    fn pod_by_ip(&self, ip: &str) -> Option<PodInfo> {
        let pod = |name: &str, ready| PodInfo {
            namespace: "shop".into(),
            name: name.into(),
            workload: "web".into(),
            ready,
        };
        match ip {
            "10.64.0.2" => Some(pod("web-7d9f-a1b2c", true)),
            "10.64.0.3" => Some(pod("web-7d9f-x9y8z", false)),
            _ => None,
        }
    }
}

fn rs(ip: &str, weight: u32, active: u32) -> String {
    let l = format!("local_address=\"10.96.0.11\",local_mark=\"\",local_port=\"80\",proto=\"TCP\",remote_address=\"{ip}\",remote_port=\"8080\"");
    format!("node_ipvs_backend_weight{{{l}}} {weight}\nnode_ipvs_backend_connections_active{{{l}}} {active}\nnode_ipvs_backend_connections_inactive{{{l}}} 20\n")
}

fn fleet() -> RegionNet {
    let mut net = RegionNet::default();
    for step in 0..20 {
        let t = 1_000.0 + step as f64 * 60.0;
        let hot = 100_000.0 + step as f64 * 8_000.0;
        let drop = if step > 15 { (step - 15) * 300 } else { 0 };
        net.ingest(
            "ap-node-02",
            t,
            &parse(&format!("node_nf_conntrack_entries {}\nnode_nf_conntrack_entries_limit 262144\nnode_nf_conntrack_stat_drop {drop}\nnode_nf_conntrack_stat_insert_failed {}\n", hot.min(262_144.0), drop / 3)).samples,
        );
        let lvs = format!(
            "{}{}{}",
            rs("10.64.0.2", 1, 5),
            rs("10.64.0.3", 0, 4),
            rs("10.64.0.9", 1, 3)
        );
        net.ingest(
            "ap-node-01",
            t,
            &parse(&format!(
                "node_nf_conntrack_entries 9000\nnode_nf_conntrack_entries_limit 262144\n{lvs}"
            ))
            .samples,
        );
    }
    net
}

fn screen(view: View, w: u16, h: u16) -> String {
    let net = fleet();
    let regions = [RegionView {
        name: "ap-southeast",
        net: &net,
        lookup: &Fake,
        source: "direct scrape (node_exporter via the pod proxy)",
        error: None,
        findings: None,
    }];
    let mut term = Terminal::new(TestBackend::new(w, h)).expect("terminal");
    term.draw(|f| {
        render(
            &regions,
            &view,
            0,
            &Thresholds::default(),
            1_000.0 + 19.0 * 60.0,
            f.area(),
            f.buffer_mut(),
        )
    })
    .expect("draw");
    let buf = term.backend().buffer().clone();
    let mut out = String::new();
    for y in 0..h {
        for x in 0..w {
            out.push_str(buf[(x, y)].symbol());
        }
        out.push('\n');
    }
    out
}

#[test]
fn nodes_hottest_first_with_flags_and_source() {
    let s = screen(View::Nodes, 120, 16);
    insta::assert_snapshot!("network_nodes_120x16", s);
    let hot = s.find("ap-node-02").expect("hot node shown");
    let calm = s.find("ap-node-01").expect("calm node shown");
    assert!(hot < calm, "sorted by utilisation");
    assert!(s.contains("source: direct scrape"));
    assert!(s.contains("!!ap-southeast"));
    assert!(s.contains("stale LVS backend 10.64.0.9:8080 of TCP 10.96.0.11:80: no pod"));
}

#[test]
fn lvs_names_pods_and_flags_no_pod_and_weight_zero() {
    let s = screen(View::Lvs, 120, 10);
    insta::assert_snapshot!("network_lvs_120x10", s);
    assert!(s.contains("shop/web-7d9f-a1b2c"));
    assert!(s.contains("not ready"));
    let stale_line = s
        .lines()
        .find(|l| l.contains("10.64.0.9"))
        .expect("stale line");
    assert!(stale_line.contains("no pod"), "{stale_line}");
    let zero = s
        .lines()
        .find(|l| l.contains("10.64.0.3"))
        .expect("zero line");
    assert!(zero.contains("w=0") && zero.contains("4/20"), "{zero}");
}

#[test]
fn detail_chart_of_a_node() {
    let s = screen(
        View::Detail("ap-southeast".into(), "ap-node-02".into()),
        80,
        14,
    );
    insta::assert_snapshot!("network_detail_80x14", s);
    assert!(s.contains("conntrack 96% (252000/262144)"));
}

#[test]
fn triage_lists_hot_nodes_drops_and_stale_backends() {
    let net = fleet();
    let regions = [RegionView {
        name: "ap-southeast",
        net: &net,
        lookup: &Fake,
        source: "direct scrape",
        error: None,
        findings: None,
    }];
    let t = triage(&regions, &Thresholds::default());
    let texts: Vec<&str> = t.iter().map(|(_, s)| s.as_str()).collect();
    assert_eq!(t.len(), 3, "{texts:#?}");
    assert!(texts[0].starts_with("ap-southeast: conntrack 96% full on ap-node-02"));
    assert!(texts
        .iter()
        .any(|s| s.contains("conntrack drops on ap-node-02")));
    assert!(texts.iter().any(|s| s.ends_with("no pod")));
    assert!(t.iter().all(|(l, _)| *l == Level::Critical));
}

#[test]
fn sparkline_and_gauge() {
    assert_eq!(gauge(0.5, 4), "██░░");
    assert_eq!(gauge(2.0, 2), "██");
    let s = sparkline(&[(0.0, 0.0), (HISTORY_SECS, 1.0)], HISTORY_SECS, 5);
    assert_eq!(s, "▁   █");
    assert_eq!(sparkline(&[], 0.0, 3), "   ");
}
