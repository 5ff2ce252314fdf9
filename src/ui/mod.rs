//! Drawing: a pure function of `State` and `Styles`. Every string from a
//! cluster goes through `sanitize` before it reaches a cell.
//!
//! Layout: header (region badges), the panes, the status bar; overlays on
//! top. Wide terminals (>= 140x40) show every pane at once, the focused one
//! bordered brighter; smaller ones show the focused pane with a tab line.

pub mod format;
pub mod header;
pub mod overlays;
pub mod pods;
pub mod probes;
pub mod statusbar;
pub mod triage;

use crate::state::{Modal, Pane, State};
use crate::theme::Styles;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

/// At least this size shows several panes side by side.
pub const WIDE: (u16, u16) = (140, 40);

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
    let panes = state.ui.panes();
    let layout = &state.ui.layout;
    let wide = area.width >= layout.narrow_below.max(WIDE.0) && area.height >= WIDE.1;
    let stack = !wide && layout.narrow == crate::config::NarrowLayout::Stack;
    let areas = if stack {
        stack_areas(body, &panes)
    } else {
        pane_areas(
            body,
            &panes,
            state.ui.focus,
            wide,
            top_height(state, &panes, body),
        )
    };
    for (pane, rect) in areas {
        draw_pane(state, styles, frame, pane, rect);
    }
    if panes.len() > 1 && !wide && !stack {
        draw_tabs(state, styles, frame, body, &panes);
    }
    statusbar::draw(state, styles, frame, status);

    match &state.ui.modal {
        Some(Modal::Help { scroll }) => overlays::help::draw(state, styles, frame, body, *scroll),
        Some(Modal::Palette(p)) => overlays::palette::draw(styles, frame, body, p),
        Some(Modal::Describe(view)) => overlays::describe::draw(styles, frame, body, view),
        None => {}
    }
    overlays::toasts::draw(state, styles, frame, body);
}

/// Where each pane goes. Wide: the first pane takes the top 60 %, the others
/// share the bottom. Otherwise only the focused pane, full size.
/// The wide layout's top pane: triage as tall as its items (within 7 rows
/// and 45 % of the body), anything else 60 %.
fn top_height(state: &State, panes: &[Pane], body: Rect) -> Constraint {
    match panes.first() {
        Some(Pane::Triage) => {
            let want = state.incident.triage.len() as u16 + 3;
            Constraint::Length(want.clamp(7, (body.height * 45 / 100).max(7)))
        }
        _ => Constraint::Percentage(60),
    }
}

pub fn pane_areas(
    body: Rect,
    panes: &[Pane],
    focus: Pane,
    wide: bool,
    top: Constraint,
) -> Vec<(Pane, Rect)> {
    if !wide || panes.len() < 2 {
        return vec![(focus, body)];
    }
    let [top, bottom] = Layout::vertical([top, Constraint::Fill(1)]).areas(body);
    let rest = &panes[1..];
    let cols = Layout::horizontal(rest.iter().map(|_| Constraint::Fill(1))).split(bottom);
    let mut out = vec![(panes[0], top)];
    out.extend(rest.iter().copied().zip(cols.iter().copied()));
    out
}

/// The narrow `stack` layout: every pane, top to bottom, equal heights.
pub fn stack_areas(body: Rect, panes: &[Pane]) -> Vec<(Pane, Rect)> {
    let rows = Layout::vertical(panes.iter().map(|_| Constraint::Fill(1))).split(body);
    panes.iter().copied().zip(rows.iter().copied()).collect()
}

fn draw_pane(state: &State, styles: &Styles, frame: &mut Frame, pane: Pane, rect: Rect) {
    let focused = state.ui.focus == pane;
    match pane {
        Pane::Pods => pods::draw(state, styles, frame, rect, focused),
        Pane::Triage => triage::draw(state, styles, frame, rect, focused),
        Pane::Probes => probes::draw(state, styles, frame, rect, focused),
    }
}

/// The tab line on the pane's top border, right-aligned.
fn draw_tabs(state: &State, styles: &Styles, frame: &mut Frame, body: Rect, panes: &[Pane]) {
    let mut spans = Vec::new();
    for &p in panes {
        let scope = if p == state.ui.focus {
            "ui.tab.active"
        } else {
            "ui.tab"
        };
        spans.push(Span::styled(format!(" {} ", p.title()), styles.get(scope)));
    }
    let w: u16 = spans.iter().map(|s| s.width() as u16).sum();
    if w + 2 > body.width {
        return;
    }
    let rect = Rect {
        x: body.x + body.width - w - 1,
        y: body.y,
        width: w,
        height: 1,
    };
    frame.render_widget(Paragraph::new(Line::from(spans)), rect);
}

#[cfg(test)]
mod tests;
