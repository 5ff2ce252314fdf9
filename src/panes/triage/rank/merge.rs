//! One cause, one item: the triage items that describe the same trouble
//! of the same workload, folded into one.

use super::{Problem, TriageItem};
use crate::fleet::workloads::ProbeKind;
use crate::model::RegionId;

/// Folds `from` into `into`: the two describe one trouble of one workload.
/// The merged item is as severe as the worse of the two and started when
/// the first did; `into` keeps its identity and its target (the pods).
fn absorb(into: &mut TriageItem, from: TriageItem, detail: String) {
    into.score = into.score.max(from.score);
    into.level = into.level.max(from.level);
    into.since = match (into.since, from.since) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    into.stale |= from.stale;
    into.detail = detail;
}

fn joined(parts: &[&str]) -> String {
    let parts: Vec<&str> = parts.iter().copied().filter(|p| !p.is_empty()).collect();
    parts.join("; ")
}

/// One cause, one item: per workload, the items that describe the same
/// trouble become one, worded by the strongest.
/// - pods crash-looping or unable to start while a rollout is under way or
///   stuck: `rollout of search stuck: 12/30 pods CrashLoopBackOff`;
/// - liveness failing on crash-looping pods: the crash loop;
/// - readiness failing on unready pods: the unready pods.
///
/// Other items of the workload (an OOM kill, a paused rollout) stay apart.
pub(super) fn merge_same_cause(items: Vec<TriageItem>) -> Vec<TriageItem> {
    use std::collections::BTreeMap;
    type Workload = (RegionId, String, String, String);
    let workload = |i: &TriageItem| -> Option<Workload> {
        let workload_kind = !i.id.namespace.is_empty()
            && !matches!(
                i.id.kind.as_str(),
                "Node" | "VirtualService" | "Region" | "Fleet"
            );
        workload_kind.then(|| {
            (
                i.id.region,
                i.id.namespace.clone(),
                i.id.kind.clone(),
                i.id.name.clone(),
            )
        })
    };
    let mut out = Vec::with_capacity(items.len());
    let mut groups: BTreeMap<Workload, Vec<TriageItem>> = BTreeMap::new();
    for item in items {
        match workload(&item) {
            Some(w) => groups.entry(w).or_default().push(item),
            None => out.push(item),
        }
    }
    for (_, mut group) in groups {
        let take = |group: &mut Vec<TriageItem>, f: &dyn Fn(Problem) -> bool| {
            group
                .iter()
                .position(|i| f(i.id.problem))
                .map(|at| group.remove(at))
        };
        // the rollout goes into the worse of crash loop / cannot start
        let pods_down = |p| matches!(p, Problem::CrashLoop | Problem::CannotStart);
        if group.iter().any(|i| pods_down(i.id.problem)) {
            let rolling = |p| matches!(p, Problem::RolloutInProgress | Problem::RolloutStuck);
            if let Some(rollout) = take(&mut group, &rolling) {
                group.sort_by_key(|i| std::cmp::Reverse(i.score));
                if let Some(pods) = group.iter_mut().find(|i| pods_down(i.id.problem)) {
                    pods.how_bad = format!("rollout of {} stuck: {}", pods.id.name, pods.how_bad);
                    let detail = if pods.id.problem == Problem::CannotStart {
                        // its detail is the reason, already in how_bad
                        joined(&[&rollout.how_bad, &rollout.detail])
                    } else {
                        joined(&[&pods.detail, &rollout.how_bad, &rollout.detail])
                    };
                    absorb(pods, rollout, detail);
                }
            }
        }
        let liveness = |p| p == Problem::ProbeFailures(ProbeKind::Liveness);
        if group.iter().any(|i| i.id.problem == Problem::CrashLoop) {
            if let Some(probe) = take(&mut group, &liveness) {
                if let Some(crash) = group
                    .iter_mut()
                    .find(|i| i.id.problem == Problem::CrashLoop)
                {
                    let why = format!("liveness failing ({}): {}", probe.how_bad, probe.detail);
                    let detail = joined(&[&crash.detail, &why]);
                    absorb(crash, probe, detail);
                }
            }
        }
        let readiness = |p| p == Problem::ProbeFailures(ProbeKind::Readiness);
        if group.iter().any(|i| i.id.problem == Problem::Unready) {
            if let Some(probe) = take(&mut group, &readiness) {
                if let Some(unready) = group.iter_mut().find(|i| i.id.problem == Problem::Unready) {
                    let why = format!("readiness failing ({}): {}", probe.how_bad, probe.detail);
                    let detail = joined(&[&unready.detail, &why]);
                    absorb(unready, probe, detail);
                }
            }
        }
        out.extend(group);
    }
    out
}
