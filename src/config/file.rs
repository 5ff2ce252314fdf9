//! config.toml, checked field by field.

use super::layout::{Layout, NarrowLayout, Pane};
use super::spanned::{self, Located, Node};
use super::{expand_home, looks_like_path, Config, RegionConfig};
use crate::diagnostic::Diagnostic;
use std::ops::Range;
use std::path::{Path, PathBuf};
use toml::Spanned;

mod logs;
mod stages;

/// The config in `source` (named `file` in diagnostics). Relative paths in
/// it (kubeconfig, theme and keymap files) start from `base_dir`.
pub fn parse(file: &str, source: &str, base_dir: Option<&Path>) -> Result<Config, Vec<Diagnostic>> {
    match parse_salvaged(file, source, base_dir) {
        (Some(config), errors) if errors.is_empty() => Ok(config),
        (_, errors) => Err(errors),
    }
}

/// Like `parse`, but with problems also returns what could be read (`None`
/// when the TOML itself is broken): every setting that checked out, and
/// only the regions whose own table had no problem, so a salvaged config
/// never watches more than the file meant. `problems` is not set here.
pub fn parse_salvaged(
    file: &str,
    source: &str,
    base_dir: Option<&Path>,
) -> (Option<Config>, Vec<Diagnostic>) {
    let doc = match spanned::parse(file, source) {
        Ok(doc) => doc,
        Err(d) => return (None, vec![d]),
    };
    let mut c = Checker {
        loc: Located { file, source },
        base_dir,
        errors: Vec::new(),
    };
    let mut config = Config::default();
    for (key, value) in &doc {
        match key.get_ref().as_str() {
            "theme" => {
                if let Some(s) = c.non_empty_string("theme", value) {
                    config.theme = c.name_or_path(s);
                }
            }
            "keymap" => {
                if let Some(s) = c.non_empty_string("keymap", value) {
                    config.keymap = c.name_or_path(s);
                }
            }
            "read_only" => {
                if let Some(b) = c.boolean("read_only", value) {
                    config.read_only = b;
                }
            }
            "credential_plugin_timeout" => match value.get_ref() {
                Node::Integer(n) if (1..=600).contains(n) => {
                    config.credential_plugin_timeout = *n as u64;
                }
                Node::Integer(n) => c.error(
                    value.span(),
                    format!(
                        "`credential_plugin_timeout` must be between 1 and 600 seconds, found {n}"
                    ),
                ),
                _ => c.wrong_type("credential_plugin_timeout", "a number of seconds", value),
            },
            "region" => config.regions = c.regions(value),
            "layout" => config.layout = c.layout(value),
            "logs" => config.logs = c.logs(value),
            "network" => {
                match crate::panes::network::config::network(&to_toml(value.get_ref())) {
                    Ok(n) => config.network = n,
                    Err(e) => c.error(value.span(), e),
                }
            }
            "stage" => config.stages = c.stages(value),
            other => c.error(
                key.span(),
                format!(
                    "unknown key `{other}` (expected theme, keymap, read_only, \
                     credential_plugin_timeout, [[region]], [layout], [logs], [network] or [[stage]])"
                ),
            ),
        }
    }
    c.errors.sort_by_key(|d| (d.line, d.col));
    (Some(config), c.errors)
}

/// Where `field` of the `index`th `[[region]]` is written (line, column),
/// for problems found after parsing (a context missing from a kubeconfig).
pub fn region_field_position(source: &str, index: usize, field: &str) -> Option<(usize, usize)> {
    let doc = spanned::parse("", source).ok()?;
    let (_, regions) = doc.iter().find(|(k, _)| k.get_ref() == "region")?;
    let Node::Array(items) = regions.get_ref() else {
        return None;
    };
    let item = items.get(index)?;
    let span = match item.get_ref() {
        Node::Table(fields) => fields
            .iter()
            .find(|(k, _)| k.get_ref() == field)
            .map_or_else(|| item.span(), |(_, v)| v.span()),
        _ => item.span(),
    };
    let d = Diagnostic::new("", "").at_offset(source, span.start);
    d.line.zip(d.col)
}

/// The plain TOML value of a node, for loaders that take one.
fn to_toml(node: &Node) -> toml::Value {
    match node {
        Node::String(s) => toml::Value::String(s.clone()),
        Node::Integer(i) => toml::Value::Integer(*i),
        Node::Float(f) => toml::Value::Float(*f),
        Node::Boolean(b) => toml::Value::Boolean(*b),
        Node::Array(a) => toml::Value::Array(a.iter().map(|v| to_toml(v.get_ref())).collect()),
        Node::Table(t) => toml::Value::Table(
            t.iter()
                .map(|(k, v)| (k.get_ref().clone(), to_toml(v.get_ref())))
                .collect(),
        ),
    }
}

struct Checker<'a> {
    loc: Located<'a>,
    base_dir: Option<&'a Path>,
    errors: Vec<Diagnostic>,
}

type Value = Spanned<Node>;

impl Checker<'_> {
    fn error(&mut self, span: Range<usize>, message: String) {
        self.errors.push(self.loc.at(span, message));
    }

    fn line_of(&self, span: Range<usize>) -> usize {
        self.loc.at(span, "").line.unwrap_or(0)
    }

    fn wrong_type(&mut self, what: &str, expected: &str, value: &Value) {
        let found = value.get_ref().kind();
        self.error(
            value.span(),
            format!("`{what}` must be {expected}, found {found}"),
        );
    }

    fn string<'v>(&mut self, what: &str, value: &'v Value) -> Option<&'v str> {
        match value.get_ref() {
            Node::String(s) => Some(s),
            _ => {
                self.wrong_type(what, "a string", value);
                None
            }
        }
    }

    fn non_empty_string<'v>(&mut self, what: &str, value: &'v Value) -> Option<&'v str> {
        let s = self.string(what, value)?;
        if s.trim().is_empty() {
            self.error(value.span(), format!("`{what}` must not be empty"));
            return None;
        }
        Some(s)
    }

    fn boolean(&mut self, what: &str, value: &Value) -> Option<bool> {
        match value.get_ref() {
            Node::Boolean(b) => Some(*b),
            _ => {
                self.wrong_type(what, "true or false", value);
                None
            }
        }
    }

    fn path(&self, text: &str) -> PathBuf {
        let path = expand_home(text).unwrap_or_else(|| PathBuf::from(text));
        match self.base_dir {
            Some(dir) if path.is_relative() => dir.join(path),
            _ => path,
        }
    }

    /// A relative file path in the config means next to the config file.
    fn name_or_path(&self, text: &str) -> String {
        if looks_like_path(text) {
            self.path(text).display().to_string()
        } else {
            text.to_string()
        }
    }

    fn url(&mut self, what: &str, value: &Value) -> Option<String> {
        let s = self.non_empty_string(what, value)?;
        if !(s.starts_with("http://") || s.starts_with("https://")) {
            self.error(
                value.span(),
                format!("`{what}` must start with http:// or https://, found `{s}`"),
            );
            return None;
        }
        Some(s.to_string())
    }

    fn regions(&mut self, value: &Value) -> Vec<RegionConfig> {
        let Node::Array(items) = value.get_ref() else {
            self.wrong_type("region", "an array of tables (write [[region]])", value);
            return Vec::new();
        };
        let mut regions = Vec::new();
        // name -> line of its first definition
        let mut names: Vec<(String, usize)> = Vec::new();
        for item in items {
            let Node::Table(fields) = item.get_ref() else {
                self.wrong_type("region", "a table", item);
                continue;
            };
            let mut region = RegionConfig::default();
            let errors_before = self.errors.len();
            let (mut has_name, mut has_context) = (false, false);
            for (key, v) in fields {
                match key.get_ref().as_str() {
                    "name" => {
                        if let Some(name) = self.non_empty_string("name", v) {
                            let line = self.line_of(v.span());
                            if let Some((_, first)) = names.iter().find(|(n, _)| n == name) {
                                let first = *first;
                                self.error(
                                    v.span(),
                                    format!("duplicate region name `{name}` (first on line {first})"),
                                );
                            } else {
                                names.push((name.to_string(), line));
                            }
                            region.name = name.to_string();
                        }
                        has_name |= matches!(v.get_ref(), Node::String(_));
                    }
                    "context" => {
                        if let Some(s) = self.non_empty_string("context", v) {
                            region.context = s.to_string();
                        }
                        has_context |= matches!(v.get_ref(), Node::String(_));
                    }
                    "kubeconfig" => {
                        if let Some(s) = self.non_empty_string("kubeconfig", v) {
                            region.kubeconfig = Some(self.path(s));
                        }
                    }
                    "namespaces" => region.namespaces = self.namespaces(v),
                    "production" => {
                        region.production = self.boolean("production", v).unwrap_or(false)
                    }
                    "read_only" => region.read_only = self.boolean("read_only", v).unwrap_or(true),
                    "prometheus_url" => region.prometheus_url = self.url("prometheus_url", v),
                    // secrets are named by environment variable, never written here
                    "prometheus" => {
                        let env = |var: &str| std::env::var(var).ok();
                        match crate::panes::network::config::prometheus(&to_toml(v.get_ref()), &env)
                        {
                            Ok(p) => region.prometheus = Some(p),
                            Err(e) => self.error(v.span(), e),
                        }
                    }
                    "elasticsearch_url" => {
                        region.elasticsearch_url = self.url("elasticsearch_url", v)
                    }
                    "elasticsearch_index" => {
                        region.elasticsearch_index = self
                            .non_empty_string("elasticsearch_index", v)
                            .map(str::to_string)
                    }
                    "elasticsearch" => region.elasticsearch = self.elasticsearch(v),
                    other => self.error(
                        key.span(),
                        format!(
                            "unknown key `{other}` in [[region]] (expected name, context, kubeconfig, \
                             namespaces, production, read_only, prometheus, prometheus_url, \
                             elasticsearch, elasticsearch_url or elasticsearch_index)"
                        ),
                    ),
                }
            }
            for (present, field) in [(has_name, "name"), (has_context, "context")] {
                if !present {
                    self.error(item.span(), format!("[[region]] needs a `{field}`"));
                }
            }
            // A region with a problem of its own may have lost its scope or
            // its flags: it is not watched at all rather than watched wider.
            if self.errors.len() == errors_before {
                regions.push(region);
            }
        }
        regions
    }

    fn namespaces(&mut self, value: &Value) -> Vec<String> {
        let Node::Array(items) = value.get_ref() else {
            self.wrong_type("namespaces", "an array of strings", value);
            return Vec::new();
        };
        let mut out: Vec<String> = Vec::new();
        for item in items {
            if let Some(ns) = self.non_empty_string("namespaces", item) {
                if out.iter().any(|n| n == ns) {
                    self.error(item.span(), format!("namespace `{ns}` is listed twice"));
                } else {
                    out.push(ns.to_string());
                }
            }
        }
        out
    }

    fn layout(&mut self, value: &Value) -> Layout {
        let mut layout = Layout::default();
        let Node::Table(fields) = value.get_ref() else {
            self.wrong_type("layout", "a table", value);
            return layout;
        };
        for (key, v) in fields {
            match key.get_ref().as_str() {
                "wide" => {
                    if let Some(panes) = self.panes(v) {
                        layout.wide = panes;
                    }
                }
                "narrow" => {
                    if let Some(s) = self.string("narrow", v) {
                        match NarrowLayout::from_name(s) {
                            Some(n) => layout.narrow = n,
                            None => self.error(
                                v.span(),
                                format!("unknown narrow layout `{s}` (expected tabs or stack)"),
                            ),
                        }
                    }
                }
                "narrow_below" => match v.get_ref() {
                    Node::Integer(n) if (40..=1000).contains(n) => {
                        layout.narrow_below = *n as u16;
                    }
                    Node::Integer(n) => self.error(
                        v.span(),
                        format!("`narrow_below` must be between 40 and 1000 columns, found {n}"),
                    ),
                    _ => self.wrong_type("narrow_below", "a number of columns", v),
                },
                "open_on_trouble" => {
                    if let Some(b) = self.boolean("open_on_trouble", v) {
                        layout.open_on_trouble = b;
                    }
                }
                other => self.error(
                    key.span(),
                    format!(
                        "unknown key `{other}` in [layout] (expected wide, narrow, narrow_below or open_on_trouble)"
                    ),
                ),
            }
        }
        layout
    }

    fn panes(&mut self, value: &Value) -> Option<Vec<Pane>> {
        let Node::Array(items) = value.get_ref() else {
            self.wrong_type("wide", "an array of pane names", value);
            return None;
        };
        if items.is_empty() {
            self.error(value.span(), "`wide` must name at least one pane".into());
            return None;
        }
        let mut panes = Vec::new();
        let mut ok = true;
        for item in items {
            let Some(name) = self.string("wide", item) else {
                ok = false;
                continue;
            };
            match Pane::from_name(name) {
                Some(p) if panes.contains(&p) => {
                    ok = false;
                    self.error(item.span(), format!("pane `{name}` is listed twice"));
                }
                Some(p) => panes.push(p),
                None => {
                    ok = false;
                    let names: Vec<&str> = Pane::all().into_iter().map(Pane::name).collect();
                    let expected = match names.split_last() {
                        Some((last, rest)) if !rest.is_empty() => {
                            format!("{} or {last}", rest.join(", "))
                        }
                        _ => names.join(""),
                    };
                    self.error(
                        item.span(),
                        format!("unknown pane `{name}` (expected {expected})"),
                    );
                }
            }
        }
        ok.then_some(panes)
    }
}
