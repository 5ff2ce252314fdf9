//! The releases pane: the timeline of the focused workload (one lane per
//! region on a 1h / 6h / 24h / 7d axis, rollouts as bars, markers for
//! revisions, rollout changes, events, pitwall's actions, promotion waves
//! and trouble, the selected marker's detail under it), or the release
//! matrix (workloads by regions, drift highlighted). A promotion's plan and
//! progress show under either.

use super::matrix;
use super::plan::tag;
use super::state::View;
use super::timeline::{self, Kind, Timeline};
use crate::sanitize::sanitize;
use crate::state::State;
use crate::theme::Styles;
use crate::widgets::frame;
use crate::widgets::table::{region_live, row_style};
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

/// A time on the axis, in UTC (regions span time zones): `12-03 14:05`.
pub fn utc(t: i64) -> String {
    jiff::Timestamp::from_second(t)
        .map(|ts| ts.strftime("%m-%d %H:%M").to_string())
        .unwrap_or_else(|_| "??".into())
}

/// Width of the lane labels.
const LABEL: usize = 14;

fn cut(s: &str, n: usize) -> String {
    let s = sanitize(s);
    if s.chars().count() <= n {
        s.into_owned()
    } else {
        let mut out: String = s.chars().take(n.saturating_sub(1)).collect();
        out.push('…');
        out
    }
}

fn pad(s: &str, n: usize) -> String {
    format!("{:<n$}", cut(s, n))
}

pub fn draw(state: &State, styles: &Styles, frame: &mut Frame, area: Rect, focused: bool) {
    let rel = &state.releases;
    let title = match (rel.view, &rel.workload) {
        (View::Timeline, Some((ns, name))) => {
            format!(" Releases · timeline {ns}/{name} · {} ", rel.axis.label())
        }
        (View::Timeline, None) => " Releases · timeline ".to_string(),
        (View::Matrix, _) => " Releases · matrix ".to_string(),
    };
    let inner = frame::pane(
        frame,
        styles,
        area,
        cut(&title, area.width as usize),
        focused,
    );
    if inner.height < 2 || inner.width < 30 {
        return;
    }
    let mut lines = match rel.view {
        View::Timeline => {
            timeline_lines(state, styles, inner.width as usize, inner.height as usize)
        }
        View::Matrix => matrix_lines(state, styles, inner.width as usize, inner.height as usize),
    };
    lines.truncate(inner.height as usize);
    frame.render_widget(Paragraph::new(lines), inner);
}

fn plan_lines(state: &State, styles: &Styles, width: usize) -> Vec<Line<'static>> {
    let Some(plan) = state.releases.plan() else {
        return Vec::new();
    };
    let scope = match &plan.state {
        super::plan::PlanState::Halted(_) => "ui.error",
        super::plan::PlanState::Interrupted => "ui.warning",
        _ => "ui.title",
    };
    let mut out = vec![Line::from(Span::styled(
        cut(
            &format!("promotion {}: {}", tag(&plan.image), plan.state.word()),
            width,
        ),
        styles.get(scope),
    ))];
    for (i, w) in plan.waves.iter().enumerate() {
        let regions: Vec<String> = w
            .regions
            .iter()
            .map(|r| {
                if r.note.is_empty() {
                    r.region.clone()
                } else {
                    format!("{} ({})", r.region, r.note)
                }
            })
            .collect();
        let style = match w.state {
            super::plan::WaveState::Failed => styles.get("ui.error"),
            super::plan::WaveState::Passed => styles.get("ui.dim"),
            super::plan::WaveState::Pending => styles.get("ui.text"),
            _ => styles.get("ui.warning"),
        };
        out.push(Line::from(Span::styled(
            cut(
                &format!(
                    "  wave {} {} {}: {}",
                    i + 1,
                    w.stage,
                    w.state.word(),
                    regions.join(", ")
                ),
                width,
            ),
            style,
        )));
    }
    let hint = match &plan.state {
        super::plan::PlanState::Halted(_) => "u undo the failed wave · > retry it · A abort",
        super::plan::PlanState::Interrupted => "> resume · A abort",
        super::plan::PlanState::Running => "A abort",
        _ => "",
    };
    if !hint.is_empty() {
        out.push(Line::from(Span::styled(
            format!("  {hint}"),
            styles.get("ui.hint"),
        )));
    }
    out
}

fn timeline_lines(
    state: &State,
    styles: &Styles,
    width: usize,
    height: usize,
) -> Vec<Line<'static>> {
    let rel = &state.releases;
    if rel.workload.is_none() {
        return vec![Line::from(Span::styled(
            "no workload: T on a pod, workload or triage item opens its timeline",
            styles.get("ui.dim"),
        ))];
    }
    let t: Timeline = timeline::build(&state.store, rel, &state.region_names, state.now);
    let span = rel.axis.secs();
    let (start, end) = timeline::window(rel.at, span, state.now);
    let cols = width.saturating_sub(LABEL + 1).max(10);
    let col = |at: i64| -> Option<usize> {
        (at >= start && at <= end)
            .then(|| (((at - start) as f64 / span as f64) * (cols - 1) as f64).round() as usize)
    };
    let sel = if rel.marker_moved {
        rel.marker
    } else {
        timeline::marker_at(&t, rel.at)
    }
    .min(t.markers.len().saturating_sub(1));
    let selected = t.markers.get(sel);
    let mut out = Vec::new();
    for (region, name) in state.region_names.iter().enumerate() {
        // row 1: bars and markers; row 2: the trouble overlay
        let mut main: Vec<(char, &str)> = vec![(' ', "ui.text"); cols];
        let mut over: Vec<(char, &str)> = vec![(' ', "ui.text"); cols];
        for b in t.bars.iter().filter(|b| b.region == region) {
            let from = b.from.max(start);
            let to = b.to.min(end);
            if from > to {
                continue;
            }
            if let (Some(a), Some(z)) = (col(from), col(to)) {
                for c in main.iter_mut().take(z + 1).skip(a) {
                    *c = ('━', "sparkline");
                }
            }
        }
        for m in t.markers.iter().filter(|m| m.region == region) {
            let Some(x) = col(m.at) else { continue };
            let is_sel = selected.is_some_and(|s| s == m);
            let scope = match (is_sel, m.kind) {
                (true, _) => "ui.selection",
                (_, Kind::Revision) => "ui.key",
                (_, Kind::Audit | Kind::Promotion) => "ui.warning",
                (_, Kind::Trouble) => "probe.failed",
                _ => "ui.dim",
            };
            let slot = if m.kind == Kind::Trouble {
                &mut over[x]
            } else {
                &mut main[x]
            };
            // a revision wins its cell over an event; the selection over all
            if is_sel || slot.0 == ' ' || slot.0 == '━' || m.kind < Kind::Event {
                *slot = (m.kind.glyph(), scope);
            }
        }
        let label_style = if state.releases.stage_of(name).is_some_and(|s| s > 0) {
            styles.get("ui.title")
        } else {
            styles.get("ui.text")
        };
        // a region that is not live: its lane is dimmed and says so
        let stale = !region_live(state, region);
        let lane = |s: &str| row_style(styles, false, stale, styles.get(s));
        let mut spans = vec![
            Span::styled(
                pad(name, LABEL),
                row_style(styles, false, stale, label_style),
            ),
            Span::raw(" "),
        ];
        spans.extend(
            main.into_iter()
                .map(|(c, s)| Span::styled(c.to_string(), lane(s))),
        );
        out.push(Line::from(spans));
        let mut spans = vec![if stale {
            Span::styled(pad("(stale)", LABEL + 1), styles.get("ui.warning"))
        } else {
            Span::raw(" ".repeat(LABEL + 1))
        }];
        spans.extend(
            over.into_iter()
                .map(|(c, s)| Span::styled(c.to_string(), lane(s))),
        );
        out.push(Line::from(spans));
        if let Some(Err(e)) = rel.revisions.get(&region) {
            out.push(Line::from(Span::styled(
                cut(&format!("{:LABEL$} revisions: {e}", ""), width),
                styles.get("ui.error"),
            )));
        }
    }
    // the axis: start, middle, end
    let mid = utc(start + span / 2);
    let left = utc(start);
    let right = format!("{} UTC", utc(end));
    let gap = cols.saturating_sub(left.len() + mid.len() + right.len()) / 2;
    out.push(Line::from(Span::styled(
        format!(
            "{:LABEL$} {left}{}{mid}{}{right}",
            rel.axis.label(),
            " ".repeat(gap),
            " ".repeat(cols.saturating_sub(left.len() + mid.len() + right.len() + gap)),
        ),
        styles.get("ui.dim"),
    )));
    out.push(Line::from(Span::styled(
        cut(
            &format!(
                "{} revision  {} rollout  {} event  {} pitwall  {} promotion  {} trouble  ━ rolling",
                Kind::Revision.glyph(),
                Kind::Rollout.glyph(),
                Kind::Event.glyph(),
                Kind::Audit.glyph(),
                Kind::Promotion.glyph(),
                Kind::Trouble.glyph()
            ),
            width,
        ),
        styles.get("ui.hint"),
    )));
    match selected {
        Some(m) => {
            let region = state
                .region_names
                .get(m.region)
                .cloned()
                .unwrap_or_default();
            out.push(Line::from(Span::styled(
                cut(
                    &format!(
                        "{}/{} {} {} {}: {}",
                        sel + 1,
                        t.markers.len(),
                        utc(m.at),
                        region,
                        m.kind.word(),
                        m.label
                    ),
                    width,
                ),
                styles.get("ui.title"),
            )));
            if rel.detail || height > 24 {
                for d in &m.detail {
                    out.push(Line::from(Span::styled(
                        cut(&format!("  {d}"), width),
                        styles.get("ui.text"),
                    )));
                }
            }
        }
        None => out.push(Line::from(Span::styled(
            "no markers yet",
            styles.get("ui.dim"),
        ))),
    }
    out.extend(plan_lines(state, styles, width));
    // the markers around the selected one, as many as fit
    let room = height.saturating_sub(out.len() + 1);
    if room >= 3 && !t.markers.is_empty() {
        out.push(Line::from(Span::styled(
            "markers (h/l move, Enter detail, a axis, i matrix)",
            styles.get("table.header"),
        )));
        let first = sel
            .saturating_sub(room / 2)
            .min(t.markers.len().saturating_sub(room));
        for (i, m) in t.markers.iter().enumerate().skip(first).take(room) {
            let region = state
                .region_names
                .get(m.region)
                .map(String::as_str)
                .unwrap_or("");
            let text = format!(
                "{} {:12} {:9} {}",
                utc(m.at),
                cut(region, 12),
                m.kind.word(),
                m.label
            );
            let style = if i == sel {
                styles.get("ui.selection")
            } else {
                styles.get("ui.text")
            };
            out.push(Line::from(Span::styled(cut(&text, width), style)));
        }
    }
    out
}

/// A promotion's wave state in a matrix cell.
fn promotion_glyph(state: &str) -> char {
    match state {
        "passed" => '✓',
        "failed" => '✗',
        "pending" => '·',
        _ => '↻',
    }
}

fn matrix_lines(state: &State, styles: &Styles, width: usize, height: usize) -> Vec<Line<'static>> {
    let rel = &state.releases;
    let rows = matrix::build(&state.store, rel, &state.region_names);
    let n = state.region_names.len().max(1);
    let name_w = 22.min(width / 3);
    let cell_w = (width.saturating_sub(name_w + 1) / n).max(6);
    let mut out = Vec::new();
    let mut head = vec![Span::styled(
        pad("WORKLOAD", name_w),
        styles.get("table.header"),
    )];
    for (i, r) in state.region_names.iter().enumerate() {
        // a region that is not live says so over its column, dimmed below
        let label = if region_live(state, i) {
            r.clone()
        } else {
            format!("{r} (stale)")
        };
        head.push(Span::styled(
            format!(" {}", pad(&label, cell_w - 1)),
            styles.get("table.header"),
        ));
    }
    out.push(Line::from(head));
    let drift = rows.iter().filter(|r| r.drift()).count();
    let body = height
        .saturating_sub(3 + plan_lines(state, styles, width).len())
        .max(1);
    let cursor = rel.row.min(rows.len().saturating_sub(1));
    let first = cursor.saturating_sub(body.saturating_sub(1));
    for (i, row) in rows.iter().enumerate().skip(first).take(body) {
        let sel = i == cursor;
        let base = if sel {
            styles.get("ui.selection")
        } else {
            Style::default()
        };
        let mut spans = vec![Span::styled(
            pad(&format!("{}/{}", row.namespace, row.name), name_w),
            base,
        )];
        for (region, c) in row.cells.iter().enumerate() {
            // drift first, so a cut cell still shows it
            let mut text = if c.drift {
                format!("!{}", c.text)
            } else {
                c.text.clone()
            };
            if let Some((u, d)) = c.mixed {
                text = format!("{text} {u}/{d}");
            }
            if let Some(p) = c.promotion {
                text.push(' ');
                text.push(promotion_glyph(p));
            }
            let scope = if c.drift {
                "ui.error"
            } else if c.mixed.is_some() || c.promotion.is_some() {
                "ui.warning"
            } else {
                "ui.text"
            };
            spans.push(Span::styled(
                format!(" {}", pad(&text, cell_w - 1)),
                // the selection keeps its colours; otherwise a region that
                // is not live is dimmed
                row_style(
                    styles,
                    false,
                    !sel && !region_live(state, region),
                    base.patch(styles.get(scope)),
                ),
            ));
        }
        out.push(Line::from(spans));
    }
    out.push(Line::from(Span::styled(
        cut(
            &format!(
                "{} workloads · {drift} with drift (!: an image the first stage never ran) · n/m updated of desired · promotion ✓ passed ↻ under way ✗ failed · pending",
                rows.len()
            ),
            width,
        ),
        styles.get("ui.hint"),
    )));
    out.extend(plan_lines(state, styles, width));
    out
}
