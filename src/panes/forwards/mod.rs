//! The port-forward manager: `F` on a pod opens a dialog (the pod or its
//! workload, the ports, checked by the write path first), `F` on a Service
//! row of the resources pane the same dialog with the Service's ports;
//! Enter starts the forward as a long-lived task (`task`), and this pane
//! lists every forward: local address, region/namespace/target:port,
//! state, connections, bytes in and out, last error; `x` stops one, `X`
//! all.

pub mod service;
pub mod state;
pub mod task;
pub mod view;

use crate::action::Action;
use crate::effects::Env;
use crate::fleet::owners::{OwnerKind, WorkloadKey};
use crate::panes::exec::{self, SessionDialog};
use crate::state::{Modal, State, ToastLevel};
use crate::tasks::{TaskCommand, TaskJob, TaskKey, TaskReport, TaskState};
use crate::update::Effect;
use crate::widgets::movement;
use crate::write::{Permission, ReadClient};
use state::{parse_ports, ForwardDialog, ForwardSpec, ForwardTarget, Stats};
use tui_textarea::TextArea;

/// The forwards pane's keys.
pub fn on_action(state: &mut State, action: Action) -> Option<Vec<Effect>> {
    let rows = state.forwards.rows.len();
    if let Some(delta) = movement(action, state.ui.list_page()) {
        let c = state.forwards.cursor as isize + delta;
        state.forwards.cursor = c.clamp(0, rows.saturating_sub(1) as isize) as usize;
        return Some(Vec::new());
    }
    match action {
        Action::StopForward => {
            let key = state.forwards.selected().cloned();
            Some(key.map_or_else(Vec::new, |k| vec![Effect::Task(TaskCommand::Stop(k))]))
        }
        Action::StopAllForwards => Some(
            state
                .forwards
                .rows
                .iter()
                .filter(|(_, r)| !r.ended)
                .map(|(k, _)| Effect::Task(TaskCommand::Stop(k.clone())))
                .collect(),
        ),
        _ => None,
    }
}

/// Opens the forward dialog on the selected pod.
pub fn open(state: &mut State) -> Vec<Effect> {
    let Some(pod) = exec::selected_pod(state).cloned() else {
        state.ui.toast(
            ToastLevel::Warning,
            "port-forward: select a pod first",
            state.now,
        );
        return Vec::new();
    };
    open_on(state, &pod)
}

/// Opens the forward dialog on `pod`, its Deployment or StatefulSet chosen
/// when it has one (the workloads pane passes a pod of the selected
/// workload).
pub fn open_on(state: &mut State, pod: &crate::model::PodRow) -> Vec<Effect> {
    let owner = WorkloadKey::of_pod(pod);
    let workload = match owner.kind {
        OwnerKind::Deployment => Some(ForwardTarget::Deployment(owner.name)),
        OwnerKind::StatefulSet => Some(ForwardTarget::StatefulSet(owner.name)),
        _ => None,
    };
    let id = state.forwards.id();
    let production = state.regions.get(pod.region).is_some_and(|r| r.production);
    // read-only (flag, config, the region's own): greyed, nothing asked
    let refused = state.read_only(pod.region).map(|r| r.reason());
    let dialog = ForwardDialog {
        id,
        region: pod.region,
        region_name: state.region_name(pod.region).to_string(),
        namespace: pod.namespace.clone(),
        pod: pod.name.clone(),
        to_workload: workload.is_some(),
        workload,
        ports: TextArea::default(),
        declared: refused
            .as_ref()
            .map(|_| Err("not asked (read-only)".to_string())),
        access: refused.clone().map(Err),
        typed: production.then(TextArea::default),
        typing_name: false,
        waiting: None,
        error: None,
    };
    state.ui.modal = Some(Modal::Session(Box::new(SessionDialog::Forward(dialog))));
    if refused.is_some() {
        return Vec::new();
    }
    vec![exec::check(
        id,
        pod.region,
        Permission::port_forward(&pod.namespace),
        Some((pod.namespace.clone(), pod.name.clone())),
    )]
}

/// Opens the forward dialog on a Service (`F` on a Service row of the
/// resources pane): its ports offered, its pods found when it starts.
pub fn open_service(
    state: &mut State,
    region: crate::model::RegionId,
    namespace: &str,
    name: &str,
) -> Vec<Effect> {
    let id = state.forwards.id();
    let production = state.regions.get(region).is_some_and(|r| r.production);
    let refused = state.read_only(region).map(|r| r.reason());
    let dialog = ForwardDialog {
        id,
        region,
        region_name: state.region_name(region).to_string(),
        namespace: namespace.to_string(),
        pod: String::new(),
        to_workload: true,
        workload: Some(ForwardTarget::Service(name.to_string())),
        ports: TextArea::default(),
        declared: refused
            .as_ref()
            .map(|_| Err("not asked (read-only)".to_string())),
        access: refused.clone().map(Err),
        typed: production.then(TextArea::default),
        typing_name: false,
        waiting: None,
        error: None,
    };
    state.ui.modal = Some(Modal::Session(Box::new(SessionDialog::Forward(dialog))));
    if refused.is_some() {
        return Vec::new();
    }
    let (namespace, name) = (namespace.to_string(), name.to_string());
    let perm = Permission::port_forward(&namespace);
    vec![Effect::Io(crate::effects::IoJob::new(
        move |env: Env| async move {
            let access = match crate::write::allowed(&env.writer, region, &perm).await {
                crate::write::Access::Allowed => Ok(()),
                crate::write::Access::Denied(why) | crate::write::Access::Unknown(why) => Err(why),
            };
            let ports = match env.clients.get(region) {
                Some(c) => service::ports(&c, &namespace, &name).await,
                None => Err("the region is not connected yet".into()),
            };
            crate::msg::Msg::Session(exec::SessionMsg::Checked {
                id,
                access,
                ports: Some(ports),
            })
        },
    ))]
}

/// The check's answer: the declared ports, the first one typed in for the
/// person when they have typed nothing.
pub fn declared(d: &mut ForwardDialog, ports: Option<Result<Vec<u16>, String>>) {
    if let Some(Ok(p)) = &ports {
        if let (Some(first), true) = (p.first(), d.ports.is_empty()) {
            d.ports = TextArea::new(vec![first.to_string()]);
            d.ports.move_cursor(tui_textarea::CursorMove::End);
        }
    }
    d.declared = ports;
}

/// The container ports the pod declares (GET of the pod).
pub async fn declared_ports(
    client: &ReadClient,
    namespace: &str,
    pod: &str,
) -> Result<Vec<u16>, String> {
    let req = kube::core::Request::new(format!("/api/v1/namespaces/{namespace}/pods"))
        .get(pod, &kube::api::GetParams::default())
        .map_err(|e| e.to_string())?;
    let pod: k8s_openapi::api::core::v1::Pod = client
        .request(req)
        .await
        .map_err(|e| crate::write::session::describe_error(&e))?;
    let mut ports: Vec<u16> = pod
        .spec
        .iter()
        .flat_map(|s| s.containers.iter())
        .flat_map(|c| c.ports.iter().flatten())
        .filter_map(|p| u16::try_from(p.container_port).ok())
        .collect();
    ports.dedup();
    Ok(ports)
}

/// Enter in the forward dialog: refused when greyed, not confirmed or the
/// ports are wrong; otherwise the task starts and the dialog waits for it to
/// listen (a port in use comes back here, to type another).
pub fn submit(state: &mut State) -> Vec<Effect> {
    let Some(Modal::Session(dialog)) = &mut state.ui.modal else {
        return Vec::new();
    };
    let SessionDialog::Forward(d) = dialog.as_mut() else {
        return Vec::new();
    };
    if d.waiting.is_some() {
        return Vec::new();
    }
    if let Some(Err(why)) = &d.access {
        d.error = Some(format!("refused: {why}"));
        return Vec::new();
    }
    let target = d.target();
    if let Some(t) = &d.typed {
        if t.lines().join("").trim() != target.name() {
            d.error = Some(format!(
                "production region: type `{}` exactly (Tab)",
                target.name()
            ));
            d.typing_name = true;
            return Vec::new();
        }
    }
    let (local, remote) = match parse_ports(&d.ports.lines().join("")) {
        Ok(p) => p,
        Err(why) => {
            d.error = Some(why);
            return Vec::new();
        }
    };
    let spec = ForwardSpec {
        region: d.region,
        region_name: d.region_name.clone(),
        namespace: d.namespace.clone(),
        target,
        remote,
        local,
    };
    let key = spec.key();
    d.waiting = Some(key.clone());
    d.error = None;
    state.forwards.add(spec.clone());
    vec![start(spec)]
}

/// The effect that starts a forward (also for the workloads pane).
pub fn start(spec: ForwardSpec) -> Effect {
    let key = spec.key();
    Effect::Task(TaskCommand::Start(
        key,
        TaskJob::new(move |env: Env, ctx| task::run(env, ctx, spec)),
    ))
}

/// A task report: the dialog waiting on it closes once it listens, or
/// shows why it failed; the pane marks ended forwards.
pub fn on_task(state: &mut State, report: &TaskReport) {
    if !state.forwards.rows.contains_key(&report.key) {
        return;
    }
    match &report.state {
        TaskState::Stopped | TaskState::Failed(_) => state.forwards.end(&report.key),
        _ => {
            if let Some(r) = state.forwards.rows.get_mut(&report.key) {
                r.ended = false;
            }
        }
    }
    let Some(Modal::Session(dialog)) = &mut state.ui.modal else {
        return;
    };
    let SessionDialog::Forward(d) = dialog.as_mut() else {
        return;
    };
    if d.waiting.as_ref() != Some(&report.key) {
        return;
    }
    match &report.state {
        TaskState::Running(detail) => {
            let text = crate::sanitize::sanitize(&format!("forwarding {detail}")).into_owned();
            state.ui.modal = None;
            state.ui.toast(ToastLevel::Info, text, state.now);
        }
        TaskState::Failed(why) => {
            d.waiting = None;
            d.error = Some(crate::sanitize::sanitize(why).into_owned());
        }
        TaskState::Stopped => d.waiting = None,
        TaskState::Starting => {}
    }
}

pub fn on_stats(state: &mut State, key: TaskKey, stats: Stats) {
    if let Some(r) = state.forwards.rows.get_mut(&key) {
        if !r.ended {
            r.stats = stats;
        }
    }
}

#[cfg(test)]
mod tests;
