//! Drawing the logs pane: one row per entry (time, coloured level,
//! `region/pod/container` in the pod's colour, message, key fields), the
//! full JSON of the expanded entry, and a status line that never hides a
//! count: entries and bytes, dropped oldest, dropped at streams, pods not
//! streamed, follow or paused, the filter and the last input error.

use super::line::{Level, Line};
use super::state::LogsState;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line as TextLine, Span};
use ratatui::widgets::{Paragraph, Widget, Wrap};

/// Colours pods are drawn in (stable per pod: `Origin::colour_slot`).
pub const POD_COLOURS: [Color; 8] = [
    Color::Cyan,
    Color::Magenta,
    Color::Blue,
    Color::Green,
    Color::Yellow,
    Color::LightCyan,
    Color::LightMagenta,
    Color::LightBlue,
];

fn level_style(l: Option<Level>) -> Style {
    match l {
        Some(Level::Fatal | Level::Error) => {
            Style::new().fg(Color::Red).add_modifier(Modifier::BOLD)
        }
        Some(Level::Warn) => Style::new().fg(Color::Yellow),
        Some(Level::Info) => Style::new().fg(Color::Green),
        Some(Level::Debug | Level::Trace) => Style::new().fg(Color::DarkGray),
        None => Style::new(),
    }
}

/// The spans of one entry's first row.
pub fn entry_spans<'a>(l: &'a Line, timestamps: bool, highlight: bool) -> Vec<Span<'a>> {
    let mut out = Vec::new();
    if timestamps && l.stamp.len() >= 19 {
        // HH:MM:SS.mmm of the kubelet's stamp
        let t = &l.stamp[11..l.stamp.len().min(23)];
        out.push(Span::styled(
            format!("{t} "),
            Style::new().fg(Color::DarkGray),
        ));
    }
    let colour = POD_COLOURS[l.origin.colour_slot(POD_COLOURS.len())];
    out.push(Span::styled(
        format!("{} ", l.origin.tag()),
        Style::new().fg(colour),
    ));
    if let Some(lv) = l.level {
        out.push(Span::styled(
            format!("{:<5} ", lv.label()),
            level_style(l.level),
        ));
    }
    let body = match &l.parsed {
        Some(p) => {
            let mut s = p.message.clone().unwrap_or_default();
            if let Some(t) = &p.trace {
                s.push_str(&format!(" trace={t}"));
            }
            for (k, v) in p.fields.iter().take(6) {
                s.push_str(&format!(" {k}={v}"));
            }
            s
        }
        None => l.text.clone(),
    };
    let style = if highlight {
        Style::new().add_modifier(Modifier::REVERSED)
    } else {
        Style::new()
    };
    out.push(Span::styled(body, style));
    if !l.continuation.is_empty() {
        out.push(Span::styled(
            format!("  (+{} lines)", l.continuation.len()),
            Style::new().fg(Color::DarkGray),
        ));
    }
    out
}

/// The status line: every count, and what the pane is doing.
pub fn status(s: &LogsState) -> String {
    let c = s.counts();
    let mut out = format!(
        "{} streams · {} entries {:.1}/{:.0} MiB · dropped oldest {} · dropped at streams {} · not streamed {}",
        c.streams,
        c.entries,
        c.bytes as f64 / 1048576.0,
        s.settings.buffer_bytes as f64 / 1048576.0,
        c.dropped_oldest,
        c.dropped_streams,
        c.not_streamed,
    );
    out.push_str(if s.follow {
        " · following"
    } else {
        " · paused"
    });
    if s.filter.is_active() {
        out.push_str(&format!(" · filter: {} shown", s.shown().len()));
    }
    if let Some(e) = &s.error {
        out.push_str(&format!(" · error: {e}"));
    }
    out
}

/// The pane in the registry: its frame (title: what is followed), the
/// logs badge of each region whose Elasticsearch is not answering, the
/// open input, then the entries and the status line.
pub fn draw(
    state: &crate::state::State,
    styles: &crate::theme::Styles,
    frame: &mut ratatui::Frame,
    area: Rect,
    focused: bool,
) {
    let logs = &state.logs;
    let what = match &logs.selection {
        Some(sel) => crate::sanitize::sanitize(&sel.describe(&state.region_names)).into_owned(),
        None => "nothing followed (l on a pod, workload, triage item or probe row)".into(),
    };
    let inner =
        crate::widgets::frame::pane(frame, styles, area, format!(" Logs · {what} "), focused);
    if inner.height < 2 || inner.width < 10 {
        return;
    }
    let mut top: Vec<TextLine> = Vec::new();
    let badges = badges(state);
    if !badges.is_empty() {
        top.push(TextLine::from(Span::styled(
            crate::sanitize::sanitize(&format!("logs badge: {}", badges.join(" · "))).into_owned(),
            Style::new().fg(Color::Red),
        )));
    }
    if let Some(h) = &logs.history {
        let mut t = format!(
            "history: {} entries{}",
            h.entries,
            if h.done { "" } else { " (reading)" }
        );
        for (region, r) in &h.regions {
            match r {
                Ok(pages) => t.push_str(&format!(" · {region} {pages} pages")),
                Err(e) => t.push_str(&format!(" · {region} {e}")),
            }
        }
        top.push(TextLine::from(Span::styled(
            crate::sanitize::sanitize(&t).into_owned(),
            Style::new().fg(Color::DarkGray),
        )));
    }
    // per stream: what it dropped, and why it ended
    let dropping: Vec<String> = logs
        .view
        .streams
        .values()
        .filter(|s| s.dropped > 0)
        .map(|s| format!("{} {}", s.tag, s.dropped))
        .collect();
    if !dropping.is_empty() {
        top.push(TextLine::from(Span::styled(
            crate::sanitize::sanitize(&format!("dropped at streams: {}", dropping.join(" · ")))
                .into_owned(),
            Style::new().fg(Color::Yellow),
        )));
    }
    let ended: Vec<String> = logs
        .view
        .streams
        .values()
        .filter_map(|s| Some(format!("{} ({})", s.tag, s.ended.as_ref()?)))
        .collect();
    if !ended.is_empty() {
        top.push(TextLine::from(Span::styled(
            crate::sanitize::sanitize(&format!("ended: {}", ended.join(" · "))).into_owned(),
            Style::new().fg(Color::DarkGray),
        )));
    }
    if let Some(said) = &logs.saved {
        top.push(TextLine::from(Span::styled(
            crate::sanitize::sanitize(said).into_owned(),
            Style::new().fg(Color::DarkGray),
        )));
    }
    if let Some(input) = &logs.input {
        let text = input.area.lines().first().cloned().unwrap_or_default();
        top.push(TextLine::from(vec![
            Span::styled(
                format!("{}: ", input.kind.prompt()),
                Style::new().add_modifier(Modifier::BOLD),
            ),
            Span::raw(crate::sanitize::sanitize(&text).into_owned()),
            Span::styled(" ", Style::new().add_modifier(Modifier::REVERSED)),
        ]));
    }
    let n = (top.len() as u16).min(inner.height.saturating_sub(1));
    let head = Rect { height: n, ..inner };
    Paragraph::new(top).render(head, frame.buffer_mut());
    let body = Rect {
        y: inner.y + n,
        height: inner.height - n,
        ..inner
    };
    render(&logs.view, body, frame.buffer_mut());
}

/// `region: reason` for each region whose logs feed is not live.
pub fn badges(state: &crate::state::State) -> Vec<String> {
    state
        .regions
        .iter()
        .filter_map(|r| {
            let (_, h) = r.feeds.iter().find(|(f, _)| *f == super::task::ES_FEED)?;
            use crate::fleet::health::Health;
            let why = match h {
                Health::Live => return None,
                Health::Stale { reason, .. } => format!("slow: {reason}"),
                Health::Unauthorized(m) => format!("unauthorized: {m}"),
                Health::Forbidden(m) => format!("forbidden: {m}"),
                Health::Unreachable(m) => format!("unreachable: {m}"),
                Health::Error(m) => format!("error: {m}"),
                Health::Connecting | Health::Syncing => "connecting".into(),
            };
            Some(format!("{} {why}", r.name))
        })
        .collect()
}

/// Draw the pane's body (its frame is the caller's) into `area`.
pub fn render(s: &LogsState, area: Rect, buf: &mut Buffer) {
    if area.height == 0 {
        return;
    }
    let body_rows = area.height.saturating_sub(1) as usize;
    let mut rows: Vec<TextLine> = Vec::new();
    for seq in s.window(body_rows) {
        let Some(l) = s.line(*seq) else { continue };
        let hl = s
            .search
            .regex
            .as_ref()
            .is_some_and(|r| l.all_text().any(|t| r.is_match(t)))
            || s.filter
                .highlight
                .as_ref()
                .is_some_and(|r| r.is_match(&l.text));
        let mut line = TextLine::from(entry_spans(l, s.timestamps, hl));
        if s.cursor == Some(*seq) {
            line = line.style(Style::new().add_modifier(Modifier::BOLD));
        }
        rows.push(line);
        if s.expanded == Some(*seq) {
            for c in &l.continuation {
                rows.push(TextLine::from(format!("    {c}")));
            }
            if let Some(p) = &l.parsed {
                for j in &p.pretty {
                    rows.push(TextLine::from(format!("    {j}")));
                }
            }
        }
    }
    let body = Rect {
        height: body_rows as u16,
        ..area
    };
    let mut p = Paragraph::new(rows);
    if s.wrap {
        p = p.wrap(Wrap { trim: false });
    }
    p.render(body, buf);
    let st = Rect {
        y: area.y + area.height - 1,
        height: 1,
        ..area
    };
    Paragraph::new(status(s))
        .style(Style::new().fg(Color::DarkGray))
        .render(st, buf);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::panes::logs::follow::Batch;
    use crate::panes::logs::line::{build, FieldNames, Origin};
    use crate::panes::logs::state::LogsSettings;
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    #[test]
    fn hostile_lines_are_drawn_defused_and_counts_shown() {
        let o = Arc::new(Origin {
            region: "eu".into(),
            namespace: "shop".into(),
            pod: "web-1".into(),
            container: "app".into(),
        });
        let raws = [
            "2026-12-03T10:00:01.5Z {\"level\":\"error\",\"msg\":\"pay \\u001b]52;c;cHduZWQ=\\u0007 failed\"}",
            "2026-12-03T10:00:02Z boom \u{1b}[2J\u{1b}[1;1H\u{202e}txt.exe",
        ];
        let mut s = LogsState::new(LogsSettings::default());
        let lines = raws
            .iter()
            .map(|r| build(&o, r.as_bytes(), &FieldNames::default(), 1000))
            .collect();
        let t0 = Instant::now();
        s.ingest(
            Batch {
                container_id: "c1".into(),
                lines,
                held: Default::default(),
            },
            t0,
        );
        s.tick(t0 + Duration::from_secs(1));
        s.not_streamed = 3;
        let area = Rect::new(0, 0, 120, 4);
        let mut buf = Buffer::empty(area);
        render(&s, area, &mut buf);
        let text: String = (0..area.height)
            .map(|y| {
                (0..area.width)
                    .map(|x| buf[(x, y)].symbol().to_string())
                    .collect::<String>()
                    + "\n"
            })
            .collect();
        assert!(text.contains("eu/web-1/app ERROR pay"), "{text}");
        assert!(text.contains("boom"), "{text}");
        assert!(
            !text
                .chars()
                .any(|c| (c.is_control() && c != '\n') || c == '\u{202e}'),
            "{text:?}"
        );
        assert!(text.contains("not streamed 3"), "{text}");
        assert!(text.contains("dropped oldest 0"), "{text}");
    }
}
