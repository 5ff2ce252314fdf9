//! The pod table. Only the rows that fit are turned into cells, so a 50k-row
//! view costs the same to draw as a 40-row one.

use crate::model::{PodRow, Timestamp};
use crate::sanitize::sanitize;
use crate::state::{Column, State};
use crate::theme::Styles;
use crate::ui::format::{age, age_changes_at};
use crate::widgets::frame;
use crate::widgets::table::{region_live, row_style};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Row, Table};
use ratatui::Frame;

/// Restarts within this window are highlighted.
const RECENT_RESTART_SECS: i64 = 3600;

/// Which columns fit: the least useful go first on narrow terminals.
pub fn columns_for(width: u16) -> Vec<Column> {
    Column::ALL
        .into_iter()
        .filter(|c| match c {
            Column::Ip => width >= 150,
            Column::Node => width >= 125,
            Column::Owner => width >= 100,
            _ => true,
        })
        .collect()
}

/// Narrower than this, RESTARTS drops the "(5m)" and widths tighten.
const NARROW: u16 = 100;

/// REGION fits the longest region name (an on-call engineer must be able to
/// tell `ap-southeast` from `ap-southeast-2`), within bounds.
fn region_width(state: &State, narrow: bool) -> u16 {
    let longest = (0..state.regions.len())
        .map(|r| state.region_name(r).chars().count())
        .max()
        .unwrap_or(6);
    (longest as u16).clamp(6, if narrow { 12 } else { 16 })
}

fn width_of(c: Column, narrow: bool, region_width: u16) -> Constraint {
    match c {
        Column::Region => Constraint::Length(region_width),
        Column::Namespace => Constraint::Length(if narrow { 11 } else { 14 }),
        Column::Name => Constraint::Fill(3),
        Column::Ready => Constraint::Length(5),
        Column::Status => Constraint::Length(if narrow { 16 } else { 17 }),
        Column::Restarts => Constraint::Length(if narrow { 8 } else { 12 }),
        Column::Age => Constraint::Length(4),
        Column::Node => Constraint::Fill(2),
        Column::Ip => Constraint::Length(15),
        Column::Owner => Constraint::Fill(2),
    }
}

/// Shortens `text` to `width` columns by cutting its middle, so both the
/// workload prefix and the unique suffix of a pod name stay readable.
pub fn middle_ellipsis(text: String, width: usize) -> String {
    let n = text.chars().count();
    if n <= width || width < 5 {
        return text;
    }
    let tail = (width - 1) / 2;
    let head = width - 1 - tail;
    let mut out: String = text.chars().take(head).collect();
    out.push('…');
    out.extend(text.chars().skip(n - tail));
    out
}

pub fn status_scope(row: &PodRow) -> &'static str {
    if row.deleting || row.status == "Terminating" {
        return "pod.status.terminating";
    }
    match row.status.as_str() {
        "Running" if row.ready == row.total => "pod.status.running",
        "Running" | "Pending" | "ContainerCreating" | "PodInitializing" | "NotReady" => {
            "pod.status.pending"
        }
        "Completed" | "Succeeded" => "pod.status.succeeded",
        s if s.starts_with("Init:") && !s.contains("Err") && !s.contains("BackOff") => {
            "pod.status.pending"
        }
        "Unknown" => "pod.status.unknown",
        _ => "pod.status.failed",
    }
}

fn cell_text(state: &State, row: &PodRow, c: Column, narrow: bool) -> String {
    match c {
        Column::Region => sanitize(state.region_name(row.region)).into_owned(),
        Column::Namespace => sanitize(&row.namespace).into_owned(),
        Column::Name => sanitize(&row.name).into_owned(),
        Column::Ready => format!("{}/{}", row.ready, row.total),
        Column::Status => sanitize(&row.status).into_owned(),
        Column::Restarts => match row.last_restart {
            Some(t) if row.restarts > 0 && !narrow => {
                format!("{} ({} ago)", row.restarts, age(state.now, t))
            }
            _ => row.restarts.to_string(),
        },
        Column::Age => age(state.now, row.created),
        Column::Node => sanitize(&row.node).into_owned(),
        Column::Ip => sanitize(&row.ip).into_owned(),
        Column::Owner => {
            if row.owner_name.is_empty() {
                String::new()
            } else {
                sanitize(&format!("{}/{}", row.owner_kind, row.owner_name)).into_owned()
            }
        }
    }
}

fn title(state: &State) -> Line<'static> {
    let spec = state.store.view_spec();
    let mut t = format!(" Pods {}/{} ", state.store.view().len(), state.store.len());
    if let Some(r) = spec.region {
        t.push_str(&format!("region:{} ", sanitize(state.region_name(r))));
    }
    if let Some(ns) = &spec.namespace {
        t.push_str(&format!("ns:{} ", sanitize(ns)));
    }
    if let Some((kind, name)) = &spec.owner {
        t.push_str(&format!(
            "{}:{} ",
            sanitize(&kind.to_lowercase()),
            sanitize(name)
        ));
    }
    if spec.problems_only {
        t.push_str("problems ");
    }
    if !spec.filter.is_empty() {
        t.push_str(&format!("/{} ", sanitize(&spec.filter)));
    }
    // rows of regions that are not live are dimmed; say so in words too
    let not_live = (0..state.regions.len())
        .filter(|&i| !state.regions[i].health.is_live() && state.store.region_len(i) > 0)
        .count();
    if not_live > 0 && !state.store.is_empty() {
        let s = if not_live == 1 { "" } else { "s" };
        t.push_str(&format!("· {not_live} region{s} not live, rows dimmed "));
    }
    Line::from(t)
}

pub fn draw(state: &State, styles: &Styles, frame: &mut Frame, area: Rect, focused: bool) {
    let inner = frame::pane(frame, styles, area, title(state).to_string(), focused);
    if inner.height < 2 || inner.width < 10 {
        return;
    }

    let cols = columns_for(inner.width);
    let narrow = inner.width < NARROW;
    let region_w = region_width(state, narrow);
    let constraints: Vec<Constraint> = cols
        .iter()
        .map(|c| width_of(*c, narrow, region_w))
        .collect();
    // the widths the table will give each column, to shorten long names
    // in the middle: a pod's unique suffix must stay visible
    let widths = Layout::horizontal(constraints.iter().copied())
        .spacing(1)
        .split(inner);
    let spec = state.store.view_spec();
    let header = Row::new(cols.iter().map(|c| {
        let mut name = c.title().to_string();
        if *c == spec.sort {
            name.push(if spec.reverse { '↑' } else { '↓' });
        }
        Cell::from(name)
    }))
    .style(styles.get("table.header"));

    let body_rows = (inner.height - 1) as usize;
    let view = state.store.view();
    let sel = &state.ui.pods;
    let (cursor, visible) = sel.visible(view, body_rows);

    let base = styles.get("table.row");
    let recent = styles.get("pod.restarts.recent");
    let rows = visible.filter_map(|(i, slot)| {
        let row = state.store.get(*slot)?;
        let dimmed = !region_live(state, row.region);
        let cells = cols.iter().zip(widths.iter()).map(|(c, area)| {
            let mut text = cell_text(state, row, *c, narrow);
            if matches!(c, Column::Name | Column::Owner) {
                text = middle_ellipsis(text, area.width as usize);
            }
            let style = match c {
                Column::Status => styles.get(status_scope(row)),
                Column::Restarts
                    if row
                        .last_restart
                        .is_some_and(|t| state.now - t < RECENT_RESTART_SECS) =>
                {
                    recent
                }
                _ => Style::default(),
            };
            Cell::from(text).style(style)
        });
        let style = row_style(styles, i == cursor, dimmed, base);
        Some(Row::new(cells).style(style))
    });
    let table = Table::new(rows, constraints)
        .header(header)
        .column_spacing(1);
    frame.render_widget(table, inner);

    if view.is_empty() {
        let msg = if state.store.is_empty() {
            "waiting for pods…"
        } else {
            "no pods match"
        };
        let y = inner.y + 1;
        if y < inner.y + inner.height {
            let r = Rect {
                x: inner.x + 1,
                y,
                width: inner.width - 1,
                height: 1,
            };
            frame.render_widget(Span::styled(msg, styles.get("ui.hint")), r);
        }
    }
}

/// When time alone next changes what the table shows: an age or a restart
/// age on a visible row, or a restart leaving the "recent" highlight. The
/// loop sleeps until then instead of redrawing on a fixed tick.
pub fn next_change(state: &State) -> Option<Timestamp> {
    let view = state.store.view();
    let sel = &state.ui.pods;
    let start = sel.offset.get().min(view.len());
    let end = (start + sel.page.get()).min(view.len());
    let now = state.now;
    view[start..end]
        .iter()
        .filter_map(|slot| state.store.get(*slot))
        .flat_map(|row| {
            let restart = row.last_restart.filter(|_| row.restarts > 0);
            [
                Some(age_changes_at(now, row.created)),
                restart.map(|t| age_changes_at(now, t)),
                restart
                    .map(|t| t + RECENT_RESTART_SECS)
                    .filter(|t| *t > now),
            ]
        })
        .flatten()
        .min()
}

#[cfg(test)]
mod next_change_tests {
    use super::*;
    use crate::keymap::Keymap;
    use crate::state::RegionState;

    fn pod(name: &str, created: Timestamp) -> PodRow {
        PodRow {
            uid: name.into(),
            namespace: "ns".into(),
            name: name.into(),
            created,
            ..PodRow::default()
        }
    }

    #[test]
    fn wakes_when_a_visible_age_changes_and_ignores_rows_off_screen() {
        let now = 1_000_000;
        let region = RegionState {
            name: "eu".into(),
            context: "eu".into(),
            production: false,
            read_only: false,
            health: crate::msg::Health::Live,
            feeds: Vec::new(),
            down_since: None,
        };
        let mut state = State::new(vec![region], Keymap::defaults(), now);
        assert_eq!(
            next_change(&state),
            None,
            "nothing shown, nothing to wait for"
        );
        // "a" is 3 days old, "b" 90 s old: "b" turns 2m at created + 120
        state.store.upsert(pod("a", now - 3 * 86_400));
        state.store.upsert(pod("b", now - 90));
        state.refresh_view();
        state.ui.pods.page.set(2);
        assert_eq!(next_change(&state), Some(now - 90 + 120));
        // only "a" on screen: its age changes at the next day boundary
        state.ui.pods.page.set(1);
        assert_eq!(next_change(&state), Some(now - 3 * 86_400 + 4 * 86_400));
        // a recent restart on screen: its "(1m)" ticks each minute
        let mut a = pod("a", now - 3 * 86_400);
        a.restarts = 1;
        a.last_restart = Some(now - 30);
        state.store.upsert(a);
        state.refresh_view();
        assert_eq!(next_change(&state), Some(now + 30));
    }
}
