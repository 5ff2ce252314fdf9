//! Exec: the container picker (a modal naming region, namespace and pod;
//! the command, empty for a shell), then the session on the user's
//! terminal (`job`). The picker asks the write path first (read-only, RBAC
//! `create pods/exec`): a refused exec is greyed with the reason and
//! nothing is sent. The session dialogs of exec and port-forward share the
//! one `Modal::Session` and the answers of their checks (`SessionMsg`).

pub mod job;
pub mod view;

use crate::action::Action;
use crate::effects::IoJob;
use crate::model::{PodRow, RegionId};
use crate::panes::forwards::{self, state::ForwardDialog, state::Stats};
use crate::state::{Modal, State, ToastLevel};
use crate::tasks::{TaskKey, TerminalJob};
use crate::update::Effect;
use crate::write::session::ExecRequest;
use crate::write::{Access, Permission};
use crossterm::event::{KeyCode, KeyEvent};
use tui_textarea::TextArea;

/// Answers to the session dialogs and a forward's counters.
#[derive(Debug, Clone)]
pub enum SessionMsg {
    /// May the dialog `id`'s session open (read-only, RBAC), and the ports
    /// the pod declares (port-forward).
    Checked {
        id: u64,
        access: Result<(), String>,
        ports: Option<Result<Vec<u16>, String>>,
    },
    /// The exec passed its checks: the session, ready to take the terminal.
    Ready(TerminalJob),
    /// The exec was refused before anything was sent.
    Refused(String),
    /// A forward's counters.
    Forward { key: TaskKey, stats: Stats },
}

/// The open session dialog.
#[derive(Debug)]
pub enum SessionDialog {
    Exec(ExecPicker),
    Forward(ForwardDialog),
}

/// The exec dialog.
#[derive(Debug)]
pub struct ExecPicker {
    pub id: u64,
    pub region: RegionId,
    pub region_name: String,
    pub namespace: String,
    pub pod: String,
    pub containers: Vec<String>,
    pub chosen: usize,
    /// Empty: a shell (bash, else sh).
    pub command: TextArea<'static>,
    /// Production regions: the pod's name typed.
    pub typed: Option<TextArea<'static>>,
    pub typing_name: bool,
    /// `None` while checking; `Err` greys it with the reason.
    pub access: Option<Result<(), String>>,
    pub error: Option<String>,
}

/// The selected pod of the pods pane.
pub fn selected_pod(state: &State) -> Option<&PodRow> {
    state
        .ui
        .pods
        .selected
        .and_then(|slot| state.store.get(slot))
}

/// Opens the exec picker on the selected pod.
pub fn open(state: &mut State) -> Vec<Effect> {
    let Some(pod) = selected_pod(state).cloned() else {
        state
            .ui
            .toast(ToastLevel::Warning, "exec: select a pod first", state.now);
        return Vec::new();
    };
    open_on(state, &pod)
}

/// Opens the exec picker on `pod` (the workloads pane passes a pod of the
/// selected workload).
pub fn open_on(state: &mut State, pod: &PodRow) -> Vec<Effect> {
    let id = state.forwards.id();
    let region = pod.region;
    let production = state.regions.get(region).is_some_and(|r| r.production);
    // read-only (flag, config, the region's own): greyed, nothing asked
    let refused = state.read_only(region).map(|r| Err(r.reason()));
    let ask = refused.is_none();
    state.ui.modal = Some(Modal::Session(Box::new(SessionDialog::Exec(ExecPicker {
        id,
        region,
        region_name: state.region_name(region).to_string(),
        namespace: pod.namespace.clone(),
        pod: pod.name.clone(),
        containers: pod.containers.iter().map(|c| c.name.clone()).collect(),
        chosen: 0,
        command: TextArea::default(),
        typed: production.then(TextArea::default),
        typing_name: false,
        access: refused,
        error: None,
    }))));
    if !ask {
        return Vec::new();
    }
    vec![check(id, region, Permission::exec(&pod.namespace), None)]
}

/// Asks the write path whether the session may open (and fetches the
/// pod's declared ports for a forward).
pub fn check(
    id: u64,
    region: RegionId,
    perm: Permission,
    ports_of: Option<(String, String)>,
) -> Effect {
    Effect::Io(IoJob::new(move |env: crate::effects::Env| async move {
        let access = match crate::write::allowed(&env.writer, region, &perm).await {
            Access::Allowed => Ok(()),
            Access::Denied(why) | Access::Unknown(why) => Err(why),
        };
        let ports = match (ports_of, env.clients.get(region)) {
            (Some((ns, pod)), Some(c)) => Some(forwards::declared_ports(&c, &ns, &pod).await),
            (Some(_), None) => Some(Err("the region is not connected yet".into())),
            _ => None,
        };
        crate::msg::Msg::Session(SessionMsg::Checked { id, access, ports })
    }))
}

/// Splits a typed command into arguments: whitespace separates, single or
/// double quotes keep spaces.
pub fn split_command(text: &str) -> Vec<String> {
    let mut args = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut any = false;
    for c in text.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => cur.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                any = true;
            }
            (None, c) if c.is_whitespace() => {
                if any || !cur.is_empty() {
                    args.push(std::mem::take(&mut cur));
                }
                any = false;
            }
            (None, c) => cur.push(c),
        }
    }
    if any || !cur.is_empty() {
        args.push(cur);
    }
    args
}

/// A key while a session dialog is open: Esc closes, Enter starts, Up and
/// Down choose (container / pod or workload), Tab moves between the inputs
/// of a production region; the rest is typed.
pub fn on_key(state: &mut State, ev: KeyEvent) -> Vec<Effect> {
    let Some(Modal::Session(dialog)) = &mut state.ui.modal else {
        return Vec::new();
    };
    match ev.code {
        KeyCode::Esc => {
            state.ui.modal = None;
            return Vec::new();
        }
        KeyCode::Enter => {
            return match dialog.as_ref() {
                SessionDialog::Exec(_) => submit_exec(state),
                SessionDialog::Forward(_) => forwards::submit(state),
            }
        }
        _ => {}
    }
    match dialog.as_mut() {
        SessionDialog::Exec(p) => match ev.code {
            KeyCode::Up => p.chosen = p.chosen.saturating_sub(1),
            KeyCode::Down => p.chosen = (p.chosen + 1).min(p.containers.len().saturating_sub(1)),
            KeyCode::Tab | KeyCode::BackTab if p.typed.is_some() => p.typing_name = !p.typing_name,
            _ => {
                let input = match (&mut p.typed, p.typing_name) {
                    (Some(t), true) => t,
                    _ => &mut p.command,
                };
                input.input(ev);
                p.error = None;
            }
        },
        SessionDialog::Forward(d) => match ev.code {
            KeyCode::Up | KeyCode::Down if d.workload.is_some() && !d.is_service() => {
                d.to_workload = !d.to_workload
            }
            KeyCode::Tab | KeyCode::BackTab if d.typed.is_some() => d.typing_name = !d.typing_name,
            _ => {
                let input = match (&mut d.typed, d.typing_name) {
                    (Some(t), true) => t,
                    _ => &mut d.ports,
                };
                input.input(ev);
                d.error = None;
            }
        },
    }
    Vec::new()
}

/// Enter in the exec picker: refused here when greyed or not confirmed;
/// otherwise the checks run again off the UI task and the session takes the
/// terminal only once they pass (`SessionMsg::Ready`).
fn submit_exec(state: &mut State) -> Vec<Effect> {
    let Some(Modal::Session(dialog)) = &mut state.ui.modal else {
        return Vec::new();
    };
    let SessionDialog::Exec(p) = dialog.as_mut() else {
        return Vec::new();
    };
    if let Some(Err(why)) = &p.access {
        p.error = Some(format!("refused: {why}"));
        return Vec::new();
    }
    if let Some(t) = &p.typed {
        if t.lines().join("").trim() != p.pod {
            p.error = Some(format!("production region: type `{}` exactly (Tab)", p.pod));
            p.typing_name = true;
            return Vec::new();
        }
    }
    let command = split_command(&p.command.lines().join(" "));
    let req = ExecRequest {
        region: p.region,
        namespace: p.namespace.clone(),
        pod: p.pod.clone(),
        container: p.containers.get(p.chosen).cloned(),
        command,
        tty: true,
    };
    let label = format!(
        "exec {}/{}/{}{}",
        p.region_name,
        p.namespace,
        p.pod,
        req.container
            .as_deref()
            .map(|c| format!(" ({c})"))
            .unwrap_or_default()
    );
    state.ui.modal = None;
    let region = req.region;
    let perm = Permission::exec(&req.namespace);
    vec![Effect::Io(IoJob::new(
        move |env: crate::effects::Env| async move {
            let msg = match crate::write::allowed(&env.writer, region, &perm).await {
                Access::Allowed => {
                    SessionMsg::Ready(TerminalJob::new(label, move || job::run(env, req)))
                }
                Access::Denied(why) | Access::Unknown(why) => {
                    SessionMsg::Refused(format!("{label}: refused: {why}"))
                }
            };
            crate::msg::Msg::Session(msg)
        },
    ))]
}

pub fn on_msg(state: &mut State, msg: SessionMsg) -> Vec<Effect> {
    match msg {
        SessionMsg::Checked { id, access, ports } => {
            if let Some(Modal::Session(dialog)) = &mut state.ui.modal {
                match dialog.as_mut() {
                    SessionDialog::Exec(p) if p.id == id => p.access = Some(access),
                    SessionDialog::Forward(d) if d.id == id => {
                        d.access = Some(access);
                        forwards::declared(d, ports);
                    }
                    _ => {}
                }
            }
            Vec::new()
        }
        SessionMsg::Ready(job) => vec![Effect::Terminal(job)],
        SessionMsg::Refused(why) => {
            let text = crate::sanitize::sanitize(&why).into_owned();
            state.ui.toast(ToastLevel::Error, text, state.now);
            Vec::new()
        }
        SessionMsg::Forward { key, stats } => {
            forwards::on_stats(state, key, stats);
            Vec::new()
        }
    }
}

/// Exec and port-forward from the pods pane.
pub fn on_pod_action(state: &mut State, action: Action) -> Option<Vec<Effect>> {
    match action {
        Action::Exec => Some(open(state)),
        Action::PortForward => Some(forwards::open(state)),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
