//! Pods as a watched kind: lean wire type in, `PodRow` out.

use super::health::Feed;
use super::lean::LeanPod;
use super::listwatch::Watched;
use super::pod_row::pod_row;
use crate::model::{PodRow, RegionId};
use crate::msg::{Msg, Update};

pub struct Pods;

impl Watched for Pods {
    type Lean = LeanPod;
    type Row = PodRow;
    const FEED: Feed = Feed::PODS;

    fn path(&self, namespace: Option<&str>) -> String {
        match namespace {
            Some(ns) => format!("/api/v1/namespaces/{ns}/pods"),
            None => "/api/v1/pods".into(),
        }
    }

    fn uid(lean: &LeanPod) -> &str {
        &lean.metadata.uid
    }

    fn resource_version(lean: &LeanPod) -> &str {
        &lean.metadata.resource_version
    }

    fn row(&self, region: RegionId, lean: LeanPod) -> PodRow {
        pod_row(region, lean)
    }

    fn msg(&self, region: RegionId, update: Update<PodRow>) -> Msg {
        Msg::Pods { region, update }
    }
}
