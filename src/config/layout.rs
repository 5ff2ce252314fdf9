//! The `[layout]` table: which panes show side by side on a wide terminal,
//! and what happens below `narrow_below` columns.

/// A pane, as `[layout]` names it: the one definition in `panes`.
pub use crate::panes::Pane;

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
    /// With something wrong at start, the cockpit opens on triage (until
    /// the first key).
    pub open_on_trouble: bool,
}

impl Default for Layout {
    fn default() -> Self {
        Layout {
            wide: Pane::all().into_iter().filter(|p| !p.on_demand()).collect(),
            narrow: NarrowLayout::Tabs,
            narrow_below: 120,
            open_on_trouble: true,
        }
    }
}
