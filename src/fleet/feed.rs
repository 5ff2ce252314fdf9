//! The incident feeds of a region as watched kinds: core/v1 Events and
//! apps/v1 Deployments and StatefulSets, streamed by the same list/watch
//! loop as pods (`listwatch.rs`: paged list, bookmarks, silence detector,
//! relist on 410, backoff). Rows are built here, off the UI task.

use super::events::CoreEvent;
use super::health::Feed;
use super::listwatch::{Closed, ListWatch, Watched};
use super::stream::IncidentUpdate;
use super::workloads::{LeanDeployment, LeanStatefulSet, WorkloadInfo};
use super::SourceOptions;
use crate::model::{EventRow, RegionId, WorkloadKind};
use crate::msg::{Msg, Update};
use kube::Client;
use tokio::sync::mpsc::Sender;

/// The collection path of a namespaced kind (`base` is `/api/v1` or
/// `/apis/<group>/<version>`).
fn path(base: &str, plural: &str, namespace: Option<&str>) -> String {
    match namespace {
        Some(ns) => format!("{base}/namespaces/{ns}/{plural}"),
        None => format!("{base}/{plural}"),
    }
}

pub struct Events;

impl Watched for Events {
    type Lean = CoreEvent;
    type Row = EventRow;
    const FEED: Feed = Feed::EVENTS;

    fn path(&self, namespace: Option<&str>) -> String {
        path("/api/v1", "events", namespace)
    }
    fn uid(lean: &CoreEvent) -> &str {
        &lean.metadata.uid
    }
    fn resource_version(lean: &CoreEvent) -> &str {
        &lean.metadata.resource_version
    }
    fn row(&self, region: RegionId, lean: CoreEvent) -> EventRow {
        lean.into_row(region)
    }
    fn msg(&self, region: RegionId, update: Update<EventRow>) -> Msg {
        Msg::Incident {
            region,
            update: IncidentUpdate::Events(update),
        }
    }
}

pub struct Deployments;

impl Watched for Deployments {
    type Lean = LeanDeployment;
    type Row = WorkloadInfo;
    const FEED: Feed = Feed::DEPLOYMENTS;

    fn path(&self, namespace: Option<&str>) -> String {
        path("/apis/apps/v1", "deployments", namespace)
    }
    fn uid(lean: &LeanDeployment) -> &str {
        &lean.metadata.uid
    }
    fn resource_version(lean: &LeanDeployment) -> &str {
        &lean.metadata.resource_version
    }
    fn row(&self, region: RegionId, lean: LeanDeployment) -> WorkloadInfo {
        lean.into_info(region)
    }
    fn msg(&self, region: RegionId, update: Update<WorkloadInfo>) -> Msg {
        Msg::Incident {
            region,
            update: IncidentUpdate::Workloads(WorkloadKind::Deployment, update),
        }
    }
}

pub struct StatefulSets;

impl Watched for StatefulSets {
    type Lean = LeanStatefulSet;
    type Row = WorkloadInfo;
    const FEED: Feed = Feed::STATEFULSETS;

    fn path(&self, namespace: Option<&str>) -> String {
        path("/apis/apps/v1", "statefulsets", namespace)
    }
    fn uid(lean: &LeanStatefulSet) -> &str {
        &lean.metadata.uid
    }
    fn resource_version(lean: &LeanStatefulSet) -> &str {
        &lean.metadata.resource_version
    }
    fn row(&self, region: RegionId, lean: LeanStatefulSet) -> WorkloadInfo {
        lean.into_info(region)
    }
    fn msg(&self, region: RegionId, update: Update<WorkloadInfo>) -> Msg {
        Msg::Incident {
            region,
            update: IncidentUpdate::Workloads(WorkloadKind::StatefulSet, update),
        }
    }
}

/// Runs every incident feed of one region and namespace scope until the
/// cockpit shuts down.
pub async fn run_all(
    region: RegionId,
    client: &Client,
    namespace: Option<&str>,
    tx: &Sender<Msg>,
    opts: &SourceOptions,
) -> Result<(), Closed> {
    let (events, deployments, statefulsets) = (Events, Deployments, StatefulSets);
    macro_rules! lw {
        ($kind:expr) => {
            ListWatch {
                kind: &$kind,
                region,
                client,
                namespace,
                tx,
                opts,
            }
        };
    }
    let (e, d, s) = (lw!(events), lw!(deployments), lw!(statefulsets));
    futures::try_join!(e.run(), d.run(), s.run()).map(|_| ())
}
