//! Themes: a palette plus dotted scopes (`pod.status.pending`) that fall back
//! to shorter ones (`pod.status`, `pod`), with `inherits`. A theme is resolved
//! once into `Styles`; drawing code only calls `Styles::get`.
//!
//! Modelled on helix-view's theme.rs: a child's palette and scopes are laid
//! over its parent's before any colour name is resolved, so a theme that only
//! changes the palette recolours everything it inherits.

mod color;
mod file;

pub use color::{downgrade_color, downgrade_style, nearest_16, nearest_256, parse_color};
pub use file::{parse_theme, parse_theme_lenient, ThemeFile};

use crate::diagnostic::Diagnostic;
use file::{ColorRef, Pos, RawStyle};
use ratatui::style::{Color, Style};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Every scope the UI draws with. Theme files may style these or any dotted
/// prefix of them (`pod.status`, `region`); anything else is an error.
pub const SCOPES: &[&str] = &[
    "ui.text",
    "ui.dim",
    "ui.border",
    "ui.border.focused",
    "ui.title",
    "ui.header",
    "ui.selection",
    "ui.statusbar",
    "ui.hint",
    "ui.key",
    "ui.match",
    "ui.error",
    "ui.warning",
    "ui.toast",
    "ui.modal",
    "ui.input",
    "ui.tab",
    "ui.tab.active",
    "region.badge.live",
    "region.badge.syncing",
    "region.badge.stale",
    "region.badge.error",
    "region.production",
    "table.header",
    "table.row",
    "pod.status.running",
    "pod.status.pending",
    "pod.status.failed",
    "pod.status.succeeded",
    "pod.status.terminating",
    "pod.status.unknown",
    "pod.restarts.recent",
    "probe.failed",
    "probe.warning",
    "triage.critical",
    "triage.warning",
    "triage.info",
    "sparkline",
];

/// A known scope, or a dotted prefix of one.
pub fn is_known_scope(scope: &str) -> bool {
    SCOPES.iter().any(|known| {
        *known == scope
            || (known.len() > scope.len()
                && known.starts_with(scope)
                && known.as_bytes()[scope.len()] == b'.')
    })
}

/// What the terminal can show. SSH does not forward COLORTERM, so detection
/// also looks at TERM; NO_COLOR or TERM=dumb force `Mono`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColorSupport {
    Mono,
    Ansi16,
    Ansi256,
    TrueColor,
}

impl ColorSupport {
    /// From the process environment.
    pub fn detect() -> ColorSupport {
        let term = std::env::var("TERM").ok();
        let colorterm = std::env::var("COLORTERM").ok();
        ColorSupport::from_env(
            std::env::var_os("NO_COLOR").is_some(),
            term.as_deref(),
            colorterm.as_deref(),
        )
    }

    /// The decision behind `detect`, from the values of NO_COLOR (set or
    /// not), TERM and COLORTERM.
    pub fn from_env(no_color: bool, term: Option<&str>, colorterm: Option<&str>) -> ColorSupport {
        if no_color || term == Some("dumb") {
            return ColorSupport::Mono;
        }
        if matches!(
            colorterm.map(str::to_ascii_lowercase).as_deref(),
            Some("truecolor" | "24bit")
        ) {
            return ColorSupport::TrueColor;
        }
        if term.is_some_and(|t| t.contains("256color")) {
            return ColorSupport::Ansi256;
        }
        ColorSupport::Ansi16
    }
}

/// Shipped themes, embedded.
const SHIPPED: &[(&str, &str)] = &[
    ("default", include_str!("../../themes/default.toml")),
    ("light", include_str!("../../themes/light.toml")),
    (
        "high-contrast",
        include_str!("../../themes/high-contrast.toml"),
    ),
    ("mono", include_str!("../../themes/mono.toml")),
];

/// Names accepted by `--theme` and `theme = ...` besides a file path.
pub fn shipped_names() -> impl Iterator<Item = &'static str> {
    SHIPPED.iter().map(|(name, _)| *name)
}

fn shipped_source(name: &str) -> Option<&'static str> {
    SHIPPED.iter().find(|(n, _)| *n == name).map(|(_, s)| *s)
}

/// How diagnostics name a shipped theme.
pub fn shipped_file_name(name: &str) -> String {
    format!("<builtin theme {name}>")
}

/// `<platform config dir>/pitwall/themes`: user themes by name.
pub fn default_user_theme_dir() -> Option<PathBuf> {
    crate::config::config_dir().map(|d| d.join("themes"))
}

/// Resolved styles for every known scope.
#[derive(Debug, Clone, Default)]
pub struct Styles {
    map: HashMap<&'static str, Style>,
}

impl Styles {
    /// The style of a scope, after fallback. Drawing calls this per visible
    /// cell, so it must be a cheap lookup. A scope the theme module does not
    /// know falls back along its dots, then to `ui.text`.
    pub fn get(&self, scope: &str) -> Style {
        if let Some(style) = self.map.get(scope) {
            return *style;
        }
        let mut s = scope;
        while let Some((head, _)) = s.rsplit_once('.') {
            if let Some(style) = self.map.get(head) {
                return *style;
            }
            s = head;
        }
        self.map.get("ui.text").copied().unwrap_or_default()
    }

    /// Load a shipped theme by name (`default`, `light`, `high-contrast`,
    /// `mono`) or a theme file by path, downgraded to `colors`. On any
    /// error: the default theme plus the diagnostics.
    ///
    /// A name is looked up in `user_dir` (`NAME.toml`) before the shipped
    /// themes. With `ColorSupport::Mono` the named theme is still checked,
    /// but the `mono` theme is used: it carries its meaning in modifiers.
    pub fn load(
        name_or_path: &str,
        user_dir: Option<&Path>,
        colors: ColorSupport,
    ) -> (Styles, Vec<Diagnostic>) {
        let loaded = resolve(name_or_path, user_dir);
        let theme = match (&loaded, colors) {
            (_, ColorSupport::Mono) => resolve("mono", None),
            (Ok(theme), _) => Ok(theme.clone()),
            (Err(_), _) => resolve("default", None),
        };
        // Shipped themes are checked by tests; an empty map still draws.
        let styles = Styles::from_theme(&theme.unwrap_or_default(), colors);
        (styles, loaded.err().unwrap_or_default())
    }

    /// Every known scope's final style, downgraded once.
    fn from_theme(theme: &Resolved, colors: ColorSupport) -> Styles {
        let mut map = HashMap::with_capacity(SCOPES.len() * 2);
        // Prefixes too, so `get` on a scope the UI adds later falls back
        // to the nearest one the theme set.
        let prefixes = SCOPES
            .iter()
            .flat_map(|s| s.match_indices('.').map(move |(i, _)| &s[..i]));
        let all: Vec<&'static str> = SCOPES.iter().copied().chain(prefixes).collect();
        for scope in all {
            let mut s: &str = scope;
            let style = loop {
                if let Some(style) = theme.get(s) {
                    break *style;
                }
                match s.rsplit_once('.') {
                    Some((head, _)) => s = head,
                    None => break theme.get("ui.text").copied().unwrap_or_default(),
                }
            };
            map.insert(scope, downgrade_style(scope, style, colors));
        }
        Styles { map }
    }
}

/// A merged, colour-resolved theme: scope -> style (only scopes it sets).
type Resolved = HashMap<String, Style>;

/// Follows `inherits` from `name_or_path`, merges the chain and resolves
/// every colour name against the merged palette.
fn resolve(name_or_path: &str, user_dir: Option<&Path>) -> Result<Resolved, Vec<Diagnostic>> {
    const MAX_DEPTH: usize = 8;
    let mut chain: Vec<(String, ThemeFile)> = Vec::new();
    let mut errors = Vec::new();
    let mut next: Option<(String, Option<PathBuf>, Option<Pos>)> =
        Some((name_or_path.to_string(), None, None));
    while let Some((name, base_dir, named_at)) = next.take() {
        let visited: Vec<&str> = chain.iter().map(|(id, _)| id.as_str()).collect();
        let fail = |message: String| match &named_at {
            Some(pos) => pos.diagnostic(message),
            None => Diagnostic::new("theme", message),
        };
        if chain.len() >= MAX_DEPTH {
            errors.push(fail(format!(
                "themes inherit more than {MAX_DEPTH} levels deep"
            )));
            break;
        }
        let found = match locate(&name, base_dir.as_deref(), user_dir, &visited) {
            Ok(found) => found,
            Err(m) => {
                errors.push(fail(m));
                break;
            }
        };
        let (theme, mut problems) = parse_theme_lenient(&found.file, &found.source);
        errors.append(&mut problems);
        next = theme
            .inherits
            .clone()
            .map(|(parent, pos)| (parent, found.dir.clone(), Some(pos)));
        chain.push((found.file, theme));
    }
    // Root first, so each child overrides its parent.
    let mut palette: HashMap<&str, Color> = HashMap::new();
    let mut scopes: HashMap<&str, &RawStyle> = HashMap::new();
    for (_, theme) in chain.iter().rev() {
        palette.extend(theme.palette.iter().map(|(n, c)| (n.as_str(), *c)));
        scopes.extend(theme.scopes.iter().map(|(s, st)| (s.as_str(), st)));
    }
    let mut resolved = Resolved::new();
    let mut colour_errors = Vec::new();
    for (scope, raw) in scopes {
        let mut colour = |c: &Option<ColorRef>| match c {
            None => None,
            Some(ColorRef::Concrete(c)) => Some(*c),
            Some(ColorRef::Name(name, pos)) => {
                let found = palette
                    .get(name.as_str())
                    .copied()
                    .or_else(|| parse_color(name));
                if found.is_none() {
                    colour_errors.push(pos.diagnostic(format!(
                        "unknown colour `{name}` for `{scope}` (not in the palette, \"#rrggbb\", an ANSI name or 0-255)"
                    )));
                }
                found
            }
        };
        let mut style = Style::new().add_modifier(raw.modifiers);
        style.fg = colour(&raw.fg);
        style.bg = colour(&raw.bg);
        resolved.insert(scope.to_string(), style);
    }
    // Report file by file down the chain, each in reading order.
    errors.append(&mut colour_errors);
    let order = |file: &str| chain.iter().position(|(id, _)| id == file);
    errors.sort_by_key(|d| (order(&d.file), d.line, d.col));
    if errors.is_empty() {
        Ok(resolved)
    } else {
        Err(errors)
    }
}

struct Found {
    /// How diagnostics name it; also its identity in the inheritance chain.
    file: String,
    source: String,
    /// Where relative `inherits` paths in it start from.
    dir: Option<PathBuf>,
}

/// A theme by path, by name in the user's theme dir, or shipped; skipping
/// any already in the chain, so `themes/default.toml` can inherit the
/// shipped `default`.
fn locate(
    name: &str,
    base_dir: Option<&Path>,
    user_dir: Option<&Path>,
    visited: &[&str],
) -> Result<Found, String> {
    if crate::config::looks_like_path(name) {
        let path = match base_dir {
            Some(dir) if Path::new(name).is_relative() => dir.join(name),
            _ => PathBuf::from(name),
        };
        let file = path.display().to_string();
        if visited.contains(&file.as_str()) {
            return Err(format!("theme `{name}` inherits itself"));
        }
        let source = crate::config::read_text_file(&path)
            .map_err(|e| format!("cannot read theme {file}: {e}"))?;
        let dir = path.parent().map(Path::to_path_buf);
        return Ok(Found { file, source, dir });
    }
    let mut skipped = false;
    if let Some(dir) = user_dir {
        let path = dir.join(format!("{name}.toml"));
        let file = path.display().to_string();
        skipped = visited.contains(&file.as_str());
        if path.is_file() && !skipped {
            let source = crate::config::read_text_file(&path)
                .map_err(|e| format!("cannot read theme {file}: {e}"))?;
            return Ok(Found {
                file,
                source,
                dir: Some(dir.to_path_buf()),
            });
        }
    }
    let file = shipped_file_name(name);
    match shipped_source(name) {
        Some(_) if visited.contains(&file.as_str()) => {
            Err(format!("theme `{name}` inherits itself"))
        }
        Some(source) => Ok(Found {
            file,
            source: source.to_string(),
            dir: None,
        }),
        None if skipped => Err(format!("theme `{name}` inherits itself")),
        None => {
            let names: Vec<_> = shipped_names().collect();
            Err(format!(
                "unknown theme `{name}` (shipped: {}; or a file in the themes dir, or a path)",
                names.join(", ")
            ))
        }
    }
}

#[cfg(test)]
mod tests;
