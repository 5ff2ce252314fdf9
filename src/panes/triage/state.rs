//! The triage pane's state: the ranked items and the cursor that follows
//! an item through re-ranking.

use super::rank::{triage, TriageId, TriageInput, TriageItem};
use crate::fleet::health::RegionState;
use crate::fleet::store::Store;
use crate::model::Timestamp;
use crate::panes::probes::book::ProbeRow;
use crate::widgets::StableCursor;

#[derive(Debug, Default)]
pub struct TriageState {
    /// Ranked (see `rank::triage`).
    pub items: Vec<TriageItem>,
    pub cursor: StableCursor<TriageId>,
}

impl TriageState {
    /// Ranks what the store, the probe rows and region health say; the
    /// cursor keeps its item.
    pub fn refresh(
        &mut self,
        store: &Store,
        regions: &[RegionState],
        probe_rows: &[ProbeRow],
        network: &[super::rank::NetworkTrouble],
        now: Timestamp,
    ) {
        let regions: Vec<_> = regions.iter().map(super::region_view).collect();
        let workloads = store.workloads();
        self.items = triage(
            &TriageInput {
                pods: store.owners(),
                workloads: workloads.rows(),
                probe_rows,
                regions: &regions,
                rollout_since: workloads.rollout_since(),
                network,
            },
            now,
        );
        let ids = self.ids();
        self.cursor.sync(&ids);
    }

    pub fn ids(&self) -> Vec<TriageId> {
        self.items.iter().map(|i| i.id.clone()).collect()
    }

    pub fn selected(&self) -> Option<&TriageItem> {
        self.items.get(self.cursor.cursor)
    }
}
