//! Toasts: short notices stacked at the bottom right (clear of titles and
//! the header), newest at the bottom.

use crate::sanitize::sanitize;
use crate::state::{State, ToastLevel};
use crate::theme::Styles;
use ratatui::layout::Rect;
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};
use ratatui::Frame;

pub fn draw(state: &State, styles: &Styles, frame: &mut Frame, area: Rect) {
    let width = area.width.min(60);
    let mut bottom = area.y + area.height;
    for t in state.ui.toasts.iter().rev() {
        let text = sanitize(&t.text).into_owned();
        let inner_w = width.saturating_sub(2).max(1) as usize;
        let h = (text.chars().count().div_ceil(inner_w)).clamp(1, 3) as u16 + 2;
        if bottom < area.y + h {
            break;
        }
        bottom -= h;
        let rect = Rect {
            x: area.x + area.width - width,
            y: bottom,
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
        let body = Paragraph::new(text)
            .style(styles.get("ui.toast"))
            .wrap(Wrap { trim: true });
        frame.render_widget(body.block(block), rect);
    }
}
