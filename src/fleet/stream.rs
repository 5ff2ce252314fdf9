//! What every streamed kind sends: one region's list/watch of one kind, as
//! steps the store applies with the one relist rule.

use super::workloads::WorkloadInfo;
use crate::model::{EventRow, WorkloadKind};

/// A step of one region's stream of one kind (rows of type `R`).
#[derive(Debug, Clone)]
pub enum Update<R> {
    /// A (re)list of one namespace (or all) begins; rows already held stay
    /// until `ListDone`.
    ListStart { namespace: Option<String> },
    /// One page of the list.
    ListPage(Vec<R>),
    /// The list is complete: rows in its scope not seen since `ListStart`
    /// are gone.
    ListDone { namespace: Option<String> },
    /// Watch events, in order.
    Changes(Vec<Change<R>>),
}

/// Upserts are nearly every change, so boxing the row would only add an
/// allocation per event.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum Change<R> {
    Upsert(R),
    /// By uid.
    Delete(String),
}

/// A step of one region's incident feeds (built on the source task by
/// `fleet::feed`), in the same shape as the pod stream's updates.
#[derive(Debug, Clone)]
pub enum IncidentUpdate {
    Events(Update<EventRow>),
    Workloads(WorkloadKind, Update<WorkloadInfo>),
}
