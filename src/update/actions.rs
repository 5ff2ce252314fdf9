//! What each named action does: the global ones here (quit, help, focus,
//! scopes, redraw), every other one goes to the focused pane
//! (`panes::on_action`), which acts on it or ignores it.

use super::Effect;
use crate::action::Action;
use crate::panes::{self, Pane};
use crate::state::{Modal, State};

pub fn apply(state: &mut State, action: Action) -> Vec<Effect> {
    state.refresh_view();
    if state.ui.modal.is_some() {
        return apply_modal(state, action);
    }
    let effects = match action {
        Action::Quit => {
            state.quit = true;
            return vec![Effect::Quit];
        }
        Action::Help => {
            state.ui.modal = Some(Modal::Help { scroll: 0 });
            Vec::new()
        }
        Action::FocusNext | Action::FocusPrev => {
            cycle_focus(state, action == Action::FocusNext);
            Vec::new()
        }
        // the region and namespace scopes are global keys: they narrow the
        // pod table whichever pane has focus
        Action::ScopeRegion => {
            panes::pods::scope_region(state);
            Vec::new()
        }
        Action::ScopeNamespace => {
            panes::pods::scope_namespace(state);
            Vec::new()
        }
        Action::Refresh => {
            state.ui.full_redraw = true;
            Vec::new()
        }
        Action::Back | Action::Cancel => {
            state.ui.pending_keys.clear();
            Vec::new()
        }
        // from any table: the selection's timeline, its promotion
        Action::Timeline => panes::releases::open_timeline(state),
        Action::Promote => panes::releases::promote(state),
        // the releases pane starts reading revisions when it is shown
        Action::ShowReleases => {
            state.ui.focus = Pane::Releases;
            panes::releases::on_show(state)
        }
        _ => match Pane::shown_by(action) {
            Some(pane) => {
                state.ui.focus = pane;
                Vec::new()
            }
            None => panes::on_action(state, action),
        },
    };
    state.refresh_view();
    effects
}

fn apply_modal(state: &mut State, action: Action) -> Vec<Effect> {
    if matches!(
        action,
        Action::Back | Action::Cancel | Action::Quit | Action::ClearFilter
    ) {
        state.ui.modal = None;
        return Vec::new();
    }
    let page = state.ui.size.1.saturating_sub(6) as usize;
    let Some(delta) = crate::widgets::movement(action, page) else {
        return Vec::new();
    };
    let help_lines: usize = crate::action::KeyContext::ALL
        .iter()
        .map(|c| {
            let n = state.keymap.bindings(*c).len();
            if n == 0 {
                0
            } else {
                n + 1
            }
        })
        .sum::<usize>()
        + crate::ui::overlays::help::problem_line_count(state);
    let (scroll, content) = match &mut state.ui.modal {
        Some(Modal::Help { scroll }) => (scroll, help_lines),
        Some(Modal::Describe(view)) => {
            let n = view
                .lines
                .as_ref()
                .and_then(|l| l.as_ref().ok())
                .map_or(0, Vec::len);
            (&mut view.scroll, n)
        }
        _ => return Vec::new(),
    };
    // the overlay shows about a page; never scroll past its last line, so
    // the first key back up moves the view
    // (smallest overlay: header up to 3 rows, status bar, margins, borders)
    let visible = state.ui.size.1.saturating_sub(9) as usize;
    let max = content.saturating_sub(visible.max(1));
    *scroll = scroll.saturating_add_signed(delta).min(max);
    Vec::new()
}

fn cycle_focus(state: &mut State, forward: bool) {
    let all = state.ui.panes();
    let i = all.iter().position(|p| *p == state.ui.focus).unwrap_or(0);
    let n = all.len();
    state.ui.focus = all[if forward {
        (i + 1) % n
    } else {
        (i + n - 1) % n
    }];
}
