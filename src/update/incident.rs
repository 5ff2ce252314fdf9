//! Reducers for the incident panes: pod rows and region health are
//! mirrored into the incident aggregate, feed updates applied, and the
//! triage / probes panes' keys handled (move, Enter jumps to the pods).

use crate::action::Action;
use crate::incident::{Feed, FeedUpdate};
use crate::model::RegionId;
use crate::msg::{PodChange, PodUpdate};
use crate::state::{Pane, State, ViewSpec};

pub fn on_feed(state: &mut State, region: RegionId, update: FeedUpdate) {
    let now = state.now;
    if state.incident.book.apply_feed(region, update, now) {
        state.incident.mark_dirty();
    }
}

/// Called with every pod update before the pod store takes the rows.
pub fn on_pods(state: &mut State, region: RegionId, update: &PodUpdate) {
    let (now, book) = (state.now, &mut state.incident.book);
    match update {
        PodUpdate::ListStart { namespace } => {
            book.list_start(region, Feed::Pods, namespace.as_deref())
        }
        PodUpdate::ListPage(rows) => rows.iter().for_each(|r| book.apply_pod(r, now)),
        PodUpdate::ListDone { namespace } => {
            book.list_done(region, Feed::Pods, namespace.as_deref())
        }
        PodUpdate::Changes(changes) => {
            for c in changes {
                match c {
                    PodChange::Upsert(r) => book.apply_pod(r, now),
                    PodChange::Delete(uid) => book.remove_pod(region, uid),
                }
            }
        }
    }
    state.incident.mark_dirty();
}

/// Keys of the focused triage or probes pane. Returns false when the
/// action is not theirs (the caller handles it as usual).
pub fn on_action(state: &mut State, action: Action) -> bool {
    let focus = state.ui.focus;
    if !matches!(focus, Pane::Triage | Pane::Probes) {
        return false;
    }
    state.incident.refresh(state.now);
    let page = state.ui.size.1.saturating_sub(8).max(1) as isize;
    let delta = match action {
        Action::Up => -1,
        Action::Down => 1,
        Action::PageUp => -page,
        Action::PageDown => page,
        Action::Top => isize::MIN / 2,
        Action::Bottom => isize::MAX / 2,
        Action::Select => {
            jump_to_pods(state);
            return true;
        }
        _ => return false,
    };
    let inc = &mut state.incident;
    if focus == Pane::Triage {
        let ids = inc.triage_ids();
        inc.triage_cursor.move_by(delta, &ids);
    } else {
        let keys = inc.probe_keys();
        inc.probes_cursor.move_by(delta, &keys);
        inc.sync_probes(state.now);
    }
    true
}

/// Enter on a triage item or probe row: the pods pane, scoped to it.
fn jump_to_pods(state: &mut State) {
    let target = match state.ui.focus {
        Pane::Triage => state.incident.selected_triage().map(|i| i.target.clone()),
        Pane::Probes => state.incident.selected_probe().map(|r| {
            let w = &r.key.workload;
            crate::incident::triage::PodsTarget {
                region: w.region,
                namespace: Some(w.namespace.clone()),
                owner: (w.kind != "Pod").then(|| (w.kind.clone(), w.name.clone())),
            }
        }),
        _ => None,
    };
    let Some(target) = target else {
        return;
    };
    let spec = state.pods.view_spec();
    state.pods.set_view_spec(ViewSpec {
        sort: spec.sort,
        reverse: spec.reverse,
        region: Some(target.region),
        namespace: target.namespace,
        owner: target.owner,
        ..ViewSpec::default()
    });
    state.ui.filter_input = None;
    state.ui.focus = Pane::Pods;
    state.ui.pods.cursor = 0;
    state.ui.pods.selected = None;
    state.refresh_view();
}
