//! UI state: focus, selection, filter input, scopes, overlays, toasts and
//! the keys typed so far of a multi-key binding.

use crate::keymap::Key;
use crate::model::{RegionId, Timestamp};
use std::collections::VecDeque;
use tui_textarea::TextArea;

pub use crate::panes::Pane;

/// The pod table's cursor. `selected` is the slot of the selected pod, so the
/// selection follows the pod when the view is re-sorted.
pub type TableSelection = crate::widgets::StableCursor<u32>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToastLevel {
    Info,
    Warning,
    Error,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Toast {
    pub level: ToastLevel,
    pub text: String,
    pub expires: Timestamp,
}

/// The command palette: input plus fuzzy-ranked candidates.
#[derive(Debug, Default)]
pub struct PaletteState {
    pub input: TextArea<'static>,
    pub candidates: Vec<PaletteItem>,
    pub chosen: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaletteItem {
    Action(crate::action::Action),
    /// Scope the table to this region.
    Region(RegionId),
    /// Scope the table to this namespace.
    Namespace(String),
    /// Show this resource across regions (`:deploy`): the word typed.
    Resource(String),
    /// Jump to this pod (slot id, shown as region/namespace/name).
    Pod {
        slot: u32,
        label: String,
    },
}

/// The read-only describe view of one object: described or as YAML,
/// searchable.
#[derive(Debug, Default)]
pub struct DescribeView {
    pub title: String,
    /// `None` while the fetch is in flight.
    pub lines: Option<Result<Vec<String>, String>>,
    pub scroll: usize,
    pub region: RegionId,
    pub namespace: String,
    pub name: String,
    /// The object shown, and how.
    pub object: crate::model::ApiObject,
    pub show: crate::model::ShowAs,
    /// The search (`/`, then `n`/`N`), matched without case.
    pub search: String,
    /// The search being typed.
    pub search_input: Option<TextArea<'static>>,
}

impl DescribeView {
    pub fn new(title: String, object: crate::model::ApiObject, show: crate::model::ShowAs) -> Self {
        DescribeView {
            title,
            lines: None,
            scroll: 0,
            region: object.region,
            namespace: object.namespace.clone().unwrap_or_default(),
            name: object.name.clone(),
            object,
            show,
            search: String::new(),
            search_input: None,
        }
    }

    /// The lines that contain the search, in order.
    pub fn matches(&self) -> Vec<usize> {
        let needle = self.search.to_lowercase();
        match (&self.lines, needle.is_empty()) {
            (Some(Ok(lines)), false) => lines
                .iter()
                .enumerate()
                .filter(|(_, l)| l.to_lowercase().contains(&needle))
                .map(|(i, _)| i)
                .collect(),
            _ => Vec::new(),
        }
    }

    /// Moves to the next (`forward`) or previous match from the top line
    /// shown, wrapping around; `from_here` keeps a match on the top line.
    pub fn seek(&mut self, forward: bool, from_here: bool) -> bool {
        let matches = self.matches();
        if matches.is_empty() {
            return false;
        }
        let at = self.scroll;
        let next = if forward {
            matches
                .iter()
                .find(|&&m| if from_here { m >= at } else { m > at })
                .or(matches.first())
        } else {
            matches.iter().rev().find(|&&m| m < at).or(matches.last())
        };
        if let Some(&m) = next {
            self.scroll = m;
        }
        true
    }
}

#[derive(Debug)]
pub enum Modal {
    Help {
        scroll: usize,
    },
    Palette(Box<PaletteState>),
    Describe(Box<DescribeView>),
    /// A cluster change waiting for the person's answer (`update::confirm`).
    Confirm(Box<crate::update::confirm::Pending>),
    /// A workload action's scale input, undo picker or live status view.
    Workload(Box<crate::panes::workloads::act::Dialog>),
    /// Exec's container picker or the port-forward dialog.
    Session(Box<crate::panes::exec::SessionDialog>),
}

pub const MAX_TOASTS: usize = 5;
pub const TOAST_SECONDS: i64 = 6;

#[derive(Debug)]
pub struct UiState {
    pub focus: Pane,
    pub pods: TableSelection,
    /// The filter being typed (the spec's filter follows it live).
    pub filter_input: Option<TextArea<'static>>,
    pub modal: Option<Modal>,
    pub toasts: VecDeque<Toast>,
    pub pending_keys: Vec<Key>,
    pub size: (u16, u16),
    /// Which panes show and how they collapse (`[layout]` in config).
    pub layout: crate::config::Layout,
    /// Set when the whole screen must be repainted (resume, refresh).
    pub full_redraw: bool,
    /// Armed at start (`[layout] open_on_trouble`): the first time triage
    /// has a warning or worse, it takes focus. The first key disarms it.
    pub open_on_trouble: bool,
}

impl Default for UiState {
    fn default() -> Self {
        UiState {
            focus: Pane::Pods,
            pods: TableSelection::default(),
            filter_input: None,
            modal: None,
            toasts: VecDeque::new(),
            pending_keys: Vec::new(),
            size: (80, 24),
            layout: crate::config::Layout::default(),
            full_redraw: false,
            open_on_trouble: false,
        }
    }
}

impl UiState {
    /// The built panes `[layout] wide` names, in its order (all when none).
    pub fn panes(&self) -> Vec<Pane> {
        let mut panes: Vec<Pane> = self.layout.wide.to_vec();
        if panes.is_empty() {
            panes = crate::panes::DEFAULT_WIDE.to_vec();
        }
        // the resources table takes the pods pane's place while it has
        // focus; other panes the layout leaves out take the whole body
        if self.focus.on_demand() && !panes.contains(&self.focus) {
            if let Some(i) = panes.iter().position(|p| *p == Pane::Pods) {
                panes[i] = self.focus;
            }
        }
        panes
    }

    /// Rows a page key moves in a list pane that keeps no window of its own.
    pub fn list_page(&self) -> usize {
        self.size.1.saturating_sub(8).max(1) as usize
    }

    /// Bounded: the oldest toast goes when a new one would exceed the cap.
    pub fn toast(&mut self, level: ToastLevel, text: impl Into<String>, now: Timestamp) {
        if self.toasts.len() >= MAX_TOASTS {
            self.toasts.pop_front();
        }
        let seconds = if level == ToastLevel::Info {
            TOAST_SECONDS
        } else {
            TOAST_SECONDS * 2
        };
        self.toasts.push_back(Toast {
            level,
            text: text.into(),
            expires: now + seconds,
        });
    }
}
