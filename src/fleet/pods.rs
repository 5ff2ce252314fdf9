//! Pods as a watched kind: lean wire type in, `PodRow` out.

use super::feed::watched;
use super::health::Feed;
use super::lean::LeanPod;
use super::pod_row::pod_row;
use crate::model::PodRow;
use crate::msg::Msg;

watched!(Pods: LeanPod => PodRow, Feed::PODS, "/api/v1", "pods",
    row: pod_row,
    msg: |region, update| Msg::Pods { region, update });
