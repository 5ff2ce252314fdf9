//! What each named action does to the state.

use super::keys::set_filter;
use super::{palette, Effect};
use crate::action::Action;
use crate::state::{DescribeView, Modal, Pane, State, ViewSpec};
use tui_textarea::TextArea;

pub fn apply(state: &mut State, action: Action) -> Vec<Effect> {
    state.refresh_view();
    if state.ui.modal.is_some() {
        return apply_modal(state, action);
    }
    if super::incident::on_action(state, action) {
        return Vec::new();
    }
    match action {
        Action::Quit => {
            state.quit = true;
            return vec![Effect::Quit];
        }
        Action::Help => state.ui.modal = Some(Modal::Help { scroll: 0 }),
        Action::Palette => palette::open(state),
        Action::FocusNext | Action::FocusPrev => cycle_focus(state, action == Action::FocusNext),
        Action::ShowPods => state.ui.focus = Pane::Pods,
        Action::ShowTriage => state.ui.focus = Pane::Triage,
        Action::ShowProbes => state.ui.focus = Pane::Probes,
        Action::Up => move_cursor(state, -1),
        Action::Down => move_cursor(state, 1),
        Action::PageUp => move_cursor(state, -(page(state) as isize)),
        Action::PageDown => move_cursor(state, page(state) as isize),
        Action::Top => move_cursor(state, isize::MIN / 2),
        Action::Bottom => move_cursor(state, isize::MAX / 2),
        Action::Filter => {
            let mut input = TextArea::new(vec![state.pods.view_spec().filter.clone()]);
            input.move_cursor(tui_textarea::CursorMove::End);
            state.ui.filter_input = Some(input);
        }
        Action::ClearFilter => {
            state.ui.filter_input = None;
            state.pods.set_view_spec(ViewSpec {
                sort: state.pods.view_spec().sort,
                reverse: state.pods.view_spec().reverse,
                ..ViewSpec::default()
            });
            set_filter(state, String::new());
        }
        Action::SortNext | Action::SortPrev | Action::SortReverse => {
            let mut spec = state.pods.view_spec().clone();
            match action {
                Action::SortNext => spec.sort = spec.sort.next(),
                Action::SortPrev => spec.sort = spec.sort.prev(),
                _ => spec.reverse = !spec.reverse,
            }
            state.pods.set_view_spec(spec);
        }
        Action::ScopeRegion => {
            let mut spec = state.pods.view_spec().clone();
            let n = state.regions.len();
            spec.region = match spec.region {
                None if n > 0 => Some(0),
                Some(r) if r + 1 < n => Some(r + 1),
                _ => None,
            };
            spec.namespace = None;
            state.pods.set_view_spec(spec);
        }
        Action::ScopeNamespace => {
            let mut spec = state.pods.view_spec().clone();
            let all = state.pods.namespaces(spec.region);
            spec.namespace = match &spec.namespace {
                None => all.first().cloned(),
                Some(ns) => all.iter().skip_while(|n| *n != ns).nth(1).cloned(),
            };
            state.pods.set_view_spec(spec);
        }
        Action::ProblemsOnly => {
            let mut spec = state.pods.view_spec().clone();
            spec.problems_only = !spec.problems_only;
            state.pods.set_view_spec(spec);
        }
        Action::NextProblem => next_problem(state),
        Action::Describe | Action::Select => return describe(state),
        Action::Refresh => state.ui.full_redraw = true,
        Action::Back | Action::Cancel => state.ui.pending_keys.clear(),
        Action::Confirm | Action::Submit | Action::Complete => {}
    }
    state.refresh_view();
    Vec::new()
}

fn apply_modal(state: &mut State, action: Action) -> Vec<Effect> {
    let page = state.ui.size.1.saturating_sub(6).max(1) as isize;
    let delta = match action {
        Action::Back | Action::Cancel | Action::Quit | Action::ClearFilter => {
            state.ui.modal = None;
            return Vec::new();
        }
        Action::Up => -1,
        Action::Down => 1,
        Action::PageUp => -page,
        Action::PageDown => page,
        Action::Top => isize::MIN / 2,
        Action::Bottom => isize::MAX / 2,
        _ => return Vec::new(),
    };
    let help_lines: usize = crate::action::KeyContext::ALL
        .iter()
        .map(|c| {
            let n = super::bindings::bindings(&state.keymap, *c).len();
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

fn page(state: &State) -> usize {
    state.ui.pods.page.get().max(1)
}

fn move_cursor(state: &mut State, delta: isize) {
    let len = state.pods.view().len();
    if len == 0 {
        state.ui.pods.cursor = 0;
        state.ui.pods.selected = None;
        return;
    }
    let cur = state.ui.pods.cursor as isize;
    let next = cur.saturating_add(delta).clamp(0, len as isize - 1) as usize;
    select_index(state, next);
}

pub fn select_index(state: &mut State, index: usize) {
    state.ui.pods.cursor = index;
    state.ui.pods.selected = state.pods.view().get(index).copied();
}

fn next_problem(state: &mut State) {
    let view = state.pods.view();
    let n = view.len();
    let start = state.ui.pods.cursor;
    let found = (1..=n)
        .map(|i| (start + i) % n)
        .find(|&i| state.pods.get(view[i]).is_some_and(|row| !row.is_healthy()));
    if let Some(i) = found {
        select_index(state, i);
    } else {
        let now = state.now;
        state.ui.toast(
            crate::state::ToastLevel::Info,
            "no problem pods in view",
            now,
        );
    }
}

fn describe(state: &mut State) -> Vec<Effect> {
    let Some(row) = state.ui.pods.selected.and_then(|slot| state.pods.get(slot)) else {
        return Vec::new();
    };
    let (region, namespace, name) = (row.region, row.namespace.clone(), row.name.clone());
    state.ui.modal = Some(Modal::Describe(Box::new(DescribeView {
        title: format!("{} / {}/{}", state.region_name(region), namespace, name),
        lines: None,
        scroll: 0,
        region,
        namespace: namespace.clone(),
        name: name.clone(),
    })));
    vec![Effect::Describe {
        region,
        namespace,
        name,
    }]
}
