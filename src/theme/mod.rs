//! Themes: a palette plus dotted scopes (`pod.status.pending`) that fall back
//! to shorter ones (`pod.status`, `pod`), with `inherits`. A theme is resolved
//! once into `Styles`; drawing code only calls `Styles::get`.
//!
//! INTERFACE (fixed; the implementation behind it is being written):

use crate::diagnostic::Diagnostic;
use ratatui::style::Style;
use std::path::Path;

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
        ColorSupport::TrueColor
    }
}

/// Resolved styles for every known scope.
#[derive(Debug, Clone, Default)]
pub struct Styles {
    _private: (),
}

impl Styles {
    /// The style of a scope, after fallback. Drawing calls this per visible
    /// cell, so it must be a cheap lookup.
    pub fn get(&self, _scope: &str) -> Style {
        Style::default()
    }

    /// Load a shipped theme by name (`default`, `light`, `high-contrast`,
    /// `mono`) or a theme file by path, downgraded to `colors`. On any
    /// error: the default theme plus the diagnostics.
    pub fn load(
        _name_or_path: &str,
        _user_dir: Option<&Path>,
        _colors: ColorSupport,
    ) -> (Styles, Vec<Diagnostic>) {
        (Styles::default(), Vec::new())
    }
}
