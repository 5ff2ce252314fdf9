//! State of the triage and probes panes: the incident aggregate (fed by
//! the reducers) and the lists drawn from it, recomputed before a draw
//! only when something changed (or the clock moved).

use crate::fleet::owners::OwnerIndex;
use crate::incident::probes::{ProbeDetail, ProbeKey, ProbeRow};
use crate::incident::triage::{RegionState as TriageRegion, TriageId, TriageItem};
use crate::incident::IncidentState;
use crate::model::{RegionId, Timestamp};
use crate::msg::Health;
use crate::widgets::StableCursor;

#[derive(Debug, Default)]
pub struct IncidentPanes {
    pub book: IncidentState,
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
    pub fn refresh(&mut self, pods: &OwnerIndex, now: Timestamp) {
        if !self.dirty && self.computed_at == now {
            return;
        }
        self.dirty = false;
        self.computed_at = now;
        self.probe_rows = self.book.probe_rows(pods, now);
        self.triage = self.book.triage_with(pods, &self.probe_rows, now);
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
            .and_then(|k| self.book.probe_detail(pods, k, now));
    }

    pub fn selected_triage(&self) -> Option<&TriageItem> {
        self.triage.get(self.triage_cursor.cursor)
    }

    pub fn selected_probe(&self) -> Option<&ProbeRow> {
        self.probe_rows.get(self.probes_cursor.cursor)
    }

    /// The region badge changed: triage lists regions that are not live
    /// and marks their items stale.
    pub fn set_region_health(&mut self, region: RegionId, health: &Health, now: Timestamp) {
        let prev_since = match self.book.regions.get(region) {
            Some(
                TriageRegion::Stale { since }
                | TriageRegion::Unreachable { since, .. }
                | TriageRegion::Unauthorized { since, .. }
                | TriageRegion::Forbidden { since, .. },
            ) => Some(*since),
            _ => None,
        };
        let since = prev_since.unwrap_or(now);
        let state = match health {
            Health::Connecting | Health::Syncing => TriageRegion::Syncing,
            Health::Live => TriageRegion::Live,
            Health::Stale { since, .. } => TriageRegion::Stale { since: *since },
            Health::Unauthorized(m) => TriageRegion::Unauthorized {
                reason: m.clone(),
                since,
            },
            Health::Forbidden(m) => TriageRegion::Forbidden {
                reason: m.clone(),
                since,
            },
            Health::Unreachable(m) | Health::Error(m) => TriageRegion::Unreachable {
                reason: m.clone(),
                since,
            },
        };
        self.book.set_region(region, state);
        self.dirty = true;
    }
}
