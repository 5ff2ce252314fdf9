//! The pane frame: a bordered block whose border is brighter when focused,
//! with the pane's title; and the tab line a narrow layout draws on it.

use crate::theme::Styles;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};
use ratatui::Frame;

/// Draws the frame and returns the area inside it.
pub fn pane(frame: &mut Frame, styles: &Styles, area: Rect, title: String, focused: bool) -> Rect {
    let border = styles.get(if focused {
        "ui.border.focused"
    } else {
        "ui.border"
    });
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(border)
        .title(Span::styled(title, styles.get("ui.title")));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    inner
}

/// The tab line on the top border of `area`, right-aligned: one label per
/// pane, the active one highlighted. Skipped when it does not fit.
pub fn tabs(frame: &mut Frame, styles: &Styles, area: Rect, labels: &[(&str, bool)]) {
    let spans: Vec<Span> = labels
        .iter()
        .map(|(label, active)| {
            let scope = if *active { "ui.tab.active" } else { "ui.tab" };
            Span::styled(format!(" {label} "), styles.get(scope))
        })
        .collect();
    let w: u16 = spans.iter().map(|s| s.width() as u16).sum();
    if w + 2 > area.width {
        return;
    }
    let rect = Rect {
        x: area.x + area.width - w - 1,
        y: area.y,
        width: w,
        height: 1,
    };
    frame.render_widget(Paragraph::new(Line::from(spans)), rect);
}
