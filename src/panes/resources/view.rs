//! The resources table: REGION, NAMESPACE and the server's columns, each
//! as wide as its content in the rows shown; the sorted column carries an
//! arrow; a region that failed says why in the title.

use crate::sanitize::sanitize;
use crate::state::State;
use crate::theme::Styles;
use crate::widgets::frame;
use crate::widgets::table::{region_live, row_style};
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Cell, Paragraph, Row, Table};
use ratatui::Frame;

/// The widest a column grows before its cells are cut.
const MAX_COL: usize = 48;

fn title(state: &State, shown: usize) -> String {
    let r = &state.resources;
    let what = match &r.rt {
        Some(t) => format!(":{} ({})", sanitize(&r.word), sanitize(&t.kind)),
        None => format!(":{}", sanitize(&r.word)),
    };
    let total: usize = r
        .tables
        .iter()
        .filter_map(|t| t.page.as_ref())
        .map(|p| p.rows.len())
        .sum();
    let mut t = format!(" {what} {shown}/{total} ");
    let spec = state.store.view_spec();
    if let Some(region) = spec.region {
        t.push_str(&format!("region:{} ", sanitize(state.region_name(region))));
    }
    if let Some(ns) = &spec.namespace {
        t.push_str(&format!("ns:{} ", sanitize(ns)));
    }
    if !r.filter.is_empty() {
        t.push_str(&format!("/{} ", sanitize(&r.filter)));
    }
    let waiting = r
        .tables
        .iter()
        .filter(|t| t.page.is_none() && t.error.is_none())
        .count();
    if waiting > 0 {
        t.push_str(&format!("· {waiting} region(s) loading "));
    }
    for (i, table) in r.tables.iter().enumerate() {
        if let Some(e) = &table.error {
            t.push_str(&format!(
                "· {}: {} ",
                sanitize(state.region_name(i)),
                sanitize(e)
            ));
        }
        if table.page.as_ref().is_some_and(|p| p.truncated) {
            t.push_str(&format!(
                "· {}: first rows only ",
                sanitize(state.region_name(i))
            ));
        }
    }
    t
}

pub fn draw(state: &State, styles: &Styles, frame: &mut Frame, area: Rect, focused: bool) {
    let r = &state.resources;
    let spec = state.store.view_spec();
    let view = r.view(&state.region_names, spec.region, spec.namespace.as_deref());
    let inner = frame::pane(frame, styles, area, title(state, view.rows.len()), focused);
    if inner.height < 2 || inner.width < 10 {
        return;
    }
    if r.word.is_empty() {
        let hint = Paragraph::new(Line::styled(
            "type : and a resource (deploy, sts, svc, no, ev, cm, a custom resource ...)",
            styles.get("ui.hint"),
        ));
        frame.render_widget(hint, inner);
        return;
    }
    let rows_h = inner.height.saturating_sub(1) as usize;
    let cursor = r.cursor.min(view.rows.len().saturating_sub(1));
    let start = cursor.saturating_sub(rows_h.saturating_sub(1));
    let visible = &view.rows[start.min(view.rows.len())..(start + rows_h).min(view.rows.len())];
    let widths: Vec<Constraint> = view
        .columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let cells = visible
                .iter()
                .map(|row| row.cells.get(i).map_or(0, |c| c.chars().count()));
            let w = cells
                .max()
                .unwrap_or(0)
                .max(c.chars().count() + 1)
                .min(MAX_COL);
            if i + 1 == view.columns.len() {
                Constraint::Min(w as u16)
            } else {
                Constraint::Length(w as u16)
            }
        })
        .collect();
    let header = Row::new(view.columns.iter().enumerate().map(|(i, c)| {
        let mut name = sanitize(c).into_owned();
        if r.sort == Some(i) {
            name.push(if r.reverse { '↑' } else { '↓' });
        }
        Cell::from(name)
    }))
    .style(styles.get("table.header"));
    let rows = visible.iter().enumerate().map(|(i, row)| {
        let selected = focused && start + i == cursor;
        let dimmed = !region_live(state, row.region);
        Row::new(
            row.cells
                .iter()
                .map(|c| Cell::from(sanitize(c).into_owned())),
        )
        .style(row_style(styles, selected, dimmed, styles.get("ui.text")))
    });
    frame.render_widget(
        Table::new(rows, widths).header(header).column_spacing(1),
        inner,
    );
}
