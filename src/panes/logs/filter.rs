//! What the logs pane shows of its buffer: include and exclude regexes at
//! once, a minimum level, `field=value`, a highlight, and a search walked
//! with n/N. A bad regex is refused with the reason and the previous filter
//! stays.

use super::line::{Level, Line};
use regex::Regex;

/// Compiled size limit: a filter runs on every line.
const REGEX_SIZE: usize = 1 << 20;

fn compile(s: &str) -> Result<Option<Regex>, String> {
    if s.is_empty() {
        return Ok(None);
    }
    regex::RegexBuilder::new(s)
        .size_limit(REGEX_SIZE)
        .build()
        .map(Some)
        .map_err(|e| match e {
            regex::Error::Syntax(m) => m,
            other => other.to_string(),
        })
}

#[derive(Default, Clone)]
pub struct Filter {
    pub include: Option<Regex>,
    pub exclude: Option<Regex>,
    pub min_level: Option<Level>,
    pub field: Option<(String, String)>,
    pub highlight: Option<Regex>,
}

impl Filter {
    /// Set the include regex; on error the previous one stays.
    pub fn set_include(&mut self, s: &str) -> Result<(), String> {
        self.include = compile(s)?;
        Ok(())
    }

    pub fn set_exclude(&mut self, s: &str) -> Result<(), String> {
        self.exclude = compile(s)?;
        Ok(())
    }

    pub fn set_highlight(&mut self, s: &str) -> Result<(), String> {
        self.highlight = compile(s)?;
        Ok(())
    }

    /// `field=value` (empty clears it).
    pub fn set_field(&mut self, s: &str) -> Result<(), String> {
        let s = s.trim();
        if s.is_empty() {
            self.field = None;
            return Ok(());
        }
        let (k, v) = s
            .split_once('=')
            .ok_or_else(|| format!("{s:?}: expected field=value"))?;
        self.field = Some((k.trim().to_string(), v.trim().to_string()));
        Ok(())
    }

    /// `info`, `warn`, ... (empty clears it).
    pub fn set_level(&mut self, s: &str) -> Result<(), String> {
        let s = s.trim();
        if s.is_empty() {
            self.min_level = None;
            return Ok(());
        }
        self.min_level = Some(Level::parse(s).ok_or_else(|| {
            format!("{s:?} is not a level (trace, debug, info, warn, error, fatal)")
        })?);
        Ok(())
    }

    pub fn is_active(&self) -> bool {
        self.include.is_some()
            || self.exclude.is_some()
            || self.min_level.is_some()
            || self.field.is_some()
    }

    pub fn matches(&self, l: &Line) -> bool {
        if let Some(min) = self.min_level {
            // An entry with no level is not known to be below: shown.
            if l.level.is_some_and(|x| x < min) {
                return false;
            }
        }
        if let Some((k, v)) = &self.field {
            let found = l.parsed.as_ref().is_some_and(|p| {
                p.fields.iter().any(|(fk, fv)| fk == k && fv == v)
                    || (k == "trace" && p.trace.as_deref() == Some(v))
                    || (k == "msg" && p.message.as_deref() == Some(v))
            }) || match k.as_str() {
                "pod" => l.origin.pod == *v,
                "region" => l.origin.region == *v,
                "container" => l.origin.container == *v,
                "namespace" => l.origin.namespace == *v,
                "level" => l.level.is_some_and(|x| Some(x) == Level::parse(v)),
                _ => false,
            };
            if !found {
                return false;
            }
        }
        if let Some(r) = &self.include {
            if !l.all_text().any(|t| r.is_match(t)) {
                return false;
            }
        }
        if let Some(r) = &self.exclude {
            if l.all_text().any(|t| r.is_match(t)) {
                return false;
            }
        }
        true
    }
}

/// A search over the shown entries, walked with n (older to newer) and N.
#[derive(Default, Clone)]
pub struct Search {
    pub regex: Option<Regex>,
}

impl Search {
    pub fn set(&mut self, s: &str) -> Result<(), String> {
        self.regex = compile(s)?;
        Ok(())
    }

    fn hit(&self, l: &Line) -> bool {
        self.regex
            .as_ref()
            .is_some_and(|r| l.all_text().any(|t| r.is_match(t)))
    }

    /// The next hit after `from` (n) or before it (N) among `shown`
    /// (sequence numbers in display order), wrapping around.
    pub fn step<'a>(
        &self,
        shown: &[u64],
        from: Option<u64>,
        forward: bool,
        get: impl Fn(u64) -> Option<&'a Line>,
    ) -> Option<u64> {
        self.regex.as_ref()?;
        let pos = from.and_then(|f| shown.iter().position(|s| *s == f));
        let n = shown.len();
        for k in 1..=n {
            let i = match (pos, forward) {
                (Some(p), true) => (p + k) % n,
                (Some(p), false) => (p + n - k % n) % n,
                (None, true) => k - 1,
                (None, false) => n - k,
            };
            if get(shown[i]).is_some_and(|l| self.hit(l)) {
                return Some(shown[i]);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::panes::logs::line::{build, FieldNames, Origin};
    use std::sync::Arc;

    fn line(s: &str) -> Line {
        let o = Arc::new(Origin {
            region: "eu".into(),
            namespace: "shop".into(),
            pod: "web-1".into(),
            container: "app".into(),
        });
        build(&o, s.as_bytes(), &FieldNames::default(), 1000)
    }

    #[test]
    fn include_exclude_level_and_field_at_once() {
        let lines = [
            line(r#"{"level":"error","msg":"payment failed","path":"/pay"}"#),
            line(r#"{"level":"info","msg":"payment ok","path":"/pay"}"#),
            line(r#"{"level":"error","msg":"cart failed","path":"/cart"}"#),
            line("2026-12-03T10:00:00Z ERROR [w] payment timeout"),
        ];
        let mut f = Filter::default();
        f.set_include("payment").unwrap();
        f.set_exclude("timeout").unwrap();
        f.set_level("warn").unwrap();
        f.set_field("path=/pay").unwrap();
        let shown: Vec<bool> = lines.iter().map(|l| f.matches(l)).collect();
        assert_eq!(shown, [true, false, false, false]);
        f.set_field("").unwrap();
        let shown: Vec<bool> = lines.iter().map(|l| f.matches(l)).collect();
        assert_eq!(shown, [true, false, false, false]);
        f.set_exclude("").unwrap();
        assert!(f.matches(&lines[3]));
    }

    #[test]
    fn a_bad_regex_says_why_and_keeps_the_previous_filter() {
        let mut f = Filter::default();
        f.set_include("ok").unwrap();
        let err = f.set_include("(unclosed").unwrap_err();
        assert!(err.contains("unclosed"), "{err}");
        assert_eq!(f.include.as_ref().map(|r| r.as_str()), Some("ok"));
        assert!(f.set_level("loud").is_err());
        assert!(f.set_field("novalue").is_err());
    }

    #[test]
    fn search_walks_forward_and_back_wrapping() {
        let lines = [line("a hit"), line("b"), line("c hit"), line("d")];
        let get = |s: u64| lines.get(s as usize);
        let mut s = Search::default();
        s.set("hit").unwrap();
        let shown = [0, 1, 2, 3];
        assert_eq!(s.step(&shown, None, true, get), Some(0));
        assert_eq!(s.step(&shown, Some(0), true, get), Some(2));
        assert_eq!(s.step(&shown, Some(2), true, get), Some(0));
        assert_eq!(s.step(&shown, Some(0), false, get), Some(2));
        assert_eq!(s.step(&shown, Some(1), false, get), Some(0));
    }
}
