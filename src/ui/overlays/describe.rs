//! The read-only describe view: the object described as kubectl does, or
//! as YAML, fetched on demand; the search's matches are marked.

use super::centered;
use crate::model::ShowAs;
use crate::sanitize::sanitize;
use crate::state::DescribeView;
use crate::theme::Styles;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use ratatui::Frame;

pub fn draw(styles: &Styles, frame: &mut Frame, area: Rect, view: &DescribeView) {
    let rect = centered(
        area,
        area.width.saturating_sub(4).max(20),
        area.height.saturating_sub(2),
    );
    frame.render_widget(Clear, rect);
    let (how, other) = match view.show {
        ShowAs::Describe => ("describe", "y YAML"),
        ShowAs::Yaml => ("YAML", "d describe"),
    };
    let matches = view.matches();
    let search = match (&view.search_input, view.search.is_empty()) {
        (Some(input), _) => format!(
            " /{}",
            sanitize(input.lines().first().map_or("", String::as_str))
        ),
        (None, false) => {
            let at = matches.iter().position(|&m| m >= view.scroll);
            match at {
                Some(i) => format!(" /{} {}/{}", sanitize(&view.search), i + 1, matches.len()),
                None => format!(" /{} {} matches", sanitize(&view.search), matches.len()),
            }
        }
        (None, true) => String::new(),
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(styles.get("ui.border.focused"))
        .title(format!(
            " {}{search} ({how}, read-only; {other}, / search, Esc closes) ",
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
                .enumerate()
                .skip(scroll)
                .take(inner_h)
                .map(|(i, l)| {
                    let text = sanitize(l).into_owned();
                    if matches.binary_search(&i).is_ok() {
                        // marked in text too (`>`), not by colour alone
                        Line::from(vec![
                            Span::styled(">", styles.get("ui.title")),
                            Span::styled(text, styles.get("ui.match")),
                        ])
                    } else if matches.is_empty() {
                        Line::styled(text, styles.get("ui.text"))
                    } else {
                        Line::styled(format!(" {text}"), styles.get("ui.text"))
                    }
                })
                .collect()
        }
    };
    frame.render_widget(Paragraph::new(body).block(block), rect);
}
