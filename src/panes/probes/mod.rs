//! The probe failures pane: one row per (region, workload, probe) from the
//! kubelet's Unhealthy and Killing events, with a trend and the selected
//! row's detail. The book is `incident::probes`; `view` draws it; the
//! reducer below is what its keys do (move, Enter lands on the workload's
//! pods).

pub mod view;

use crate::action::Action;
use crate::incident::triage::PodsTarget;
use crate::state::State;
use crate::update::Effect;
use crate::widgets::movement;

pub fn on_action(state: &mut State, action: Action) -> Option<Vec<Effect>> {
    state
        .incident
        .refresh(&state.pods, &state.regions, state.now);
    if let Some(delta) = movement(action, state.ui.list_page()) {
        let inc = &mut state.incident;
        let keys = inc.probe_keys();
        inc.probes_cursor.move_by(delta, &keys);
        inc.sync_probes(state.pods.owners(), state.now);
        return Some(Vec::new());
    }
    match action {
        Action::Select => {
            let target = state.incident.selected_probe().map(|r| {
                let w = &r.key.workload;
                PodsTarget {
                    region: w.region,
                    namespace: Some(w.namespace.clone()),
                    owner: (w.kind != "Pod").then(|| (w.kind.clone(), w.name.clone())),
                }
            });
            if let Some(target) = target {
                crate::panes::pods::show_target(state, target);
            }
            Some(Vec::new())
        }
        _ => None,
    }
}
