//! The logs pane's keys: `l` from any pane picks what to follow (the
//! selected pod, workload, triage item or probe row); in the pane, pause
//! and follow, scroll, wrap, timestamps, the filter inputs, search with n/N,
//! expand, save, history, every region, containers, previous, close.

use super::es::Query;
use super::pane::{Input, InputKind};
use super::select::{LogSelection, Scope};
use super::task;
use crate::action::{Action, KeyContext};
use crate::fleet::owners::{OwnerKind, WorkloadKey};
use crate::keymap::{Key, Lookup};
use crate::state::{Pane, State, ToastLevel};
use crate::tasks::TaskCommand;
use crate::update::Effect;
use crossterm::event::{KeyCode, KeyEvent};
use tui_textarea::TextArea;

/// Most history entries one query brings in.
const HISTORY_LIMIT: usize = 20_000;

/// `l`: the logs of what the focused pane has selected; in the logs pane,
/// the typed selection.
pub fn logs_of_selection(state: &mut State) -> Vec<Effect> {
    let sel = match state.ui.focus {
        Pane::Logs => {
            open_input(state, InputKind::Select, "");
            return Vec::new();
        }
        Pane::Pods => state
            .ui
            .pods
            .selected
            .and_then(|slot| state.store.get(slot))
            .map(|pod| {
                LogSelection::new(
                    Scope::Pod {
                        namespace: pod.namespace.clone(),
                        name: pod.name.clone(),
                    },
                    pod.region,
                )
            }),
        Pane::Triage => state
            .incident
            .triage
            .cursor
            .selected
            .as_ref()
            .and_then(|id| {
                (!id.namespace.is_empty() && !id.name.is_empty()).then(|| {
                    LogSelection::of_workload(&WorkloadKey {
                        region: id.region,
                        namespace: id.namespace.clone(),
                        kind: OwnerKind::from(id.kind.as_str()),
                        name: id.name.clone(),
                    })
                })
            }),
        Pane::Probes => state
            .incident
            .probes
            .cursor
            .selected
            .as_ref()
            .map(|k| LogSelection::of_workload(&k.workload)),
        Pane::Workloads => state.workloads.selected(&state.store).map(|w| {
            LogSelection::of_workload(&WorkloadKey {
                region: w.region,
                namespace: w.namespace.clone(),
                kind: match w.kind {
                    crate::model::WorkloadKind::Deployment => OwnerKind::Deployment,
                    crate::model::WorkloadKind::StatefulSet => OwnerKind::StatefulSet,
                },
                name: w.name.clone(),
            })
        }),
        // panes with no pod or workload selection of their own
        Pane::Forwards | Pane::Network | Pane::Releases | Pane::Resources => None,
    };
    match sel {
        Some(sel) => open(state, sel),
        None => {
            state
                .ui
                .toast(ToastLevel::Warning, "nothing selected to follow", state.now);
            Vec::new()
        }
    }
}

/// Focuses the logs pane on `sel`, stopping what it followed before.
pub fn open(state: &mut State, sel: LogSelection) -> Vec<Effect> {
    if state.ui.focus != Pane::Logs {
        state.logs.back_to = state.ui.focus;
    }
    state.ui.focus = Pane::Logs;
    let logs = &mut state.logs;
    logs.history = None;
    logs.select(Some(sel), &state.store, &state.region_names)
}

/// The logs of a workload (for panes that list workloads).
pub fn open_workload(state: &mut State, key: &WorkloadKey) -> Vec<Effect> {
    open(state, LogSelection::of_workload(key))
}

fn open_input(state: &mut State, kind: InputKind, text: &str) {
    let mut area = TextArea::new(vec![text.to_string()]);
    area.move_cursor(tui_textarea::CursorMove::End);
    state.logs.input = Some(Input { kind, area });
}

/// Where saved logs go by default: `<state dir>/pitwall/logs`.
fn save_dir() -> Option<std::path::PathBuf> {
    directories::ProjectDirs::from("", "", "pitwall")
        .map(|d| d.state_dir().unwrap_or(d.data_local_dir()).join("logs"))
}

/// Rows the body shows (the frame, the status line, the header and the
/// status bar aside).
fn page(state: &State) -> usize {
    state.ui.size.1.saturating_sub(8).max(1) as usize
}

/// Re-selects with a change (every region, containers, previous).
fn reselect(state: &mut State, change: impl FnOnce(&mut LogSelection, &State)) -> Vec<Effect> {
    let Some(mut sel) = state.logs.selection.clone() else {
        state.logs.view.error = Some("nothing followed: press l on a pod, workload, triage item or probe row, or l here to type one".into());
        return Vec::new();
    };
    change(&mut sel, state);
    let logs = &mut state.logs;
    logs.select(Some(sel), &state.store, &state.region_names)
}

pub fn on_action(state: &mut State, action: Action) -> Option<Vec<Effect>> {
    let rows = page(state);
    let view = &mut state.logs.view;
    match action {
        Action::Up => view.scroll(-1, rows),
        Action::Down => view.scroll(1, rows),
        Action::PageUp => view.scroll(-(rows as i64), rows),
        Action::PageDown => view.scroll(rows as i64, rows),
        Action::Top => view.scroll(i64::MIN / 2, rows),
        Action::Bottom => {
            view.follow = true;
            view.top = None;
        }
        Action::LogsFollow => view.toggle_follow(),
        Action::LogsWrap => view.wrap = !view.wrap,
        Action::LogsTimestamps => view.timestamps = !view.timestamps,
        Action::SearchNext | Action::SearchPrev => {
            if view.search.regex.is_none() {
                view.error = Some("no search: / to type one".into());
            } else if view.search_step(action == Action::SearchNext).is_none() {
                view.error = Some("no match".into());
            } else {
                view.error = None;
            }
        }
        Action::Select => {
            let at = view.cursor.or_else(|| view.window(rows).last().copied());
            view.expanded = if view.expanded.is_some() && view.expanded == at {
                None
            } else {
                at
            };
        }
        Action::Filter => open_input(state, InputKind::Search, ""),
        Action::LogsInclude => open_input(state, InputKind::Include, ""),
        Action::LogsExclude => open_input(state, InputKind::Exclude, ""),
        Action::LogsLevel => open_input(state, InputKind::Level, ""),
        Action::LogsField => open_input(state, InputKind::Field, ""),
        Action::LogsHighlight => open_input(state, InputKind::Highlight, ""),
        Action::LogsContainers => {
            let now = state
                .logs
                .selection
                .as_ref()
                .map(|s| s.containers.join(","))
                .unwrap_or_default();
            open_input(state, InputKind::Containers, &now)
        }
        Action::LogsSave | Action::LogsSaveAll => {
            let name = format!(
                "pitwall-logs-{}.log",
                jiff::Timestamp::now().strftime("%Y%m%d-%H%M%S")
            );
            let path = save_dir().map_or_else(|| name.clone().into(), |d| d.join(&name));
            let kind = if action == Action::LogsSave {
                InputKind::SaveShown
            } else {
                InputKind::SaveAll
            };
            open_input(state, kind, &path.display().to_string())
        }
        Action::LogsHistory => open_input(state, InputKind::History, "15 "),
        Action::LogsAllRegions => {
            return Some(reselect(state, |sel, state| {
                // a pod's "every region" is its workload everywhere
                if let Scope::Pod { namespace, name } = &sel.scope {
                    let owner = state
                        .store
                        .rows()
                        .find(|p| {
                            p.region == sel.region && p.namespace == *namespace && p.name == *name
                        })
                        .map(WorkloadKey::of_pod);
                    if let Some(k) = owner.filter(|k| k.kind != OwnerKind::Pod) {
                        let mut w = LogSelection::of_workload(&k);
                        w.containers = std::mem::take(&mut sel.containers);
                        w.previous = sel.previous;
                        *sel = w;
                    }
                }
                sel.all_regions = !sel.all_regions;
            }));
        }
        Action::LogsPrevious => {
            return Some(reselect(state, |sel, _| sel.previous = !sel.previous));
        }
        Action::LogsClose => {
            let logs = &mut state.logs;
            let out = logs.select(None, &state.store, &state.region_names);
            logs.history = None;
            logs.input = None;
            state.ui.focus = logs.back_to;
            return Some(out);
        }
        Action::Logs => return Some(logs_of_selection(state)),
        _ => return None,
    }
    Some(Vec::new())
}

/// A key while one of the pane's inputs is open: Enter applies it, Esc
/// closes it; a bad value keeps the input open and says why.
pub fn on_input_key(state: &mut State, ev: KeyEvent, key: Key) -> Vec<Effect> {
    let action = match state.keymap.lookup(&[KeyContext::Input], &[key]) {
        Lookup::Action(a) => Some(a),
        _ if ev.code == KeyCode::Enter => Some(Action::Submit),
        _ if ev.code == KeyCode::Esc => Some(Action::Cancel),
        _ => None,
    };
    match action {
        Some(Action::Cancel) => {
            state.logs.input = None;
            Vec::new()
        }
        Some(Action::Submit) => {
            let Some(input) = state.logs.input.take() else {
                return Vec::new();
            };
            let text = input.area.lines().first().cloned().unwrap_or_default();
            match apply(state, input.kind, &text) {
                Ok(effects) => effects,
                Err(why) => {
                    state.logs.view.error = Some(crate::sanitize::sanitize(&why).into_owned());
                    state.logs.input = Some(input);
                    Vec::new()
                }
            }
        }
        _ => {
            if let Some(input) = &mut state.logs.input {
                input.area.input(ev);
            }
            Vec::new()
        }
    }
}

fn filter_result(
    state: &mut State,
    f: impl FnOnce(&mut super::filter::Filter) -> Result<(), String>,
) -> Result<Vec<Effect>, String> {
    if state.logs.view.set_filter(f) {
        Ok(Vec::new())
    } else {
        Err(state.logs.view.error.clone().unwrap_or_default())
    }
}

fn apply(state: &mut State, kind: InputKind, text: &str) -> Result<Vec<Effect>, String> {
    match kind {
        InputKind::Select => {
            let region = state.logs.selection.as_ref().map_or(0, |s| s.region);
            let sel = LogSelection::parse(text, region, &state.store, &state.region_names)?;
            Ok(open(state, sel))
        }
        InputKind::Include => filter_result(state, |f| f.set_include(text)),
        InputKind::Exclude => filter_result(state, |f| f.set_exclude(text)),
        InputKind::Level => filter_result(state, |f| f.set_level(text)),
        InputKind::Field => filter_result(state, |f| f.set_field(text)),
        InputKind::Highlight => filter_result(state, |f| f.set_highlight(text)),
        InputKind::Search => {
            if state.logs.view.set_search(text) {
                Ok(Vec::new())
            } else {
                Err(state.logs.view.error.clone().unwrap_or_default())
            }
        }
        InputKind::Containers => {
            let names: Vec<String> = text
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect();
            Ok(reselect(state, |sel, _| sel.containers = names))
        }
        InputKind::SaveShown | InputKind::SaveAll => {
            let path = text.trim();
            if path.is_empty() {
                return Err("type a file to save to".into());
            }
            let path = crate::config::expand_home(path).unwrap_or_else(|| path.into());
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                use std::os::unix::fs::DirBuilderExt;
                std::fs::DirBuilder::new()
                    .recursive(true)
                    .mode(0o700)
                    .create(dir)
                    .map_err(|e| format!("{}: {e}", dir.display()))?;
            }
            let said = state.logs.view.save(&path, kind == InputKind::SaveAll)?;
            state.logs.view.error = None;
            state.ui.toast(
                ToastLevel::Info,
                crate::sanitize::sanitize(&said).into_owned(),
                state.now,
            );
            state.logs.saved = Some(said);
            Ok(Vec::new())
        }
        InputKind::History => history(state, text),
    }
}

/// `MINUTES [query string]`: history of the selection from each selected
/// region's Elasticsearch.
fn history(state: &mut State, text: &str) -> Result<Vec<Effect>, String> {
    let text = text.trim();
    let (minutes, query) = text.split_once(' ').unwrap_or((text, ""));
    let minutes: i64 = minutes
        .parse()
        .ok()
        .filter(|m| (1..=7 * 24 * 60).contains(m))
        .ok_or_else(|| format!("{minutes:?}: minutes back, 1 to 10080"))?;
    let sel = state
        .logs
        .selection
        .clone()
        .ok_or("nothing followed: select what to read the history of first")?;
    let targets = sel.targets(&state.store, &state.region_names);
    let (namespace, mut pods) = match &sel.scope {
        Scope::Pod { namespace, name } => (Some(namespace.clone()), vec![name.clone()]),
        Scope::Workload { namespace, .. } => (
            Some(namespace.clone()),
            targets.iter().map(|t| t.pod.clone()).collect(),
        ),
        Scope::Labels { namespace, .. } => (
            namespace.clone(),
            targets.iter().map(|t| t.pod.clone()).collect(),
        ),
        Scope::Namespace(ns) => (Some(ns.clone()), Vec::new()),
    };
    pods.sort();
    pods.dedup();
    if matches!(sel.scope, Scope::Workload { .. } | Scope::Labels { .. }) && pods.is_empty() {
        return Err("no pods selected to read the history of".into());
    }
    let regions: Vec<_> = if sel.all_regions {
        (0..state.region_names.len()).collect()
    } else {
        vec![sel.region]
    };
    let es: Vec<_> = regions
        .into_iter()
        .filter_map(|r| {
            let cfg = state.logs.es.get(r)?.as_ref()?;
            Some((r, state.region_name(r).to_string(), cfg.clone()))
        })
        .collect();
    if es.is_empty() {
        return Err(
            "no Elasticsearch configured for the selected regions ([region.elasticsearch])".into(),
        );
    }
    let now = jiff::Timestamp::now().as_nanosecond() as i64;
    let q = Query {
        namespace,
        pods,
        from: Some(now - minutes * 60_000_000_000),
        to: Some(now),
        query_string: query.trim().to_string(),
        page: 500,
    };
    let s = &state.logs.view.settings;
    let job = task::history_job(es, q, s.names.clone(), s.max_line, HISTORY_LIMIT);
    state.logs.history = Some(Default::default());
    let (stop, key) = state.logs.history_key();
    let mut out: Vec<Effect> = stop.into_iter().collect();
    out.push(Effect::Task(TaskCommand::Start(key, job)));
    Ok(out)
}
