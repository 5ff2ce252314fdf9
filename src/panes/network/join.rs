//! The network joined with the cluster: Prometheus' `instance` to a node,
//! a real server's IP to a pod, and what deserves a flag (thresholds,
//! drops, stale or unready backends, weight 0 with active connections).

use super::model::{RegionNet, VirtualKey};
use std::collections::BTreeSet;

/// Conntrack utilisation thresholds (fractions of the limit).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    pub warn: f64,
    pub critical: f64,
}

impl Default for Thresholds {
    fn default() -> Thresholds {
        Thresholds {
            warn: 0.75,
            critical: 0.90,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Ok,
    Warn,
    Critical,
}

impl Thresholds {
    pub fn level(&self, utilisation: f64) -> Level {
        if utilisation >= self.critical {
            Level::Critical
        } else if utilisation >= self.warn {
            Level::Warn
        } else {
            Level::Ok
        }
    }
}

/// The pod behind a pod IP, from the fleet store's index.
#[derive(Debug, Clone, PartialEq)]
pub struct PodInfo {
    pub namespace: String,
    pub name: String,
    pub workload: String,
    pub ready: bool,
}

/// What the cluster says about addresses (the fleet store, for a region).
pub trait Lookup {
    /// Nodes as (name, InternalIP).
    fn nodes(&self) -> Vec<(String, String)>;
    fn pod_by_ip(&self, ip: &str) -> Option<PodInfo>;
}

/// The node an `instance` label names: by node name or InternalIP, with
/// or without a port (`10.0.0.3:9100`, `[fd00::3]:9100`, `node-03`).
pub fn instance_node(instance: &str, nodes: &[(String, String)]) -> Option<String> {
    let host = if let Some(rest) = instance.strip_prefix('[') {
        rest.split(']').next().unwrap_or(rest)
    } else if instance.matches(':').count() == 1 {
        instance.split(':').next().unwrap_or(instance)
    } else {
        instance
    };
    nodes
        .iter()
        .find(|(name, ip)| name == host || ip == host)
        .map(|(name, _)| name.clone())
}

#[derive(Debug, Clone, PartialEq)]
pub enum Finding {
    /// Conntrack above a threshold: node, utilisation.
    Conntrack {
        node: String,
        level: Level,
        utilisation: f64,
    },
    /// Drops or failed inserts per second above zero.
    Drops {
        node: String,
        drop: f64,
        insert_failed: f64,
    },
    /// A real server whose IP has no pod.
    StaleBackend { virt: String, real: String },
    /// A real server whose pod is not ready.
    UnreadyBackend {
        virt: String,
        real: String,
        pod: String,
    },
    /// Weight 0 with active connections.
    WeightZero {
        virt: String,
        real: String,
        active: f64,
    },
}

impl Finding {
    pub fn level(&self) -> Level {
        match self {
            Finding::Conntrack { level, .. } => *level,
            Finding::Drops { .. } | Finding::StaleBackend { .. } => Level::Critical,
            Finding::UnreadyBackend { .. } | Finding::WeightZero { .. } => Level::Warn,
        }
    }

    /// One line for triage and the pane's flags.
    pub fn text(&self) -> String {
        match self {
            Finding::Conntrack {
                node, utilisation, ..
            } => format!("conntrack {:.0}% full on {node}", utilisation * 100.0),
            Finding::Drops {
                node,
                drop,
                insert_failed,
            } => format!(
                "conntrack drops on {node}: {drop:.1}/s dropped, {insert_failed:.1}/s insert_failed"
            ),
            Finding::StaleBackend { virt, real } => {
                format!("stale LVS backend {real} of {virt}: no pod")
            }
            Finding::UnreadyBackend { virt, real, pod } => {
                format!("LVS backend {real} of {virt}: pod {pod} not ready")
            }
            Finding::WeightZero { virt, real, active } => {
                format!("LVS backend {real} of {virt}: weight 0 with {active:.0} active")
            }
        }
    }
}

pub fn virt_name(k: &VirtualKey) -> String {
    if k.address.is_empty() && !k.mark.is_empty() {
        format!("{} fwmark {}", k.proto, k.mark)
    } else {
        format!("{} {}:{}", k.proto, k.address, k.port)
    }
}

/// Everything worth a flag in a region, worst first. A real server seen
/// by several directors is flagged once.
pub fn findings(net: &RegionNet, lookup: &dyn Lookup, th: &Thresholds) -> Vec<Finding> {
    let mut out = Vec::new();
    for (node, n) in &net.nodes {
        if let Some(u) = n.utilisation() {
            let level = th.level(u);
            if level != Level::Ok {
                out.push(Finding::Conntrack {
                    node: node.clone(),
                    level,
                    utilisation: u,
                });
            }
        }
        let r = n.rates();
        if r.drop > 0.0 || r.insert_failed > 0.0 {
            out.push(Finding::Drops {
                node: node.clone(),
                drop: r.drop,
                insert_failed: r.insert_failed,
            });
        }
    }
    let mut seen = BTreeSet::new();
    for (k, reals) in &net.virtuals {
        let virt = virt_name(k);
        for r in reals {
            let real = format!("{}:{}", r.ip, r.port);
            if !seen.insert((virt.clone(), real.clone())) {
                continue;
            }
            match lookup.pod_by_ip(&r.ip) {
                None => out.push(Finding::StaleBackend {
                    virt: virt.clone(),
                    real: real.clone(),
                }),
                Some(p) if !p.ready => out.push(Finding::UnreadyBackend {
                    virt: virt.clone(),
                    real: real.clone(),
                    pod: format!("{}/{}", p.namespace, p.name),
                }),
                Some(_) => {}
            }
            if r.weight == 0.0 && r.active > 0.0 {
                out.push(Finding::WeightZero {
                    virt: virt.clone(),
                    real,
                    active: r.active,
                });
            }
        }
    }
    out.sort_by_key(|f| std::cmp::Reverse(f.level()));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::panes::network::expo::parse;

    struct Fake;
    impl Lookup for Fake {
        fn nodes(&self) -> Vec<(String, String)> {
            vec![
                ("n1".into(), "10.0.0.1".into()),
                ("n2".into(), "10.0.0.2".into()),
            ]
        }
        fn pod_by_ip(&self, ip: &str) -> Option<PodInfo> {
            let pod = |name: &str, ready| PodInfo {
                namespace: "shop".into(),
                name: name.into(),
                workload: "web".into(),
                ready,
            };
            match ip {
                "10.64.0.2" => Some(pod("web-a", true)),
                "10.64.0.3" => Some(pod("web-b", false)),
                _ => None,
            }
        }
    }

    #[test]
    fn thresholds_are_inclusive_and_configurable() {
        let th = Thresholds::default();
        assert_eq!(th.level(0.7499), Level::Ok);
        assert_eq!(th.level(0.75), Level::Warn);
        assert_eq!(th.level(0.90), Level::Critical);
        let strict = Thresholds {
            warn: 0.5,
            critical: 0.6,
        };
        assert_eq!(strict.level(0.55), Level::Warn);
    }

    #[test]
    fn instance_maps_by_name_or_internal_ip() {
        let nodes = Fake.nodes();
        assert_eq!(
            instance_node("10.0.0.2:9100", &nodes).as_deref(),
            Some("n2")
        );
        assert_eq!(instance_node("n1", &nodes).as_deref(), Some("n1"));
        assert_eq!(instance_node("n1:9100", &nodes).as_deref(), Some("n1"));
        assert_eq!(instance_node("10.0.0.9:9100", &nodes), None);
        let v6 = vec![("n6".to_string(), "fd00::6".to_string())];
        assert_eq!(instance_node("[fd00::6]:9100", &v6).as_deref(), Some("n6"));
        assert_eq!(instance_node("fd00::6", &v6).as_deref(), Some("n6"));
    }

    fn rs(ip: &str, weight: u32, active: u32) -> String {
        let l = format!("local_address=\"10.96.0.1\",local_mark=\"\",local_port=\"80\",proto=\"TCP\",remote_address=\"{ip}\",remote_port=\"8080\"");
        format!("node_ipvs_backend_weight{{{l}}} {weight}\nnode_ipvs_backend_connections_active{{{l}}} {active}\n")
    }

    #[test]
    fn flags_stale_unready_weight_zero_hot_and_drops() {
        let mut net = RegionNet::default();
        let lvs = format!(
            "{}{}{}",
            rs("10.64.0.2", 0, 4),
            rs("10.64.0.3", 1, 2),
            rs("10.64.0.9", 1, 3)
        );
        let hot = "node_nf_conntrack_entries 950\nnode_nf_conntrack_entries_limit 1000\nnode_nf_conntrack_stat_drop 0\nnode_nf_conntrack_stat_insert_failed 0\n";
        net.ingest("n1", 0.0, &parse(&format!("{hot}{lvs}")).samples);
        // The same table on a second director is flagged once.
        net.ingest("n2", 0.0, &parse(&lvs).samples);
        net.ingest("n1", 10.0, &parse("node_nf_conntrack_entries 960\nnode_nf_conntrack_entries_limit 1000\nnode_nf_conntrack_stat_drop 50\nnode_nf_conntrack_stat_insert_failed 0\n").samples);
        let f = findings(&net, &Fake, &Thresholds::default());
        let texts: Vec<String> = f.iter().map(Finding::text).collect();
        assert_eq!(f.len(), 5, "{texts:#?}");
        assert!(
            texts.contains(&"conntrack 96% full on n1".to_string()),
            "{texts:#?}"
        );
        assert!(texts
            .contains(&"conntrack drops on n1: 5.0/s dropped, 0.0/s insert_failed".to_string()));
        assert!(texts
            .contains(&"stale LVS backend 10.64.0.9:8080 of TCP 10.96.0.1:80: no pod".to_string()));
        assert!(texts.contains(
            &"LVS backend 10.64.0.3:8080 of TCP 10.96.0.1:80: pod shop/web-b not ready".to_string()
        ));
        assert!(texts.contains(
            &"LVS backend 10.64.0.2:8080 of TCP 10.96.0.1:80: weight 0 with 4 active".to_string()
        ));
        assert!(
            f.first().is_some_and(|x| x.level() == Level::Critical),
            "worst first"
        );
        // Below the thresholds and without drops: nothing.
        let mut calm = RegionNet::default();
        calm.ingest(
            "n1",
            0.0,
            &parse("node_nf_conntrack_entries 10\nnode_nf_conntrack_entries_limit 1000\n").samples,
        );
        assert!(findings(&calm, &Fake, &Thresholds::default()).is_empty());
    }
}
