//! Pure reducers: `update(&mut State, Msg) -> Vec<Effect>`. No IO here; what
//! must touch the outside world comes back as an `Effect` for the loop.

pub mod actions;
pub mod confirm;
pub mod keys;
pub mod palette;

use crate::action::Action;
use crate::fleet::stream::IncidentUpdate;
use crate::model::{RegionId, Timestamp};
use crate::msg::{Msg, PodChange, PodUpdate};
use crate::state::{State, ToastLevel};

/// Work for the loop to do outside the reducer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    Quit,
    /// Ctrl-Z: restore the terminal, stop, and redraw fully on `fg`.
    Suspend,
    /// Describe a pod (as `kubectl describe pod`) for the describe view.
    Describe {
        region: RegionId,
        namespace: String,
        name: String,
    },
    /// Fetch any object for the describe view, described or as YAML.
    Show {
        object: crate::model::ApiObject,
        show: crate::model::ShowAs,
    },
    /// Stop long-lived tasks (`tasks::Tasks`, owned by the loop).
    Task(crate::tasks::TaskCommand),
    /// Hand the terminal to a job (exec) and take it back, as `Suspend` does.
    Terminal(crate::tasks::TerminalJob),
    /// Send a change the person confirmed through the one write path
    /// (`write::send`); answered by `Msg::Written`.
    Write(Box<crate::write::Confirmed>),
    /// A workload action's lookups (greying, revisions, what the confirm
    /// dialog must say); answered by `Msg::Workloads`.
    Workload(crate::panes::workloads::act::Job),
    /// One-shot IO that answers with a `Msg` (a session's access check).
    Io(crate::effects::IoJob),
}

/// A resolved action, from a key or the palette: `:` opens the palette
/// (which runs actions itself), everything else is `actions::apply`.
pub fn dispatch(state: &mut State, action: Action) -> Vec<Effect> {
    if action == Action::Palette && state.ui.modal.is_none() {
        state.refresh_view();
        palette::open(state);
        // the palette offers every resource the regions serve: ask once
        return crate::panes::resources::discover(state);
    }
    actions::apply(state, action)
}

/// Opens the describe view on `object` (described or as YAML) and asks
/// for it.
pub fn show_object(
    state: &mut State,
    title: String,
    object: crate::model::ApiObject,
    show: crate::model::ShowAs,
) -> Vec<Effect> {
    state.ui.modal = Some(crate::state::Modal::Describe(Box::new(
        crate::state::DescribeView::new(title, object.clone(), show),
    )));
    vec![Effect::Show { object, show }]
}

pub fn update(state: &mut State, msg: Msg) -> Vec<Effect> {
    match msg {
        Msg::Key(ev) => keys::on_key(state, ev),
        Msg::Resize(w, h) => {
            state.ui.size = (w, h);
            Vec::new()
        }
        Msg::Pods { region, update } => {
            on_pods(state, region, update);
            // pods that join or leave the selection start or stop streams
            let logs = &mut state.logs;
            logs.replan(&state.store, &state.region_names)
        }
        Msg::RegionHealth {
            region,
            feed,
            health,
        } => {
            if let Some(r) = state.regions.get_mut(region) {
                r.set_feed(feed, health);
                r.note_down_since(state.now);
                // triage lists a region by its badge (the worst feed)
                state.incident.mark_dirty();
            }
            crate::panes::network::on_region_health(state, region)
        }
        Msg::Incident { region, update } => {
            on_feed(state, region, update);
            Vec::new()
        }
        Msg::Described {
            region,
            namespace,
            name,
            result,
        } => {
            if let Some(crate::state::Modal::Describe(view)) = &mut state.ui.modal {
                if view.region == region
                    && view.namespace == namespace
                    && view.name == name
                    && view.show == crate::model::ShowAs::Describe
                {
                    view.lines = Some(result.map(|text| text.lines().map(String::from).collect()));
                }
            }
            Vec::new()
        }
        Msg::Shown {
            object,
            show,
            result,
        } => {
            if let Some(crate::state::Modal::Describe(view)) = &mut state.ui.modal {
                if view.object == object && view.show == show {
                    view.lines = Some(result.map(|text| text.lines().map(String::from).collect()));
                    // a search typed before the answer finds its first match now
                    view.seek(true, true);
                }
            }
            Vec::new()
        }
        Msg::Resources(msg) => {
            crate::panes::resources::on_msg(state, msg);
            Vec::new()
        }
        Msg::Diagnostics(diags) => {
            let room = crate::state::MAX_PROBLEMS.saturating_sub(state.problems.len());
            state.problems.extend(diags.iter().take(room).cloned());
            for d in diags {
                state.ui.toast(ToastLevel::Error, d.to_string(), state.now);
            }
            Vec::new()
        }
        Msg::Tick(now) => {
            on_tick(state, now);
            Vec::new()
        }
        Msg::Task(report) => {
            crate::panes::forwards::on_task(state, &report);
            state.tasks.apply(report);
            Vec::new()
        }
        Msg::Session(msg) => crate::panes::exec::on_msg(state, msg),
        Msg::TaskRefused { key, reason } => {
            state.logs.refused(&key, &reason);
            let text = crate::sanitize::sanitize(&format!("{key}: {reason}")).into_owned();
            state.ui.toast(ToastLevel::Error, text, state.now);
            Vec::new()
        }
        Msg::Workloads(answer) => {
            crate::panes::workloads::act::on_answer(state, *answer);
            Vec::new()
        }
        Msg::Written { sentence, result } => {
            confirm::on_written(state, &sentence, result);
            Vec::new()
        }
        Msg::Logs(m) => {
            let logs = &mut state.logs;
            logs.on_msg(
                m,
                std::time::Instant::now(),
                &state.store,
                &state.region_names,
            )
        }
        Msg::Network { region, error } => {
            crate::panes::network::on_poll(state, region, error);
            Vec::new()
        }
        Msg::Releases(m) => crate::panes::releases::on_msg(state, m),
        Msg::TerminalReturned { label, result } => {
            let (level, text) = match result {
                Ok(text) => (ToastLevel::Info, format!("{label}: {text}")),
                Err(why) => (ToastLevel::Error, format!("{label}: {why}")),
            };
            let text = crate::sanitize::sanitize(&text).into_owned();
            state.ui.toast(level, text, state.now);
            Vec::new()
        }
    }
}

/// Pods go into the fleet store once; its by-owner index feeds triage and
/// probes, and the probe book forgets the pods that left.
fn on_pods(state: &mut State, region: RegionId, update: PodUpdate) {
    let pods = &mut state.store;
    pods.set_now(state.now);
    match update {
        PodUpdate::ListStart { namespace } => pods.list_start(region, namespace.as_deref()),
        PodUpdate::ListPage(rows) => pods.list_page(region, rows),
        PodUpdate::ListDone { namespace } => pods.list_done(region, namespace.as_deref()),
        PodUpdate::Changes(changes) => {
            for change in changes {
                match change {
                    PodChange::Upsert(row) => pods.upsert(row),
                    PodChange::Delete(uid) => pods.delete(region, &uid),
                }
            }
        }
    }
    for (owner, uid) in pods.take_gone() {
        state.incident.probes.book.remove_pod(&owner, &uid);
    }
    state.incident.mark_dirty();
}

/// Events and workloads go into the fleet store; the store's event
/// outcomes feed the probe book.
fn on_feed(state: &mut State, region: RegionId, update: IncidentUpdate) {
    let now = state.now;
    match update {
        IncidentUpdate::Events(u) => {
            if crate::panes::probes::apply_events(
                &mut state.store,
                &mut state.incident.probes.book,
                region,
                u,
                now,
            ) {
                state.incident.mark_dirty();
            }
        }
        IncidentUpdate::Workloads(kind, u) => {
            state.store.workloads_mut().apply(region, kind, u, now);
            state.incident.mark_dirty();
        }
    }
}

fn on_tick(state: &mut State, now: Timestamp) {
    state.now = now;
    state.ui.toasts.retain(|t| t.expires > now);
    // the reorder window lets its held lines go
    state.logs.view.tick(std::time::Instant::now());
}

#[cfg(test)]
pub(crate) mod tests;
