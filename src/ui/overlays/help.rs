//! Help: every binding of the active keymap, by context, with the action's
//! help text from the registry.

use super::centered;
use crate::action::KeyContext;
use crate::state::State;
use crate::theme::Styles;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use ratatui::Frame;

pub fn lines(state: &State, styles: &Styles) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    for ctx in KeyContext::ALL {
        let hints = state.keymap.bindings(ctx);
        if hints.is_empty() {
            continue;
        }
        out.push(Line::from(Span::styled(
            format!("[{}]", ctx.name()),
            styles.get("ui.header"),
        )));
        for h in hints {
            out.push(Line::from(vec![
                Span::styled(format!("  {:<12}", h.keys), styles.get("ui.title")),
                Span::styled(format!("{:<16}", h.action.name()), styles.get("ui.text")),
                Span::styled(h.action.help().to_string(), styles.get("ui.dim")),
            ]));
        }
    }
    out
}

pub fn draw(state: &State, styles: &Styles, frame: &mut Frame, area: Rect, scroll: usize) {
    let rect = centered(area, 96, area.height.saturating_sub(2));
    let all = lines(state, styles);
    let inner_h = rect.height.saturating_sub(2) as usize;
    let scroll = scroll.min(all.len().saturating_sub(inner_h));
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(styles.get("ui.border.focused"))
        .title(" Help (Esc closes) ")
        .style(styles.get("ui.modal"));
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(all.into_iter().skip(scroll).collect::<Vec<_>>()).block(block),
        rect,
    );
}
