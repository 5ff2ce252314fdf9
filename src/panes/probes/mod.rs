//! The probe failures pane: one row per (region, workload, probe) from the
//! kubelet's Unhealthy and Killing events, with a trend and the selected
//! row's detail. `book` keeps the rows from the events, `present` words
//! them, `view` draws them; the
//! reducer below is what its keys do (move, Enter lands on the workload's
//! pods).

pub mod book;
pub mod present;
pub mod state;
pub mod view;

use crate::action::Action;
use crate::fleet::owners::OwnerIndex;
use crate::fleet::stream::{Change, Update};
use crate::model::{EventRow, RegionId, Timestamp};
use crate::panes::triage::rank::PodsTarget;
use crate::state::State;
use crate::update::Effect;
use book::ProbeBook;

pub fn on_action(state: &mut State, action: Action) -> Option<Vec<Effect>> {
    crate::panes::triage::list_keys(
        state,
        action,
        |state, delta| {
            let probes = &mut state.incident.probes;
            let keys = probes.keys();
            probes.cursor.move_by(delta, &keys);
            probes.sync(state.store.owners(), state.now);
        },
        |state| {
            let row = state.incident.probes.selected()?;
            Some(PodsTarget::workload(&row.key.workload))
        },
    )
}

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
