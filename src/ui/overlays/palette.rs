//! The command palette: input line plus ranked candidates.

use super::centered;
use crate::sanitize::sanitize;
use crate::state::ui::PaletteItem;
use crate::state::{PaletteState, State};
use crate::theme::Styles;
use crate::update::palette::label;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use ratatui::Frame;

pub fn draw(state: &State, styles: &Styles, frame: &mut Frame, area: Rect, p: &PaletteState) {
    let rect = centered(area, 72, 16);
    frame.render_widget(Clear, rect);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(styles.get("ui.border.focused"))
        .title(" : command ")
        .style(styles.get("ui.modal"));
    let inner = block.inner(rect);
    frame.render_widget(block, rect);
    if inner.height < 2 {
        return;
    }
    let [input_area, list_area] =
        Layout::vertical([Constraint::Length(1), Constraint::Fill(1)]).areas(inner);
    let mut input = p.input.clone();
    input.set_style(styles.get("ui.input"));
    input.set_cursor_line_style(ratatui::style::Style::default());
    frame.render_widget(&input, input_area);

    let h = list_area.height as usize;
    let start = p.chosen.saturating_sub(h.saturating_sub(1));
    let lines: Vec<Line> = p
        .candidates
        .iter()
        .enumerate()
        .skip(start)
        .take(h)
        .map(|(i, item)| {
            let (kind, help) = match item {
                PaletteItem::Action(a) => (
                    "action",
                    match crate::panes::workloads::act::refusal(state, *a) {
                        Some(why) => format!("greyed: {}", sanitize(&why)),
                        None => a.help().to_string(),
                    },
                ),
                PaletteItem::Region(_) => ("region", "scope the table to this region".into()),
                PaletteItem::Namespace(_) => ("ns", "scope the table to this namespace".into()),
                PaletteItem::Resource(_) => ("jump", "show this resource in every region".into()),
                PaletteItem::Pod { .. } => ("pod", "select this pod".into()),
            };
            let style = if i == p.chosen {
                styles
                    .get("ui.selection")
                    .add_modifier(ratatui::style::Modifier::REVERSED)
            } else {
                styles.get("ui.text")
            };
            Line::from(vec![
                Span::styled(format!("{:<7}", kind), styles.get("ui.dim")),
                Span::styled(sanitize(&label(state, item)).into_owned(), style),
                Span::styled(format!("  {help}"), styles.get("ui.dim")),
            ])
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), list_area);
}
