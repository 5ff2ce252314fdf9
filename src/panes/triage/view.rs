//! The triage pane: what is wrong right now across every region, ranked.
//! One line per item; the selected item's detail and where Enter goes on
//! the last line.

use crate::panes::triage::rank::{Level, TriageItem};
use crate::sanitize::sanitize;
use crate::state::State;
use crate::theme::Styles;
use crate::ui::format::{age, clock};
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
    if item.id.kind == "Fleet" {
        "(fleet)".into()
    } else if item.id.kind == "Node" {
        sanitize(&format!("node/{}", item.id.name)).into_owned()
    } else if item.id.kind == "VirtualService" {
        sanitize(&format!("lvs {}", item.id.name)).into_owned()
    } else if item.id.namespace.is_empty() {
        "(region)".into()
    } else {
        sanitize(&format!("{}/{}", item.id.namespace, item.id.name)).into_owned()
    }
}

/// One item's cells as text, in column order (marker, region, object,
/// what, how bad, since, detail).
fn cells(state: &State, item: &TriageItem) -> [String; 7] {
    let mut what = item.id.problem.label().to_string();
    if item.stale && !item.id.namespace.is_empty() {
        what.push_str(" (stale)");
    }
    let region = if item.id.kind == "Fleet" {
        "all".to_string()
    } else {
        sanitize(state.region_name(item.id.region)).into_owned()
    };
    [
        marker(item.level).to_string(),
        region,
        object(item),
        what,
        sanitize(&item.how_bad).into_owned(),
        // when it started, as a clock time and an age
        item.since
            .map(|t| format!("{}, {}", clock(t), age(state.now, t)))
            .unwrap_or_default(),
        sanitize(&item.detail).into_owned(),
    ]
}

/// Each column as wide as its widest cell, so no word is cut; the detail
/// column only gets what is left.
fn column_widths(rows: &[[String; 7]]) -> [usize; 6] {
    let mut w = [0usize; 6];
    for row in rows {
        for (i, cell) in row.iter().take(6).enumerate() {
            w[i] = w[i].max(cell.chars().count());
        }
    }
    w
}

/// The width triage needs to show every item without cutting a word
/// (borders included; the detail column not counted).
pub fn wanted_width(state: &State) -> u16 {
    let items = &state.incident.triage.items;
    if items.is_empty() {
        return empty_title(state).chars().count() as u16 + 4;
    }
    let rows: Vec<_> = items.iter().map(|i| cells(state, i)).collect();
    let w = column_widths(&rows);
    // and some of the detail column, when there is one
    let detail = rows.iter().map(|r| r[6].chars().count()).max().unwrap_or(0);
    let detail = if detail > 0 { detail.min(40) + 1 } else { 0 };
    (w.iter().sum::<usize>() + 5 + 2 + detail).min(u16::MAX as usize) as u16
}

/// `text` cut at a word boundary to `max` characters, with `…`.
fn cut_at_word(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out = String::new();
    for word in text.split(' ') {
        let extra = usize::from(!out.is_empty()) + word.chars().count();
        if out.chars().count() + extra + 1 > max {
            break;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    if out.is_empty() {
        // not even the first word fits: cut it
        out = text.chars().take(max.saturating_sub(1)).collect();
    }
    out.push('…');
    out
}

fn empty_title(state: &State) -> &'static str {
    if state.regions.iter().all(|r| r.health.is_live()) {
        " Triage: nothing wrong right now "
    } else {
        " Triage: nothing wrong in the regions that answer (see the badges) "
    }
}

pub fn draw(state: &State, styles: &Styles, frame: &mut Frame, area: Rect, focused: bool) {
    let inc = &state.incident.triage;
    if inc.items.is_empty() {
        // one line is enough to say so (the layout may give it only that)
        frame::pane(frame, styles, area, empty_title(state).into(), focused);
        return;
    }
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
    let detail_h = u16::from(inner.height >= 4);
    let rows_h = (inner.height - detail_h) as usize;
    let (cursor, visible) = inc.cursor.visible(&inc.items, rows_h);
    let visible: Vec<_> = visible
        .map(|(i, item)| (i, item, cells(state, item)))
        .collect();
    let text_rows: Vec<[String; 7]> = visible.iter().map(|(_, _, c)| c.clone()).collect();
    let mut w = column_widths(&text_rows);
    let avail = inner.width as usize;
    let fixed = |w: &[usize; 6]| w.iter().sum::<usize>() + 5;
    // too narrow for every word: the how-bad column gives way, at a word
    if fixed(&w) > avail {
        let others = fixed(&w) - w[4];
        w[4] = avail.saturating_sub(others).max(8);
    }
    let room = avail.saturating_sub(fixed(&w) + 1);
    let show_detail = room >= 12 && text_rows.iter().any(|r| !r[6].is_empty());
    let dim = styles.get("ui.dim");
    let rows = visible.into_iter().map(|(i, item, text)| {
        let level = styles.get(level_scope(item.level));
        let [mark, region, obj, what, how_bad, since, detail] = text;
        let mut cells = vec![
            Cell::from(mark).style(level),
            Cell::from(region),
            Cell::from(obj),
            Cell::from(what).style(level),
            Cell::from(cut_at_word(&how_bad, w[4])),
            Cell::from(since),
        ];
        if show_detail {
            cells.push(Cell::from(cut_at_word(&detail, room)).style(dim));
        }
        Row::new(cells).style(row_style(styles, i == cursor, item.stale, Style::default()))
    });
    let mut widths: Vec<Constraint> = w.iter().map(|n| Constraint::Length(*n as u16)).collect();
    if show_detail {
        widths.push(Constraint::Fill(1));
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
            // a fleet-wide item: the reason the badges leave out
            let line = if item.id.kind == "Fleet" {
                Line::from(Span::styled(
                    format!("why: {}", sanitize(&item.detail)),
                    dim,
                ))
            } else {
                Line::from(vec![
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
                ])
            };
            let rect = Rect {
                y: inner.y + inner.height - 1,
                height: 1,
                ..inner
            };
            frame.render_widget(Paragraph::new(line), rect);
        }
    }
}
