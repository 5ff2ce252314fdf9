//! Overlays drawn over the panes: help, command palette, describe, toasts.

pub mod describe;
pub mod help;
pub mod palette;
pub mod toasts;

use ratatui::layout::Rect;

/// A centred rectangle of at most `w` x `h` inside `area`.
pub fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}
