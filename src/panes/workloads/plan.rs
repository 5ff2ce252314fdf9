//! From a registry action and the selected row to what the write path
//! sends. Every `Danger::Mutating` action of the registry is planned here,
//! so a test can walk the registry and prove each is refused in read-only
//! mode before any request.

use crate::action::{Action, Danger, ACTIONS};
use crate::model::RegionId;
use crate::write::{ObjectRef, Params, Permission};

/// Largest replica count the scale input accepts.
pub const MAX_REPLICAS: i32 = 10_000;

/// A workload kind the cockpit acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkloadKind {
    Deployment,
    StatefulSet,
}

/// What the selected row is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Workload {
        region: RegionId,
        kind: WorkloadKind,
        namespace: String,
        name: String,
        /// `spec.replicas` as last seen.
        replicas: i32,
    },
    Pod {
        region: RegionId,
        namespace: String,
        name: String,
        /// The pod's `terminationGracePeriodSeconds`, shown and sent.
        grace_period_seconds: Option<u32>,
    },
}

impl Target {
    pub fn region(&self) -> RegionId {
        match self {
            Target::Workload { region, .. } | Target::Pod { region, .. } => *region,
        }
    }

    fn namespace(&self) -> &str {
        match self {
            Target::Workload { namespace, .. } | Target::Pod { namespace, .. } => namespace,
        }
    }
}

/// What the person typed or chose before confirming.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Inputs {
    /// The scale input's text.
    pub replicas: String,
    /// The revision chosen in the undo picker.
    pub undo: Option<Params>,
    /// Now, RFC 3339, for the restart annotation.
    pub now: String,
}

/// What an action means for a target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Planned {
    /// A change for `Writer::prepare`.
    Change { object: ObjectRef, params: Params },
    /// A session (exec, port-forward) that needs this permission; it is
    /// audited as a session, not sent as a change.
    Session(Permission),
}

/// The mutating actions of the registry.
pub fn mutating_actions() -> impl Iterator<Item = Action> {
    ACTIONS
        .iter()
        .filter(|a| a.danger == Danger::Mutating)
        .map(|a| a.action)
}

/// The new replica count, validated: a whole number from 0 to `MAX_REPLICAS`.
pub fn parse_replicas(text: &str) -> Result<i32, String> {
    let t = text.trim();
    if t.is_empty() {
        return Err("type the number of replicas".into());
    }
    match t.parse::<i64>() {
        Ok(n) if (0..=i64::from(MAX_REPLICAS)).contains(&n) => Ok(n as i32),
        Ok(_) => Err(format!("replicas must be between 0 and {MAX_REPLICAS}")),
        Err(_) => Err(format!("`{t}` is not a whole number")),
    }
}

/// What `action` means for `target`, or why it does not apply.
pub fn plan(action: Action, target: &Target, inputs: &Inputs) -> Result<Planned, String> {
    let change = |object, params| Ok(Planned::Change { object, params });
    match (action, target) {
        (Action::Exec, Target::Pod { namespace, .. }) => {
            Ok(Planned::Session(Permission::exec(namespace)))
        }
        (Action::PortForward, t) => Ok(Planned::Session(Permission::port_forward(t.namespace()))),
        (
            Action::DeletePod,
            Target::Pod {
                namespace,
                name,
                grace_period_seconds,
                ..
            },
        ) => change(
            ObjectRef::pod(namespace, name),
            Params::Delete {
                grace_period_seconds: *grace_period_seconds,
            },
        ),
        (
            action,
            Target::Workload {
                kind,
                namespace,
                name,
                replicas,
                ..
            },
        ) => {
            let object = match kind {
                WorkloadKind::Deployment => ObjectRef::deployment(namespace, name),
                WorkloadKind::StatefulSet => ObjectRef::stateful_set(namespace, name),
            };
            let deployment_only = |p: Params| match kind {
                WorkloadKind::Deployment => change(object.clone(), p),
                WorkloadKind::StatefulSet => Err(format!(
                    "{} applies to Deployments only",
                    action.name().replace('_', " ")
                )),
            };
            match action {
                Action::Scale => {
                    let to = parse_replicas(&inputs.replicas)?;
                    change(
                        object,
                        Params::Scale {
                            from: *replicas,
                            to,
                        },
                    )
                }
                Action::RolloutRestart => change(
                    object,
                    Params::Restart {
                        at: inputs.now.clone(),
                    },
                ),
                Action::RolloutPause => deployment_only(Params::Pause),
                Action::RolloutResume => deployment_only(Params::Resume),
                // a promotion's change in each region: the image set (the
                // plan and its images come from the releases pane)
                Action::Promote => deployment_only(Params::SetImage {
                    container: name.clone(),
                    image: String::new(),
                    from: String::new(),
                    change_cause: String::new(),
                }),
                Action::RolloutUndo => match &inputs.undo {
                    Some(p @ Params::Undo { .. }) => deployment_only(p.clone()),
                    _ => Err("choose a revision first".into()),
                },
                other => Err(format!("{} does not apply to a workload", other.name())),
            }
        }
        (other, Target::Pod { .. }) => Err(format!(
            "{} applies to the pod's workload, not the pod",
            other.name()
        )),
    }
}

/// Whether an action is offered on a row, or greyed with the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Offer {
    Available,
    Greyed(String),
}

/// Asks the write path before an action is offered: read-only first, then
/// RBAC for exactly the permission the change or session needs.
pub async fn offer(writer: &crate::write::Writer, action: Action, target: &Target) -> Offer {
    // Placeholder inputs: the permission does not depend on them.
    let inputs = Inputs {
        replicas: "1".into(),
        undo: Some(Params::Undo {
            revision: 0,
            template: serde_json::Value::Null,
            images: Vec::new(),
        }),
        now: String::new(),
    };
    let perm = match plan(action, target, &inputs) {
        Ok(Planned::Session(p)) => p,
        Ok(Planned::Change { object, params }) => {
            match writer.prepare(target.region(), object, params) {
                Ok(c) => c.mutation().permission(),
                Err(r) => return Offer::Greyed(r.to_string()),
            }
        }
        Err(why) => return Offer::Greyed(why),
    };
    match crate::write::allowed(writer, target.region(), &perm).await {
        crate::write::Access::Allowed => Offer::Available,
        crate::write::Access::Denied(why) | crate::write::Access::Unknown(why) => {
            Offer::Greyed(why)
        }
    }
}
