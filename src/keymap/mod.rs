//! Keymaps: key syntax, multi-key sequences, contexts, loading and layering.
//!
//! `keymaps/default.toml` is embedded; a named alternative (`vim`, `emacs`)
//! or a user file is layered on top with the same syntax. Lookups take the
//! keys typed so far and answer with an action, a pending prefix (for the
//! which-key hint), or nothing.
//!
//! INTERFACE (fixed; the implementation behind it is being written):

use crate::action::{Action, KeyContext};
use crate::diagnostic::Diagnostic;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::path::Path;

/// One key press as keymaps name it (`q`, `<C-c>`, `<Tab>`, `<S-Tab>`, `G`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key {
    pub code: KeyCode,
    pub mods: KeyModifiers,
}

impl Key {
    /// Normalises a terminal key event (shifted characters carry no SHIFT).
    pub fn from_event(ev: &KeyEvent) -> Key {
        let mut mods =
            ev.modifiers & (KeyModifiers::CONTROL | KeyModifiers::ALT | KeyModifiers::SHIFT);
        if let KeyCode::Char(_) = ev.code {
            mods.remove(KeyModifiers::SHIFT);
        }
        Key {
            code: ev.code,
            mods,
        }
    }
}

/// A binding shown by help and by the which-key hint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hint {
    /// The keys in keymap syntax, e.g. `gg` or `<C-d>`.
    pub keys: String,
    pub action: Action,
}

/// The answer to "what do these keys do here?".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    Action(Action),
    /// The keys are a prefix of longer bindings; these complete it.
    Pending(Vec<Hint>),
    Unbound,
}

/// A resolved keymap: defaults plus every layer on top.
#[derive(Debug, Clone, Default)]
pub struct Keymap {
    _private: (),
}

impl Keymap {
    /// The embedded `keymaps/default.toml`.
    pub fn defaults() -> Keymap {
        Keymap::default()
    }

    /// Defaults, then the named shipped keymap (`default`, `vim`, `emacs`),
    /// then the user's file if given. Problems are reported, never fatal:
    /// a layer with errors is skipped and the rest still loads.
    pub fn load(_name: &str, _user_file: Option<&Path>) -> (Keymap, Vec<Diagnostic>) {
        (Keymap::default(), Vec::new())
    }

    /// `contexts` in priority order (e.g. `[Modal]`, or `[Table, Global]`);
    /// `keys` is every key typed since the last resolved binding.
    pub fn lookup(&self, _contexts: &[KeyContext], _keys: &[Key]) -> Lookup {
        Lookup::Unbound
    }

    /// Every binding of a context, for the help overlay.
    pub fn bindings(&self, _context: KeyContext) -> Vec<Hint> {
        Vec::new()
    }
}
