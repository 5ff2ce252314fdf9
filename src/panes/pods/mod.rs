//! The pods pane: every region's pods in one table. `state` holds the rows
//! and the cached view (filter, scopes, sort), `view` draws the visible
//! rows, and the reducer below is what its keys do.

pub mod state;
pub mod view;

use crate::action::Action;
use crate::model::{ApiObject, ShowAs};
use crate::panes::triage::rank::PodsTarget;
use crate::state::{Column, DescribeView, Modal, Pane, State, ToastLevel, ViewSpec};
use crate::update::Effect;
use crate::widgets::movement;
use tui_textarea::TextArea;

/// The pods pane's keys; `None` for actions that mean nothing here.
pub fn on_action(state: &mut State, action: Action) -> Option<Vec<Effect>> {
    if let Some(delta) = movement(action, state.ui.pods.page.get()) {
        move_cursor(state, delta);
        return Some(Vec::new());
    }
    match action {
        Action::Filter => {
            let mut input = TextArea::new(vec![state.store.view_spec().filter.clone()]);
            input.move_cursor(tui_textarea::CursorMove::End);
            state.ui.filter_input = Some(input);
        }
        Action::ClearFilter => {
            state.ui.filter_input = None;
            state.store.set_view_spec(ViewSpec {
                sort: state.store.view_spec().sort,
                reverse: state.store.view_spec().reverse,
                ..ViewSpec::default()
            });
            set_filter(state, String::new());
        }
        Action::SortNext | Action::SortPrev | Action::SortReverse => {
            let mut spec = state.store.view_spec().clone();
            match action {
                Action::SortNext => spec.sort = shown_sort(state, spec.sort, 1),
                Action::SortPrev => spec.sort = shown_sort(state, spec.sort, -1),
                _ => spec.reverse = !spec.reverse,
            }
            state.store.set_view_spec(spec);
        }
        Action::ProblemsOnly => {
            let mut spec = state.store.view_spec().clone();
            spec.problems_only = !spec.problems_only;
            state.store.set_view_spec(spec);
        }
        Action::NextProblem => next_problem(state),
        Action::Describe | Action::Select => return Some(describe(state)),
        Action::Exec | Action::PortForward => {
            return crate::panes::exec::on_pod_action(state, action)
        }
        a if crate::panes::workloads::act::ROW_ACTIONS.contains(&a) => {
            return Some(crate::panes::workloads::act::on_action(state, a))
        }
        Action::NodeConntrack => {
            let pod = state
                .ui
                .pods
                .selected
                .and_then(|slot| state.store.get(slot))
                .map(|r| (r.region, r.node.clone()));
            if let Some((region, node)) = pod {
                crate::panes::network::open_node(state, region, &node);
            }
        }
        Action::Yaml => return Some(yaml(state)),
        _ => return None,
    }
    Some(Vec::new())
}

/// The filter text changed (typed live, or cleared).
pub fn set_filter(state: &mut State, filter: String) {
    let mut spec = state.store.view_spec().clone();
    spec.filter = filter;
    state.store.set_view_spec(spec);
    state.refresh_view();
}

/// Cycles the region scope: all, then each region.
pub fn scope_region(state: &mut State) {
    let mut spec = state.store.view_spec().clone();
    let n = state.regions.len();
    spec.region = match spec.region {
        None if n > 0 => Some(0),
        Some(r) if r + 1 < n => Some(r + 1),
        _ => None,
    };
    spec.namespace = None;
    state.store.set_view_spec(spec);
}

/// Cycles the namespace scope within the region scope.
pub fn scope_namespace(state: &mut State) {
    let mut spec = state.store.view_spec().clone();
    let all = state.store.namespaces(spec.region);
    spec.namespace = match &spec.namespace {
        None => all.first().cloned(),
        Some(ns) => all.iter().skip_while(|n| *n != ns).nth(1).cloned(),
    };
    state.store.set_view_spec(spec);
}

/// The next (`step` 1) or previous (-1) sort column among those the pods
/// pane shows at this terminal width (it spans the width in every layout).
fn shown_sort(state: &State, from: Column, step: isize) -> Column {
    let shown = view::columns_for(state.ui.size.0.saturating_sub(2));
    let n = shown.len() as isize;
    match shown.iter().position(|c| *c == from) {
        Some(i) => shown[(i as isize + step).rem_euclid(n) as usize],
        // sorted by a column no longer shown: start over from the first
        None => shown.first().copied().unwrap_or(from),
    }
}

/// Focuses the pods pane scoped to `target`, keeping the sort, the pods
/// in trouble first and the first of them selected.
pub fn show_target(state: &mut State, target: PodsTarget) {
    let spec = state.store.view_spec();
    state.store.set_view_spec(ViewSpec {
        sort: spec.sort,
        reverse: spec.reverse,
        region: Some(target.region),
        namespace: target.namespace,
        owner: target.owner,
        problems_first: true,
        ..ViewSpec::default()
    });
    state.ui.filter_input = None;
    state.ui.focus = Pane::Pods;
    state.ui.pods.cursor = 0;
    state.ui.pods.selected = None;
    state.refresh_view();
}

fn move_cursor(state: &mut State, delta: isize) {
    let view = state.store.view();
    if view.is_empty() {
        state.ui.pods.cursor = 0;
        state.ui.pods.selected = None;
        return;
    }
    state.ui.pods.move_by(delta, view);
}

pub fn select_index(state: &mut State, index: usize) {
    state.ui.pods.cursor = index;
    state.ui.pods.selected = state.store.view().get(index).copied();
}

fn next_problem(state: &mut State) {
    let view = state.store.view();
    let n = view.len();
    let start = state.ui.pods.cursor;
    let found = (1..=n).map(|i| (start + i) % n).find(|&i| {
        state
            .store
            .get(view[i])
            .is_some_and(|row| !row.is_healthy())
    });
    if let Some(i) = found {
        select_index(state, i);
    } else {
        let now = state.now;
        state
            .ui
            .toast(ToastLevel::Info, "no problem pods in view", now);
    }
}

/// The selected pod, as the object a describe or YAML view shows.
fn selected_object(state: &State) -> Option<(String, ApiObject)> {
    let row = state
        .ui
        .pods
        .selected
        .and_then(|slot| state.store.get(slot))?;
    let title = format!(
        "{} / {}/{}",
        state.region_name(row.region),
        row.namespace,
        row.name
    );
    Some((title, ApiObject::pod(row.region, &row.namespace, &row.name)))
}

fn describe(state: &mut State) -> Vec<Effect> {
    let Some((title, object)) = selected_object(state) else {
        return Vec::new();
    };
    let effect = Effect::Describe {
        region: object.region,
        namespace: object.namespace.clone().unwrap_or_default(),
        name: object.name.clone(),
    };
    state.ui.modal = Some(Modal::Describe(Box::new(DescribeView::new(
        title,
        object,
        ShowAs::Describe,
    ))));
    vec![effect]
}

fn yaml(state: &mut State) -> Vec<Effect> {
    let Some((title, object)) = selected_object(state) else {
        return Vec::new();
    };
    crate::update::show_object(state, title, object, ShowAs::Yaml)
}

#[cfg(test)]
mod tests;
