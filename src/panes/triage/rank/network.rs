//! Triage items from the network pane's findings (`NetworkTrouble`).

use super::{level, plural, PodsTarget, Problem, TriageId, TriageInput, TriageItem};
use crate::model::{RegionId, Timestamp};
use crate::panes::network::join::{Finding, Level as NetLevel};

/// Network items, one per cause: a node's conntrack (full and dropping is
/// one item, worded with both), a virtual service's stale backends, a
/// virtual service's weight-0 backends with connections. Unready backends
/// are left to the pod items (the pod is what is wrong).
pub(super) fn network_items(input: &TriageInput, out: &mut Vec<TriageItem>) {
    use std::collections::BTreeMap;
    // (region, kind, name, problem) -> (critical, parts of the wording, since)
    type Key = (RegionId, &'static str, String, Problem);
    let mut causes: BTreeMap<Key, (bool, Vec<String>, Timestamp)> = BTreeMap::new();
    for t in input.network {
        let (kind, name, problem, critical, part) = match &t.finding {
            Finding::Conntrack {
                node,
                level,
                utilisation,
            } => (
                "Node",
                node.clone(),
                Problem::Conntrack,
                *level == NetLevel::Critical,
                format!("conntrack {:.0}% full", utilisation * 100.0),
            ),
            Finding::Drops {
                node,
                drop,
                insert_failed,
            } => (
                "Node",
                node.clone(),
                Problem::Conntrack,
                true,
                format!("dropping {drop:.1}/s, insert_failed {insert_failed:.1}/s"),
            ),
            Finding::StaleBackend { virt, real } => (
                "VirtualService",
                virt.clone(),
                Problem::StaleBackend,
                true,
                format!("{real} no pod"),
            ),
            Finding::WeightZero { virt, real, active } => (
                "VirtualService",
                virt.clone(),
                Problem::WeightZero,
                false,
                format!("{real} weight 0 with {active:.0} active"),
            ),
            Finding::UnreadyBackend { .. } => continue,
        };
        let e =
            causes
                .entry((t.region, kind, name, problem))
                .or_insert((false, Vec::new(), t.since));
        e.0 |= critical;
        e.1.push(part);
        e.2 = e.2.min(t.since);
    }
    for ((region, kind, name, problem), (critical, mut parts, since)) in causes {
        // the conntrack figure first, then the drops
        parts.sort_by_key(|p| !p.starts_with("conntrack"));
        let score = match problem {
            Problem::Conntrack if critical => 66,
            p => p.base(),
        };
        let how_bad = match problem {
            Problem::StaleBackend => format!(
                "{} ({})",
                plural(parts.len() as u32, "stale backend", "stale backends"),
                parts.join(", ")
            ),
            _ => parts.join(", "),
        };
        out.push(TriageItem {
            id: TriageId {
                region,
                namespace: String::new(),
                kind: kind.into(),
                name,
                problem,
            },
            level: level(score),
            score,
            how_bad,
            detail: String::new(),
            since: Some(since),
            stale: false,
            target: PodsTarget {
                region,
                namespace: None,
                owner: None,
            },
        });
    }
}
