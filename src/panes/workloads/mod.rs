//! The workloads pane: Deployments and StatefulSets of every region
//! (`state`, `view`), and acting on them and on pods (`act`): scale,
//! restart, undo, pause, resume, delete pod, the live rollout status.
//! `plan` turns a registry action and its target into a write-path change
//! or the permission a session needs; `rollout` reads a rollout as
//! `kubectl rollout status` does and lists revisions for undo.

pub mod act;
pub mod lookup;
pub mod plan;
pub mod rollout;
pub mod state;
pub mod view;

use crate::action::Action;
use crate::panes::triage::rank::PodsTarget;
use crate::state::State;
use crate::update::Effect;
use crate::widgets::movement;

/// The workloads pane's keys; `None` for actions that mean nothing here.
pub fn on_action(state: &mut State, action: Action) -> Option<Vec<Effect>> {
    let ws = &mut state.workloads;
    if let Some(delta) = movement(action, ws.cursor.page.get()) {
        let view = ws.view().to_vec();
        ws.cursor.move_by(delta, &view);
        return Some(act::want_offers(state));
    }
    match action {
        Action::SortNext => ws.sort_by(1),
        Action::SortPrev => ws.sort_by(-1),
        Action::SortReverse => ws.reverse = !ws.reverse,
        // the filter and the problems-only switch are the pods table's,
        // which this view follows
        Action::Filter | Action::ClearFilter | Action::ProblemsOnly => {
            return crate::panes::pods::on_action(state, action)
        }
        Action::Select => {
            let row = state.workloads.selected(&state.store)?;
            let key = act::key_of(&act::workload_target(row))?;
            crate::panes::pods::show_target(state, PodsTarget::workload(&key));
        }
        a if act::ROW_ACTIONS.contains(&a) => return Some(act::on_action(state, a)),
        // a session on a workload: one of its ready pods
        Action::Exec | Action::PortForward => {
            let Some(pod) = ready_pod_of_selected(state) else {
                state.ui.toast(
                    crate::state::ToastLevel::Warning,
                    "no ready pod of the selected workload",
                    state.now,
                );
                return Some(Vec::new());
            };
            return Some(if action == Action::Exec {
                crate::panes::exec::open_on(state, &pod)
            } else {
                crate::panes::forwards::open_on(state, &pod)
            });
        }
        _ => return None,
    }
    Some(Vec::new())
}

/// A ready pod of the selected workload (the first by name, so the choice
/// is stable), not being deleted.
fn ready_pod_of_selected(state: &State) -> Option<crate::model::PodRow> {
    let row = state.workloads.selected(&state.store)?;
    let key = act::key_of(&act::workload_target(row))?;
    let mut pods: Vec<&crate::model::PodRow> = state
        .store
        .owners()
        .pods_of(&key)?
        .keys()
        .filter_map(|uid| state.store.find(key.region, uid))
        .filter(|p| p.total > 0 && p.ready == p.total && !p.deleting)
        .collect();
    pods.sort_by(|a, b| a.name.cmp(&b.name));
    pods.first().map(|p| (*p).clone())
}

/// Before a draw: the view, the live status view, and the selection's
/// offers once known.
pub fn refresh(state: &mut State) {
    state.workloads.refresh(&state.store, &state.region_names);
    act::refresh_status(state);
}

#[cfg(test)]
pub(crate) mod pane_tests;
#[cfg(test)]
mod tests;
