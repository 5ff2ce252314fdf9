//! The `[layout]` table: which panes show side by side on a wide terminal,
//! and what happens below `narrow_below` columns.

/// A pane of the cockpit, as `[layout]` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Pane {
    Triage,
    Pods,
    Probes,
}

impl Pane {
    pub const ALL: [Pane; 3] = [Pane::Triage, Pane::Pods, Pane::Probes];

    pub fn name(self) -> &'static str {
        match self {
            Pane::Triage => "triage",
            Pane::Pods => "pods",
            Pane::Probes => "probes",
        }
    }

    pub fn from_name(name: &str) -> Option<Pane> {
        Pane::ALL.into_iter().find(|p| p.name() == name)
    }
}

/// How panes collapse on a narrow terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NarrowLayout {
    /// One pane at a time, with a tab bar.
    Tabs,
    /// The panes stacked top to bottom.
    Stack,
}

impl NarrowLayout {
    pub fn name(self) -> &'static str {
        match self {
            NarrowLayout::Tabs => "tabs",
            NarrowLayout::Stack => "stack",
        }
    }

    pub fn from_name(name: &str) -> Option<NarrowLayout> {
        [NarrowLayout::Tabs, NarrowLayout::Stack]
            .into_iter()
            .find(|l| l.name() == name)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// Panes left to right when the terminal is wide; at least one.
    pub wide: Vec<Pane>,
    pub narrow: NarrowLayout,
    /// Below this many columns the narrow layout applies.
    pub narrow_below: u16,
}

impl Default for Layout {
    fn default() -> Self {
        Layout {
            wide: Pane::ALL.to_vec(),
            narrow: NarrowLayout::Tabs,
            narrow_below: 120,
        }
    }
}
