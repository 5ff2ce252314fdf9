//! Where a key goes: the open modal first, then the focused text input, then
//! the keymap (focused pane, then global). Ctrl-Z always suspends.

use super::{dispatch, palette, Effect};
use crate::action::{Action, KeyContext};
use crate::keymap::{Key, Lookup};
use crate::panes::pods::set_filter;
use crate::state::{Modal, State};
use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

pub fn on_key(state: &mut State, ev: KeyEvent) -> Vec<Effect> {
    if ev.kind == KeyEventKind::Release {
        return Vec::new();
    }
    if ev.code == KeyCode::Char('z') && ev.modifiers.contains(KeyModifiers::CONTROL) {
        return vec![Effect::Suspend];
    }
    let key = Key::from_event(&ev);
    // the user has taken the wheel: focus no longer moves by itself
    state.ui.open_on_trouble = false;
    match state.ui.modal {
        Some(Modal::Palette(_)) => return palette::on_key(state, ev, key),
        Some(Modal::Confirm(_)) => return super::confirm::on_key(state, ev, key),
        Some(Modal::Workload(_)) => {
            return crate::panes::workloads::act::on_key(state, ev, key);
        }
        _ => {}
    }
    if let Some(Modal::Session(_)) = state.ui.modal {
        return crate::panes::exec::on_key(state, ev);
    }
    if state.ui.modal.is_none() && state.ui.filter_input.is_some() {
        return on_filter_key(state, ev, key);
    }
    if state.ui.modal.is_none()
        && state.ui.focus == crate::state::Pane::Logs
        && state.logs.input.is_some()
    {
        return crate::panes::logs::keys::on_input_key(state, ev, key);
    }
    if let Some(Modal::Describe(view)) = &mut state.ui.modal {
        if view.search_input.is_some() {
            return on_search_key(state, ev, key);
        }
    }
    state.ui.pending_keys.push(key);
    // overlays scroll with the table's movement keys
    let mut contexts = Vec::with_capacity(4);
    if let Some(modal) = &state.ui.modal {
        // a view (describe, YAML) searches with its own keys before the
        // dialog keys ([modal] `n` cancels a dialog, `n` searches a view)
        if matches!(modal, Modal::Describe(_)) {
            contexts.push(KeyContext::View);
        }
        contexts.push(KeyContext::Modal);
    } else if let Some(own) = state.ui.focus.def().keys {
        contexts.push(own);
    }
    contexts.extend([KeyContext::Table, KeyContext::Global]);
    match state.keymap.lookup(&contexts, &state.ui.pending_keys) {
        Lookup::Action(action) => {
            state.ui.pending_keys.clear();
            dispatch(state, action)
        }
        Lookup::Pending(_) => Vec::new(),
        Lookup::Unbound => {
            // A wrong second key of a sequence starts over with that key.
            let retry = state.ui.pending_keys.len() > 1;
            state.ui.pending_keys.clear();
            if retry {
                on_key(state, ev)
            } else {
                Vec::new()
            }
        }
    }
}

/// The describe view's search being typed: it jumps to the first match as
/// it is typed; Enter keeps it for `n`/`N`, Esc drops it.
fn on_search_key(state: &mut State, ev: KeyEvent, key: Key) -> Vec<Effect> {
    let action = match state.keymap.lookup(&[KeyContext::Input], &[key]) {
        Lookup::Action(a) => Some(a),
        _ if ev.code == KeyCode::Enter => Some(Action::Submit),
        _ if ev.code == KeyCode::Esc => Some(Action::Cancel),
        _ => None,
    };
    let Some(Modal::Describe(view)) = &mut state.ui.modal else {
        return Vec::new();
    };
    match action {
        Some(Action::Cancel) => {
            view.search_input = None;
            view.search.clear();
        }
        Some(Action::Submit) => view.search_input = None,
        _ => {
            if let Some(input) = &mut view.search_input {
                if input.input(ev) {
                    view.search = input.lines().first().cloned().unwrap_or_default();
                    view.seek(true, true);
                }
            }
        }
    }
    Vec::new()
}

fn on_filter_key(state: &mut State, ev: KeyEvent, key: Key) -> Vec<Effect> {
    let action = match state.keymap.lookup(&[KeyContext::Input], &[key]) {
        Lookup::Action(a) => Some(a),
        // a one-line input never takes a newline, whatever the keymap says
        _ if ev.code == KeyCode::Enter => Some(Action::Submit),
        _ if ev.code == KeyCode::Esc => Some(Action::Cancel),
        _ => None,
    };
    match action {
        Some(Action::Cancel) => {
            state.ui.filter_input = None;
            filter_focused(state, String::new());
        }
        Some(Action::Submit) => {
            state.ui.filter_input = None;
        }
        _ => {
            if let Some(input) = &mut state.ui.filter_input {
                if input.input(ev) {
                    let text = input.lines().first().cloned().unwrap_or_default();
                    filter_focused(state, text);
                }
            }
        }
    }
    Vec::new()
}

/// The filter typed goes to the focused pane's table.
fn filter_focused(state: &mut State, text: String) {
    if state.ui.focus == crate::state::Pane::Resources {
        crate::panes::resources::set_filter(state, text);
    } else {
        set_filter(state, text);
    }
}
