//! What each named action does: the global ones here (quit, help, focus,
//! scopes, redraw), every other one goes to the focused pane
//! (`panes::on_action`), which acts on it or ignores it.

use super::Effect;
use crate::action::Action;
use crate::model::ShowAs;
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
        // the selection comes from whichever pane has focus
        Action::Logs => panes::logs::keys::logs_of_selection(state),
        Action::Back | Action::Cancel => {
            state.ui.pending_keys.clear();
            // back from a pane shown in the pods pane's place: the pods
            if action == Action::Back && state.ui.focus.on_demand() {
                state.ui.focus = Pane::Pods;
            }
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
    if let Some(Modal::Describe(view)) = &mut state.ui.modal {
        match action {
            Action::Filter => {
                let mut input = tui_textarea::TextArea::new(vec![view.search.clone()]);
                input.move_cursor(tui_textarea::CursorMove::End);
                view.search_input = Some(input);
                return Vec::new();
            }
            Action::SearchNext | Action::SearchPrev => {
                if !view.seek(action == Action::SearchNext, false) && !view.search.is_empty() {
                    let text = format!("not found: {}", view.search);
                    let now = state.now;
                    state.ui.toast(crate::state::ToastLevel::Info, text, now);
                }
                return Vec::new();
            }
            Action::Yaml | Action::Describe => {
                let show = if action == Action::Yaml {
                    ShowAs::Yaml
                } else {
                    ShowAs::Describe
                };
                if view.show == show {
                    return Vec::new();
                }
                let (title, object) = (view.title.clone(), view.object.clone());
                let search = std::mem::take(&mut view.search);
                let effects = super::show_object(state, title, object, show);
                if let Some(Modal::Describe(view)) = &mut state.ui.modal {
                    view.search = search;
                }
                return effects;
            }
            _ => {}
        }
    }
    let page = state.ui.size.1.saturating_sub(6) as usize;
    let Some(delta) = crate::widgets::movement(action, page) else {
        return Vec::new();
    };
    let help_lines = crate::ui::overlays::help::line_count(state);
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
