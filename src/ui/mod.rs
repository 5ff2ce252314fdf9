//! Drawing: a pure function of `State` and `Styles`. Every string from a
//! cluster goes through `sanitize` before it reaches a cell.
//!
//! Layout: header (region badges), the panes, the status bar; overlays on
//! top. From `[layout] narrow_below` columns up every pane of `[layout]
//! wide` shows at once (the first across the top, the others side by side
//! below), the focused one bordered brighter; narrower terminals show the
//! focused pane with a tab line, or the panes stacked.

pub mod format;
pub mod header;
pub mod overlays;
pub mod statusbar;

use crate::config::{Layout as PaneLayout, NarrowLayout};
use crate::state::{Modal, Pane, State};
use crate::theme::Styles;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

pub fn draw(state: &State, styles: &Styles, frame: &mut Frame) {
    let area = frame.area();
    if area.width < 20 || area.height < 5 {
        frame.render_widget(Paragraph::new("pitwall: terminal too small"), area);
        return;
    }
    let header_h = header::height(state, styles, area.width);
    let [head, body, status] = Layout::vertical([
        Constraint::Length(header_h),
        Constraint::Fill(1),
        Constraint::Length(1),
    ])
    .areas(area);
    header::draw(state, styles, frame, head);
    let layout = &state.ui.layout;
    let panes = state.ui.panes();
    let mut areas = pane_areas(body, layout, &panes, state.ui.focus);
    if body.width >= layout.narrow_below {
        arrange_wide(state, body, &panes, &mut areas);
    }
    for (pane, rect) in &areas {
        crate::panes::draw(state, styles, frame, *pane, *rect);
    }
    if panes.len() > 1 && areas.len() == 1 {
        let labels: Vec<(&str, bool)> = panes
            .iter()
            .map(|p| (p.title(), *p == state.ui.focus))
            .collect();
        crate::widgets::frame::tabs(frame, styles, body, &labels);
    }
    statusbar::draw(state, styles, frame, status);

    match &state.ui.modal {
        Some(Modal::Help { scroll }) => overlays::help::draw(state, styles, frame, body, *scroll),
        Some(Modal::Palette(p)) => overlays::palette::draw(state, styles, frame, body, p),
        Some(Modal::Describe(view)) => overlays::describe::draw(styles, frame, body, view),
        None => {}
    }
    overlays::toasts::draw(state, styles, frame, body);
}

/// Where each pane goes. Wide: the first pane takes the top 60 %, the others
/// share the bottom left to right. Narrow: the focused pane (tabs), or all
/// stacked.
pub fn pane_areas(
    body: Rect,
    layout: &PaneLayout,
    panes: &[Pane],
    focus: Pane,
) -> Vec<(Pane, Rect)> {
    if panes.len() < 2 {
        return vec![(focus, body)];
    }
    if body.width < layout.narrow_below {
        return match layout.narrow {
            NarrowLayout::Tabs => vec![(focus, body)],
            NarrowLayout::Stack => {
                let rows = Layout::vertical(panes.iter().map(|_| Constraint::Fill(1))).split(body);
                panes.iter().copied().zip(rows.iter().copied()).collect()
            }
        };
    }
    let [top, bottom] =
        Layout::vertical([Constraint::Percentage(60), Constraint::Fill(1)]).areas(body);
    let rest = &panes[1..];
    let cols = Layout::horizontal(rest.iter().map(|_| Constraint::Fill(1))).split(bottom);
    let mut out = vec![(panes[0], top)];
    out.extend(rest.iter().copied().zip(cols.iter().copied()));
    out
}

/// Wide layout with the pod table and other panes: the pod table needs
/// the full width for its columns, so the other panes share a top row and
/// the pods take the full width below. The top row is 45 % of the body when
/// it holds the probes pane (its detail needs the room), else as tall as
/// triage needs (10 rows to 45 %).
fn arrange_wide(state: &State, body: Rect, panes: &[Pane], areas: &mut Vec<(Pane, Rect)>) {
    let others: Vec<Pane> = panes.iter().copied().filter(|p| *p != Pane::Pods).collect();
    if areas.len() < 2 || others.is_empty() || others.len() == panes.len() {
        return;
    }
    let most = (body.height * 45 / 100).max(10);
    let top_h = if others.contains(&Pane::Probes) {
        most
    } else {
        (state.incident.triage.items.len() as u16 + 3).clamp(10, most)
    };
    let [top, bottom] =
        Layout::vertical([Constraint::Length(top_h), Constraint::Fill(1)]).areas(body);
    let cols = Layout::horizontal(others.iter().map(|_| Constraint::Fill(1))).split(top);
    *areas = others.into_iter().zip(cols.iter().copied()).collect();
    areas.push((Pane::Pods, bottom));
}

#[cfg(test)]
mod tests;
