//! The bottom line: the filter input while typing, the which-key hint while
//! a sequence is pending, otherwise the view summary and the main keys.

use crate::action::{Action, KeyContext};
use crate::keymap::Lookup;
use crate::state::State;
use crate::theme::Styles;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

pub fn draw(state: &State, styles: &Styles, frame: &mut Frame, area: Rect) {
    let bar = styles.get("ui.statusbar");
    if let Some(input) = &state.ui.filter_input {
        let [label, field] =
            Layout::horizontal([Constraint::Length(8), Constraint::Fill(1)]).areas(area);
        frame.render_widget(
            Paragraph::new("filter /").style(styles.get("ui.hint")),
            label,
        );
        let mut input = input.clone();
        input.set_style(styles.get("ui.input"));
        input.set_cursor_line_style(ratatui::style::Style::default());
        frame.render_widget(&input, field);
        return;
    }
    if !state.ui.pending_keys.is_empty() {
        let contexts = [KeyContext::Table, KeyContext::Global];
        if let Lookup::Pending(hints) = state.keymap.lookup(&contexts, &state.ui.pending_keys) {
            let mut spans = vec![Span::styled("keys: ", styles.get("ui.hint"))];
            for h in hints {
                spans.push(Span::styled(h.keys.clone(), styles.get("ui.title")));
                spans.push(Span::styled(format!(" {}  ", h.action.name()), bar));
            }
            frame.render_widget(Paragraph::new(Line::from(spans)).style(bar), area);
            return;
        }
    }
    let hint = |a: Action| {
        [KeyContext::Global, KeyContext::Table]
            .into_iter()
            .find_map(|c| state.keymap.keys_for(c, a).into_iter().next())
            .map(|k| format!("{k} {}", a.name()))
    };
    let hints: Vec<String> = [
        Action::Help,
        Action::Palette,
        Action::Filter,
        Action::NextProblem,
        Action::Quit,
    ]
    .into_iter()
    .filter_map(hint)
    .collect();
    let spec = state.store.view_spec();
    let left = format!(
        " sort {}{} ",
        spec.sort.title().to_lowercase(),
        if spec.reverse { " (reversed)" } else { "" }
    );
    let line = Line::from(vec![
        Span::styled(left, bar),
        Span::styled(hints.join("  "), styles.get("ui.hint")),
    ]);
    frame.render_widget(Paragraph::new(line).style(bar), area);
}
