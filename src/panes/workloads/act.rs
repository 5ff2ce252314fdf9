//! Acting on a row (a workload, or a pod and its owner): what each key
//! opens (the scale input, the undo picker, the live status view), the
//! one-shot IO it asks for (`Job`, run by `lookup`), and its `Answer`,
//! which ends in the one confirm dialog (`update::confirm::ask`). Nothing here sends a change: only the
//! confirmed dialog does, through `write::send`.

use super::plan::{self, Inputs, Offer, Target, WorkloadKind};
use super::rollout::{self, Revision};
use crate::action::{Action, KeyContext};
use crate::fleet::owners::{OwnerKind, WorkloadKey};
use crate::keymap::{Key, Lookup};
use crate::model::{RegionId, Timestamp, WorkloadRow};
use crate::state::{Modal, State, ToastLevel};
use crate::update::{confirm, Effect};
use crossterm::event::{KeyCode, KeyEvent};
use std::collections::HashMap;
use tui_textarea::TextArea;

/// The actions a row offers, in hint order.
pub const ROW_ACTIONS: [Action; 7] = [
    Action::Scale,
    Action::RolloutRestart,
    Action::RolloutUndo,
    Action::RolloutPause,
    Action::RolloutResume,
    Action::DeletePod,
    Action::RolloutStatus,
];

/// How long a greying answer is shown before it is asked again (the write
/// path's RBAC cache keeps answers as long).
pub const OFFER_TTL: i64 = 60;
/// Most selections whose offers are kept.
pub const MAX_OFFERS: usize = 256;
/// Most lines the live status view keeps.
pub const STATUS_LINES: usize = 50;

/// What a row's offers depend on: the region and namespace (read-only,
/// RBAC) and what the row is (a StatefulSet cannot be paused).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OfferKey {
    pub region: RegionId,
    pub namespace: String,
    /// `Deployment`, `StatefulSet`, or `Pod` + its owner's kind.
    pub row: String,
}

/// The write path's answers per selection, for greying.
#[derive(Debug, Default)]
pub struct Offers {
    known: HashMap<OfferKey, (Timestamp, Vec<(Action, Offer)>)>,
}

impl Offers {
    pub fn get(&self, key: &OfferKey, now: Timestamp) -> Option<&[(Action, Offer)]> {
        self.known
            .get(key)
            .filter(|(at, _)| now - at < OFFER_TTL)
            .map(|(_, o)| o.as_slice())
    }

    /// Whether to ask (unknown, or its answer is old); marks it asked.
    fn ask(&mut self, key: &OfferKey, now: Timestamp) -> bool {
        if self.get(key, now).is_some() {
            return false;
        }
        if self.known.len() >= MAX_OFFERS {
            self.known.clear();
        }
        // an empty answer until the real one comes: asked once per TTL
        self.known.insert(key.clone(), (now, Vec::new()));
        true
    }

    fn put(&mut self, key: OfferKey, offers: Vec<(Action, Offer)>, now: Timestamp) {
        self.known.insert(key, (now, offers));
    }

    /// Why `action` is greyed on `key`, if it is known to be.
    pub fn greyed(&self, key: &OfferKey, action: Action, now: Timestamp) -> Option<&str> {
        self.get(key, now)?.iter().find_map(|(a, o)| match o {
            Offer::Greyed(why) if *a == action => Some(why.as_str()),
            _ => None,
        })
    }
}

/// The selected row, as an action needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowTargets {
    pub key: OfferKey,
    /// The workload (a pod's owner, when it is a Deployment or StatefulSet).
    pub workload: Option<Target>,
    /// The pod, on a pod row.
    pub pod: Option<Target>,
}

impl RowTargets {
    /// The target `action` acts on, or why there is none.
    pub fn for_action(&self, action: Action) -> Result<&Target, String> {
        match action {
            Action::DeletePod => self
                .pod
                .as_ref()
                .ok_or_else(|| "delete pod acts on a pod row (the pods pane)".to_string()),
            _ => self
                .workload
                .as_ref()
                .ok_or_else(|| "the pod has no Deployment or StatefulSet to act on".to_string()),
        }
    }
}

pub fn workload_target(row: &WorkloadRow) -> Target {
    Target::Workload {
        region: row.region,
        kind: match row.kind {
            crate::model::WorkloadKind::Deployment => WorkloadKind::Deployment,
            crate::model::WorkloadKind::StatefulSet => WorkloadKind::StatefulSet,
        },
        namespace: row.namespace.clone(),
        name: row.name.clone(),
        replicas: i32::try_from(row.desired).unwrap_or(i32::MAX),
    }
}

/// The targets of the focused pane's selected row.
pub fn selected(state: &State) -> Option<RowTargets> {
    match state.ui.focus {
        crate::panes::Pane::Workloads => {
            let row = state.workloads.selected(&state.store)?;
            Some(RowTargets {
                key: OfferKey {
                    region: row.region,
                    namespace: row.namespace.clone(),
                    row: super::state::kind_name(row.kind).into(),
                },
                workload: Some(workload_target(row)),
                pod: None,
            })
        }
        crate::panes::Pane::Pods => {
            let pod = state.ui.pods.selected.and_then(|s| state.store.get(s))?;
            let owner = WorkloadKey::of_pod(pod);
            let workload = match owner.kind {
                OwnerKind::Deployment | OwnerKind::StatefulSet => state
                    .store
                    .workloads()
                    .rows()
                    .get(&owner)
                    .map(|i| workload_target(&i.row)),
                _ => None,
            };
            Some(RowTargets {
                key: OfferKey {
                    region: pod.region,
                    namespace: pod.namespace.clone(),
                    row: format!("Pod of {}", owner.kind),
                },
                workload,
                pod: Some(Target::Pod {
                    region: pod.region,
                    namespace: pod.namespace.clone(),
                    name: pod.name.clone(),
                    // read from the server when the delete is prepared
                    grace_period_seconds: None,
                }),
            })
        }
        _ => None,
    }
}

/// One-shot IO for an action, run by `effects::spawn` (`run`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Job {
    /// Which row actions the write path allows (read-only, RBAC).
    Offers(OfferKey, RowTargets),
    /// Check, look up what the dialog must say, and prepare the change.
    Prepare {
        action: Action,
        target: Target,
        inputs: Inputs,
    },
    /// The revisions for the undo picker.
    Revisions(Target),
}

/// What a `Job` found.
#[derive(Debug, Clone)]
// it travels boxed (`Msg::Workloads(Box<Answer>)`), so its size is paid once
#[allow(clippy::large_enum_variant)]
pub enum Answer {
    Offers(OfferKey, Vec<(Action, Offer)>),
    /// The confirmation and its warnings, or why it cannot be done.
    Prepared(Result<(crate::write::Confirmation, Vec<String>), String>),
    Revisions {
        target: Target,
        result: Result<(Vec<Revision>, Vec<String>), String>,
    },
}

/// An open scale input, undo picker or live status view.
#[allow(clippy::large_enum_variant)] // one at a time, boxed in `Modal`
#[derive(Debug)]
pub enum Dialog {
    Scale {
        target: Target,
        input: TextArea<'static>,
        error: Option<String>,
    },
    Undo {
        target: Target,
        /// `None` while the revisions are fetched.
        revisions: Option<Result<Vec<Revision>, String>>,
        running: Vec<String>,
        cursor: usize,
    },
    Status {
        key: WorkloadKey,
        /// Each new kubectl sentence, oldest first.
        lines: Vec<String>,
    },
}

/// The workload keys `row` is stored under.
pub fn key_of(target: &Target) -> Option<WorkloadKey> {
    match target {
        Target::Workload {
            region,
            kind,
            namespace,
            name,
            ..
        } => Some(WorkloadKey {
            region: *region,
            namespace: namespace.clone(),
            kind: match kind {
                WorkloadKind::Deployment => OwnerKind::Deployment,
                WorkloadKind::StatefulSet => OwnerKind::StatefulSet,
            },
            name: name.clone(),
        }),
        Target::Pod { .. } => None,
    }
}

/// Asks for the selection's offers when they are not known (the hint line
/// greys what is refused).
pub fn want_offers(state: &mut State) -> Vec<Effect> {
    let Some(t) = selected(state) else {
        return Vec::new();
    };
    if !state.workloads.offers.ask(&t.key, state.now) {
        return Vec::new();
    }
    // read-only is known here: greyed without asking anyone
    if let Some(why) = state.read_only(t.key.region) {
        let offers = ROW_ACTIONS
            .iter()
            .filter(|a| **a != Action::RolloutStatus)
            .map(|a| (*a, Offer::Greyed(why.reason())))
            .collect();
        state.workloads.offers.put(t.key, offers, state.now);
        return Vec::new();
    }
    vec![Effect::Workload(Job::Offers(t.key.clone(), t))]
}

/// Why a row action is refused on the selection, when that is known
/// without asking anyone (the palette and help grey it with this).
pub fn refusal(state: &State, action: Action) -> Option<String> {
    if !ROW_ACTIONS.contains(&action) || action == Action::RolloutStatus {
        return None;
    }
    let t = selected(state)?;
    let target = match t.for_action(action) {
        Ok(target) => target,
        Err(why) => return Some(why),
    };
    if let Some(why) = state.read_only(target.region()) {
        return Some(why.reason());
    }
    state
        .workloads
        .offers
        .greyed(&t.key, action, state.now)
        .map(String::from)
}

/// A row action pressed on the focused pane's selection.
pub fn on_action(state: &mut State, action: Action) -> Vec<Effect> {
    let Some(t) = selected(state) else {
        return Vec::new();
    };
    let now = state.now;
    let target = match t.for_action(action) {
        Ok(target) => target.clone(),
        Err(why) => {
            return toast(
                state,
                ToastLevel::Warning,
                format!("{}: {why}", action.name()),
            )
        }
    };
    if action == Action::RolloutStatus {
        let Some(key) = key_of(&target) else {
            return Vec::new();
        };
        state.ui.modal = Some(Modal::Workload(Box::new(Dialog::Status {
            key,
            lines: Vec::new(),
        })));
        refresh_status(state);
        return Vec::new();
    }
    // refused before anything is asked or sent: read-only, a known RBAC no,
    // an action that does not apply to this row
    if let Some(why) = state.read_only(target.region()) {
        let text = format!("{}: {}, nothing sent", action.name(), why.reason());
        return toast(state, ToastLevel::Error, text);
    }
    if let Some(why) = state.workloads.offers.greyed(&t.key, action, now) {
        let text = format!("{}: {why}", action.name());
        return toast(state, ToastLevel::Error, text);
    }
    let placeholder = Inputs {
        replicas: "0".into(),
        undo: Some(crate::write::Params::Undo {
            revision: 0,
            template: serde_json::Value::Null,
            images: Vec::new(),
        }),
        now: String::new(),
    };
    if let Err(why) = plan::plan(action, &target, &placeholder) {
        return toast(state, ToastLevel::Warning, why);
    }
    match action {
        Action::Scale => {
            let Target::Workload { replicas, .. } = &target else {
                return Vec::new();
            };
            let mut input = TextArea::new(vec![replicas.to_string()]);
            input.move_cursor(tui_textarea::CursorMove::End);
            state.ui.modal = Some(Modal::Workload(Box::new(Dialog::Scale {
                target,
                input,
                error: None,
            })));
            Vec::new()
        }
        Action::RolloutUndo => {
            state.ui.modal = Some(Modal::Workload(Box::new(Dialog::Undo {
                target: target.clone(),
                revisions: None,
                running: Vec::new(),
                cursor: 0,
            })));
            vec![Effect::Workload(Job::Revisions(target))]
        }
        _ => vec![prepare(state, action, target, Inputs::default())],
    }
}

fn prepare(state: &State, action: Action, target: Target, mut inputs: Inputs) -> Effect {
    inputs.now = jiff::Timestamp::from_second(state.now)
        .map(|t| t.to_string())
        .unwrap_or_default();
    Effect::Workload(Job::Prepare {
        action,
        target,
        inputs,
    })
}

fn toast(state: &mut State, level: ToastLevel, text: String) -> Vec<Effect> {
    let text = crate::sanitize::sanitize(&text).into_owned();
    state.ui.toast(level, text, state.now);
    Vec::new()
}

/// A key while a scale input, undo picker or status view is open.
pub fn on_key(state: &mut State, ev: KeyEvent, key: Key) -> Vec<Effect> {
    let Some(Modal::Workload(dialog)) = &mut state.ui.modal else {
        return Vec::new();
    };
    let typing = matches!(**dialog, Dialog::Scale { .. });
    let section = if typing {
        KeyContext::Input
    } else {
        KeyContext::Modal
    };
    let mut action = match state.keymap.lookup(&[section], &[key]) {
        Lookup::Action(a) => Some(a),
        _ if ev.code == KeyCode::Enter => Some(Action::Submit),
        _ if ev.code == KeyCode::Esc => Some(Action::Cancel),
        _ => None,
    };
    if action.is_none() && !typing {
        // the picker and the status view move with the table's keys
        if let Lookup::Action(a) = state.keymap.lookup(&[KeyContext::Table], &[key]) {
            action = Some(a);
        }
    }
    match action {
        Some(Action::Quit) => {
            state.ui.modal = None;
            state.quit = true;
            return vec![Effect::Quit];
        }
        Some(Action::Cancel | Action::Back | Action::ClearFilter) => {
            state.ui.modal = None;
            return Vec::new();
        }
        _ => {}
    }
    let submit = matches!(
        action,
        Some(Action::Submit | Action::Confirm | Action::Select)
    );
    match &mut **dialog {
        Dialog::Scale {
            target,
            input,
            error,
        } => {
            if !submit {
                input.input(ev);
                *error = None;
                return Vec::new();
            }
            let text = input.lines().join("");
            if let Err(why) = plan::parse_replicas(&text) {
                *error = Some(why);
                return Vec::new();
            }
            let target = target.clone();
            state.ui.modal = None;
            let inputs = Inputs {
                replicas: text,
                ..Inputs::default()
            };
            vec![prepare(state, Action::Scale, target, inputs)]
        }
        Dialog::Undo {
            target,
            revisions,
            cursor,
            ..
        } => {
            let n = match revisions {
                Some(Ok(r)) => r.len(),
                _ => 0,
            };
            if let Some(delta) = action.and_then(|a| crate::widgets::movement(a, 10)) {
                *cursor = cursor.saturating_add_signed(delta).min(n.saturating_sub(1));
                return Vec::new();
            }
            if !submit {
                return Vec::new();
            }
            let Some(Ok(revs)) = revisions else {
                return Vec::new();
            };
            let Some(rev) = revs.get(*cursor) else {
                return Vec::new();
            };
            match rev.undo() {
                Ok(params) => {
                    let target = target.clone();
                    state.ui.modal = None;
                    let inputs = Inputs {
                        undo: Some(params),
                        ..Inputs::default()
                    };
                    vec![prepare(state, Action::RolloutUndo, target, inputs)]
                }
                Err(why) => toast(state, ToastLevel::Error, why),
            }
        }
        Dialog::Status { .. } => Vec::new(),
    }
}

/// A `Job`'s answer.
pub fn on_answer(state: &mut State, answer: Answer) {
    let now = state.now;
    match answer {
        Answer::Offers(key, offers) => state.workloads.offers.put(key, offers, now),
        Answer::Prepared(Ok((confirmation, warnings))) => {
            confirm::ask(state, confirmation, warnings)
        }
        Answer::Prepared(Err(why)) => {
            toast(state, ToastLevel::Error, why);
        }
        Answer::Revisions { target, result } => {
            if let Some(Modal::Workload(d)) = &mut state.ui.modal {
                if let Dialog::Undo {
                    target: t,
                    revisions,
                    running,
                    ..
                } = &mut **d
                {
                    if *t == target {
                        match result {
                            Ok((revs, run)) => {
                                *revisions = Some(Ok(revs));
                                *running = run;
                            }
                            Err(e) => *revisions = Some(Err(e)),
                        }
                    }
                }
            }
        }
    }
}

/// The live status view follows the store: a new kubectl sentence is a
/// new line (called before each draw).
pub fn refresh_status(state: &mut State) {
    let Some(Modal::Workload(d)) = &mut state.ui.modal else {
        return;
    };
    let Dialog::Status { key, lines } = &mut **d else {
        return;
    };
    let said = match state.store.workloads().rows().get(key) {
        Some(info) => {
            let kind = super::state::kind_name(info.row.kind).to_lowercase();
            rollout::state_of(&info.row)
                .sentence(&key.name)
                .replacen("deployment", &kind, 1)
        }
        None => format!("{} {:?} not found", key.kind, key.name),
    };
    if lines.last() != Some(&said) {
        if lines.len() >= STATUS_LINES {
            lines.remove(0);
        }
        lines.push(said);
    }
}
