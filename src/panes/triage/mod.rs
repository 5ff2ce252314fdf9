//! The triage pane: what is wrong right now across every region, ranked.
//! `rank` ranks it from the fleet store, the probe rows and region health;
//! `view` draws it; the reducer below is
//! what its keys do (move, Enter lands on the pods of the item).

pub mod rank;
pub mod state;
pub mod view;

use crate::action::Action;
use crate::fleet::health::RegionState;
use crate::msg::Health;
use crate::state::State;
use crate::update::Effect;
use crate::widgets::movement;
use rank::{PodsTarget, RegionState as RegionView};

pub fn on_action(state: &mut State, action: Action) -> Option<Vec<Effect>> {
    // a network item opens the network pane: the node's chart, or the LVS view
    if action == Action::Select {
        let net = state.incident.triage.selected().and_then(|i| {
            matches!(i.id.kind.as_str(), "Node" | "VirtualService")
                .then(|| (i.id.region, i.id.kind.clone(), i.id.name.clone()))
        });
        if let Some((region, kind, name)) = net {
            crate::panes::network::open_item(state, region, &kind, &name);
            return Some(Vec::new());
        }
    }
    list_keys(
        state,
        action,
        |state, delta| {
            let triage = &mut state.incident.triage;
            let ids = triage.ids();
            triage.cursor.move_by(delta, &ids);
        },
        |state| state.incident.triage.selected().map(|i| i.target.clone()),
    )
}

/// The keys of an incident list (triage, probes): movement moves its
/// cursor, Enter lands on the pods pane scoped to the selected item.
pub(crate) fn list_keys(
    state: &mut State,
    action: Action,
    move_by: fn(&mut State, isize),
    target: fn(&State) -> Option<PodsTarget>,
) -> Option<Vec<Effect>> {
    state
        .incident
        .refresh(&state.store, &state.regions, state.now);
    if let Some(delta) = movement(action, state.ui.list_page()) {
        move_by(state, delta);
        return Some(Vec::new());
    }
    if action != Action::Select {
        return None;
    }
    if let Some(target) = target(state) {
        crate::panes::pods::show_target(state, target);
    }
    Some(Vec::new())
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
        Health::Unreachable(m) => RegionView::Unreachable {
            reason: m.clone(),
            since,
        },
        // a configuration or credential problem, not the network
        Health::Error(m) => RegionView::Error {
            reason: m.clone(),
            since,
        },
    }
}

#[cfg(test)]
mod tests;
