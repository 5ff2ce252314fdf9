//! The join's `Lookup` over the fleet store: a real server's IP to the pod
//! that has it in that region (the store's index by pod IP), and the nodes
//! the region's pods run on.

use super::join::{Lookup, PodInfo};
use crate::fleet::store::Store;
use crate::model::RegionId;

pub struct StoreLookup<'a> {
    pub store: &'a Store,
    pub region: RegionId,
    /// (name, InternalIP) when known; names seen on pods are added.
    pub nodes: Vec<(String, String)>,
}

impl Lookup for StoreLookup<'_> {
    fn nodes(&self) -> Vec<(String, String)> {
        let mut out = self.nodes.clone();
        for r in self.store.rows().filter(|r| r.region == self.region) {
            if !r.node.is_empty() && !out.iter().any(|(n, _)| *n == r.node) {
                out.push((r.node.clone(), String::new()));
            }
        }
        out
    }

    fn pod_by_ip(&self, ip: &str) -> Option<PodInfo> {
        // A terminating pod keeps its IP a little while; a live one wins.
        let rows: Vec<_> = self
            .store
            .with_ip(self.region, ip)
            .filter_map(|slot| self.store.get(slot))
            .collect();
        let row = rows.iter().find(|r| !r.deleting).or(rows.first())?;
        Some(PodInfo {
            namespace: row.namespace.clone(),
            name: row.name.clone(),
            workload: row.owner_name.clone(),
            ready: !row.deleting && row.total > 0 && row.ready == row.total,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::PodRow;

    fn row(region: RegionId, name: &str, ip: &str, ready: u16) -> PodRow {
        PodRow {
            region,
            uid: format!("uid-{name}"),
            namespace: "shop".into(),
            name: name.into(),
            ready,
            total: 1,
            node: "n1".into(),
            ip: ip.into(),
            owner_kind: "ReplicaSet".into(),
            owner_name: "web-7d9f".into(),
            ..Default::default()
        }
    }

    #[test]
    fn real_server_ip_to_pod_per_region() {
        let mut store = Store::new(2);
        store.upsert(row(0, "web-a", "10.64.0.2", 1));
        store.upsert(row(0, "web-b", "10.64.0.3", 0));
        store.upsert(row(1, "web-c", "10.64.0.9", 1));
        let l = StoreLookup {
            store: &store,
            region: 0,
            nodes: Vec::new(),
        };
        let a = l.pod_by_ip("10.64.0.2").expect("a pod");
        assert_eq!(
            (a.name.as_str(), a.ready, a.workload.as_str()),
            ("web-a", true, "web-7d9f")
        );
        assert!(!l.pod_by_ip("10.64.0.3").expect("b").ready);
        assert_eq!(
            l.pod_by_ip("10.64.0.9"),
            None,
            "another region's pod is no pod here"
        );
        assert_eq!(l.nodes(), vec![("n1".to_string(), String::new())]);
    }
}
