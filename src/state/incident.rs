//! The triage and probes panes' states (`panes/triage/state.rs`,
//! `panes/probes/state.rs`) refresh together: probe rows feed triage. Both
//! are recomputed before a draw only when their inputs changed (or the
//! clock moved).

use crate::fleet::health::RegionState;
use crate::fleet::store::Store;
use crate::model::Timestamp;
use crate::panes::probes::state::ProbesState;
use crate::panes::triage::state::TriageState;

#[derive(Debug, Default)]
pub struct IncidentPanes {
    pub triage: TriageState,
    pub probes: ProbesState,
    /// When the lists change by the clock alone (an unready pod's grace
    /// period ends), if that is sooner than the next minute tick.
    pub next_change: Option<Timestamp>,
    /// The network pane's findings for triage (`panes::network`).
    pub network: Vec<crate::panes::triage::rank::NetworkTrouble>,
    dirty: bool,
    computed_at: Timestamp,
}

impl IncidentPanes {
    pub fn mark_dirty(&mut self) {
        self.dirty = true;
    }

    /// Brings both lists up to date; keeps each cursor on its item.
    pub fn refresh(&mut self, store: &Store, regions: &[RegionState], now: Timestamp) {
        if !self.dirty && self.computed_at == now {
            return;
        }
        self.dirty = false;
        self.computed_at = now;
        self.probes.refresh(store, now);
        self.triage
            .refresh(store, regions, &self.probes.rows, &self.network, now);
        self.next_change = store.owners().next_grace_end(now);
    }
}
