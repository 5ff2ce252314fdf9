//! The incident feeds of a region as watched kinds: core/v1 Events and
//! apps/v1 Deployments and StatefulSets, streamed by the same list/watch
//! loop as pods (`listwatch.rs`: paged list, bookmarks, silence detector,
//! relist on 410, backoff, the region's path and 429 gate). Rows are built here,
//! off the UI task.

use super::events::CoreEvent;
use super::health::Feed;
use super::link::Link;
use super::listwatch::{Closed, ListWatch};
use super::stream::IncidentUpdate;
use super::workloads::{LeanDeployment, LeanStatefulSet, WorkloadInfo};
use super::SourceOptions;
use crate::model::{EventRow, RegionId, WorkloadKind};
use crate::msg::Msg;
use crate::write::ReadClient;
use tokio::sync::mpsc::Sender;

/// The collection path of a namespaced kind (`base` is `/api/v1` or
/// `/apis/<group>/<version>`).
pub fn path(base: &str, plural: &str, namespace: Option<&str>) -> String {
    match namespace {
        Some(ns) => format!("{base}/namespaces/{ns}/{plural}"),
        None => format!("{base}/{plural}"),
    }
}

/// One streamed kind as a `Watched` impl: its lean wire type (whose
/// `metadata` is a `LeanMeta`), its row, its feed, where it lives, how a
/// lean object becomes a row and how an update becomes a `Msg`.
macro_rules! watched {
    ($kind:ident: $lean:ty => $row:ty, $feed:expr, $base:literal, $plural:literal,
     row: $to_row:expr, msg: $to_msg:expr) => {
        pub struct $kind;

        impl $crate::fleet::listwatch::Watched for $kind {
            type Lean = $lean;
            type Row = $row;
            const FEED: $crate::fleet::health::Feed = $feed;

            fn path(&self, namespace: Option<&str>) -> String {
                $crate::fleet::feed::path($base, $plural, namespace)
            }
            fn uid(lean: &$lean) -> &str {
                &lean.metadata.uid
            }
            fn resource_version(lean: &$lean) -> &str {
                &lean.metadata.resource_version
            }
            fn row(&self, region: $crate::model::RegionId, lean: $lean) -> $row {
                let to_row: fn($crate::model::RegionId, $lean) -> $row = $to_row;
                to_row(region, lean)
            }
            fn msg(
                &self,
                region: $crate::model::RegionId,
                update: $crate::fleet::stream::Update<$row>,
            ) -> $crate::msg::Msg {
                let to_msg: fn(
                    $crate::model::RegionId,
                    $crate::fleet::stream::Update<$row>,
                ) -> $crate::msg::Msg = $to_msg;
                to_msg(region, update)
            }
        }
    };
}
pub(crate) use watched;

watched!(Events: CoreEvent => EventRow, Feed::EVENTS, "/api/v1", "events",
    row: |region, lean| lean.into_row(region),
    msg: |region, update| Msg::Incident { region, update: IncidentUpdate::Events(update) });

watched!(Deployments: LeanDeployment => WorkloadInfo, Feed::DEPLOYMENTS, "/apis/apps/v1", "deployments",
row: |region, lean| lean.into_info(region),
msg: |region, update| Msg::Incident {
    region,
    update: IncidentUpdate::Workloads(WorkloadKind::Deployment, update),
});

watched!(StatefulSets: LeanStatefulSet => WorkloadInfo, Feed::STATEFULSETS, "/apis/apps/v1", "statefulsets",
row: |region, lean| lean.into_info(region),
msg: |region, update| Msg::Incident {
    region,
    update: IncidentUpdate::Workloads(WorkloadKind::StatefulSet, update),
});

/// Runs every incident feed of one region and namespace scope until the
/// cockpit shuts down.
pub async fn run_all(
    region: RegionId,
    client: &ReadClient,
    namespace: Option<&str>,
    tx: &Sender<Msg>,
    opts: &SourceOptions,
    link: &Link,
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
                link,
            }
        };
    }
    let (e, d, s) = (lw!(events), lw!(deployments), lw!(statefulsets));
    futures::try_join!(e.run(), d.run(), s.run()).map(|_| ())
}
