//! The cockpit's model: plain data, no IO. Sources and effects never touch
//! it; only the reducers in `update/` change it, and `ui/` reads it.

pub mod incident;
pub mod ui;

pub use crate::fleet::health::RegionState;
pub use crate::fleet::store::Store;
pub use crate::panes::pods::state::{Column, ViewSpec};
pub use ui::{DescribeView, Modal, PaletteState, Pane, Toast, ToastLevel, UiState};

use crate::keymap::Keymap;
use crate::model::{RegionId, Timestamp};

/// Problems kept for the help overlay; a file is at most 1 MiB, but a
/// list nobody can read to the end helps nobody either.
pub const MAX_PROBLEMS: usize = 500;

#[derive(Debug)]
pub struct State {
    pub regions: Vec<RegionState>,
    /// Region names by id, for sorting and drawing.
    pub region_names: Vec<String>,
    /// The fleet store: every streamed row, held once, with its indices.
    pub store: Store,
    pub ui: UiState,
    pub keymap: Keymap,
    /// Seconds since the epoch; ages and "since" times are drawn against it.
    pub now: Timestamp,
    pub quit: bool,
    /// Probe failures and triage.
    pub incident: incident::IncidentPanes,
    /// The workloads pane: its view, sort and the actions' greying.
    pub workloads: crate::panes::workloads::state::WorkloadsState,
    /// The logs pane: selection, streams, buffer, view.
    pub logs: crate::panes::logs::pane::LogsPane,
    /// The network pane: figures shared with its pollers, findings.
    pub network: crate::panes::network::state::NetworkState,
    /// The resources pane (`:deploy`, `:no`, ...).
    pub resources: crate::panes::resources::ResourcesState,
    /// Long-lived tasks (port-forwards, follows) as they last reported.
    pub tasks: crate::tasks::TaskBoard,
    /// The port-forwards started here (the forwards pane).
    pub forwards: crate::panes::forwards::state::ForwardsState,
    /// Read-only flags and whether the config loaded; see `read_only`.
    pub access: crate::config::Access,
    /// Every problem found in the config, keymap and theme files, kept on
    /// screen (status bar, help overlay) until the next start.
    pub problems: Vec<crate::diagnostic::Diagnostic>,
    /// The releases pane: timeline, matrix, promotions.
    pub releases: crate::panes::releases::state::ReleasesState,
}

impl State {
    pub fn new(regions: Vec<RegionState>, keymap: Keymap, now: Timestamp) -> State {
        let region_names = regions.iter().map(|r| r.name.clone()).collect();
        let region_count = regions.len();
        State {
            store: Store::new(regions.len()),
            regions,
            region_names,
            ui: UiState::default(),
            keymap,
            now,
            quit: false,
            incident: incident::IncidentPanes::default(),
            workloads: Default::default(),
            logs: Default::default(),
            network: crate::panes::network::state::NetworkState::for_regions(region_count),
            resources: Default::default(),
            tasks: crate::tasks::TaskBoard::default(),
            forwards: Default::default(),
            access: crate::config::Access::default(),
            problems: Vec::new(),
            releases: Default::default(),
        }
    }

    /// The write path's question: may `region` be changed? `None` = yes;
    /// otherwise why not (a config with problems, a flag, the region's own
    /// `read_only`). An unknown region is never writable.
    pub fn read_only(&self, region: RegionId) -> Option<crate::config::ReadOnly> {
        let flag = self.regions.get(region).is_none_or(|r| r.read_only);
        self.access.read_only(flag)
    }

    /// Brings the cached table view up to date (rows, sort, filter) and keeps
    /// the selection on the same pod when it is still shown.
    pub fn refresh_view(&mut self) {
        self.incident.refresh(&self.store, &self.regions, self.now);
        self.open_on_trouble();
        crate::panes::workloads::refresh(self);
        crate::panes::network::sync_shown(self);
        if !self.store.view_is_dirty() {
            return;
        }
        self.store.refresh_view(self.now, &self.region_names);
        let view = self.store.view();
        let sel = &mut self.ui.pods;
        if let Some(pos) = sel
            .selected
            .and_then(|slot| view.iter().position(|s| *s == slot))
        {
            sel.cursor = pos;
        } else {
            sel.cursor = sel.cursor.min(view.len().saturating_sub(1));
        }
        sel.selected = view.get(sel.cursor).copied();
    }

    /// Focuses triage once, at start, when something is wrong (see
    /// `UiState::open_on_trouble`).
    fn open_on_trouble(&mut self) {
        use crate::panes::triage::rank::Level;
        let ui = &mut self.ui;
        let trouble = self
            .incident
            .triage
            .items
            .iter()
            .any(|i| i.level >= Level::Warning);
        if ui.open_on_trouble && trouble && ui.panes().contains(&Pane::Triage) {
            ui.open_on_trouble = false;
            ui.focus = Pane::Triage;
        }
    }

    pub fn region_name(&self, region: RegionId) -> &str {
        self.region_names.get(region).map_or("?", String::as_str)
    }

    /// The earliest moment something time-based on screen changes by itself
    /// (a toast expiring), if any. Ages on visible rows: `panes::pods::view::next_change`.
    pub fn next_deadline(&self) -> Option<Timestamp> {
        let toast = self.ui.toasts.iter().map(|t| t.expires).min();
        // an unready pod becomes a triage item when its grace period ends
        let workloads = crate::panes::workloads::view::next_change(self);
        [toast, self.incident.next_change, workloads]
            .into_iter()
            .flatten()
            .min()
    }
}
