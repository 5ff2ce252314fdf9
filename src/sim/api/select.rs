//! Label and field selectors, parsed the way the API server parses them.

use crate::world::store::{Index, Kind};

#[derive(Debug, Clone, PartialEq)]
enum LabelReq {
    Eq(String, String),
    Ne(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    NotExists(String),
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Selector {
    labels: Vec<LabelReq>,
    /// (path, value, equal?)
    fields: Vec<(String, String, bool)>,
}

/// Split on commas that are not inside parentheses.
fn split_top(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out.into_iter()
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect()
}

fn set_values(s: &str) -> Result<Vec<String>, String> {
    let s = s.trim();
    let inner = s
        .strip_prefix('(')
        .and_then(|x| x.strip_suffix(')'))
        .ok_or_else(|| format!("expected a parenthesised set, found {s:?}"))?;
    Ok(inner
        .split(',')
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .collect())
}

impl Selector {
    pub fn parse(label: Option<&str>, field: Option<&str>, kind: Kind) -> Result<Selector, String> {
        let mut sel = Selector::default();
        if let Some(label) = label {
            for part in split_top(label) {
                let req = if let Some(k) = part.strip_prefix('!') {
                    LabelReq::NotExists(k.trim().to_string())
                } else if let Some((k, v)) = part.split_once("!=") {
                    LabelReq::Ne(k.trim().into(), v.trim().into())
                } else if let Some((k, v)) = part.split_once("==") {
                    LabelReq::Eq(k.trim().into(), v.trim().into())
                } else if let Some((k, v)) = part.split_once('=') {
                    LabelReq::Eq(k.trim().into(), v.trim().into())
                } else if let Some((k, v)) = part.split_once(" notin ") {
                    LabelReq::NotIn(k.trim().into(), set_values(v)?)
                } else if let Some((k, v)) = part.split_once(" in ") {
                    LabelReq::In(k.trim().into(), set_values(v)?)
                } else if part.contains(' ') || part.contains('(') {
                    return Err(format!("unable to parse requirement: {part:?}"));
                } else {
                    LabelReq::Exists(part.to_string())
                };
                sel.labels.push(req);
            }
        }
        if let Some(field) = field {
            for part in split_top(field) {
                let (k, v, eq) = if let Some((k, v)) = part.split_once("!=") {
                    (k, v, false)
                } else if let Some((k, v)) = part.split_once("==") {
                    (k, v, true)
                } else if let Some((k, v)) = part.split_once('=') {
                    (k, v, true)
                } else {
                    return Err(format!("invalid field selector: {part:?}"));
                };
                let k = k.trim();
                if !kind.field_paths().contains(&k) {
                    return Err(format!("field label not supported: {k}"));
                }
                sel.fields.push((k.to_string(), v.trim().to_string(), eq));
            }
        }
        Ok(sel)
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty() && self.fields.is_empty()
    }

    pub fn matches(&self, idx: &Index) -> bool {
        let labels_ok = self.labels.iter().all(|r| match r {
            LabelReq::Eq(k, v) => idx.labels.get(k) == Some(v),
            LabelReq::Ne(k, v) => idx.labels.get(k) != Some(v),
            LabelReq::In(k, vs) => idx.labels.get(k).is_some_and(|x| vs.contains(x)),
            LabelReq::NotIn(k, vs) => idx.labels.get(k).is_none_or(|x| !vs.contains(x)),
            LabelReq::Exists(k) => idx.labels.contains_key(k),
            LabelReq::NotExists(k) => !idx.labels.contains_key(k),
        });
        labels_ok
            && self.fields.iter().all(|(k, v, eq)| {
                let actual = idx.field(k).unwrap_or("");
                (actual == v) == *eq
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn idx(labels: &[(&str, &str)], fields: &[(&'static str, &str)]) -> Index {
        Index {
            labels: labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<BTreeMap<_, _>>(),
            fields: fields.iter().map(|(k, v)| (*k, v.to_string())).collect(),
        }
    }

    #[test]
    fn label_forms() {
        let i = idx(&[("app", "web"), ("tier", "front")], &[]);
        let m = |s: &str| {
            Selector::parse(Some(s), None, Kind::Pod)
                .unwrap()
                .matches(&i)
        };
        assert!(m("app=web"));
        assert!(m("app==web,tier"));
        assert!(!m("app!=web"));
        assert!(m("app in (api, web)"));
        assert!(!m("app notin (web)"));
        assert!(m("!missing"));
        assert!(!m("missing"));
    }

    #[test]
    fn field_forms() {
        let i = idx(
            &[],
            &[("spec.nodeName", "node-1"), ("status.phase", "Running")],
        );
        let m = |s: &str| {
            Selector::parse(None, Some(s), Kind::Pod)
                .unwrap()
                .matches(&i)
        };
        assert!(m("spec.nodeName=node-1"));
        assert!(m("status.phase!=Pending,spec.nodeName==node-1"));
        assert!(!m("status.phase=Pending"));
        assert!(Selector::parse(None, Some("spec.bogus=1"), Kind::Pod).is_err());
    }
}
