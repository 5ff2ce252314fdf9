//! Toasts: short notices stacked at the top right, newest last.

use crate::sanitize::sanitize;
use crate::state::{State, ToastLevel};
use crate::theme::Styles;
use ratatui::layout::Rect;
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};
use ratatui::Frame;

pub fn draw(state: &State, styles: &Styles, frame: &mut Frame, area: Rect) {
    let width = area.width.min(60);
    let mut y = area.y;
    for t in &state.ui.toasts {
        let text = sanitize(&t.text).into_owned();
        let inner_w = width.saturating_sub(2).max(1) as usize;
        let h = (text.chars().count().div_ceil(inner_w)).clamp(1, 3) as u16 + 2;
        if y + h > area.y + area.height {
            break;
        }
        let rect = Rect {
            x: area.x + area.width - width,
            y,
            width,
            height: h,
        };
        let scope = match t.level {
            ToastLevel::Info => "ui.toast",
            ToastLevel::Warning => "ui.warning",
            ToastLevel::Error => "ui.error",
        };
        frame.render_widget(Clear, rect);
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(styles.get(scope));
        frame.render_widget(
            Paragraph::new(text)
                .style(styles.get("ui.toast"))
                .wrap(Wrap { trim: true })
                .block(block),
            rect,
        );
        y += h;
    }
}
