//! The command palette (`:`): a one-line tui-textarea input, candidates
//! ranked by fuzzy match over action names and the pods in view.

use super::{dispatch, Effect};
use crate::action::{Action, Danger, KeyContext, ACTIONS};
use crate::keymap::{Key, Lookup};
use crate::panes::pods::select_index;
use crate::state::ui::PaletteItem;
use crate::state::{Modal, PaletteState, State};
use crossterm::event::{KeyCode, KeyEvent};
use nucleo_matcher::pattern::{CaseMatching, Normalization, Pattern};
use nucleo_matcher::{Config, Matcher, Utf32Str};

/// At most this many candidates are kept and drawn.
pub const MAX_CANDIDATES: usize = 50;

/// Actions that only mean something inside a dialog or a text input.
pub const DIALOG_ONLY: [Action; 5] = [
    Action::Confirm,
    Action::Cancel,
    Action::Submit,
    Action::Complete,
    Action::Back,
];

/// The resource jumps the palette offers: the built-in kinds by their
/// short names, then what discovery found (custom resources too).
pub fn jumps(state: &State) -> Vec<String> {
    let mut out: Vec<String> = vec!["pods".into()];
    let builtins = crate::model::resource::builtins();
    for t in builtins.iter().chain(state.resources.discovered.iter()) {
        let word = t.command().trim_start_matches(':').to_string();
        if !out.contains(&word) {
            out.push(word);
        }
    }
    out
}

pub fn open(state: &mut State) {
    let mut palette = PaletteState::default();
    rank(state, &mut palette);
    state.ui.modal = Some(Modal::Palette(Box::new(palette)));
}

pub fn label(state: &State, item: &PaletteItem) -> String {
    match item {
        PaletteItem::Action(a) => a.name().to_string(),
        PaletteItem::Region(r) => state.region_name(*r).to_string(),
        PaletteItem::Namespace(ns) => ns.clone(),
        PaletteItem::Resource(word) => format!(":{word}"),
        PaletteItem::Pod { label, .. } => label.clone(),
    }
}

fn rank(state: &State, palette: &mut PaletteState) {
    let query = palette.input.lines().first().cloned().unwrap_or_default();
    // scores first, labels only for the few kept: a broad query over 50k
    // pods must not format 50k strings per keystroke
    let mut out: Vec<(u32, PaletteItem)> = Vec::new();
    // cluster changes are offered where the cockpit confirms them (a row
    // action opens its input or the confirm dialog, never acts blind), and
    // never the keys of a dialog or input (confirm, cancel, submit, ...),
    // which mean nothing from the palette
    let offered = || {
        ACTIONS.iter().filter(|a| {
            (a.danger == Danger::Safe
                || crate::panes::workloads::act::ROW_ACTIONS.contains(&a.action))
                && !DIALOG_ONLY.contains(&a.action)
        })
    };
    if query.trim().is_empty() {
        out.extend(offered().map(|a| (0, PaletteItem::Action(a.action))));
    } else {
        let pattern = Pattern::parse(&query, CaseMatching::Smart, Normalization::Smart);
        let mut matcher = Matcher::new(Config::DEFAULT);
        let mut buf = Vec::new();
        let mut score = |text: &str| pattern.score(Utf32Str::new(text, &mut buf), &mut matcher);
        for a in offered() {
            if let Some(s) = score(a.name) {
                // actions first among equals: they are what `:` is mostly for
                out.push((s.saturating_add(2), PaletteItem::Action(a.action)));
            }
        }
        // a jump the query names exactly comes first (`:no` is nodes)
        let typed = query.trim().trim_start_matches(':').to_lowercase();
        for word in jumps(state) {
            let exact = crate::model::resource::resolve(&typed, &state.resources.discovered)
                .is_some_and(|t| t.named(&word) || t.command() == format!(":{word}"));
            if exact || typed == word {
                out.push((u32::MAX, PaletteItem::Resource(word)));
            } else if let Some(s) = score(&word) {
                out.push((s.saturating_add(1), PaletteItem::Resource(word)));
            }
        }
        for (i, name) in state.region_names.iter().enumerate() {
            if let Some(s) = score(name) {
                out.push((s.saturating_add(1), PaletteItem::Region(i)));
            }
        }
        for ns in state.store.namespaces(None) {
            if let Some(s) = score(&ns) {
                out.push((s.saturating_add(1), PaletteItem::Namespace(ns)));
            }
        }
        for &slot in state.store.view() {
            let Some(row) = state.store.get(slot) else {
                continue;
            };
            if let Some(s) = score(&row.name) {
                out.push((
                    s,
                    PaletteItem::Pod {
                        slot,
                        label: String::new(),
                    },
                ));
            }
        }
        out.sort_by_key(|(score, _)| std::cmp::Reverse(*score));
    }
    out.truncate(MAX_CANDIDATES);
    palette.candidates = out
        .into_iter()
        .map(|(_, item)| match item {
            PaletteItem::Pod { slot, .. } => {
                let label = state.store.get(slot).map_or_else(String::new, |row| {
                    format!(
                        "{}/{}/{}",
                        state.region_name(row.region),
                        row.namespace,
                        row.name
                    )
                });
                PaletteItem::Pod { slot, label }
            }
            other => other,
        })
        .collect();
    palette.chosen = palette
        .chosen
        .min(palette.candidates.len().saturating_sub(1));
}

pub fn on_key(state: &mut State, ev: KeyEvent, key: Key) -> Vec<Effect> {
    let action = match state.keymap.lookup(&[KeyContext::Input], &[key]) {
        Lookup::Action(a) => Some(a),
        _ => match ev.code {
            KeyCode::Enter => Some(Action::Submit),
            KeyCode::Esc => Some(Action::Cancel),
            KeyCode::Tab => Some(Action::Complete),
            KeyCode::Up => Some(Action::Up),
            KeyCode::Down => Some(Action::Down),
            _ => None,
        },
    };
    let Some(Modal::Palette(mut palette)) = state.ui.modal.take() else {
        return Vec::new();
    };
    match action {
        Some(Action::Cancel) => return Vec::new(),
        Some(Action::Submit) => {
            let typed = palette.input.lines().first().cloned().unwrap_or_default();
            let word = typed.trim().trim_start_matches(':').to_lowercase();
            // a resource the text names exactly wins over fuzzy matches
            if !word.is_empty()
                && !word.contains(' ')
                && crate::panes::resources::knows(state, &word)
            {
                return crate::panes::resources::open(state, &word);
            }
            let chosen = palette.candidates.get(palette.chosen).cloned();
            // a single word that matches nothing may name a resource only
            // discovery knows (a custom resource): ask the regions
            if chosen.is_none() && !word.is_empty() && !word.contains(' ') {
                return crate::panes::resources::open(state, &word);
            }
            return match chosen {
                Some(PaletteItem::Resource(word)) => crate::panes::resources::open(state, &word),
                Some(PaletteItem::Action(a)) => dispatch(state, a),
                Some(PaletteItem::Region(r)) => {
                    let mut spec = state.store.view_spec().clone();
                    spec.region = Some(r);
                    spec.namespace = None;
                    state.store.set_view_spec(spec);
                    state.refresh_view();
                    Vec::new()
                }
                Some(PaletteItem::Namespace(ns)) => {
                    let mut spec = state.store.view_spec().clone();
                    spec.namespace = Some(ns);
                    state.store.set_view_spec(spec);
                    state.refresh_view();
                    Vec::new()
                }
                Some(PaletteItem::Pod { slot, .. }) => {
                    state.refresh_view();
                    if let Some(i) = state.store.view().iter().position(|s| *s == slot) {
                        select_index(state, i);
                    }
                    Vec::new()
                }
                None => Vec::new(),
            };
        }
        Some(Action::Complete) => {
            if let Some(item) = palette.candidates.get(palette.chosen) {
                let text = label(state, item);
                palette.input = tui_textarea::TextArea::new(vec![text]);
                palette.input.move_cursor(tui_textarea::CursorMove::End);
                palette.chosen = 0;
                rank(state, &mut palette);
            }
        }
        Some(Action::Up) => palette.chosen = palette.chosen.saturating_sub(1),
        Some(Action::Down) => {
            palette.chosen = (palette.chosen + 1).min(palette.candidates.len().saturating_sub(1))
        }
        _ => {
            if palette.input.input(ev) {
                palette.chosen = 0;
                rank(state, &mut palette);
            }
        }
    }
    state.ui.modal = Some(Modal::Palette(palette));
    Vec::new()
}
