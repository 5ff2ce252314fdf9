//! The triage pane: what is wrong right now across every region, ranked.
//! One line per item; the selected item's detail and where Enter goes on
//! the last line.

use crate::panes::triage::rank::{Level, TriageItem};
use crate::sanitize::sanitize;
use crate::state::State;
use crate::theme::Styles;
use crate::ui::format::age;
use crate::widgets::frame;
use crate::widgets::table::row_style;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table};
use ratatui::Frame;

fn level_scope(level: Level) -> &'static str {
    match level {
        Level::Critical => "triage.critical",
        Level::Warning => "triage.warning",
        Level::Notice => "triage.info",
    }
}

fn marker(level: Level) -> &'static str {
    match level {
        Level::Critical => "!!",
        Level::Warning => "! ",
        Level::Notice => "· ",
    }
}

/// `shop/checkout` (`Deployment` dropped: the problem says enough), or the
/// region itself for region-wide items.
fn object(item: &TriageItem) -> String {
    if item.id.namespace.is_empty() {
        "(region)".into()
    } else {
        sanitize(&format!("{}/{}", item.id.namespace, item.id.name)).into_owned()
    }
}

pub fn draw(state: &State, styles: &Styles, frame: &mut Frame, area: Rect, focused: bool) {
    let inc = &state.incident.triage;
    let critical = inc
        .items
        .iter()
        .filter(|i| i.level == Level::Critical)
        .count();
    let title = format!(" Triage {} ({} critical) ", inc.items.len(), critical);
    let inner = frame::pane(frame, styles, area, title, focused);
    if inner.height < 1 || inner.width < 20 {
        return;
    }
    if inc.items.is_empty() {
        let text = if state.regions.iter().all(|r| r.health.is_live()) {
            "nothing wrong right now"
        } else {
            "nothing wrong in the regions that answer (see the badges)"
        };
        frame.render_widget(Paragraph::new(text).style(styles.get("ui.dim")), inner);
        return;
    }
    let wide = inner.width >= 100;
    let detail_h = u16::from(inner.height >= 4);
    let rows_h = (inner.height - detail_h) as usize;
    let (cursor, visible) = inc.cursor.visible(&inc.items, rows_h);
    let dim = styles.get("ui.dim");
    let rows = visible.map(|(i, item)| {
        let level = styles.get(level_scope(item.level));
        let mut what = item.id.problem.label().to_string();
        if item.stale && !item.id.namespace.is_empty() {
            what.push_str(" (stale)");
        }
        let since = item.since.map(|t| age(state.now, t)).unwrap_or_default();
        let mut cells = vec![
            Cell::from(marker(item.level)).style(level),
            Cell::from(sanitize(state.region_name(item.id.region)).into_owned()),
            Cell::from(object(item)),
            Cell::from(what).style(level),
            Cell::from(sanitize(&item.how_bad).into_owned()),
            Cell::from(since),
        ];
        if wide {
            cells.push(Cell::from(sanitize(&item.detail).into_owned()).style(dim));
        }
        Row::new(cells).style(row_style(styles, i == cursor, item.stale, Style::default()))
    });
    let mut widths = vec![
        Constraint::Length(2),
        Constraint::Length(if wide { 12 } else { 9 }),
        Constraint::Fill(2),
        Constraint::Length(if wide { 26 } else { 17 }),
        Constraint::Fill(4),
        Constraint::Length(4),
    ];
    if wide {
        widths.push(Constraint::Fill(2));
    }
    let table_area = Rect {
        height: rows_h as u16,
        ..inner
    };
    frame.render_widget(Table::new(rows, widths).column_spacing(1), table_area);
    if detail_h == 1 {
        if let Some(item) = inc.items.get(cursor) {
            let scope = match (&item.target.namespace, &item.target.owner) {
                (Some(ns), Some((kind, name))) => format!("{ns}/{name} {kind}"),
                (Some(ns), None) => ns.clone(),
                _ => "all namespaces".into(),
            };
            let line = Line::from(vec![
                Span::styled("Enter", styles.get("ui.key")),
                Span::styled(
                    sanitize(&format!(
                        ": pods of {} in {}",
                        scope,
                        state.region_name(item.target.region)
                    ))
                    .into_owned(),
                    dim,
                ),
            ]);
            let rect = Rect {
                y: inner.y + inner.height - 1,
                height: 1,
                ..inner
            };
            frame.render_widget(Paragraph::new(line), rect);
        }
    }
}
