//! UI state: focus, selection, filter input, scopes, overlays, toasts and
//! the keys typed so far of a multi-key binding.

use crate::keymap::Key;
use crate::model::{RegionId, Timestamp};
use std::cell::Cell;
use std::collections::VecDeque;
use tui_textarea::TextArea;

/// The panes of the cockpit. Wide terminals show several at once; narrow
/// ones show the focused pane with tabs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Pane {
    Triage,
    Pods,
    Probes,
}

impl Pane {
    pub const ALL: [Pane; 3] = [Pane::Triage, Pane::Pods, Pane::Probes];

    /// The pane a `[layout]` entry names, once it is built.
    pub fn from_config(p: crate::config::Pane) -> Option<Pane> {
        match p {
            crate::config::Pane::Pods => Some(Pane::Pods),
            crate::config::Pane::Triage => Some(Pane::Triage),
            crate::config::Pane::Probes => Some(Pane::Probes),
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Pane::Triage => "Triage",
            Pane::Pods => "Pods",
            Pane::Probes => "Probes",
        }
    }
}

/// The pod table's cursor. `selected` is the slot of the selected pod, so the
/// selection follows the pod when the view is re-sorted.
#[derive(Debug, Default)]
pub struct TableSelection {
    pub cursor: usize,
    pub selected: Option<u32>,
    /// First visible row; written while drawing so scrolling is stable.
    pub offset: Cell<usize>,
    /// Rows the table showed last frame (for page up/down).
    pub page: Cell<usize>,
}

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
    /// Jump to this pod (slot id, shown as region/namespace/name).
    Pod {
        slot: u32,
        label: String,
    },
}

/// The read-only describe view of one object.
#[derive(Debug, Default)]
pub struct DescribeView {
    pub title: String,
    /// `None` while the fetch is in flight.
    pub lines: Option<Result<Vec<String>, String>>,
    pub scroll: usize,
    pub region: RegionId,
    pub namespace: String,
    pub name: String,
}

#[derive(Debug)]
pub enum Modal {
    Help { scroll: usize },
    Palette(Box<PaletteState>),
    Describe(Box<DescribeView>),
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
        }
    }
}

impl UiState {
    /// The built panes `[layout] wide` names, in its order (all when none).
    pub fn panes(&self) -> Vec<Pane> {
        let panes: Vec<Pane> = self
            .layout
            .wide
            .iter()
            .filter_map(|p| Pane::from_config(*p))
            .collect();
        if panes.is_empty() {
            Pane::ALL.to_vec()
        } else {
            panes
        }
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
