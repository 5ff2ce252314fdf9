//! Help: every binding of the active keymap, by context, with the action's
//! help text from the registry.

use super::centered;
use crate::action::KeyContext;
use crate::sanitize::sanitize;
use crate::state::State;
use crate::theme::Styles;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use ratatui::Frame;

pub fn lines(state: &State, styles: &Styles) -> Vec<Line<'static>> {
    let mut out = problem_lines(state, styles);
    // the panes' own sections after [table]; dialogs and inputs last
    let (inner, outer): (Vec<KeyContext>, Vec<KeyContext>) = KeyContext::ALL
        .into_iter()
        .partition(|c| matches!(c, KeyContext::Modal | KeyContext::Input));
    for ctx in outer.into_iter().chain(inner) {
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
                // a row action refused on the selection says why instead
                match crate::panes::workloads::act::refusal(state, h.action) {
                    Some(why) => Span::styled(
                        format!("greyed: {}", sanitize(&why)),
                        styles.get("ui.warning"),
                    ),
                    None => Span::styled(h.action.help().to_string(), styles.get("ui.dim")),
                },
            ]));
        }
    }
    out.push(Line::from(Span::styled(
        "[palette] : then a resource, in every region".to_string(),
        styles.get("ui.header"),
    )));
    for l in jump_lines(state) {
        out.push(Line::from(Span::styled(l, styles.get("ui.text"))));
    }
    out
}

/// The palette's jumps (`:deploy :sts ...`), a few to a line.
fn jump_lines(state: &State) -> Vec<String> {
    let words: Vec<String> = crate::update::palette::jumps(state)
        .into_iter()
        .map(|w| format!(":{}", sanitize(&w)))
        .collect();
    words
        .chunks(10)
        .map(|c| format!("  {}", c.join(" ")))
        .collect()
}

/// How many lines help has, for scrolling and its indicator.
pub fn line_count(state: &State) -> usize {
    let bindings: usize = KeyContext::ALL
        .iter()
        .map(|c| match state.keymap.bindings(*c).len() {
            0 => 0,
            n => n + 1,
        })
        .sum();
    problem_line_count(state) + bindings + 1 + jump_lines(state).len()
}

pub fn draw(state: &State, styles: &Styles, frame: &mut Frame, area: Rect, scroll: usize) {
    let rect = centered(area, 96, area.height.saturating_sub(2));
    let all = lines(state, styles);
    let inner_h = rect.height.saturating_sub(2) as usize;
    let scroll = scroll.min(all.len().saturating_sub(inner_h));
    // where in the list the view is: `12-40 of 96`
    let last = (scroll + inner_h).min(all.len());
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(styles.get("ui.border.focused"))
        .title(format!(
            " Help (Esc closes) {}-{last} of {} ",
            scroll + 1,
            all.len()
        ))
        .style(styles.get("ui.modal"));
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(all.into_iter().skip(scroll).collect::<Vec<_>>()).block(block),
        rect,
    );
}

/// Start-up problems come first: `file:line:col: message`, one a line.
fn problem_lines(state: &State, styles: &Styles) -> Vec<Line<'static>> {
    if state.problems.is_empty() {
        return Vec::new();
    }
    let title = match state.access.config_problems {
        0 => "[problems] found at start-up (defaults used where they were)".to_string(),
        _ => "[problems] the config did not load: read-only, only the regions that checked out"
            .to_string(),
    };
    let mut out = vec![Line::from(Span::styled(title, styles.get("ui.error")))];
    for d in &state.problems {
        for piece in wrapped(&sanitize(&d.to_string())) {
            out.push(Line::from(Span::styled(piece, styles.get("ui.text"))));
        }
    }
    out
}

/// Problem lines are cut to the overlay's widest inner width, so a long
/// path or message is read to its end.
const PROBLEM_WIDTH: usize = 90;

fn wrapped(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut rest = &chars[..];
    let mut indent = "  ";
    loop {
        let width = PROBLEM_WIDTH - indent.len();
        let (head, tail) = rest.split_at(rest.len().min(width));
        out.push(format!("{indent}{}", head.iter().collect::<String>()));
        if tail.is_empty() {
            return out;
        }
        rest = tail;
        indent = "    ";
    }
}

/// Lines `lines` gives before the bindings, for scrolling.
pub fn problem_line_count(state: &State) -> usize {
    if state.problems.is_empty() {
        return 0;
    }
    let lines: usize = state
        .problems
        .iter()
        .map(|d| wrapped(&sanitize(&d.to_string())).len())
        .sum();
    lines + 1
}
