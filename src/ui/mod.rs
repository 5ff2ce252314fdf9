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
    let on_demand = !panes.contains(&state.ui.focus);
    let mut areas = pane_areas(body, layout, &panes, state.ui.focus);
    if on_demand {
        // a pane not in the layout (logs) takes the body while focused
        areas = vec![(state.ui.focus, body)];
    } else if body.width >= layout.narrow_below {
        arrange_wide(state, body, &panes, &mut areas);
    }
    for (pane, rect) in &areas {
        crate::panes::draw(state, styles, frame, *pane, *rect);
    }
    // the tab line names the pane opened on demand too
    let mut panes = panes;
    if on_demand {
        panes.push(state.ui.focus);
    }
    if panes.len() > 1 && areas.len() == 1 {
        let titles: Vec<String> = panes.iter().map(|p| tab_title(state, *p)).collect();
        let labels: Vec<(&str, bool)> = titles
            .iter()
            .zip(&panes)
            .map(|(t, p)| (t.as_str(), *p == state.ui.focus))
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

/// A tab's label: triage's carries its count and worst severity
/// (`Triage 3!!`), so an incident shows from any tab.
fn tab_title(state: &State, pane: Pane) -> String {
    let items = &state.incident.triage.items;
    if pane != Pane::Triage || items.is_empty() {
        return pane.title().to_string();
    }
    let mark = match items.iter().map(|i| i.level).max() {
        Some(crate::panes::triage::rank::Level::Critical) => "!!",
        Some(crate::panes::triage::rank::Level::Warning) => "!",
        _ => "",
    };
    format!("{} {}{mark}", pane.title(), items.len())
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

/// What the probes pane keeps beside triage (its table and detail).
const PROBES_MIN: u16 = 64;
/// What an empty pane keeps beside triage: its title.
const EMPTY_MIN: u16 = 28;

/// Wide layout with the pod table and other panes: the pod table needs
/// the full width for its columns, so the other panes share a top row and
/// the pods take the full width below. The top row is 45 % of the body when
/// it holds the probes pane (its detail needs the room), else as tall as
/// triage needs (10 rows to 45 %); one line when every pane in it is
/// empty. Triage takes the width its columns need, so its words are never
/// cut, leaving the others `PROBES_MIN` columns (or half); they share the rest.
fn arrange_wide(state: &State, body: Rect, panes: &[Pane], areas: &mut Vec<(Pane, Rect)>) {
    let others: Vec<Pane> = panes.iter().copied().filter(|p| *p != Pane::Pods).collect();
    if areas.len() < 2 || others.is_empty() || others.len() == panes.len() {
        return;
    }
    let inc = &state.incident;
    let empty = |p: &Pane| match p {
        Pane::Triage => inc.triage.items.is_empty(),
        Pane::Probes => inc.probes.rows.is_empty(),
        _ => false,
    };
    let most = (body.height * 45 / 100).max(10);
    let top_h = if others.iter().all(empty) {
        1
    } else if others.contains(&Pane::Probes) {
        most
    } else {
        (inc.triage.items.len() as u16 + 3).clamp(10, most)
    };
    let [top, bottom] =
        Layout::vertical([Constraint::Length(top_h), Constraint::Fill(1)]).areas(body);
    // what the panes beside triage keep: an empty one only its title
    let beside: u16 = others
        .iter()
        .filter(|p| **p != Pane::Triage)
        .map(|p| if empty(p) { EMPTY_MIN } else { PROBES_MIN })
        .sum();
    let widths: Vec<Constraint> = others
        .iter()
        .map(|p| match p {
            Pane::Triage if others.len() > 1 => Constraint::Length(
                crate::panes::triage::view::wanted_width(state)
                    .min((top.width / 2).max(top.width.saturating_sub(beside))),
            ),
            _ => Constraint::Fill(1),
        })
        .collect();
    let cols = Layout::horizontal(widths).split(top);
    *areas = others.into_iter().zip(cols.iter().copied()).collect();
    areas.push((Pane::Pods, bottom));
}

#[cfg(test)]
mod attention_tests;
#[cfg(test)]
mod tests;
