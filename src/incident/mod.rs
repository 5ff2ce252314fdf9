//! Probe failures and incident triage: pure, no IO. The probe book is fed
//! by events; triage ranks what the fleet store (pods by owner, workloads),
//! the probe rows and region health say. Nothing here holds pods.

pub mod present;
pub mod probes;
pub mod triage;

use crate::fleet::health::RegionState;
use crate::fleet::owners::OwnerIndex;
use crate::fleet::stream::{Change, Update};
use crate::model::{EventRow, RegionId, Timestamp};
use crate::msg::Health;
use probes::ProbeBook;
use triage::RegionState as RegionView;

pub use crate::fleet::lean::parse_time;
pub use crate::fleet::stream::IncidentUpdate;

/// One step of a region's events into the probe book. Returns true when a
/// probe row may have changed. A relist needs no bookkeeping: counts
/// already seen are remembered, so listing an event again adds nothing.
pub fn apply_events(
    book: &mut ProbeBook,
    pods: &OwnerIndex,
    region: RegionId,
    update: Update<EventRow>,
    now: Timestamp,
) -> bool {
    match update {
        Update::ListStart { .. } | Update::ListDone { .. } => false,
        Update::ListPage(rows) => rows
            .iter()
            .fold(false, |c, ev| book.apply_event(ev, pods, now) | c),
        Update::Changes(changes) => changes.into_iter().fold(false, |c, ch| match ch {
            Change::Upsert(ev) => book.apply_event(&ev, pods, now) | c,
            Change::Delete(uid) => {
                book.remove_event(region, &uid);
                c
            }
        }),
    }
}

/// A region as triage reads it, from its badge and since when it is down.
pub fn region_view(r: &RegionState) -> RegionView {
    let since = r.down_since.unwrap_or_default();
    match &r.health {
        Health::Connecting | Health::Syncing => RegionView::Syncing,
        Health::Live => RegionView::Live,
        Health::Stale { since, .. } => RegionView::Stale { since: *since },
        Health::Unauthorized(m) => RegionView::Unauthorized {
            reason: m.clone(),
            since,
        },
        Health::Forbidden(m) => RegionView::Forbidden {
            reason: m.clone(),
            since,
        },
        Health::Unreachable(m) | Health::Error(m) => RegionView::Unreachable {
            reason: m.clone(),
            since,
        },
    }
}

/// For the ranking tests: the probe book with a by-owner pod index,
/// workloads and region views beside it, as the cockpit keeps the fleet
/// store and region health beside it.
#[cfg(test)]
pub(crate) mod fixture {
    use super::*;
    use crate::fleet::store::workloads::Workloads;
    use crate::fleet::workloads::WorkloadInfo;
    use crate::model::PodRow;
    use probes::ProbeRow;
    use triage::{TriageInput, TriageItem};

    #[derive(Debug, Default)]
    pub struct Incident {
        pub probes: ProbeBook,
        pub pods: OwnerIndex,
        pub workloads: Workloads,
        pub regions: Vec<RegionView>,
    }

    impl Incident {
        pub fn apply_pod(&mut self, pod: &PodRow, now: Timestamp) {
            self.pods.upsert(pod, now);
        }

        pub fn remove_pod(&mut self, region: RegionId, uid: &str) {
            if let Some(key) = self.pods.remove(region, uid) {
                self.probes.remove_pod(&key, uid);
            }
        }

        pub fn apply_event(&mut self, ev: &EventRow, now: Timestamp) -> bool {
            self.probes.apply_event(ev, &self.pods, now)
        }

        pub fn apply_workload(&mut self, info: WorkloadInfo, now: Timestamp) {
            self.workloads.upsert(info, now);
        }

        pub fn set_region(&mut self, region: RegionId, state: RegionView) {
            if self.regions.len() <= region {
                self.regions.resize(region + 1, RegionView::Syncing);
            }
            self.regions[region] = state;
        }

        pub fn probe_rows(&self, now: Timestamp) -> Vec<ProbeRow> {
            self.probes.rows(&self.pods, self.workloads.rows(), now)
        }

        pub fn triage(&self, now: Timestamp) -> Vec<TriageItem> {
            let rows = self.probe_rows(now);
            triage::triage(
                &TriageInput {
                    pods: &self.pods,
                    workloads: self.workloads.rows(),
                    probe_rows: &rows,
                    regions: &self.regions,
                    rollout_since: self.workloads.rollout_since(),
                },
                now,
            )
        }
    }
}
