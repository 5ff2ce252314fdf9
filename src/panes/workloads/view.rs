//! The workloads table (visible rows only) and the dialogs of its actions:
//! the scale input, the undo picker with each revision's image diff, and
//! the live rollout status view.

use super::act::Dialog;
use super::state::{kind_name, rollout_cell, troubled, WCol};
use crate::sanitize::sanitize;
use crate::state::State;
use crate::theme::Styles;
use crate::ui::format::age;
use crate::widgets::frame;
use crate::widgets::table::{region_live, row_style};
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Clear, Paragraph, Row, Table, Wrap};
use ratatui::Frame;

/// Which columns fit: images and kind go first on narrow terminals.
pub fn columns_for(width: u16) -> Vec<WCol> {
    WCol::ALL
        .into_iter()
        .filter(|c| match c {
            // NAME keeps at least 15 columns beside the fixed ones
            WCol::Images => width >= 135,
            WCol::Kind => width >= 115,
            WCol::UpToDate | WCol::Available => width >= 100,
            _ => true,
        })
        .collect()
}

fn width_of(c: WCol) -> Constraint {
    match c {
        WCol::Region => Constraint::Length(12),
        WCol::Namespace => Constraint::Length(12),
        WCol::Name => Constraint::Fill(2),
        WCol::Kind => Constraint::Length(11),
        WCol::Ready => Constraint::Length(7),
        WCol::UpToDate => Constraint::Length(10),
        WCol::Available => Constraint::Length(9),
        WCol::Images => Constraint::Fill(3),
        WCol::Age => Constraint::Length(4),
        WCol::Rollout => Constraint::Length(18),
    }
}

pub fn draw(state: &State, styles: &Styles, frame: &mut Frame, area: Rect, focused: bool) {
    let ws = &state.workloads;
    let title = format!(" Workloads ({}) ", ws.view().len());
    let inner = frame::pane(frame, styles, area, title, focused);
    if inner.height < 2 || inner.width < 10 {
        return;
    }
    let cols = columns_for(inner.width);
    let header = Row::new(cols.iter().map(|c| {
        let mut name = c.title().to_string();
        if *c == ws.sort {
            name.push(if ws.reverse { '↑' } else { '↓' });
        }
        Cell::from(name)
    }))
    .style(styles.get("table.header"));
    let (cursor, visible) = ws.cursor.visible(ws.view(), (inner.height - 1) as usize);
    let base = styles.get("table.row");
    let rows = visible.filter_map(|(i, key)| {
        let row = &state.store.workloads().rows().get(key)?.row;
        let cells = cols.iter().map(|c| {
            let text = match c {
                WCol::Region => state.region_name(row.region).to_string(),
                WCol::Namespace => row.namespace.clone(),
                WCol::Name => row.name.clone(),
                WCol::Kind => kind_name(row.kind).to_string(),
                // `!` marks fewer ready than desired in text too
                WCol::Ready if row.ready < row.desired => {
                    format!("!{}/{}", row.ready, row.desired)
                }
                WCol::Ready => format!("{}/{}", row.ready, row.desired),
                WCol::UpToDate => row.updated.to_string(),
                WCol::Available => row.available.to_string(),
                WCol::Images => row.images.join(","),
                WCol::Age => age(state.now, row.created),
                WCol::Rollout => rollout_cell(row),
            };
            let style = match c {
                WCol::Ready | WCol::Rollout if troubled(row) => styles.get("ui.warning"),
                _ => Style::default(),
            };
            Cell::from(sanitize(&text).into_owned()).style(style)
        });
        let dimmed = !region_live(state, row.region);
        Some(Row::new(cells).style(row_style(styles, i == cursor, dimmed, base)))
    });
    let widths: Vec<Constraint> = cols.iter().map(|c| width_of(*c)).collect();
    frame.render_widget(
        Table::new(rows, widths).header(header).column_spacing(1),
        inner,
    );
    if ws.view().is_empty() && inner.height > 1 {
        let msg = if state.store.workloads().is_empty() {
            "waiting for workloads…"
        } else {
            "no workloads match"
        };
        let r = Rect {
            y: inner.y + 1,
            height: 1,
            ..inner
        };
        frame.render_widget(Span::styled(msg, styles.get("ui.hint")), r);
    }
}

/// When an age on a visible row next changes, while the pane is focused
/// (the loop sleeps until then instead of ticking).
pub fn next_change(state: &State) -> Option<crate::model::Timestamp> {
    if state.ui.focus != crate::panes::Pane::Workloads {
        return None;
    }
    let ws = &state.workloads;
    let view = ws.view();
    let start = ws.cursor.offset.get().min(view.len());
    let end = (start + ws.cursor.page.get()).min(view.len());
    view[start..end]
        .iter()
        .filter_map(|k| state.store.workloads().rows().get(k))
        .map(|i| crate::ui::format::age_changes_at(state.now, i.row.created))
        .min()
}

/// What an open dialog says, line by line (tests read it too).
pub fn dialog_lines(state: &State, dialog: &Dialog) -> (String, Vec<String>) {
    match dialog {
        Dialog::Scale { target, error, .. } => {
            let super::plan::Target::Workload {
                region,
                namespace,
                name,
                replicas,
                ..
            } = target
            else {
                return (String::new(), Vec::new());
            };
            let mut lines = vec![
                format!("{} {namespace}/{name}", state.region_name(*region)),
                format!(
                    "replicas now {replicas}; new count (0..={}), Enter to go on, Esc to cancel",
                    super::plan::MAX_REPLICAS
                ),
            ];
            lines.extend(error.clone());
            (" scale ".into(), lines)
        }
        Dialog::Undo {
            target,
            revisions,
            running,
            cursor,
        } => {
            let mut lines = vec![format!(
                "running: {}   (j/k choose, Enter rolls back, Esc cancels)",
                running.join(", ")
            )];
            match revisions {
                None => lines.push("reading revisions…".into()),
                Some(Err(e)) => lines.push(format!("cannot read revisions: {e}")),
                Some(Ok(revs)) if revs.is_empty() => lines.push("no revisions".into()),
                Some(Ok(revs)) => {
                    for (i, r) in revs.iter().enumerate() {
                        let when = r
                            .created
                            .as_deref()
                            .and_then(|t| t.parse::<jiff::Timestamp>().ok())
                            .map_or_else(|| "?".into(), |t| age(state.now, t.as_second()));
                        let mark = if i == *cursor { ">" } else { " " };
                        lines.push(format!(
                            "{mark} revision {:<4} {:>4}  {}  {}",
                            r.number,
                            when,
                            r.images.join(", "),
                            r.change_cause.as_deref().unwrap_or("<none>")
                        ));
                        if i == *cursor {
                            let diff = r.image_diff(running);
                            if diff.is_empty() {
                                lines.push("      same images as running".into());
                            }
                            for (now, then) in diff {
                                lines.push(format!("      image {now} -> {then}"));
                            }
                        }
                    }
                }
            }
            let name = match target {
                super::plan::Target::Workload { name, .. } => name.as_str(),
                super::plan::Target::Pod { name, .. } => name.as_str(),
            };
            (format!(" rollout undo {name} "), lines)
        }
        Dialog::Status { key, lines } => {
            let mut out = lines.clone();
            out.push("(live from the fleet store; Esc closes)".into());
            (
                format!(
                    " rollout status {} {}/{} ",
                    state.region_name(key.region),
                    key.namespace,
                    key.name
                ),
                out,
            )
        }
    }
}

pub fn draw_dialog(state: &State, styles: &Styles, frame: &mut Frame, area: Rect, d: &Dialog) {
    let (title, lines) = dialog_lines(state, d);
    let input_rows = if matches!(d, Dialog::Scale { .. }) {
        3
    } else {
        0
    };
    let width = area.width.min(100);
    let height = (lines.len() as u16 + 2 + input_rows).min(area.height);
    let rect = Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height - height) / 2,
        width,
        height,
    };
    frame.render_widget(Clear, rect);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(styles.get("ui.border.focused"))
        .style(styles.get("ui.modal"))
        .title(Span::styled(
            sanitize(&title).into_owned(),
            styles.get("ui.title"),
        ));
    let inner = block.inner(rect);
    frame.render_widget(block, rect);
    let text: Vec<Line> = lines
        .into_iter()
        .map(|l| Line::from(sanitize(&l).into_owned()))
        .collect();
    let text_area = Rect {
        height: inner.height.saturating_sub(input_rows),
        ..inner
    };
    frame.render_widget(Paragraph::new(text).wrap(Wrap { trim: false }), text_area);
    if let Dialog::Scale { input, .. } = d {
        let mut input = input.clone();
        input.set_block(
            Block::default()
                .borders(Borders::ALL)
                .border_style(styles.get("ui.input")),
        );
        let r = Rect {
            y: text_area.y + text_area.height,
            height: input_rows.min(inner.height),
            ..inner
        };
        frame.render_widget(&input, r);
    }
}

/// The hint line's row actions: the available ones, then the refused ones
/// greyed, grouped by why.
pub fn hint_spans(state: &State, styles: &Styles) -> Option<Vec<Span<'static>>> {
    let t = super::act::selected(state)?;
    let offers = state.workloads.offers.get(&t.key, state.now)?;
    if offers.is_empty() {
        return None;
    }
    let label = |action: crate::action::Action| {
        let key = [
            crate::action::KeyContext::Table,
            crate::action::KeyContext::Global,
        ]
        .into_iter()
        .find_map(|c| state.keymap.keys_for(c, action).into_iter().next())
        .unwrap_or_default();
        format!("{key} {}", action.name().trim_start_matches("rollout_"))
    };
    let mut spans = Vec::new();
    let mut greyed: Vec<(&str, Vec<String>)> = Vec::new();
    // actions for another kind of row (delete pod on a workload) are left out
    for (action, offer) in offers.iter().filter(|(a, _)| t.for_action(*a).is_ok()) {
        match offer {
            super::plan::Offer::Available => {
                spans.push(Span::styled(
                    format!("{}  ", label(*action)),
                    styles.get("ui.hint"),
                ));
            }
            super::plan::Offer::Greyed(why) => match greyed.iter_mut().find(|(w, _)| w == why) {
                Some((_, keys)) => keys.push(label(*action)),
                None => greyed.push((why, vec![label(*action)])),
            },
        }
    }
    for (why, keys) in greyed {
        spans.push(Span::styled(
            format!("[{}: {}]  ", keys.join(", "), sanitize(why)),
            styles.get("ui.dim"),
        ));
    }
    Some(spans)
}
