//! The logs pane as the cockpit holds it (`State::logs`): the view state
//! (`LogsState`), the selection, which streams were started, the open text
//! input, each region's Elasticsearch, and the reducer steps that keep the
//! running streams in line with the selection and the fleet store.

use super::budget::Budget;
use super::es::EsConfig;
use super::select::{LogSelection, Scope};
use super::state::{plan, LogsSettings, LogsState};
use super::task::{self, key_of, LogsMsg, StreamSettings};
use crate::fleet::store::Store;
use crate::state::Pane;
use crate::tasks::TaskCommand;
use crate::update::Effect;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;
use tui_textarea::TextArea;

/// What a text input of the pane sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputKind {
    Select,
    Include,
    Exclude,
    Level,
    Field,
    Highlight,
    Search,
    Containers,
    SaveShown,
    SaveAll,
    History,
}

impl InputKind {
    pub fn prompt(self) -> &'static str {
        match self {
            InputKind::Select => {
                "logs of (namespace, namespace/workload or namespace/pod/NAME; @region for one region)"
            }
            InputKind::Include => "include regex",
            InputKind::Exclude => "exclude regex",
            InputKind::Level => "level at least (trace debug info warn error fatal, empty: any)",
            InputKind::Field => "field=value (empty: none)",
            InputKind::Highlight => "highlight regex",
            InputKind::Search => "search regex",
            InputKind::Containers => "containers, comma-separated (init included; empty: all)",
            InputKind::SaveShown => "save the shown entries to",
            InputKind::SaveAll => "save the whole buffer to",
            InputKind::History => {
                "history: minutes back, then a query string (e.g. `30 log.level:error`)"
            }
        }
    }
}

#[derive(Debug)]
pub struct Input {
    pub kind: InputKind,
    pub area: TextArea<'static>,
}

/// The last history query's progress.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HistoryStatus {
    pub entries: usize,
    pub done: bool,
    pub regions: Vec<(String, Result<u64, String>)>,
}

#[derive(Debug)]
pub struct LogsPane {
    pub view: LogsState,
    pub selection: Option<LogSelection>,
    /// Streams started for the selection, by target id (running or ended:
    /// an ended one is not restarted while its target stays the same).
    pub started: BTreeMap<String, crate::tasks::TaskKey>,
    pub input: Option<Input>,
    /// Each region's Elasticsearch, by region id.
    pub es: Vec<Option<EsConfig>>,
    pub history: Option<HistoryStatus>,
    /// Where focus goes back when the pane is closed.
    pub back_to: Pane,
    /// What the last save wrote where.
    pub saved: Option<String>,
    /// Bumped on every selection and history query, so a new task never
    /// waits on the key of one still stopping.
    generation: u64,
    history_task: Option<crate::tasks::TaskKey>,
    labels_task: Option<crate::tasks::TaskKey>,
    /// Bytes of entries in flight from the streams to this pane: a quarter
    /// of the ring's (`budget.rs`).
    pub budget: Arc<Budget>,
}

impl Default for LogsPane {
    fn default() -> Self {
        LogsPane::new(LogsSettings::default())
    }
}

impl LogsPane {
    pub fn new(settings: LogsSettings) -> LogsPane {
        let budget = Arc::new(Budget::for_ring(settings.buffer_bytes));
        LogsPane {
            view: LogsState::new(settings),
            selection: None,
            started: BTreeMap::new(),
            input: None,
            es: Vec::new(),
            history: None,
            back_to: Pane::Pods,
            saved: None,
            generation: 0,
            history_task: None,
            labels_task: None,
            budget,
        }
    }

    /// The settings from `[logs]`: the buffer starts over with them.
    pub fn configure(&mut self, settings: LogsSettings) {
        self.budget
            .set_limit(settings.buffer_bytes / super::budget::SHARE);
        self.view = LogsState::new(settings);
    }

    fn stream_settings(&self) -> StreamSettings {
        let s = &self.view.settings;
        StreamSettings {
            tail: s.tail,
            names: Arc::new(s.names.clone()),
            max_line: s.max_line,
            budget: self.budget.clone(),
        }
    }

    /// Starts and stops streams so they match the selection as the store
    /// has it now, under the cap. Cheap when nothing changed: no effect.
    pub fn replan(&mut self, store: &Store, region_names: &[String]) -> Vec<Effect> {
        let Some(sel) = &self.selection else {
            return Vec::new();
        };
        let wanted = sel.targets(store, region_names);
        let running = self.started.keys().cloned().collect();
        let p = plan(&wanted, &running, self.view.settings.max_streams);
        self.view.not_streamed = p.not_streamed;
        let mut out = Vec::new();
        for id in p.stop {
            if let Some(key) = self.started.remove(&id) {
                out.push(Effect::Task(TaskCommand::Stop(key)));
            }
            self.view.streams.remove(&id);
        }
        let previous = sel.previous;
        let settings = self.stream_settings();
        for t in p.start {
            let Some(region) = region_names.iter().position(|n| *n == t.region) else {
                continue;
            };
            let key = key_of(self.generation, &t);
            self.started.insert(t.container_id.clone(), key.clone());
            let info = self.view.streams.entry(t.container_id.clone()).or_default();
            info.tag = format!("{}/{}/{}", t.region, t.pod, t.container);
            out.push(Effect::Task(TaskCommand::Start(
                key,
                task::job(region, t, settings.clone(), previous),
            )));
        }
        out
    }

    /// A new selection: every stream of the old one stops, the buffer
    /// starts over.
    pub fn select(
        &mut self,
        sel: Option<LogSelection>,
        store: &Store,
        region_names: &[String],
    ) -> Vec<Effect> {
        let mut out = self.stop_all();
        self.generation += 1;
        self.view.clear();
        if let Some(Scope::Labels {
            namespace,
            selector,
        }) = sel.as_ref().map(|s| &s.scope)
        {
            // the server says which pods match; the streams follow its answers
            let regions = sel
                .as_ref()
                .map(|s| s.regions(region_names.len()))
                .unwrap_or_default();
            let key = crate::tasks::TaskKey(format!("logs#{} labels", self.generation));
            let job = task::labels_job(regions, namespace.clone(), selector.clone());
            self.labels_task = Some(key.clone());
            out.push(Effect::Task(TaskCommand::Start(key, job)));
        }
        self.selection = sel;
        out.extend(self.replan(store, region_names));
        out
    }

    /// Stops every stream (the pane closed, the selection changed, quit).
    pub fn stop_all(&mut self) -> Vec<Effect> {
        let mut out: Vec<Effect> = std::mem::take(&mut self.started)
            .into_values()
            .map(|k| Effect::Task(TaskCommand::Stop(k)))
            .collect();
        out.extend(self.stop_history());
        if let Some(k) = self.labels_task.take() {
            out.push(Effect::Task(TaskCommand::Stop(k)));
        }
        self.view.streams.clear();
        self.view.not_streamed = 0;
        out
    }

    /// Stops the history query, if one runs.
    pub fn stop_history(&mut self) -> Option<Effect> {
        self.history_task
            .take()
            .map(|k| Effect::Task(TaskCommand::Stop(k)))
    }

    /// The key for a new history query (the previous one stopped).
    pub fn history_key(&mut self) -> (Option<Effect>, crate::tasks::TaskKey) {
        let stop = self.stop_history();
        self.generation += 1;
        let key = task::history_key(self.generation);
        self.history_task = Some(key.clone());
        (stop, key)
    }

    /// The target id of the stream running under task key `key`.
    fn stream_of(&self, key: &str) -> Option<Arc<str>> {
        self.started
            .iter()
            .find(|(_, k)| k.0 == key)
            .map(|(id, _)| id.as_str().into())
    }

    /// A stream's task could not start (the registry is full, ...): the
    /// pane says so on that stream rather than show it as running.
    pub fn refused(&mut self, key: &crate::tasks::TaskKey, why: &str) {
        if let Some((id, _)) = self.started.iter().find(|(_, k)| *k == key) {
            if let Some(info) = self.view.streams.get_mut(id) {
                info.ended =
                    Some(crate::sanitize::sanitize(&format!("not started: {why}")).into_owned());
            }
        }
    }

    /// A message from a logs task.
    pub fn on_msg(
        &mut self,
        msg: LogsMsg,
        now: Instant,
        store: &Store,
        region_names: &[String],
    ) -> Vec<Effect> {
        match msg {
            LogsMsg::Matched { region, pods } => {
                let Some(sel) = self.selection.as_mut() else {
                    return Vec::new();
                };
                if !matches!(sel.scope, Scope::Labels { .. }) {
                    return Vec::new();
                }
                match pods {
                    Ok(pods) => {
                        sel.matched.retain(|(r, _, _)| *r != region);
                        sel.matched
                            .extend(pods.into_iter().map(|(ns, name)| (region, ns, name)));
                    }
                    Err(why) => {
                        let name = region_names.get(region).map_or("?", String::as_str);
                        self.view.error = Some(
                            crate::sanitize::sanitize(&format!(
                                "{name}: the label selector: {why}"
                            ))
                            .into_owned(),
                        );
                    }
                }
                return self.replan(store, region_names);
            }
            LogsMsg::Batch {
                key,
                lines,
                dropped,
                held,
            } => {
                // taken now, late or not: the entries left the channel
                drop(held);
                // a late batch of a stream already stopped is let go
                let Some(key) = self.stream_of(&key) else {
                    return Vec::new();
                };
                self.view.ingest(
                    super::follow::Batch {
                        container_id: key.clone(),
                        lines,
                        held: Default::default(),
                    },
                    now,
                );
                if let Some(info) = self.view.streams.get_mut(&*key) {
                    info.dropped = info.dropped.max(dropped);
                }
                self.view.tick(now);
            }
            LogsMsg::Ended { key, why, dropped } => {
                let Some(key) = self.stream_of(&key) else {
                    return Vec::new();
                };
                // a stream whose every batch was dropped still shows its drops
                let info = self.view.streams.entry(key.to_string()).or_default();
                if info.tag.is_empty() {
                    info.tag = crate::sanitize::sanitize(&key).into_owned();
                }
                info.dropped = info.dropped.max(dropped);
                info.ended = Some(crate::sanitize::sanitize(&why).into_owned());
            }
            LogsMsg::History {
                lines,
                done,
                regions,
            } => {
                let h = self.history.get_or_insert_with(HistoryStatus::default);
                h.entries += lines.len();
                h.done = done;
                h.regions = regions;
                self.view.push_history(lines);
            }
        }
        Vec::new()
    }
}
