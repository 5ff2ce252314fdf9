//! State of the triage and probes panes: the incident aggregate (fed by
//! the reducers) and the lists drawn from it, recomputed before a draw
//! only when something changed (or the clock moved).

use crate::fleet::health::RegionState;
use crate::fleet::owners::OwnerIndex;
use crate::fleet::store::Store;
use crate::model::Timestamp;
use crate::panes::probes::book::ProbeBook;
use crate::panes::probes::book::{ProbeDetail, ProbeKey, ProbeRow};
use crate::panes::triage::rank::{TriageId, TriageInput, TriageItem};
use crate::widgets::StableCursor;

#[derive(Debug, Default)]
pub struct IncidentPanes {
    /// Probe failures from the kubelet's events.
    pub book: ProbeBook,
    /// Most severe first (see `ProbeBook::rows`).
    pub probe_rows: Vec<ProbeRow>,
    /// Ranked (see `triage::triage`).
    pub triage: Vec<TriageItem>,
    pub triage_cursor: StableCursor<TriageId>,
    pub probes_cursor: StableCursor<ProbeKey>,
    /// Pods and recent events of the selected probe row.
    pub probe_detail: Option<ProbeDetail>,
    /// When the lists change by the clock alone (an unready pod's grace
    /// period ends), if that is sooner than the next minute tick.
    pub next_change: Option<Timestamp>,
    dirty: bool,
    computed_at: Timestamp,
}

impl IncidentPanes {
    pub fn mark_dirty(&mut self) {
        self.dirty = true;
    }

    /// Brings the lists up to date; keeps each cursor on its item.
    pub fn refresh(&mut self, store: &Store, regions: &[RegionState], now: Timestamp) {
        if !self.dirty && self.computed_at == now {
            return;
        }
        self.dirty = false;
        self.computed_at = now;
        let (pods, workloads) = (store.owners(), store.workloads());
        self.probe_rows = self.book.rows(pods, workloads.rows(), now);
        let regions: Vec<_> = regions
            .iter()
            .map(crate::panes::triage::region_view)
            .collect();
        self.triage = crate::panes::triage::rank::triage(
            &TriageInput {
                pods,
                workloads: workloads.rows(),
                probe_rows: &self.probe_rows,
                regions: &regions,
                rollout_since: workloads.rollout_since(),
            },
            now,
        );
        self.next_change = pods.next_grace_end(now);
        let ids: Vec<TriageId> = self.triage.iter().map(|i| i.id.clone()).collect();
        self.triage_cursor.sync(&ids);
        self.sync_probes(pods, now);
    }

    pub fn probe_keys(&self) -> Vec<ProbeKey> {
        self.probe_rows.iter().map(|r| r.key.clone()).collect()
    }

    pub fn triage_ids(&self) -> Vec<TriageId> {
        self.triage.iter().map(|i| i.id.clone()).collect()
    }

    /// After the probes cursor moved: the detail follows the selection.
    pub fn sync_probes(&mut self, pods: &OwnerIndex, now: Timestamp) {
        let keys = self.probe_keys();
        self.probes_cursor.sync(&keys);
        self.probe_detail = self
            .probes_cursor
            .selected
            .as_ref()
            .and_then(|k| self.book.detail(k, pods, now));
    }

    pub fn selected_triage(&self) -> Option<&TriageItem> {
        self.triage.get(self.triage_cursor.cursor)
    }

    pub fn selected_probe(&self) -> Option<&ProbeRow> {
        self.probe_rows.get(self.probes_cursor.cursor)
    }
}
