//! The triage pane: what is wrong right now across every region, ranked.
//! The ranking is `incident::triage`; `view` draws it; the reducer below is
//! what its keys do (move, Enter lands on the pods of the item).

pub mod view;

use crate::action::Action;
use crate::state::State;
use crate::update::Effect;
use crate::widgets::movement;

pub fn on_action(state: &mut State, action: Action) -> Option<Vec<Effect>> {
    state
        .incident
        .refresh(&state.pods, &state.regions, state.now);
    if let Some(delta) = movement(action, state.ui.list_page()) {
        let inc = &mut state.incident;
        let ids = inc.triage_ids();
        inc.triage_cursor.move_by(delta, &ids);
        return Some(Vec::new());
    }
    match action {
        Action::Select => {
            let target = state.incident.selected_triage().map(|i| i.target.clone());
            if let Some(target) = target {
                crate::panes::pods::show_target(state, target);
            }
            Some(Vec::new())
        }
        _ => None,
    }
}
