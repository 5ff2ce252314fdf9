//! Releases (issue 13): one workload's releases across every region on one
//! time axis (`timeline`), the release matrix of every workload by region
//! with drift against the stage order (`matrix`), and promotion of an image
//! from the first stage to the next ones in waves with gates (`plan`,
//! `promote`, `gates`), persisted in the state dir (`persist`). What the
//! fleet store does not hold (revisions, the audit log, what the first
//! stage ever ran) is read by a long-lived task (`history`).
//!
//! Keys: `m` shows the pane; `T` (any table) opens the timeline of the
//! selected pod, workload, triage item or probe row at that item's time;
//! `>` promotes the selected workload (or resumes its interrupted or
//! halted promotion); in the pane (`[releases]`): `a` axis, `i` timeline /
//! matrix, `h`/`l` markers, Enter detail (matrix: that workload's
//! timeline), `u` undo a halted wave, `A` abort.

pub mod gates;
pub mod history;
pub mod matrix;
pub mod persist;
pub mod plan;
pub mod promote;
pub mod state;
pub mod timeline;
pub mod view;

#[cfg(test)]
mod tests;

use crate::action::Action;
use crate::config::stages::Stage;
use crate::fleet::owners::OwnerKind;
use crate::model::{RegionId, Timestamp};
use crate::panes::Pane;
use crate::state::{State, ToastLevel};
use crate::tasks::{TaskCommand, TaskJob, TaskKey};
use crate::update::confirm;
use crate::update::Effect;
use plan::{Plan, PlanState, WaveState};
use state::{Asked, View};
use std::path::PathBuf;

/// What the releases tasks deliver.
#[derive(Debug, Clone)]
pub enum ReleasesMsg {
    History(Box<history::History>),
    Progress(Box<Plan>),
    Proposed(Result<Box<promote::Proposal>, String>),
    UndoProposed(Result<Box<promote::UndoProposal>, String>),
}

/// Sets the stages and the promotions' directory, and loads the
/// promotions kept there (a restarted cockpit shows an interrupted one).
/// Reads files: called once before the loop starts.
pub fn restore(state: &mut State, stages: Vec<Stage>, dir: Option<PathBuf>) {
    state.releases.stages = stages;
    if let Some(d) = &dir {
        for p in persist::load_all(d) {
            if p.state == PlanState::Interrupted {
                let text = format!(
                    "promotion of {} was interrupted: m, then > resumes it, A aborts it",
                    p.workload()
                );
                state.ui.toast(ToastLevel::Warning, text, state.now);
            }
            state
                .releases
                .plans
                .insert((p.namespace.clone(), p.name.clone()), p);
        }
    }
    state.releases.dir = dir;
}

/// The Deployment (namespace, name) and the moment of the focused pane's
/// selection.
fn selection(state: &State) -> Option<(String, String, Option<Timestamp>)> {
    let deployment = |ns: &str, kind: &OwnerKind, name: &str| {
        (*kind == OwnerKind::Deployment).then(|| (ns.to_string(), name.to_string()))
    };
    match state.ui.focus {
        Pane::Pods => {
            let row = state.ui.pods.selected.and_then(|s| state.store.get(s))?;
            let key = state.store.owners().owner_of(row.region, &row.uid)?;
            let (ns, name) = deployment(&key.namespace, &key.kind, &key.name)?;
            Some((ns, name, row.last_restart))
        }
        Pane::Triage => {
            let item = state.incident.triage.selected()?;
            let (kind, name) = item.target.owner.as_ref()?;
            let ns = item.target.namespace.as_deref()?;
            let (ns, name) = deployment(ns, &OwnerKind::from(kind.as_str()), name)?;
            Some((ns, name, item.since))
        }
        Pane::Probes => {
            let row = state.incident.probes.selected()?;
            let w = &row.key.workload;
            let (ns, name) = deployment(&w.namespace, &w.kind, &w.name)?;
            Some((ns, name, Some(row.since)))
        }
        Pane::Releases => match state.releases.view {
            View::Timeline => state
                .releases
                .workload
                .clone()
                .map(|(ns, name)| (ns, name, state.releases.at)),
            View::Matrix => {
                let rows = matrix::build(&state.store, &state.releases, &state.region_names);
                let r = rows.get(state.releases.row)?;
                (r.kind == crate::model::WorkloadKind::Deployment)
                    .then(|| (r.namespace.clone(), r.name.clone(), None))
            }
        },
        Pane::Workloads => {
            let w = state.workloads.selected(&state.store)?;
            (w.kind == crate::model::WorkloadKind::Deployment)
                .then(|| (w.namespace.clone(), w.name.clone(), None))
        }
        // panes with no workload selection of their own
        Pane::Logs | Pane::Forwards | Pane::Network | Pane::Resources => None,
    }
}

fn first_stage_ids(state: &State) -> Vec<RegionId> {
    state
        .releases
        .first_stage()
        .iter()
        .filter_map(|r| state.region_names.iter().position(|n| n == r))
        .collect()
}

/// Points the history task at `workload` (stopping the previous one).
fn follow(state: &mut State, workload: Option<(String, String)>) -> Vec<Effect> {
    let key = TaskKey(match &workload {
        Some((ns, name)) => format!("releases history {ns}/{name}"),
        None => "releases history".into(),
    });
    if state.releases.history_task.as_ref() == Some(&key) {
        return Vec::new();
    }
    let mut effects = Vec::new();
    if let Some(old) = state.releases.history_task.replace(key.clone()) {
        effects.push(Effect::Task(TaskCommand::Stop(old)));
    }
    let regions = state.region_names.len();
    let first = first_stage_ids(state);
    effects.push(Effect::Task(TaskCommand::Start(
        key,
        TaskJob::new(move |env, ctx| history::run(env, ctx, workload, regions, first)),
    )));
    effects
}

/// `m`: the pane shows; the history task follows its workload (or only the
/// first stage's images, for the matrix's drift).
pub fn on_show(state: &mut State) -> Vec<Effect> {
    if state.releases.history_task.is_some() {
        return Vec::new();
    }
    let w = state.releases.workload.clone();
    follow(state, w)
}

/// `T`: the timeline of the selection, at its time.
pub fn open_timeline(state: &mut State) -> Vec<Effect> {
    let Some((ns, name, at)) = selection(state) else {
        state.ui.toast(
            ToastLevel::Info,
            "timeline: select a Deployment, its pod or a triage item",
            state.now,
        );
        return Vec::new();
    };
    show(state, ns, name, at)
}

/// Focuses the releases pane on `ns/name` and follows its history.
pub fn focus_workload(state: &mut State, ns: &str, name: &str) -> Vec<Effect> {
    show(state, ns.to_string(), name.to_string(), None)
}

fn show(state: &mut State, ns: String, name: String, at: Option<Timestamp>) -> Vec<Effect> {
    let rel = &mut state.releases;
    if rel.workload.as_ref() != Some(&(ns.clone(), name.clone())) {
        rel.revisions.clear();
        rel.audit.clear();
    }
    rel.workload = Some((ns.clone(), name.clone()));
    rel.at = at;
    rel.view = View::Timeline;
    rel.marker_moved = false;
    rel.detail = at.is_some();
    // wide enough to show the moment and what came before it
    if at.is_some_and(|t| state.now - t > rel.axis.secs() / 2) {
        rel.axis = state::Axis::D7;
    }
    state.ui.focus = Pane::Releases;
    follow(state, Some((ns, name)))
}

/// `>`: the plan for the selected Deployment (or its interrupted or halted
/// promotion, to resume), read from the clusters by a task; the answer
/// opens the confirm dialog.
pub fn promote(state: &mut State) -> Vec<Effect> {
    let Some((ns, name, _)) = selection(state) else {
        state.ui.toast(
            ToastLevel::Info,
            "promote: select a Deployment or one of its pods",
            state.now,
        );
        return Vec::new();
    };
    let existing = state
        .releases
        .plans
        .get(&(ns.clone(), name.clone()))
        .cloned();
    let resume = match existing {
        Some(p) if p.state == PlanState::Running => {
            state.ui.toast(
                ToastLevel::Info,
                format!("{} is being promoted already", p.workload()),
                state.now,
            );
            return Vec::new();
        }
        Some(mut p) if matches!(p.state, PlanState::Interrupted | PlanState::Halted(_)) => {
            for w in &mut p.waves {
                if w.state != WaveState::Passed {
                    w.state = WaveState::Pending;
                }
            }
            Some(p)
        }
        _ => None,
    };
    let mut effects = show(state, ns.clone(), name.clone(), None);
    state.releases.asked = Some(Asked::Promote);
    let names = state.region_names.clone();
    let stages = state.releases.stages.clone();
    effects.push(Effect::Task(TaskCommand::Start(
        TaskKey(format!("releases plan {ns}/{name}")),
        TaskJob::new(move |env, ctx| async move {
            let r = promote::propose(&env, &names, &stages, &ns, &name, resume)
                .await
                .map(Box::new);
            let _ = ctx
                .sender()
                .send(crate::msg::Msg::Releases(ReleasesMsg::Proposed(r)))
                .await;
            Ok(())
        }),
    )));
    effects
}

fn undo(state: &mut State) -> Vec<Effect> {
    let Some(plan) = state.releases.plan().cloned() else {
        return Vec::new();
    };
    if !plan.waves.iter().any(|w| w.state == WaveState::Failed) {
        state.ui.toast(
            ToastLevel::Info,
            "undo: no failed wave in this promotion",
            state.now,
        );
        return Vec::new();
    }
    state.releases.asked = Some(Asked::Undo);
    let names = state.region_names.clone();
    vec![Effect::Task(TaskCommand::Start(
        TaskKey(format!("releases undo {}", plan.workload())),
        TaskJob::new(move |env, ctx| async move {
            let r = promote::propose_undo(&env, &names, &plan)
                .await
                .map(Box::new);
            let _ = ctx
                .sender()
                .send(crate::msg::Msg::Releases(ReleasesMsg::UndoProposed(r)))
                .await;
            Ok(())
        }),
    ))]
}

fn abort(state: &mut State) -> Vec<Effect> {
    let Some(w) = state.releases.workload.clone() else {
        return Vec::new();
    };
    let Some(plan) = state.releases.plans.get_mut(&w) else {
        return Vec::new();
    };
    if plan.state.finished() {
        return Vec::new();
    }
    plan.state = PlanState::Aborted;
    plan.updated = state.now;
    let saved = plan.clone();
    let text = format!(
        "promotion of {} aborted; nothing more is sent",
        saved.workload()
    );
    state.ui.toast(ToastLevel::Warning, text, state.now);
    let mut effects = vec![Effect::Task(TaskCommand::Stop(TaskKey(format!(
        "promote {}",
        saved.workload()
    ))))];
    let dir = state.releases.dir.clone();
    effects.push(Effect::Task(TaskCommand::Start(
        TaskKey(format!("releases abort {}", saved.workload())),
        TaskJob::new(move |env, _| async move {
            if let Some(w) = saved.current() {
                promote::audit_step(&env, &saved, w, "promotion aborted", Ok(()));
            }
            match dir {
                Some(dir) => persist::save(&dir, &saved),
                None => Ok(()),
            }
        }),
    )));
    effects
}

/// A task's delivery.
pub fn on_msg(state: &mut State, msg: ReleasesMsg) -> Vec<Effect> {
    match msg {
        ReleasesMsg::History(h) => {
            state.releases.take_history(*h);
            Vec::new()
        }
        ReleasesMsg::Progress(p) => {
            let key = (p.namespace.clone(), p.name.clone());
            // an abort wins over a report still on its way
            let aborted = state.releases.plans.get(&key).is_some_and(|old| {
                old.state == PlanState::Aborted && p.state == PlanState::Running
            });
            if !aborted {
                state.releases.plans.insert(key, *p);
            }
            Vec::new()
        }
        ReleasesMsg::Proposed(r) => {
            if state.releases.asked.take() != Some(Asked::Promote) {
                return Vec::new();
            }
            match r {
                Ok(p) => ask_promotion(state, *p),
                Err(why) => {
                    state
                        .ui
                        .toast(ToastLevel::Error, format!("promote: {why}"), state.now);
                    Vec::new()
                }
            }
        }
        ReleasesMsg::UndoProposed(r) => {
            if state.releases.asked.take() != Some(Asked::Undo) {
                return Vec::new();
            }
            match r {
                Ok(u) => ask_undo(state, *u),
                Err(why) => {
                    state
                        .ui
                        .toast(ToastLevel::Error, format!("undo: {why}"), state.now);
                    Vec::new()
                }
            }
        }
    }
}

/// The one dialog for a whole plan: it shows the change needing the most
/// care (a production region's, which needs the name typed) and every
/// wave as warnings; the answer confirms each change of the plan, and
/// `write::send` checks it again against each region's policy.
fn ask_promotion(state: &mut State, p: promote::Proposal) -> Vec<Effect> {
    let promote::Proposal { plan, changes } = p;
    let shown = changes
        .iter()
        .position(|(_, c)| c.typed_name_required())
        .unwrap_or(0);
    let Some((_, first)) = changes.get(shown).cloned() else {
        return Vec::new();
    };
    // images and names come from the clusters: defused before the screen
    let warnings: Vec<String> = plan
        .lines()
        .iter()
        .map(|l| crate::sanitize::sanitize(l).into_owned())
        .collect();
    let names = state.region_names.clone();
    let dir = state.releases.dir.clone();
    let key = TaskKey(format!("promote {}", plan.workload()));
    let then: confirm::Then = Box::new(move |answer| {
        let typed = answer.typed().to_string();
        let confirmed: Vec<_> = changes
            .into_iter()
            .map(|(r, c)| (r, c.confirm(&typed)))
            .collect();
        vec![Effect::Task(TaskCommand::Start(
            key,
            TaskJob::new(move |env, ctx| promote::execute(env, ctx, plan, names, confirmed, dir)),
        ))]
    });
    confirm::ask_then(state, confirm::dialog(first, warnings), Some(then));
    Vec::new()
}

fn ask_undo(state: &mut State, u: promote::UndoProposal) -> Vec<Effect> {
    let shown = u
        .changes
        .iter()
        .position(|(_, c)| c.typed_name_required())
        .unwrap_or(0);
    let Some((_, first)) = u.changes.get(shown).cloned() else {
        return Vec::new();
    };
    let warnings: Vec<String> = std::iter::once(format!("undo the failed wave of {}", u.workload))
        .chain(
            u.changes
                .iter()
                .map(|(_, c)| format!("  {}", c.mutation().sentence())),
        )
        .map(|l| crate::sanitize::sanitize(&l).into_owned())
        .collect();
    let changes = u.changes;
    let then: confirm::Then = Box::new(move |answer| {
        let typed = answer.typed().to_string();
        changes
            .into_iter()
            .map(|(_, c)| Effect::Write(Box::new(c.confirm(&typed))))
            .collect()
    });
    confirm::ask_then(state, confirm::dialog(first, warnings), Some(then));
    Vec::new()
}

/// The selected marker: the person's, or the one at the selection's moment.
pub fn selected_marker(state: &State) -> usize {
    if state.releases.marker_moved {
        return state.releases.marker;
    }
    let t = timeline::build(
        &state.store,
        &state.releases,
        &state.region_names,
        state.now,
    );
    timeline::marker_at(&t, state.releases.at)
}

fn markers(state: &State) -> usize {
    timeline::build(
        &state.store,
        &state.releases,
        &state.region_names,
        state.now,
    )
    .markers
    .len()
}

/// The keys of the focused releases pane.
pub fn on_action(state: &mut State, action: Action) -> Option<Vec<Effect>> {
    let rel_view = state.releases.view;
    match action {
        Action::Timeline => return Some(open_timeline(state)),
        Action::Promote => return Some(promote(state)),
        Action::RolloutUndo => return Some(undo(state)),
        Action::PromotionAbort => return Some(abort(state)),
        Action::ReleasesAxis => state.releases.axis = state.releases.axis.next(),
        Action::ReleasesView => {
            state.releases.view = match rel_view {
                View::Timeline => View::Matrix,
                View::Matrix => View::Timeline,
            };
            if state.releases.history_task.is_none() {
                return Some(follow(state, state.releases.workload.clone()));
            }
        }
        Action::Select if rel_view == View::Matrix => {
            let (ns, name, _) = selection(state)?;
            return Some(show(state, ns, name, None));
        }
        Action::Select => state.releases.detail = !state.releases.detail,
        Action::MarkerPrev
        | Action::MarkerNext
        | Action::Up
        | Action::Down
        | Action::Top
        | Action::Bottom
        | Action::PageUp
        | Action::PageDown => {
            let n = match rel_view {
                View::Timeline => markers(state),
                View::Matrix => {
                    matrix::build(&state.store, &state.releases, &state.region_names).len()
                }
            };
            let cur = match rel_view {
                View::Timeline => selected_marker(state),
                View::Matrix => state.releases.row,
            };
            let last = n.saturating_sub(1);
            let next = match action {
                Action::MarkerPrev | Action::Up => cur.saturating_sub(1),
                Action::MarkerNext | Action::Down => (cur + 1).min(last),
                Action::PageUp => cur.saturating_sub(10),
                Action::PageDown => (cur + 10).min(last),
                Action::Top => 0,
                _ => last,
            };
            match rel_view {
                View::Timeline => {
                    state.releases.marker = next;
                    state.releases.marker_moved = true;
                }
                View::Matrix => state.releases.row = next,
            }
        }
        _ => return None,
    }
    Some(Vec::new())
}
