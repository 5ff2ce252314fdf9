//! Key -> action resolution. The loaded keymap answers first; while it has no
//! bindings at all (its loader reported errors for every layer, or is not
//! available yet) a small built-in table keeps the cockpit usable.

use crate::action::{Action, KeyContext};
use crate::keymap::{Hint, Key, Keymap, Lookup};
use crossterm::event::{KeyCode, KeyModifiers};

/// Mirrors the shipped `keymaps/default.toml`, so the cockpit behaves the
/// same whether or not the keymap loaded.
const BUILTIN: &[(KeyContext, &str, Action)] = &[
    (KeyContext::Global, "q", Action::Quit),
    (KeyContext::Global, "<C-c>", Action::Quit),
    (KeyContext::Global, "?", Action::Help),
    (KeyContext::Global, ":", Action::Palette),
    (KeyContext::Global, "<Tab>", Action::FocusNext),
    (KeyContext::Global, "<S-Tab>", Action::FocusPrev),
    (KeyContext::Global, "<Esc>", Action::Back),
    (KeyContext::Global, "R", Action::ScopeRegion),
    (KeyContext::Global, "N", Action::ScopeNamespace),
    (KeyContext::Global, "t", Action::ShowTriage),
    (KeyContext::Global, "o", Action::ShowPods),
    (KeyContext::Global, "b", Action::ShowProbes),
    (KeyContext::Global, "<C-l>", Action::Refresh),
    (KeyContext::Table, "j", Action::Down),
    (KeyContext::Table, "k", Action::Up),
    (KeyContext::Table, "<Down>", Action::Down),
    (KeyContext::Table, "<Up>", Action::Up),
    (KeyContext::Table, "<PageDown>", Action::PageDown),
    (KeyContext::Table, "<PageUp>", Action::PageUp),
    (KeyContext::Table, "<C-d>", Action::PageDown),
    (KeyContext::Table, "<C-u>", Action::PageUp),
    (KeyContext::Table, "gg", Action::Top),
    (KeyContext::Table, "<Home>", Action::Top),
    (KeyContext::Table, "G", Action::Bottom),
    (KeyContext::Table, "<End>", Action::Bottom),
    (KeyContext::Table, "/", Action::Filter),
    (KeyContext::Table, "<Esc>", Action::ClearFilter),
    (KeyContext::Table, "s", Action::SortNext),
    (KeyContext::Table, "S", Action::SortPrev),
    (KeyContext::Table, "r", Action::SortReverse),
    (KeyContext::Table, "p", Action::ProblemsOnly),
    (KeyContext::Table, "]", Action::NextProblem),
    (KeyContext::Table, "d", Action::Describe),
    (KeyContext::Table, "<Enter>", Action::Select),
    (KeyContext::Modal, "y", Action::Confirm),
    (KeyContext::Modal, "<Enter>", Action::Confirm),
    (KeyContext::Modal, "n", Action::Cancel),
    (KeyContext::Modal, "<Esc>", Action::Cancel),
    (KeyContext::Input, "<Enter>", Action::Submit),
    (KeyContext::Input, "<Esc>", Action::Cancel),
    (KeyContext::Input, "<Tab>", Action::Complete),
];

/// Parses the few key names the built-in table uses.
fn parse_keys(s: &str) -> Vec<Key> {
    let mut out = Vec::new();
    let mut rest = s;
    while !rest.is_empty() {
        if rest.starts_with('<') && rest.len() > 1 {
            if let Some(end) = rest.find('>') {
                let name = &rest[1..end];
                rest = &rest[end + 1..];
                let (mods, base) = if let Some(b) = name.strip_prefix("C-") {
                    (KeyModifiers::CONTROL, b)
                } else if let Some(b) = name.strip_prefix("S-") {
                    (KeyModifiers::SHIFT, b)
                } else {
                    (KeyModifiers::NONE, name)
                };
                let code = match base {
                    "Tab" if mods == KeyModifiers::SHIFT => KeyCode::BackTab,
                    "Tab" => KeyCode::Tab,
                    "Esc" => KeyCode::Esc,
                    "Enter" => KeyCode::Enter,
                    "Up" => KeyCode::Up,
                    "Down" => KeyCode::Down,
                    "PageUp" => KeyCode::PageUp,
                    "PageDown" => KeyCode::PageDown,
                    "Home" => KeyCode::Home,
                    "End" => KeyCode::End,
                    other => KeyCode::Char(other.chars().next().unwrap_or(' ')),
                };
                out.push(Key { code, mods });
                continue;
            }
        }
        let mut chars = rest.chars();
        if let Some(c) = chars.next() {
            out.push(Key {
                code: KeyCode::Char(c),
                mods: KeyModifiers::NONE,
            });
        }
        rest = chars.as_str();
    }
    out
}

/// A keymap `Key` for `BackTab` may come with or without SHIFT.
fn same_key(a: &Key, b: &Key) -> bool {
    if a.code == KeyCode::BackTab && b.code == KeyCode::BackTab {
        return true;
    }
    a == b
}

fn builtin_lookup(contexts: &[KeyContext], keys: &[Key]) -> Lookup {
    for ctx in contexts {
        let mut pending = Vec::new();
        for (c, spec, action) in BUILTIN {
            if c != ctx {
                continue;
            }
            let seq = parse_keys(spec);
            if seq.len() >= keys.len() && seq.iter().zip(keys).all(|(a, b)| same_key(a, b)) {
                if seq.len() == keys.len() {
                    return Lookup::Action(*action);
                }
                pending.push(Hint {
                    keys: (*spec).to_string(),
                    action: *action,
                });
            }
        }
        if !pending.is_empty() {
            return Lookup::Pending(pending);
        }
    }
    Lookup::Unbound
}

fn keymap_is_empty(keymap: &Keymap) -> bool {
    KeyContext::ALL
        .iter()
        .all(|c| keymap.bindings(*c).is_empty())
}

pub fn lookup(keymap: &Keymap, contexts: &[KeyContext], keys: &[Key]) -> Lookup {
    if keymap_is_empty(keymap) {
        builtin_lookup(contexts, keys)
    } else {
        keymap.lookup(contexts, keys)
    }
}

/// Every binding of a context, for the help overlay.
pub fn bindings(keymap: &Keymap, context: KeyContext) -> Vec<Hint> {
    if keymap_is_empty(keymap) {
        BUILTIN
            .iter()
            .filter(|(c, _, _)| *c == context)
            .map(|(_, k, a)| Hint {
                keys: (*k).to_string(),
                action: *a,
            })
            .collect()
    } else {
        keymap.bindings(context)
    }
}

/// The first key bound to `action` in `context`, for hints in the status bar.
pub fn key_for(keymap: &Keymap, context: KeyContext, action: Action) -> Option<String> {
    bindings(keymap, context)
        .into_iter()
        .find(|h| h.action == action)
        .map(|h| h.keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(c: char) -> Key {
        Key {
            code: KeyCode::Char(c),
            mods: KeyModifiers::NONE,
        }
    }

    #[test]
    fn builtin_table_resolves_sequences_and_prefixes() {
        let km = Keymap::default();
        let ctx = [KeyContext::Table, KeyContext::Global];
        assert_eq!(lookup(&km, &ctx, &[key('q')]), Lookup::Action(Action::Quit));
        assert_eq!(
            lookup(&km, &ctx, &[key('g'), key('g')]),
            Lookup::Action(Action::Top)
        );
        match lookup(&km, &ctx, &[key('g')]) {
            Lookup::Pending(h) => assert!(h.iter().any(|h| h.action == Action::Top)),
            other => panic!("expected pending, got {other:?}"),
        }
        assert_eq!(lookup(&km, &ctx, &[key('Z')]), Lookup::Unbound);
    }
}
