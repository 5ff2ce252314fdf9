//! The probe failures pane: one row per (region, workload, probe kind),
//! most severe first, with a 30-minute trend; under it the selected row's
//! probe configuration and warnings, its pods and its recent events.

use crate::panes::probes::book::{ProbeRow, Severity};
use crate::panes::probes::present::probe_config;
use crate::sanitize::sanitize;
use crate::state::State;
use crate::theme::Styles;
use crate::ui::format::age;
use crate::widgets::frame;
use crate::widgets::sparkline::sparkline;
use crate::widgets::table::{region_live, row_style};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table};
use ratatui::Frame;

fn severity_scope(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "probe.failed",
        Severity::Warning => "probe.warning",
        Severity::Quiet => "ui.dim",
    }
}

fn workload(row: &ProbeRow) -> String {
    let w = &row.key.workload;
    sanitize(&format!("{}/{}", w.namespace, w.name)).into_owned()
}

pub fn draw(state: &State, styles: &Styles, frame: &mut Frame, area: Rect, focused: bool) {
    let inc = &state.incident.probes;
    let active = inc
        .rows
        .iter()
        .filter(|r| r.severity != Severity::Quiet)
        .count();
    let mut title = format!(" Probe failures {active} active ");
    // as in the pods pane: rows of regions that are not live are dimmed,
    // and the title says so in words
    let not_live = inc
        .rows
        .iter()
        .filter(|r| !region_live(state, r.key.workload.region))
        .count();
    if not_live > 0 {
        title.push_str(&format!("· {not_live} from regions not live, dimmed "));
    }
    let inner = frame::pane(frame, styles, area, title, focused);
    if inner.height < 2 || inner.width < 20 {
        return;
    }
    if inc.rows.is_empty() {
        frame.render_widget(
            Paragraph::new("no probe failures seen").style(styles.get("ui.dim")),
            inner,
        );
        return;
    }
    let (table_area, detail_area) = if inner.height >= 12 {
        let [t, d] =
            Layout::vertical([Constraint::Percentage(45), Constraint::Fill(1)]).areas(inner);
        (t, Some(d))
    } else {
        (inner, None)
    };
    draw_table(state, styles, frame, table_area);
    if let Some(d) = detail_area {
        draw_detail(state, styles, frame, d);
    }
}

fn draw_table(state: &State, styles: &Styles, frame: &mut Frame, area: Rect) {
    let inc = &state.incident.probes;
    let wide = area.width >= 110;
    let trend_w: u16 = if wide { 30 } else { 10 };
    let mut header = vec!["REGION", "WORKLOAD", "PROBE", "PODS", "5M"];
    if wide {
        header.extend(["TOTAL", "FIRST", "LAST"]);
    }
    header.extend(["TREND", "MESSAGE"]);
    let header = Row::new(header).style(styles.get("table.header"));
    let rows_h = area.height.saturating_sub(1) as usize;
    let (cursor, visible) = inc.cursor.visible(&inc.rows, rows_h);
    let spark = styles.get("sparkline");
    let rows = visible.map(|(i, r)| {
        let sev = styles.get(severity_scope(r.severity));
        let mut cells = vec![
            Cell::from(sanitize(state.region_name(r.key.workload.region)).into_owned()),
            Cell::from(workload(r)),
            Cell::from(r.key.kind.name()),
            Cell::from(format!("{}/{}", r.pods_affected, r.pods_total)).style(sev),
            Cell::from(r.failures_5m.to_string()).style(sev),
        ];
        if wide {
            cells.push(Cell::from(r.failures_total.to_string()));
            cells.push(Cell::from(age(state.now, r.first_seen)));
            cells.push(Cell::from(age(state.now, r.last_seen)));
        }
        cells.push(Cell::from(sparkline(&r.trend, trend_w as usize)).style(spark));
        cells.push(Cell::from(sanitize(&r.message).into_owned()));
        let dimmed = !region_live(state, r.key.workload.region);
        Row::new(cells).style(row_style(styles, i == cursor, dimmed, Style::default()))
    });
    let mut widths = vec![
        Constraint::Length(if wide { 12 } else { 9 }),
        Constraint::Fill(2),
        Constraint::Length(9),
        Constraint::Length(5),
        Constraint::Length(4),
    ];
    if wide {
        widths.extend([
            Constraint::Length(6),
            Constraint::Length(5),
            Constraint::Length(4),
        ]);
    }
    widths.extend([Constraint::Length(trend_w), Constraint::Fill(3)]);
    frame.render_widget(
        Table::new(rows, widths).header(header).column_spacing(1),
        area,
    );
}

fn draw_detail(state: &State, styles: &Styles, frame: &mut Frame, area: Rect) {
    let inc = &state.incident.probes;
    let (Some(row), Some(detail)) = (inc.selected(), inc.detail.as_ref()) else {
        return;
    };
    let dim = styles.get("ui.dim");
    let warn = styles.get("probe.warning");
    let mut lines = Vec::new();
    let restarts = if row.restarts > 0 {
        format!(", {} restarts", row.restarts)
    } else {
        String::new()
    };
    // a quiet row's pods are ready again: it says when it last failed
    let when = if row.severity == Severity::Quiet {
        use crate::ui::format::{age, clock};
        format!(
            "recovered, last failure at {}, {} ago",
            clock(row.last_seen),
            age(state.now, row.last_seen)
        )
    } else {
        format!("failing {}", crate::ui::format::since(state.now, row.since))
    };
    lines.push(Line::from(Span::styled(
        sanitize(&format!(
            "{} {} probe of {}: {when}{restarts}",
            state.region_name(row.key.workload.region),
            row.key.kind,
            workload(row),
        ))
        .into_owned(),
        styles.get("ui.title"),
    )));
    lines.push(Line::from(vec![
        Span::styled("latest: ", dim),
        Span::styled(
            sanitize(&row.message).into_owned(),
            styles.get(severity_scope(row.severity)),
        ),
    ]));
    match &row.spec {
        Some(spec) => lines.push(Line::from(Span::styled(
            sanitize(&format!("config: {}", probe_config(spec))).into_owned(),
            dim,
        ))),
        None => lines.push(Line::from(Span::styled("config: not known yet", dim))),
    }
    for w in &row.warnings {
        lines.push(Line::from(Span::styled(format!("warning: {w}"), warn)));
    }
    lines.push(Line::from(Span::styled(
        "pods:",
        styles.get("table.header"),
    )));
    for (p, failing) in &detail.pods {
        let style = if *failing {
            styles.get("probe.failed")
        } else {
            dim
        };
        let state_text = if *failing { "failing" } else { "ok now" };
        lines.push(Line::from(vec![
            Span::styled(format!("  {state_text:8}"), style),
            Span::raw(
                sanitize(&format!(
                    "{} [{}] {} failures, {} restarts, last {} ago: {}",
                    p.name,
                    p.container,
                    p.failures,
                    p.restarts,
                    age(state.now, p.last_seen),
                    p.message
                ))
                .into_owned(),
            ),
        ]));
    }
    lines.push(Line::from(Span::styled(
        "recent events:",
        styles.get("table.header"),
    )));
    for e in &detail.events {
        lines.push(Line::from(Span::raw(
            sanitize(&format!(
                "  {} {:>4} {} {} x{}: {}",
                crate::ui::format::clock(e.at),
                age(state.now, e.at),
                e.pod,
                e.reason,
                e.count,
                e.message
            ))
            .into_owned(),
        )));
    }
    frame.render_widget(Paragraph::new(lines), area);
}
