//! How a rollout reads: the status line `kubectl rollout status` prints,
//! and the revisions `kubectl rollout undo --to-revision` chooses from.

use crate::write::Params;
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::PodTemplateSpec;

pub const REVISION: &str = "deployment.kubernetes.io/revision";
pub const CHANGE_CAUSE: &str = "kubernetes.io/change-cause";
/// The label the controller adds to a ReplicaSet's template; kubectl strips
/// it before putting the template back on the Deployment.
const TEMPLATE_HASH: &str = "pod-template-hash";

/// Where a Deployment's rollout stands, as `kubectl rollout status` reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RolloutState {
    /// The controller has not seen the latest spec yet.
    Observing,
    Paused,
    /// ProgressDeadlineExceeded.
    Stalled,
    /// `updated` of `desired` on the new template.
    Progressing {
        updated: i32,
        desired: i32,
    },
    /// New replicas all there, old ones still terminating.
    Terminating {
        old: i32,
    },
    /// Updated replicas not all available yet.
    Available {
        available: i32,
        updated: i32,
    },
    Complete,
}

impl RolloutState {
    /// The short form for a table cell.
    pub fn cell(&self) -> String {
        match self {
            RolloutState::Observing => "observing".into(),
            RolloutState::Paused => "paused".into(),
            RolloutState::Stalled => "stalled".into(),
            RolloutState::Progressing { updated, desired } => {
                format!("{updated} of {desired} updated")
            }
            RolloutState::Terminating { old } => format!("{old} old terminating"),
            RolloutState::Available { available, updated } => {
                format!("{available} of {updated} available")
            }
            RolloutState::Complete => "complete".into(),
        }
    }

    /// kubectl's sentence, for the live status view.
    pub fn sentence(&self, name: &str) -> String {
        match self {
            RolloutState::Observing => "Waiting for deployment spec update to be observed...".into(),
            RolloutState::Paused => format!("deployment {name:?} is paused"),
            RolloutState::Stalled => {
                format!("error: deployment {name:?} exceeded its progress deadline")
            }
            RolloutState::Progressing { updated, desired } => format!(
                "Waiting for deployment {name:?} rollout to finish: {updated} out of {desired} new replicas have been updated..."
            ),
            RolloutState::Terminating { old } => format!(
                "Waiting for deployment {name:?} rollout to finish: {old} old replicas are pending termination..."
            ),
            RolloutState::Available { available, updated } => format!(
                "Waiting for deployment {name:?} rollout to finish: {available} of {updated} updated replicas are available..."
            ),
            RolloutState::Complete => format!("deployment {name:?} successfully rolled out"),
        }
    }

    /// Whether `kubectl rollout status` would stop watching.
    pub fn done(&self) -> bool {
        matches!(self, RolloutState::Complete | RolloutState::Stalled)
    }
}

/// A Deployment's rollout state, in kubectl's order of checks
/// (`DeploymentStatusViewer`), with pause reported before progress.
pub fn status(d: &Deployment) -> RolloutState {
    let generation = d.metadata.generation.unwrap_or(0);
    let Some(st) = &d.status else {
        return RolloutState::Observing;
    };
    if generation > st.observed_generation.unwrap_or(0) {
        return RolloutState::Observing;
    }
    let stalled = st.conditions.iter().flatten().any(|c| {
        c.type_ == "Progressing" && c.reason.as_deref() == Some("ProgressDeadlineExceeded")
    });
    if stalled {
        return RolloutState::Stalled;
    }
    let spec = d.spec.as_ref();
    if spec.and_then(|s| s.paused).unwrap_or(false) {
        return RolloutState::Paused;
    }
    let desired = spec.and_then(|s| s.replicas).unwrap_or(1);
    let updated = st.updated_replicas.unwrap_or(0);
    let replicas = st.replicas.unwrap_or(0);
    let available = st.available_replicas.unwrap_or(0);
    if updated < desired {
        RolloutState::Progressing { updated, desired }
    } else if replicas > updated {
        RolloutState::Terminating {
            old: replicas - updated,
        }
    } else if available < updated {
        RolloutState::Available { available, updated }
    } else {
        RolloutState::Complete
    }
}

/// The same reading from the fleet store's row (Deployments and
/// StatefulSets), for the table and the live status view; the row keeps no
/// total replica count, so old replicas still terminating read as complete
/// once every updated one is available.
pub fn state_of(row: &crate::model::WorkloadRow) -> RolloutState {
    let n = |v: u32| i32::try_from(v).unwrap_or(i32::MAX);
    if row.generation > row.observed_generation {
        RolloutState::Observing
    } else if crate::fleet::workloads::progress_deadline_exceeded(row).is_some() {
        RolloutState::Stalled
    } else if row.paused {
        RolloutState::Paused
    } else if row.updated < row.desired {
        RolloutState::Progressing {
            updated: n(row.updated),
            desired: n(row.desired),
        }
    } else if row.available < row.updated {
        RolloutState::Available {
            available: n(row.available),
            updated: n(row.updated),
        }
    } else {
        RolloutState::Complete
    }
}

/// One revision of a Deployment, from its ReplicaSet.
#[derive(Debug, Clone, PartialEq)]
pub struct Revision {
    pub number: i64,
    pub images: Vec<String>,
    pub change_cause: Option<String>,
    /// RFC 3339 creation time of its ReplicaSet.
    pub created: Option<String>,
    template: Option<PodTemplateSpec>,
}

impl Revision {
    /// The change that puts this revision's template back, as
    /// `kubectl rollout undo --to-revision` does.
    pub fn undo(&self) -> Result<Params, String> {
        let mut template = self
            .template
            .clone()
            .ok_or_else(|| format!("revision {} has no pod template", self.number))?;
        if let Some(labels) = template.metadata.as_mut().and_then(|m| m.labels.as_mut()) {
            labels.remove(TEMPLATE_HASH);
        }
        Ok(Params::Undo {
            revision: self.number,
            template: serde_json::to_value(&template).map_err(|e| e.to_string())?,
            images: self.images.clone(),
        })
    }

    /// The images that differ from `running`: `(running, this)` pairs, by
    /// position (one per container).
    pub fn image_diff(&self, running: &[String]) -> Vec<(String, String)> {
        let n = running.len().max(self.images.len());
        (0..n)
            .filter_map(|i| {
                let a = running.get(i).cloned().unwrap_or_default();
                let b = self.images.get(i).cloned().unwrap_or_default();
                (a != b).then_some((a, b))
            })
            .collect()
    }
}

fn images(t: Option<&PodTemplateSpec>) -> Vec<String> {
    t.and_then(|t| t.spec.as_ref())
        .map(|s| {
            s.containers
                .iter()
                .filter_map(|c| c.image.clone())
                .collect()
        })
        .unwrap_or_default()
}

/// The images a Deployment runs now.
pub fn running_images(d: &Deployment) -> Vec<String> {
    images(d.spec.as_ref().map(|s| &s.template))
}

/// The revisions of the Deployment with `uid`, newest first, from the
/// ReplicaSets it owns.
pub fn revisions(uid: &str, replica_sets: &[ReplicaSet]) -> Vec<Revision> {
    let mut out: Vec<Revision> = replica_sets
        .iter()
        .filter(|rs| {
            rs.metadata
                .owner_references
                .iter()
                .flatten()
                .any(|o| o.uid == uid && o.controller == Some(true))
        })
        .filter_map(|rs| {
            let ann = rs.metadata.annotations.as_ref();
            let number = ann?.get(REVISION)?.parse::<i64>().ok()?;
            let template = rs.spec.as_ref().and_then(|s| s.template.clone());
            Some(Revision {
                number,
                images: images(template.as_ref()),
                change_cause: ann.and_then(|a| a.get(CHANGE_CAUSE)).cloned(),
                created: rs
                    .metadata
                    .creation_timestamp
                    .as_ref()
                    .map(|t| t.0.to_string()),
                template,
            })
        })
        .collect();
    out.sort_by_key(|r| std::cmp::Reverse(r.number));
    out
}

/// Most reads the live status view makes before giving up.
pub const STATUS_POLLS: usize = 600;

/// The live status view: reads the Deployment once a `period` with the
/// read-only handle, hands each new kubectl sentence to `line`, and stops
/// when the rollout is complete or stalled (as `kubectl rollout status`
/// does), or after `STATUS_POLLS` reads. A failed read is said as a line
/// and retried.
pub async fn follow_status(
    reader: &crate::write::ReadClient,
    namespace: &str,
    name: &str,
    period: std::time::Duration,
    mut line: impl FnMut(String),
) -> Option<RolloutState> {
    let path = format!("/apis/apps/v1/namespaces/{namespace}/deployments/{name}");
    let mut last = String::new();
    for _ in 0..STATUS_POLLS {
        let req = http::Request::get(path.as_str()).body(Vec::new()).ok()?;
        let (said, state) = match reader.request::<Deployment>(req).await {
            Ok(d) => {
                let st = status(&d);
                (st.sentence(name), Some(st))
            }
            Err(e) => (
                format!(
                    "cannot read deployment {name:?}: {}",
                    crate::write::error_text(&e)
                ),
                None,
            ),
        };
        if said != last {
            line(said.clone());
            last = said;
        }
        if let Some(st) = state.filter(RolloutState::done) {
            return Some(st);
        }
        tokio::time::sleep(period).await;
    }
    None
}
