//! The resources pane: any resource, every region at once. `:deploy`,
//! `:no`, `:cm`, a custom resource by name or short name: each is a table
//! across every region with the columns its server defines (server-side
//! printing), kept current by watch (`fetch.rs`), with the shared region
//! and namespace scopes, a filter, sort, describe and YAML.

pub mod fetch;
pub mod state;
pub mod view;

use crate::action::Action;
use crate::model::resource::{resolve, ResourcesMsg};
use crate::model::{ApiObject, ShowAs};
use crate::state::{Pane, State, ToastLevel};
use crate::tasks::{TaskCommand, TaskJob, TaskKey};
use crate::update::Effect;
use crate::widgets::movement;
pub use state::ResourcesState;
use tui_textarea::TextArea;

/// Words that mean the pods table, which has its own pane.
const PODS: [&str; 3] = ["po", "pod", "pods"];

/// Does `word` name a resource the cockpit knows of yet (the palette
/// offers these as jumps)?
pub fn knows(state: &State, word: &str) -> bool {
    PODS.contains(&word) || resolve(word, &state.resources.discovered).is_some()
}

/// Asks the regions which resources they serve (custom ones too), once,
/// so the palette can offer them; a region not connected yet is asked
/// again by the next command that needs it.
pub fn discover(state: &mut State) -> Vec<Effect> {
    let r = &mut state.resources;
    if !r.discovered.is_empty() || r.discovering {
        return Vec::new();
    }
    r.discovering = true;
    r.discoveries += 1;
    let regions = state.regions.len();
    vec![Effect::Task(TaskCommand::Start(
        TaskKey(format!("resources discovery #{}", r.discoveries)),
        TaskJob::new(move |env, ctx| async move {
            let tx = ctx.sender().clone();
            fetch::discover_all(env, tx, regions).await;
            Ok(())
        }),
    ))]
}

/// `:<word>`: shows the resource across every region (or the pods pane).
pub fn open(state: &mut State, word: &str) -> Vec<Effect> {
    let word = word.trim().trim_start_matches(':').to_lowercase();
    if PODS.contains(&word.as_str()) {
        state.ui.focus = Pane::Pods;
        return Vec::new();
    }
    let r = &mut state.resources;
    let mut effects = Vec::new();
    if let Some(old) = r.task.take() {
        effects.push(Effect::Task(TaskCommand::Stop(old)));
    }
    r.generation += 1;
    r.word = word.clone();
    r.rt = resolve(&word, &r.discovered);
    r.tables = vec![Default::default(); state.regions.len()];
    r.cursor = 0;
    r.filter.clear();
    r.sort = None;
    r.reverse = false;
    let key = TaskKey(format!("resources #{} {word}", r.generation));
    r.task = Some(key.clone());
    let (generation, regions, known) = (r.generation, state.regions.len(), r.discovered.clone());
    effects.push(Effect::Task(TaskCommand::Start(
        key,
        TaskJob::new(move |env, ctx| async move {
            let tx = ctx.sender().clone();
            fetch::run(env, tx, generation, regions, word, known).await
        }),
    )));
    state.ui.focus = Pane::Resources;
    effects
}

/// Discovery and tables from the task.
pub fn on_msg(state: &mut State, msg: ResourcesMsg) {
    let r = &mut state.resources;
    match msg {
        ResourcesMsg::Discovered { region, result } => {
            // the palette's discovery asks every region in order
            if region + 1 >= state.regions.len() {
                r.discovering = false;
            }
            // a region that cannot answer leaves the others' types
            if let Ok(types) = result {
                for t in types {
                    if r.discovered.len() >= crate::model::resource::MAX_TYPES {
                        break;
                    }
                    if !r
                        .discovered
                        .iter()
                        .any(|d| d.api == t.api && d.plural == t.plural)
                    {
                        r.discovered.push(t);
                    }
                }
            }
            if r.rt.is_none() {
                r.rt = resolve(&r.word, &r.discovered);
            }
        }
        ResourcesMsg::Table {
            generation,
            region,
            result,
        } => {
            if generation != r.generation {
                return;
            }
            if let Some(t) = r.tables.get_mut(region) {
                match result {
                    Ok(page) => {
                        t.page = Some(page);
                        t.error = None;
                    }
                    // the last table stays, with the reason it is old
                    Err(e) => t.error = Some(e),
                }
            }
        }
        ResourcesMsg::Unknown { word } => {
            if word != r.word {
                return;
            }
            r.task = None;
            let text = format!("unknown command or resource: {word}");
            let now = state.now;
            state.ui.toast(ToastLevel::Warning, text, now);
            if state.ui.focus == Pane::Resources {
                state.ui.focus = Pane::Pods;
            }
        }
    }
}

fn current_view(state: &State) -> state::View {
    let spec = state.store.view_spec();
    state
        .resources
        .view(&state.region_names, spec.region, spec.namespace.as_deref())
}

/// The resources pane's keys.
pub fn on_action(state: &mut State, action: Action) -> Option<Vec<Effect>> {
    let view = current_view(state);
    let n = view.rows.len();
    if let Some(delta) = movement(action, state.ui.list_page()) {
        let r = &mut state.resources;
        r.cursor = r
            .cursor
            .saturating_add_signed(delta)
            .min(n.saturating_sub(1));
        return Some(Vec::new());
    }
    let r = &mut state.resources;
    match action {
        Action::Filter => {
            let mut input = TextArea::new(vec![r.filter.clone()]);
            input.move_cursor(tui_textarea::CursorMove::End);
            state.ui.filter_input = Some(input);
        }
        Action::ClearFilter => {
            r.filter.clear();
            r.cursor = 0;
        }
        Action::SortNext | Action::SortPrev => {
            let cols = view.columns.len().max(1);
            let step = if action == Action::SortNext {
                1
            } else {
                cols - 1
            };
            r.sort = Some(match r.sort {
                None if action == Action::SortNext => 0,
                None => cols - 1,
                Some(c) => (c + step) % cols,
            });
        }
        Action::SortReverse => r.reverse = !r.reverse,
        Action::Describe | Action::Select | Action::Yaml => {
            let show = if action == Action::Yaml {
                ShowAs::Yaml
            } else {
                ShowAs::Describe
            };
            let (Some(row), Some(rt)) = (view.rows.get(r.cursor.min(n.saturating_sub(1))), &r.rt)
            else {
                return Some(Vec::new());
            };
            let object = ApiObject {
                region: row.region,
                api: rt.api.clone(),
                plural: rt.plural.clone(),
                kind: rt.kind.clone(),
                namespace: (!row.namespace.is_empty()).then(|| row.namespace.clone()),
                name: row.name.clone(),
            };
            let title = format!("{} / {}", state.region_name(row.region), object.label());
            return Some(crate::update::show_object(state, title, object, show));
        }
        Action::PortForward => {
            let row = view.rows.get(r.cursor.min(n.saturating_sub(1)));
            let service = r.rt.as_ref().is_some_and(|t| t.kind == "Service");
            return Some(match row {
                Some(row) if service => {
                    let (region, ns, name) = (row.region, row.namespace.clone(), row.name.clone());
                    crate::panes::forwards::open_service(state, region, &ns, &name)
                }
                _ => {
                    let text = "port-forward: select a pod, a workload or a Service (:svc)";
                    state.ui.toast(ToastLevel::Warning, text, state.now);
                    Vec::new()
                }
            });
        }
        _ => return None,
    }
    Some(Vec::new())
}

/// The filter text typed while the resources pane has focus.
pub fn set_filter(state: &mut State, filter: String) {
    state.resources.filter = filter;
    state.resources.cursor = 0;
}

#[cfg(test)]
mod tests;
