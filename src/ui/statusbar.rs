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
    let mut spans = Vec::new();
    if let Some(notice) = problems_notice(state) {
        spans.push(Span::styled(notice, styles.get("ui.error")));
    }
    spans.push(Span::styled(left, bar));
    spans.push(Span::styled(hints.join("  "), styles.get("ui.hint")));
    // on a workload or pod row: what can be done to it, refused ones greyed with why
    if let Some(actions) = crate::panes::workloads::view::hint_spans(state, styles) {
        spans.push(Span::styled("  │ ", styles.get("ui.dim")));
        spans.extend(actions);
    }
    let line = Line::from(spans);
    frame.render_widget(Paragraph::new(line).style(bar), area);
}

/// Stays on screen while there are start-up problems: a config that did not
/// load makes the cockpit read-only, and that must never go unnoticed.
pub fn problems_notice(state: &State) -> Option<String> {
    if state.problems.is_empty() && state.access.config_problems == 0 {
        return None;
    }
    let key = state
        .keymap
        .keys_for(KeyContext::Global, Action::Help)
        .into_iter()
        .next()
        .map_or_else(|| "help".to_string(), |k| format!("press {k}"));
    let plural = |n: usize| if n == 1 { "" } else { "s" };
    Some(match state.access.config_problems {
        0 => {
            let n = state.problems.len();
            format!(" {n} problem{} at start-up ({key} to list) ", plural(n))
        }
        n => format!(
            " read-only: config has {n} problem{} ({key} to list) ",
            plural(n)
        ),
    })
}
