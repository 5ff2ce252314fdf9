//! The releases pane's state: the stages, the focused workload, what the
//! history task last read, the promotions (live and persisted), the axis,
//! the cursor and the view.

use super::history::{AuditEntry, History};
use super::plan::Plan;
use crate::config::stages::Stage;
use crate::model::{RegionId, Timestamp};
use crate::panes::workloads::rollout::Revision;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

/// The timeline's span.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Axis {
    H1,
    #[default]
    H6,
    H24,
    D7,
}

impl Axis {
    pub fn secs(self) -> i64 {
        match self {
            Axis::H1 => 3_600,
            Axis::H6 => 6 * 3_600,
            Axis::H24 => 24 * 3_600,
            Axis::D7 => 7 * 24 * 3_600,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Axis::H1 => "1h",
            Axis::H6 => "6h",
            Axis::H24 => "24h",
            Axis::D7 => "7d",
        }
    }

    pub fn next(self) -> Axis {
        match self {
            Axis::H1 => Axis::H6,
            Axis::H6 => Axis::H24,
            Axis::H24 => Axis::D7,
            Axis::D7 => Axis::H1,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum View {
    #[default]
    Timeline,
    Matrix,
}

/// What a promote key asked for, waiting for the cluster's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Asked {
    Promote,
    Undo,
}

#[derive(Debug, Default)]
pub struct ReleasesState {
    pub stages: Vec<Stage>,
    /// Where promotions are persisted; `None`: not persisted.
    pub dir: Option<PathBuf>,
    /// (namespace, Deployment name) the timeline shows.
    pub workload: Option<(String, String)>,
    /// The moment the timeline was opened at (a triage item's time):
    /// the axis ends a little after it.
    pub at: Option<Timestamp>,
    pub axis: Axis,
    pub view: View,
    /// The selected marker (index into the timeline's markers, time order).
    pub marker: usize,
    /// The selected marker was chosen by the person (else it follows `at`).
    pub marker_moved: bool,
    pub detail: bool,
    /// The matrix cursor (row).
    pub row: usize,
    pub revisions: BTreeMap<RegionId, Result<Vec<Revision>, String>>,
    pub audit: Vec<AuditEntry>,
    pub first_stage_images: BTreeMap<(String, String), BTreeSet<String>>,
    /// Promotions by (namespace, name): live, finished or restored.
    pub plans: BTreeMap<(String, String), Plan>,
    /// The history task running, by key.
    pub history_task: Option<crate::tasks::TaskKey>,
    /// A promotion or undo is being prepared.
    pub asked: Option<Asked>,
}

impl ReleasesState {
    /// A reading of the history task, if it is about the focused workload.
    pub fn take_history(&mut self, h: History) {
        self.first_stage_images = h.first_stage_images;
        if h.workload.is_some() && h.workload == self.workload {
            self.revisions = h.revisions;
            self.audit = h.audit;
        }
    }

    /// The first stage's regions (the source of every promotion).
    pub fn first_stage(&self) -> &[String] {
        self.stages
            .first()
            .map(|s| s.regions.as_slice())
            .unwrap_or(&[])
    }

    /// The stage a region is in (its index), if any.
    pub fn stage_of(&self, region: &str) -> Option<usize> {
        self.stages
            .iter()
            .position(|s| s.regions.iter().any(|r| r == region))
    }

    pub fn plan(&self) -> Option<&Plan> {
        self.workload.as_ref().and_then(|w| self.plans.get(w))
    }
}
