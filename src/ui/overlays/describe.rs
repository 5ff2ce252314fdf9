//! The read-only describe view: the full object, fetched on demand.

use super::centered;
use crate::sanitize::sanitize;
use crate::state::DescribeView;
use crate::theme::Styles;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use ratatui::Frame;

pub fn draw(styles: &Styles, frame: &mut Frame, area: Rect, view: &DescribeView) {
    let rect = centered(
        area,
        area.width.saturating_sub(4).max(20),
        area.height.saturating_sub(2),
    );
    frame.render_widget(Clear, rect);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(styles.get("ui.border.focused"))
        .title(format!(
            " {} (YAML, read-only; Esc closes) ",
            sanitize(&view.title)
        ))
        .style(styles.get("ui.modal"));
    let inner_h = rect.height.saturating_sub(2) as usize;
    let body: Vec<Line> = match &view.lines {
        None => vec![Line::styled("fetching…", styles.get("ui.hint"))],
        Some(Err(e)) => vec![Line::styled(
            format!("cannot fetch: {}", sanitize(e)),
            styles.get("ui.error"),
        )],
        Some(Ok(lines)) => {
            let scroll = view.scroll.min(lines.len().saturating_sub(inner_h));
            lines
                .iter()
                .skip(scroll)
                .take(inner_h)
                .map(|l| Line::styled(sanitize(l).into_owned(), styles.get("ui.text")))
                .collect()
        }
    };
    frame.render_widget(Paragraph::new(body).block(block), rect);
}
