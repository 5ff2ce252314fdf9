//! Keymaps: key syntax, multi-key sequences, contexts, loading and layering.
//!
//! `keymaps/default.toml` is embedded; a named alternative (`vim`, `emacs`)
//! or a user file is layered on top with the same syntax. Lookups take the
//! keys typed so far and answer with an action, a pending prefix (for the
//! which-key hint), or nothing.
//!
//! Layering follows helix's `merge_keys`: a later layer's binding replaces
//! an equal one and silently drops earlier bindings it would conflict with as
//! a prefix; `"none"` unbinds.

mod keys;
mod layer;
mod trie;

pub use keys::{format_key, format_keys, parse_keys};
pub use layer::{parse_layer, Entry};

use crate::action::{Action, KeyContext};
use crate::diagnostic::Diagnostic;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::path::{Path, PathBuf};
use trie::Trie;

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
        if let KeyCode::Char(_) | KeyCode::BackTab = ev.code {
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

/// The key that always quits, whatever the keymap says.
pub fn ctrl_c() -> Key {
    Key {
        code: KeyCode::Char('c'),
        mods: KeyModifiers::CONTROL,
    }
}

/// Shipped keymaps: the embedded default and the overlays on it.
const SHIPPED: &[(&str, &str)] = &[
    ("default", include_str!("../../keymaps/default.toml")),
    ("vim", include_str!("../../keymaps/vim.toml")),
    ("emacs", include_str!("../../keymaps/emacs.toml")),
    ("k9s", include_str!("../../keymaps/k9s.toml")),
];

/// Names accepted by `--keymap` and `keymap = ...` besides a file path.
pub fn shipped_names() -> impl Iterator<Item = &'static str> {
    SHIPPED.iter().map(|(name, _)| *name)
}

/// The source of a shipped keymap, by name.
pub fn shipped_source(name: &str) -> Option<&'static str> {
    SHIPPED.iter().find(|(n, _)| *n == name).map(|(_, s)| *s)
}

/// How diagnostics name a shipped keymap.
pub fn shipped_file_name(name: &str) -> String {
    format!("<builtin keymap {name}>")
}

/// `<platform config dir>/pitwall/keymap.toml`: layered last when present.
pub fn default_user_keymap_path() -> Option<PathBuf> {
    crate::config::config_dir().map(|d| d.join("keymap.toml"))
}

/// One context's bindings, in the order they were made, plus the trie that
/// answers lookups.
#[derive(Debug, Clone, Default)]
struct ContextMap {
    bindings: Vec<(Vec<Key>, Action)>,
    trie: Trie,
}

impl ContextMap {
    /// helix's merge rule: drop equal keys, and keys that are a prefix of the
    /// new ones or that the new ones are a prefix of; then bind.
    fn apply(&mut self, keys: &[Key], action: Option<Action>) {
        match action {
            Some(_) => self
                .bindings
                .retain(|(k, _)| !(k.starts_with(keys) || keys.starts_with(k))),
            // Unbinding frees the keys and everything that starts with them.
            None => self.bindings.retain(|(k, _)| !k.starts_with(keys)),
        }
        if let Some(action) = action {
            self.bindings.push((keys.to_vec(), action));
        }
    }
}

/// A resolved keymap: defaults plus every layer on top.
#[derive(Debug, Clone)]
pub struct Keymap {
    /// Indexed by `KeyContext as usize`.
    contexts: [ContextMap; KeyContext::ALL.len()],
}

impl Default for Keymap {
    fn default() -> Self {
        Keymap::defaults()
    }
}

impl Keymap {
    /// The embedded `keymaps/default.toml`.
    pub fn defaults() -> Keymap {
        let mut keymap = Keymap {
            contexts: Default::default(),
        };
        let source = shipped_source("default").unwrap_or_default();
        // The shipped default is checked by tests; should it ever be broken
        // the built-in Ctrl-C below still leaves a way out.
        if let Ok(entries) = parse_layer(&shipped_file_name("default"), source) {
            keymap.apply(&entries);
        }
        keymap.rebuild();
        keymap
    }

    /// Defaults, then the named shipped keymap (`default`, `vim`, `emacs`),
    /// then the user's file if given. Problems are reported, never fatal:
    /// a layer with errors is skipped and the rest still loads.
    ///
    /// `name` may also be a path to a keymap file. A `user_file` that does
    /// not exist is skipped silently when it is the default location.
    pub fn load(name: &str, user_file: Option<&Path>) -> (Keymap, Vec<Diagnostic>) {
        let mut keymap = Keymap::defaults();
        let mut diagnostics = Vec::new();
        if name != "default" {
            if let Some(source) = shipped_source(name) {
                keymap.add_layer(&shipped_file_name(name), source, &mut diagnostics);
            } else if crate::config::looks_like_path(name) {
                keymap.add_file(Path::new(name), &mut diagnostics);
            } else {
                let names: Vec<_> = shipped_names().collect();
                diagnostics.push(Diagnostic::new(
                    "keymap",
                    format!(
                        "unknown keymap `{name}` (shipped: {}; or give a file path)",
                        names.join(", ")
                    ),
                ));
            }
        }
        if let Some(path) = user_file {
            let is_default_location = default_user_keymap_path().as_deref() == Some(path);
            if !is_default_location || path.exists() {
                keymap.add_file(path, &mut diagnostics);
            }
        }
        keymap.rebuild();
        (keymap, diagnostics)
    }

    /// This keymap with one more layer of keymap-file text on top; the
    /// layer's problems instead if it has any.
    pub fn layered(&self, file: &str, source: &str) -> Result<Keymap, Vec<Diagnostic>> {
        let entries = parse_layer(file, source)?;
        let mut keymap = self.clone();
        keymap.apply(&entries);
        keymap.rebuild();
        Ok(keymap)
    }

    fn add_file(&mut self, path: &Path, diagnostics: &mut Vec<Diagnostic>) {
        let file = path.display().to_string();
        match crate::config::read_text_file(path) {
            Ok(source) => self.add_layer(&file, &source, diagnostics),
            Err(e) => diagnostics.push(Diagnostic::new(file, format!("cannot read keymap: {e}"))),
        }
    }

    fn add_layer(&mut self, file: &str, source: &str, diagnostics: &mut Vec<Diagnostic>) {
        match parse_layer(file, source) {
            Ok(entries) => self.apply(&entries),
            Err(mut errors) => diagnostics.append(&mut errors),
        }
    }

    fn apply(&mut self, entries: &[Entry]) {
        // A layer is a set, not a script: its unbindings go first so that
        // `"g" = "none"` never removes the layer's own `"gt" = ...`.
        let (unbind, bind): (Vec<&Entry>, Vec<&Entry>) =
            entries.iter().partition(|e| e.action.is_none());
        for entry in unbind.into_iter().chain(bind) {
            self.contexts[entry.context as usize].apply(&entry.keys, entry.action);
        }
    }

    fn rebuild(&mut self) {
        let global = &mut self.contexts[KeyContext::Global as usize];
        let quit = ctrl_c();
        global.bindings.retain(|(k, _)| !k.contains(&quit));
        global.bindings.push((vec![quit], Action::Quit));
        for ctx in &mut self.contexts {
            ctx.trie = Trie::build(&ctx.bindings);
        }
    }

    /// `contexts` in priority order (e.g. `[Modal]`, or `[Table, Global]`);
    /// `keys` is every key typed since the last resolved binding.
    /// `<C-c>` answers `Quit` whatever came before it.
    pub fn lookup(&self, contexts: &[KeyContext], keys: &[Key]) -> Lookup {
        if keys.last() == Some(&ctrl_c()) {
            return Lookup::Action(Action::Quit);
        }
        for ctx in contexts {
            match self.contexts[*ctx as usize].trie.lookup(keys) {
                Lookup::Unbound => continue,
                found => return found,
            }
        }
        Lookup::Unbound
    }

    /// Every binding of a context, for the help overlay: in the action
    /// registry's order, keys of one action in the order they were bound.
    pub fn bindings(&self, context: KeyContext) -> Vec<Hint> {
        let mut list: Vec<(usize, usize, Hint)> = self.contexts[context as usize]
            .bindings
            .iter()
            .enumerate()
            .map(|(i, (keys, action))| {
                let hint = Hint {
                    keys: format_keys(keys),
                    action: *action,
                };
                (*action as usize, i, hint)
            })
            .collect();
        list.sort_by_key(|(a, i, _)| (*a, *i));
        list.into_iter().map(|(_, _, h)| h).collect()
    }

    /// The keys bound to `action` in `context`, for hints like "? help".
    pub fn keys_for(&self, context: KeyContext, action: Action) -> Vec<String> {
        self.bindings(context)
            .into_iter()
            .filter(|h| h.action == action)
            .map(|h| h.keys)
            .collect()
    }
}

#[cfg(test)]
mod tests;
