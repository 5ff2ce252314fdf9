//! A TOML document as a tree that remembers where every key and value sits,
//! so each loader can report `file:line:col` for any problem it finds.

use crate::diagnostic::Diagnostic;
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use std::fmt;
use std::ops::Range;
use toml::Spanned;

/// A table's entries, keys in file order.
pub type Entries = Vec<(Spanned<String>, Spanned<Node>)>;

/// A TOML value with the byte spans of its parts.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    String(String),
    Integer(i64),
    Float(f64),
    Boolean(bool),
    Array(Vec<Spanned<Node>>),
    Table(Entries),
}

impl Node {
    /// What the user wrote, in words, for "expected X, found Y" messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Node::String(_) => "a string",
            Node::Integer(_) => "an integer",
            Node::Float(_) => "a float",
            Node::Boolean(_) => "a boolean",
            Node::Array(_) => "an array",
            Node::Table(t) if t.iter().any(|(k, _)| k.get_ref().starts_with("$__toml")) => {
                "a date-time"
            }
            Node::Table(_) => "a table",
        }
    }
}

/// Parses `source`; a syntax error becomes one positioned diagnostic.
pub fn parse(file: &str, source: &str) -> Result<Entries, Diagnostic> {
    match toml::from_str::<Spanned<Node>>(source) {
        Ok(doc) => match doc.into_inner() {
            Node::Table(entries) => Ok(entries),
            other => Err(Diagnostic::new(
                file,
                format!("expected a table, found {}", other.kind()),
            )),
        },
        Err(e) => {
            let message = e.message().trim().to_string();
            let d = Diagnostic::new(file, format!("invalid TOML: {message}"));
            Err(match e.span() {
                Some(span) => d.at_offset(source, span.start),
                None => d,
            })
        }
    }
}

/// Source positions for diagnostics of one file.
#[derive(Debug, Clone, Copy)]
pub struct Located<'a> {
    pub file: &'a str,
    pub source: &'a str,
}

impl Located<'_> {
    /// A diagnostic pointing at the start of `span`.
    pub fn at(&self, span: Range<usize>, message: impl Into<String>) -> Diagnostic {
        Diagnostic::new(self.file, message).at_offset(self.source, span.start)
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Node, D::Error> {
        deserializer.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a TOML value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Node, E> {
        Ok(Node::Boolean(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Node, E> {
        Ok(Node::Integer(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Node, E> {
        i64::try_from(v)
            .map(Node::Integer)
            .map_err(|_| E::custom("integer out of range"))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Node, E> {
        Ok(Node::Float(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Node, E> {
        Ok(Node::String(v.to_string()))
    }

    fn visit_string<E>(self, v: String) -> Result<Node, E> {
        Ok(Node::String(v))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Spanned<Node>>()? {
            items.push(item);
        }
        Ok(Node::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Spanned<String>>()? {
            let value = map.next_value::<Spanned<Node>>()?;
            entries.push((key, value));
        }
        // TOML tables are unordered in serde; keep the file's order.
        entries.sort_by_key(|(k, _)| k.span().start);
        Ok(Node::Table(entries))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_values_carry_their_positions() {
        let src = "a = 1\n[t]\n\"x y\" = [\"p\", 2]\n";
        let doc = parse("f.toml", src).expect("valid toml");
        let loc = Located {
            file: "f.toml",
            source: src,
        };
        assert_eq!(doc[0].0.get_ref(), "a");
        assert_eq!(loc.at(doc[0].0.span(), "m").to_string(), "f.toml:1:1: m");
        let Node::Table(t) = doc[1].1.get_ref() else {
            panic!("expected a table")
        };
        assert_eq!(t[0].0.get_ref(), "x y");
        assert_eq!(loc.at(t[0].0.span(), "m").to_string(), "f.toml:3:1: m");
        assert_eq!(loc.at(t[0].1.span(), "m").to_string(), "f.toml:3:9: m");
        let Node::Array(items) = t[0].1.get_ref() else {
            panic!("expected an array")
        };
        assert_eq!(loc.at(items[1].span(), "m").to_string(), "f.toml:3:15: m");
    }

    #[test]
    fn syntax_errors_are_positioned() {
        let err = parse("f.toml", "a = 1\nb = = 2\n").expect_err("invalid toml");
        assert_eq!(err.line, Some(2));
        assert!(err.message.starts_with("invalid TOML: "), "{}", err.message);
    }
}
