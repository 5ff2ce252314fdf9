//! One keymap file (a "layer"): parsed and checked on its own, before it is
//! laid over the layers below it.

use super::keys::parse_keys;
use super::{ctrl_c, Key};
use crate::action::{Action, KeyContext};
use crate::config::spanned::{self, Located, Node};
use crate::diagnostic::Diagnostic;

/// One line of a keymap file: `keys` bound to `action`, or unbound (`None`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub context: KeyContext,
    pub keys: Vec<Key>,
    pub action: Option<Action>,
}

/// Every entry of a file, or every problem in it (a layer is all or nothing).
pub fn parse_layer(file: &str, source: &str) -> Result<Vec<Entry>, Vec<Diagnostic>> {
    let doc = spanned::parse(file, source).map_err(|d| vec![d])?;
    let loc = Located { file, source };
    let mut errors = Vec::new();
    let mut entries = Vec::new();
    for (section, body) in &doc {
        if !matches!(body.get_ref(), Node::Table(_)) {
            errors.push(loc.at(
                section.span(),
                format!(
                    "`{}` is outside any section: put bindings under [global], [table], [modal] or [input]",
                    section.get_ref()
                ),
            ));
            continue;
        }
        let Some(context) = KeyContext::from_name(section.get_ref()) else {
            errors.push(loc.at(
                section.span(),
                format!(
                    "unknown section [{}] (expected global, table, modal or input)",
                    section.get_ref()
                ),
            ));
            continue;
        };
        let Node::Table(bindings) = body.get_ref() else {
            errors.push(loc.at(
                section.span(),
                format!(
                    "[{}] must be a table of \"keys\" = \"action\", found {}",
                    section.get_ref(),
                    body.get_ref().kind()
                ),
            ));
            continue;
        };
        check_section(&loc, context, bindings, &mut entries, &mut errors);
    }
    if errors.is_empty() {
        Ok(entries)
    } else {
        errors.sort_by_key(|d| (d.line, d.col));
        Err(errors)
    }
}

type Bindings = [(toml::Spanned<String>, toml::Spanned<Node>)];

fn check_section(
    loc: &Located,
    context: KeyContext,
    bindings: &Bindings,
    entries: &mut Vec<Entry>,
    errors: &mut Vec<Diagnostic>,
) {
    // (keys, as written, line, binds an action) of the entries accepted so far.
    let mut seen: Vec<(Vec<Key>, &str, Option<usize>, bool)> = Vec::new();
    for (key_text, value) in bindings {
        let written = key_text.get_ref().as_str();
        let keys = match parse_keys(written) {
            Ok(keys) => keys,
            Err(why) => {
                let shown = shorten(written);
                errors.push(loc.at(key_text.span(), format!("bad key `{shown}`: {why}")));
                continue;
            }
        };
        if keys.contains(&ctrl_c()) {
            errors.push(loc.at(
                key_text.span(),
                format!("`{written}`: <C-c> always quits and cannot be rebound"),
            ));
            continue;
        }
        let action = match value.get_ref() {
            Node::String(name) if name == "none" => None,
            Node::String(name) => match Action::from_name(name) {
                Some(action) => Some(action),
                None => {
                    errors.push(loc.at(
                        value.span(),
                        format!("unknown action `{name}` for key `{written}`"),
                    ));
                    continue;
                }
            },
            other => {
                errors.push(loc.at(
                    value.span(),
                    format!(
                        "the action for key `{written}` must be a string, found {}",
                        other.kind()
                    ),
                ));
                continue;
            }
        };
        let line = loc.at(key_text.span(), "").line;
        let mut clash = None;
        for (other, other_written, other_line, other_binds) in &seen {
            let line_no = other_line.unwrap_or(0);
            if *other == keys {
                clash = Some(format!(
                    "`{written}` is the same key as `{other_written}` on line {line_no} in [{}]",
                    context.name()
                ));
                break;
            }
            // Unbinding a key and binding a longer one is how a layer frees a
            // prefix; only two bindings that both act can conflict.
            if action.is_some() && *other_binds && is_prefix_either_way(other, &keys) {
                clash = Some(format!(
                    "`{written}` conflicts with `{other_written}` on line {line_no} in [{}]: \
                     one is a prefix of the other",
                    context.name()
                ));
                break;
            }
        }
        if let Some(message) = clash {
            errors.push(loc.at(key_text.span(), message));
            continue;
        }
        seen.push((keys.clone(), written, line, action.is_some()));
        entries.push(Entry {
            context,
            keys,
            action,
        });
    }
}

/// A key as written, cut for a one-line message.
fn shorten(written: &str) -> String {
    const MAX: usize = 40;
    if written.chars().count() <= MAX {
        return written.to_string();
    }
    let mut out: String = written.chars().take(MAX).collect();
    out.push('…');
    out
}

fn is_prefix_either_way(a: &[Key], b: &[Key]) -> bool {
    a.starts_with(b) || b.starts_with(a)
}
