//! The panes of the cockpit: one folder per capability (state, reducer,
//! view, tests) and the ONE registry below that config, layout, drawing and
//! key dispatch all read.
//!
//! Adding a pane: its folder, then here a `Pane` variant, its `pub mod` and
//! one `PaneDef` row in `PANES`; elsewhere only the `show_<name>` action (a
//! row in `action.rs`) and its key in `keymaps/default.toml`.

pub mod exec;
pub mod forwards;
pub mod logs;
pub mod network;
pub mod pods;
pub mod probes;
pub mod releases;
pub mod resources;
pub mod triage;
pub mod workloads;

use crate::action::{Action, KeyContext};
use crate::state::State;
use crate::theme::Styles;
use crate::update::Effect;
use ratatui::layout::Rect;
use ratatui::Frame;

/// A pane, as `[layout]` names it and as the UI focuses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Pane {
    Triage,
    Pods,
    Probes,
    Workloads,
    Forwards,
    Logs,
    Network,
    Releases,
    /// Any resource across regions; shown in the pods pane's place while
    /// it has focus (`:deploy`).
    Resources,
}

/// Everything the rest of the cockpit knows about one pane.
pub struct PaneDef {
    pub pane: Pane,
    /// The name `[layout]` uses.
    pub name: &'static str,
    /// The tab line's label.
    pub title: &'static str,
    /// The global action that focuses it.
    pub show: Action,
    /// Draws it into `area`; `focused` brightens its frame.
    pub draw: fn(&State, &Styles, &mut Frame, Rect, bool),
    /// Its keys while it has focus: `None` when the action means nothing
    /// here (the key then does nothing).
    pub on_action: fn(&mut State, Action) -> Option<Vec<Effect>>,
    /// Its own keymap section, looked up before `[table]` while it has
    /// focus (`None`: only `[table]` and `[global]`).
    pub keys: Option<KeyContext>,
}

/// The panes side by side when `[layout] wide` does not say. A pane not
/// in the layout takes the whole body while it has focus (its show key);
/// `[layout] wide` may name it to keep it beside the others.
pub const DEFAULT_WIDE: &[Pane] = &[Pane::Triage, Pane::Pods, Pane::Probes];

/// In `Pane` variant order.
pub const PANES: &[PaneDef] = &[
    PaneDef {
        pane: Pane::Triage,
        name: "triage",
        title: "Triage",
        show: Action::ShowTriage,
        draw: triage::view::draw,
        on_action: triage::on_action,
        keys: None,
    },
    PaneDef {
        pane: Pane::Pods,
        name: "pods",
        title: "Pods",
        show: Action::ShowPods,
        draw: pods::view::draw,
        on_action: pods::on_action,
        keys: None,
    },
    PaneDef {
        pane: Pane::Probes,
        name: "probes",
        title: "Probes",
        show: Action::ShowProbes,
        draw: probes::view::draw,
        on_action: probes::on_action,
        keys: None,
    },
    PaneDef {
        pane: Pane::Workloads,
        name: "workloads",
        title: "Workloads",
        show: Action::ShowWorkloads,
        draw: workloads::view::draw,
        on_action: workloads::on_action,
        keys: Some(KeyContext::Workloads),
    },
    PaneDef {
        pane: Pane::Forwards,
        name: "forwards",
        title: "Forwards",
        show: Action::ShowForwards,
        draw: forwards::view::draw,
        on_action: forwards::on_action,
        keys: Some(KeyContext::Forwards),
    },
    PaneDef {
        pane: Pane::Logs,
        name: "logs",
        title: "Logs",
        show: Action::ShowLogs,
        draw: logs::view::draw,
        on_action: logs::keys::on_action,
        keys: Some(KeyContext::Logs),
    },
    PaneDef {
        pane: Pane::Network,
        name: "network",
        title: "Network",
        show: Action::ShowNetwork,
        draw: network::draw,
        on_action: network::on_action,
        keys: Some(KeyContext::Network),
    },
    PaneDef {
        pane: Pane::Releases,
        name: "releases",
        title: "Releases",
        show: Action::ShowReleases,
        draw: releases::view::draw,
        on_action: releases::on_action,
        keys: Some(KeyContext::Releases),
    },
    PaneDef {
        pane: Pane::Resources,
        name: "resources",
        title: "Resources",
        show: Action::ShowResources,
        draw: resources::view::draw,
        on_action: resources::on_action,
        keys: Some(KeyContext::Resources),
    },
];

impl Pane {
    /// Every pane, in registry order.
    pub fn all() -> Vec<Pane> {
        PANES.iter().map(|d| d.pane).collect()
    }

    /// Panes shown only once asked for (a `:` command), in the pods
    /// pane's place, not in the default layout.
    pub fn on_demand(self) -> bool {
        self == Pane::Resources
    }

    pub fn def(self) -> &'static PaneDef {
        // PANES is kept in variant order (tested below)
        &PANES[self as usize]
    }

    pub fn name(self) -> &'static str {
        self.def().name
    }

    pub fn title(self) -> &'static str {
        self.def().title
    }

    pub fn from_name(name: &str) -> Option<Pane> {
        PANES.iter().find(|d| d.name == name).map(|d| d.pane)
    }

    /// The pane a `show_*` action focuses.
    pub fn shown_by(action: Action) -> Option<Pane> {
        PANES.iter().find(|d| d.show == action).map(|d| d.pane)
    }
}

/// Draws one pane.
pub fn draw(state: &State, styles: &Styles, frame: &mut Frame, pane: Pane, area: Rect) {
    (pane.def().draw)(state, styles, frame, area, state.ui.focus == pane)
}

/// An action for the focused pane; nothing when it is not that pane's.
pub fn on_action(state: &mut State, action: Action) -> Vec<Effect> {
    (state.ui.focus.def().on_action)(state, action).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_is_in_variant_order_with_unique_names_and_actions() {
        for (i, def) in PANES.iter().enumerate() {
            let pane = def.pane;
            assert_eq!(pane as usize, i, "{} out of order", def.name);
            assert_eq!(Pane::from_name(def.name), Some(pane));
            assert_eq!(Pane::shown_by(def.show), Some(pane));
        }
    }
}
