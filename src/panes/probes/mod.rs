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
use crate::fleet::store::events::EventOutcome;
use crate::fleet::store::Store;
use crate::fleet::stream::Update;
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

/// One step of a region's events into the fleet store, and from the
/// store's outcomes into the probe book. Returns true when a probe row may
/// have changed. A relisted identical event is no outcome, and counts
/// already seen are remembered, so listing an event again adds nothing.
pub fn apply_events(
    store: &mut Store,
    book: &mut ProbeBook,
    region: RegionId,
    update: Update<EventRow>,
    now: Timestamp,
) -> bool {
    let mut changed = false;
    store.apply_events(region, update, |outcome, pods| match outcome {
        EventOutcome::New(ev) => changed |= book.apply_event(ev, pods, now),
        EventOutcome::Changed {
            row,
            count_before,
            last_seen_before,
        } => {
            // the store knows what was already counted, even when the
            // book's own cap forgot this event
            book.remember_event(row, count_before, last_seen_before);
            changed |= book.apply_event(row, pods, now);
        }
        EventOutcome::Gone(region, uid) => book.remove_event(region, uid),
    });
    changed
}
