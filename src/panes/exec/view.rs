//! The session dialogs (exec picker, port-forward): where, what, and
//! whether the write path allows it (greyed with the reason when not).

use super::{ExecPicker, SessionDialog};
use crate::panes::forwards::state::ForwardDialog;
use crate::sanitize::sanitize;
use crate::theme::Styles;
use crate::ui::overlays::centered;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};
use ratatui::Frame;
use tui_textarea::TextArea;

fn input_line<'a>(label: &str, input: &TextArea, active: bool, styles: &Styles) -> Line<'a> {
    let text = sanitize(&input.lines().join("")).into_owned();
    let cursor = if active { "▏" } else { "" };
    Line::from(vec![
        Span::styled(format!("{label:<11}"), styles.get("ui.hint")),
        Span::styled(format!("[{text}{cursor}]"), styles.get("ui.input")),
    ])
}

fn access_line<'a>(access: &Option<Result<(), String>>, styles: &Styles) -> Line<'a> {
    match access {
        None => Line::styled("checking permission…", styles.get("ui.hint")),
        Some(Ok(())) => Line::styled("allowed", styles.get("ui.hint")),
        Some(Err(why)) => Line::styled(
            format!("refused: {}", sanitize(why)),
            styles.get("ui.error"),
        ),
    }
}

pub fn draw(styles: &Styles, frame: &mut Frame, area: Rect, dialog: &SessionDialog) {
    let (title, lines, greyed) = match dialog {
        SessionDialog::Exec(p) => (
            " exec ",
            exec_lines(p, styles),
            matches!(p.access, Some(Err(_))),
        ),
        SessionDialog::Forward(d) => (
            " port-forward ",
            forward_lines(d, styles),
            matches!(d.access, Some(Err(_))),
        ),
    };
    let h = (lines.len() as u16 + 2).min(area.height);
    let rect = centered(area, area.width.saturating_sub(4).clamp(20, 90), h);
    frame.render_widget(Clear, rect);
    let body_style = if greyed {
        styles.get("ui.dim")
    } else {
        styles.get("ui.text")
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(styles.get("ui.border.focused"))
        .title(title)
        .style(styles.get("ui.modal"));
    frame.render_widget(
        Paragraph::new(lines)
            .style(body_style)
            .wrap(Wrap { trim: false })
            .block(block),
        rect,
    );
}

fn field<'a>(label: &str, value: &str, style: Style) -> Line<'a> {
    Line::styled(format!("{label:<11}{}", sanitize(value)), style)
}

fn exec_lines<'a>(p: &ExecPicker, styles: &Styles) -> Vec<Line<'a>> {
    let text = styles.get("ui.text");
    let mut out = vec![
        field("region", &p.region_name, text),
        field("namespace", &p.namespace, text),
        field("pod", &p.pod, text),
    ];
    if p.containers.is_empty() {
        out.push(field("container", "(the pod's default)", text));
    }
    for (i, c) in p.containers.iter().enumerate() {
        let mark = if i == p.chosen { "> " } else { "  " };
        let label = if i == 0 { "container" } else { "" };
        let style = if i == p.chosen {
            styles.get("ui.selection")
        } else {
            text
        };
        out.push(Line::styled(
            format!("{label:<11}{mark}{}", sanitize(c)),
            style,
        ));
    }
    out.push(input_line("command", &p.command, !p.typing_name, styles));
    out.push(Line::styled(
        "           empty: a shell (bash, else sh); Enter ~. leaves a session",
        styles.get("ui.hint"),
    ));
    if let Some(t) = &p.typed {
        out.push(Line::styled(
            format!("production region: type `{}` (Tab)", sanitize(&p.pod)),
            styles.get("ui.warning"),
        ));
        out.push(input_line("name", t, p.typing_name, styles));
    }
    out.push(access_line(&p.access, styles));
    if let Some(e) = &p.error {
        out.push(Line::styled(
            sanitize(e).into_owned(),
            styles.get("ui.error"),
        ));
    }
    out.push(Line::styled(
        "Enter start · ↑↓ container · Esc cancel",
        styles.get("ui.hint"),
    ));
    out
}

fn forward_lines<'a>(d: &ForwardDialog, styles: &Styles) -> Vec<Line<'a>> {
    let text = styles.get("ui.text");
    let mut out = vec![
        field("region", &d.region_name, text),
        field("namespace", &d.namespace, text),
    ];
    let mut targets = Vec::new();
    if !d.is_service() {
        targets.push((format!("pod/{}", d.pod), !d.to_workload));
    }
    if let Some(w) = &d.workload {
        targets.push((
            format!("{} (follows it to a ready pod)", w.label()),
            d.to_workload,
        ));
    }
    for (i, (t, chosen)) in targets.into_iter().enumerate() {
        let label = if i == 0 { "target" } else { "" };
        let mark = if chosen { "> " } else { "  " };
        let style = if chosen {
            styles.get("ui.selection")
        } else {
            text
        };
        out.push(Line::styled(
            format!("{label:<11}{mark}{}", sanitize(&t)),
            style,
        ));
    }
    let declared = match &d.declared {
        None => "…".to_string(),
        Some(Ok(p)) if p.is_empty() => "none declared".into(),
        Some(Ok(p)) => p.iter().map(u16::to_string).collect::<Vec<_>>().join(", "),
        Some(Err(e)) => format!("unknown ({e})"),
    };
    let ports = if d.is_service() {
        "service ports"
    } else {
        "pod ports"
    };
    out.push(field(ports, &declared, styles.get("ui.hint")));
    out.push(input_line("port", &d.ports, !d.typing_name, styles));
    out.push(Line::styled(
        "           PORT (local = remote) or LOCAL:REMOTE; listens on 127.0.0.1",
        styles.get("ui.hint"),
    ));
    if let Some(t) = &d.typed {
        out.push(Line::styled(
            format!(
                "production region: type `{}` (Tab)",
                sanitize(d.target().name())
            ),
            styles.get("ui.warning"),
        ));
        out.push(input_line("name", t, d.typing_name, styles));
    }
    out.push(access_line(&d.access, styles));
    if d.waiting.is_some() {
        out.push(Line::styled("starting…", styles.get("ui.hint")));
    }
    if let Some(e) = &d.error {
        out.push(Line::styled(
            sanitize(e).into_owned(),
            styles.get("ui.error"),
        ));
    }
    let keys = if d.workload.is_some() && !d.is_service() {
        "Enter start · ↑↓ pod or workload · Esc cancel"
    } else {
        "Enter start · Esc cancel"
    };
    out.push(Line::styled(keys, styles.get("ui.hint")));
    out
}
