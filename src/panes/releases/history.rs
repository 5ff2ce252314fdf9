//! What the timeline and the matrix need beyond the fleet store, read by a
//! long-lived task while the releases pane is in use: the focused
//! Deployment's revisions in every region (its ReplicaSets), pitwall's own
//! audited actions on it, and which images each workload ever ran in the
//! first stage (for drift). Read every `PERIOD`, bounded per request.

use super::ReleasesMsg;
use crate::effects::Env;
use crate::model::{RegionId, Timestamp};
use crate::msg::Msg;
use crate::panes::workloads::rollout::{self, Revision};
use crate::tasks::TaskCtx;
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::Duration;

pub const PERIOD: Duration = Duration::from_secs(5);
/// Most ReplicaSets read per request.
const RS_LIMIT: usize = 2_000;
/// Most audit lines kept for the timeline.
pub const AUDIT_CAP: usize = 500;

/// One audited action on the focused workload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub at: Timestamp,
    pub region: String,
    pub action: String,
    pub user: String,
    /// `ok` or `failed: ...`.
    pub result: String,
    pub parameters: String,
}

/// One reading.
#[derive(Debug, Clone, PartialEq)]
pub struct History {
    /// (namespace, name) the revisions and audit are of; `None`: only the
    /// first stage's images were read.
    pub workload: Option<(String, String)>,
    pub revisions: BTreeMap<RegionId, Result<Vec<Revision>, String>>,
    pub audit: Vec<AuditEntry>,
    /// (namespace, Deployment) -> every image its ReplicaSets in the first
    /// stage's regions ran.
    pub first_stage_images: BTreeMap<(String, String), BTreeSet<String>>,
}

#[derive(serde::Deserialize)]
struct List<T> {
    items: Vec<T>,
}

fn get(path: &str) -> Option<http::Request<Vec<u8>>> {
    http::Request::get(path).body(Vec::new()).ok()
}

async fn revisions(
    env: &Env,
    region: RegionId,
    ns: &str,
    name: &str,
) -> Result<Vec<Revision>, String> {
    let client = env
        .clients
        .get(region)
        .ok_or_else(|| "not connected yet".to_string())?;
    let err = |e: kube::Error| crate::write::error_text(&e);
    let d: Deployment = client
        .request(
            get(&format!("/apis/apps/v1/namespaces/{ns}/deployments/{name}")).ok_or("bad name")?,
        )
        .await
        .map_err(err)?;
    let list: List<ReplicaSet> = client
        .request(
            get(&format!(
                "/apis/apps/v1/namespaces/{ns}/replicasets?limit={RS_LIMIT}"
            ))
            .ok_or("bad namespace")?,
        )
        .await
        .map_err(err)?;
    let uid = d.metadata.uid.unwrap_or_default();
    Ok(rollout::revisions(&uid, &list.items))
}

async fn first_stage_images(
    env: &Env,
    regions: &[RegionId],
) -> BTreeMap<(String, String), BTreeSet<String>> {
    let mut out: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    for &r in regions {
        let Some(client) = env.clients.get(r) else {
            continue;
        };
        let Some(req) = get(&format!("/apis/apps/v1/replicasets?limit={RS_LIMIT}")) else {
            continue;
        };
        let Ok(list) = client.request::<List<ReplicaSet>>(req).await else {
            continue;
        };
        for rs in list.items {
            let ns = rs.metadata.namespace.clone().unwrap_or_default();
            let Some(owner) = rs
                .metadata
                .owner_references
                .iter()
                .flatten()
                .find(|o| o.kind == "Deployment")
            else {
                continue;
            };
            let images = rs
                .spec
                .and_then(|s| s.template)
                .and_then(|t| t.spec)
                .map(|s| {
                    s.containers
                        .into_iter()
                        .filter_map(|c| c.image)
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default();
            out.entry((ns, owner.name.clone()))
                .or_default()
                .extend(images);
        }
    }
    out
}

/// The audit lines about `ns/name`, newest last, at most `AUDIT_CAP`.
pub fn audit_of(dir: &std::path::Path, ns: &str, name: &str) -> Vec<AuditEntry> {
    let filter = crate::write::audit_read::Filter {
        region: None,
        since: None,
    };
    let lines = crate::write::audit_read::read(dir, &filter).unwrap_or_default();
    let mut out: Vec<AuditEntry> = lines
        .iter()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["object"]["namespace"] == ns && v["object"]["name"] == name)
        .filter_map(|v| {
            let s = |k: &str| v[k].as_str().unwrap_or("").to_string();
            let at = crate::fleet::lean::parse_time(v["time"].as_str()?)?;
            Some(AuditEntry {
                at,
                region: s("region"),
                action: s("action"),
                user: s("user"),
                result: match &v["result"] {
                    serde_json::Value::String(r) => r.clone(),
                    other => format!("failed: {}", other["failed"].as_str().unwrap_or("")),
                },
                parameters: v["parameters"].to_string(),
            })
        })
        .collect();
    if out.len() > AUDIT_CAP {
        out.drain(..out.len() - AUDIT_CAP);
    }
    out
}

/// The task: reads, reports, waits `PERIOD`, until stopped.
pub async fn run(
    env: Env,
    ctx: TaskCtx,
    workload: Option<(String, String)>,
    regions: usize,
    first_stage: Vec<RegionId>,
) -> Result<(), String> {
    let audit_dir: Option<PathBuf> = env.writer.audit().path().parent().map(|p| p.to_path_buf());
    loop {
        let mut h = History {
            workload: workload.clone(),
            revisions: BTreeMap::new(),
            audit: Vec::new(),
            first_stage_images: first_stage_images(&env, &first_stage).await,
        };
        if let Some((ns, name)) = &workload {
            for r in 0..regions {
                h.revisions.insert(r, revisions(&env, r, ns, name).await);
            }
            if let Some(dir) = &audit_dir {
                let dir = dir.clone();
                let (ns, name) = (ns.clone(), name.clone());
                h.audit = tokio::task::spawn_blocking(move || audit_of(&dir, &ns, &name))
                    .await
                    .unwrap_or_default();
            }
        }
        let n = h.revisions.values().filter(|r| r.is_ok()).count();
        if ctx
            .sender()
            .send(Msg::Releases(ReleasesMsg::History(Box::new(h))))
            .await
            .is_err()
        {
            return Ok(());
        }
        ctx.running(format!("revisions of {n} region(s)")).await;
        tokio::select! {
            _ = ctx.token().cancelled() => return Ok(()),
            _ = tokio::time::sleep(PERIOD) => {}
        }
    }
}
