//! One theme file, checked on its own: `inherits`, `[palette]` and scopes.
//! Colour names are resolved later, against the palette of the whole
//! inheritance chain, so a child theme can recolour its parent's scopes.

use super::color::{indexed, parse_color};
use super::is_known_scope;
use crate::config::spanned::{self, Located, Node};
use crate::diagnostic::Diagnostic;
use ratatui::style::{Color, Modifier};
use toml::Spanned;

/// Where something was written, for diagnostics raised after parsing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pos {
    pub file: String,
    pub line: Option<usize>,
    pub col: Option<usize>,
}

impl Pos {
    pub fn diagnostic(&self, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            file: self.file.clone(),
            line: self.line,
            col: self.col,
            message: message.into(),
        }
    }
}

/// A colour as written in a scope: a palette name or a concrete colour.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ColorRef {
    Name(String, Pos),
    Concrete(Color),
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawStyle {
    pub fg: Option<ColorRef>,
    pub bg: Option<ColorRef>,
    pub modifiers: Modifier,
}

#[derive(Debug, Clone, Default)]
pub struct ThemeFile {
    /// The parent theme's name or path, and where it was named.
    pub inherits: Option<(String, Pos)>,
    pub palette: Vec<(String, Color)>,
    pub scopes: Vec<(String, RawStyle)>,
}

const MODIFIERS: &[(&str, Modifier)] = &[
    ("bold", Modifier::BOLD),
    ("dim", Modifier::DIM),
    ("italic", Modifier::ITALIC),
    ("underlined", Modifier::UNDERLINED),
    ("slow-blink", Modifier::SLOW_BLINK),
    ("rapid-blink", Modifier::RAPID_BLINK),
    ("reversed", Modifier::REVERSED),
    ("hidden", Modifier::HIDDEN),
    ("crossed-out", Modifier::CROSSED_OUT),
];

/// Every entry of a theme file, or every problem in it.
pub fn parse_theme(file: &str, source: &str) -> Result<ThemeFile, Vec<Diagnostic>> {
    let (theme, errors) = parse_theme_lenient(file, source);
    if errors.is_empty() {
        Ok(theme)
    } else {
        Err(errors)
    }
}

/// What could be read of a theme file, and its problems: the loader goes on
/// with the rest so one run reports the problems of the whole chain.
pub fn parse_theme_lenient(file: &str, source: &str) -> (ThemeFile, Vec<Diagnostic>) {
    let doc = match spanned::parse(file, source) {
        Ok(doc) => doc,
        Err(d) => return (ThemeFile::default(), vec![d]),
    };
    let loc = Located { file, source };
    let mut p = Parser {
        loc,
        theme: ThemeFile::default(),
        errors: Vec::new(),
    };
    for (key, value) in &doc {
        match key.get_ref().as_str() {
            "inherits" => match value.get_ref() {
                Node::String(parent) => {
                    p.theme.inherits = Some((parent.clone(), p.pos(value.span())));
                }
                other => p.error(
                    value.span(),
                    format!("`inherits` must be a theme name, found {}", other.kind()),
                ),
            },
            "palette" => p.palette(value),
            scope => p.scope(scope, key, value),
        }
    }
    p.errors.sort_by_key(|d| (d.line, d.col));
    (p.theme, p.errors)
}

struct Parser<'a> {
    loc: Located<'a>,
    theme: ThemeFile,
    errors: Vec<Diagnostic>,
}

impl Parser<'_> {
    fn pos(&self, span: std::ops::Range<usize>) -> Pos {
        let d = self.loc.at(span, "");
        Pos {
            file: d.file,
            line: d.line,
            col: d.col,
        }
    }

    fn error(&mut self, span: std::ops::Range<usize>, message: String) {
        self.errors.push(self.loc.at(span, message));
    }

    fn palette(&mut self, value: &Spanned<Node>) {
        let Node::Table(entries) = value.get_ref() else {
            let kind = value.get_ref().kind();
            self.error(
                value.span(),
                format!("[palette] must be a table, found {kind}"),
            );
            return;
        };
        for (name, colour) in entries {
            // a palette colour named like a scope is a scope written below
            // `[palette]` by mistake, whatever its value looks like
            if is_known_scope(name.get_ref()) {
                self.error(
                    name.span(),
                    format!(
                        "scope `{}` is inside [palette]: put scopes above the [palette] table",
                        name.get_ref()
                    ),
                );
                continue;
            }
            let parsed = match colour.get_ref() {
                Node::String(s) => parse_color(s),
                Node::Integer(n) => indexed(*n),
                _ => None,
            };
            match parsed {
                Some(c) => self.theme.palette.push((name.get_ref().clone(), c)),
                None => self.error(
                    colour.span(),
                    format!(
                        "palette colour `{}` must be \"#rrggbb\", an ANSI name or 0-255, found {}",
                        name.get_ref(),
                        describe(colour.get_ref())
                    ),
                ),
            }
        }
    }

    /// A scope's style; a table may also hold child scopes, as unquoted
    /// dotted keys (`pod.status.pending = ...`) produce.
    fn scope(&mut self, scope: &str, key: &Spanned<String>, value: &Spanned<Node>) {
        if !is_known_scope(scope) {
            self.error(key.span(), format!("unknown scope `{scope}`"));
            return;
        }
        let mut style = RawStyle::default();
        // A table of only child scopes styles them, not this scope.
        let mut styled = true;
        match value.get_ref() {
            Node::String(_) | Node::Integer(_) => {
                style.fg = self.color_ref(scope, "fg", value);
            }
            Node::Table(entries) => {
                styled = false;
                for (field, v) in entries {
                    let name = field.get_ref().as_str();
                    styled |= matches!(name, "fg" | "bg" | "modifiers");
                    match name {
                        "fg" => style.fg = self.color_ref(scope, "fg", v),
                        "bg" => style.bg = self.color_ref(scope, "bg", v),
                        "modifiers" => style.modifiers = self.modifiers(scope, v),
                        child => {
                            let child_scope = format!("{scope}.{child}");
                            self.scope(&child_scope, field, v);
                        }
                    }
                }
            }
            other => {
                let kind = other.kind();
                self.error(
                    value.span(),
                    format!("scope `{scope}` must be a colour or a table, found {kind}"),
                );
                return;
            }
        }
        if styled {
            self.theme.scopes.push((scope.to_string(), style));
        }
    }

    fn color_ref(&mut self, scope: &str, field: &str, value: &Spanned<Node>) -> Option<ColorRef> {
        match value.get_ref() {
            // Palette names are looked up once the whole chain is merged.
            Node::String(s) => Some(ColorRef::Name(s.clone(), self.pos(value.span()))),
            Node::Integer(n) => match indexed(*n) {
                Some(c) => Some(ColorRef::Concrete(c)),
                None => {
                    self.error(
                        value.span(),
                        format!("colour index {n} for `{scope}` {field} is not 0-255"),
                    );
                    None
                }
            },
            other => {
                let kind = other.kind();
                self.error(
                    value.span(),
                    format!("`{scope}` {field} must be a colour, found {kind}"),
                );
                None
            }
        }
    }

    fn modifiers(&mut self, scope: &str, value: &Spanned<Node>) -> Modifier {
        let Node::Array(items) = value.get_ref() else {
            let kind = value.get_ref().kind();
            self.error(
                value.span(),
                format!("`{scope}` modifiers must be an array, found {kind}"),
            );
            return Modifier::empty();
        };
        let mut mods = Modifier::empty();
        for item in items {
            let found = match item.get_ref() {
                Node::String(s) => {
                    let name = s.to_ascii_lowercase().replace('_', "-");
                    MODIFIERS.iter().find(|(n, _)| *n == name).map(|(_, m)| *m)
                }
                _ => None,
            };
            match found {
                Some(m) => mods |= m,
                None => {
                    let names: Vec<_> = MODIFIERS.iter().map(|(n, _)| *n).collect();
                    self.error(
                        item.span(),
                        format!(
                            "unknown modifier {} for `{scope}` (expected one of {})",
                            describe(item.get_ref()),
                            names.join(", ")
                        ),
                    );
                }
            }
        }
        mods
    }
}

fn describe(node: &Node) -> String {
    match node {
        Node::String(s) => format!("`{s}`"),
        Node::Integer(n) => n.to_string(),
        other => other.kind().to_string(),
    }
}
