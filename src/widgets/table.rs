//! The table of rows every list pane draws: the selected row's style, and
//! the style of a row from a region that is not live (dimmed, never shown
//! as live).

use crate::state::State;
use crate::theme::Styles;
use ratatui::style::{Modifier, Style};

/// The selected row. A theme without a selection colour (mono) still shows
/// the cursor, reversed.
pub fn selection_style(styles: &Styles) -> Style {
    match styles.get("ui.selection") {
        s if s.bg.is_none() => s.add_modifier(Modifier::REVERSED),
        s => s,
    }
}

/// Whether a region's rows are drawn as live (its badge says `live`).
pub fn region_live(state: &State, region: usize) -> bool {
    state
        .regions
        .get(region)
        .is_some_and(|r| r.health.is_live())
}

/// A row's style: selected, dimmed (its region is not live, or it is stale
/// for another reason), or `base`.
pub fn row_style(styles: &Styles, selected: bool, dimmed: bool, base: Style) -> Style {
    if selected {
        selection_style(styles)
    } else if dimmed {
        styles.get("ui.dim")
    } else {
        base
    }
}
