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
    match toml::from_str::<MaybeSpanned>(source) {
        Ok(doc) => match doc.0 {
            Node::Table(entries) => Ok(entries),
            other => Err(Diagnostic::new(
                file,
                format!("expected a table, found {}", other.kind()),
            )),
        },
        Err(e) => {
            // toml's messages run over several lines; a diagnostic is one.
            let message = e
                .message()
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .collect::<Vec<_>>()
                .join("; ");
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
        while let Some(MaybeSpanned(node, span)) = seq.next_element::<MaybeSpanned>()? {
            items.push(Spanned::new(span.unwrap_or(0..0), node));
        }
        Ok(Node::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Node, A::Error> {
        table_from(map, None)
    }
}

/// The rest of a table, after `first` (its first key, already read).
fn table_from<'de, A: MapAccess<'de>>(
    mut map: A,
    mut first: Option<SpannedKey>,
) -> Result<Node, A::Error> {
    let mut entries = Vec::new();
    loop {
        let key = match first.take() {
            Some(k) => k,
            None => match map.next_key::<SpannedKey>()? {
                Some(k) => k,
                None => break,
            },
        };
        let MaybeSpanned(value, value_span) = map.next_value::<MaybeSpanned>()?;
        // Dotted keys and dotted table headers (`[a.b]`) come without a
        // span for the implicit tables: borrow the other half's position.
        let key_span = key.1.clone().or_else(|| value_span.clone()).unwrap_or(0..0);
        let value_span = value_span.unwrap_or_else(|| key_span.clone());
        entries.push((
            Spanned::new(key_span, key.0),
            Spanned::new(value_span, value),
        ));
    }
    // TOML tables are unordered in serde; keep the file's order.
    entries.sort_by_key(|(k, _)| k.span().start);
    Ok(Node::Table(entries))
}

/// A value with its span when the deserializer has one. toml gives no span
/// for implicit tables and answers a span request with the table itself, so
/// `Spanned<Node>` cannot be used directly.
struct MaybeSpanned(Node, Option<Range<usize>>);

impl<'de> Deserialize<'de> for MaybeSpanned {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<MaybeSpanned, D::Error> {
        deserializer.deserialize_struct(SPANNED_NAME, SPANNED_FIELDS, MaybeSpannedVisitor)
    }
}

struct MaybeSpannedVisitor;

macro_rules! forward_scalar {
    ($($method:ident: $ty:ty),*) => {
        $(fn $method<E: de::Error>(self, v: $ty) -> Result<MaybeSpanned, E> {
            NodeVisitor.$method(v).map(|n| MaybeSpanned(n, None))
        })*
    };
}

impl<'de> Visitor<'de> for MaybeSpannedVisitor {
    type Value = MaybeSpanned;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a TOML value")
    }

    forward_scalar!(visit_bool: bool, visit_i64: i64, visit_u64: u64, visit_f64: f64, visit_str: &str, visit_string: String);

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<MaybeSpanned, A::Error> {
        NodeVisitor.visit_seq(seq).map(|n| MaybeSpanned(n, None))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<MaybeSpanned, A::Error> {
        let Some(first) = map.next_key::<SpannedKey>()? else {
            return Ok(MaybeSpanned(Node::Table(Vec::new()), None));
        };
        if first.0 != SPANNED_FIELDS[0] {
            // Not a span wrapper: an implicit table's own entries.
            return table_from(map, Some(first)).map(|n| MaybeSpanned(n, None));
        }
        let start = map.next_value::<usize>()?;
        let (mut end, mut value) = (None, None);
        while let Some(field) = map.next_key::<String>()? {
            if field == SPANNED_FIELDS[1] {
                end = Some(map.next_value::<usize>()?);
            } else if field == SPANNED_FIELDS[2] {
                value = Some(map.next_value::<Node>()?);
            } else {
                return Err(de::Error::unknown_field(&field, SPANNED_FIELDS));
            }
        }
        let value = value.ok_or_else(|| de::Error::missing_field("value"))?;
        let end = end.unwrap_or(start);
        Ok(MaybeSpanned(value, Some(start..end)))
    }
}

/// A table key with its span when the deserializer knows it. `Spanned<String>`
/// would fail outright on the keys of dotted table headers (`[a.b]`), which
/// toml hands over as bare strings.
struct SpannedKey(String, Option<Range<usize>>);

const SPANNED_NAME: &str = "$__serde_spanned_private_Spanned";
const SPANNED_FIELDS: &[&str] = &[
    "$__serde_spanned_private_start",
    "$__serde_spanned_private_end",
    "$__serde_spanned_private_value",
];

impl<'de> Deserialize<'de> for SpannedKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<SpannedKey, D::Error> {
        deserializer.deserialize_struct(SPANNED_NAME, SPANNED_FIELDS, KeyVisitor)
    }
}

struct KeyVisitor;

impl<'de> Visitor<'de> for KeyVisitor {
    type Value = SpannedKey;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a table key")
    }

    fn visit_str<E>(self, v: &str) -> Result<SpannedKey, E> {
        Ok(SpannedKey(v.to_string(), None))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<SpannedKey, A::Error> {
        let (mut start, mut end, mut value) = (None, None, None);
        while let Some(field) = map.next_key::<String>()? {
            if field == SPANNED_FIELDS[0] {
                start = Some(map.next_value::<usize>()?);
            } else if field == SPANNED_FIELDS[1] {
                end = Some(map.next_value::<usize>()?);
            } else if field == SPANNED_FIELDS[2] {
                value = Some(map.next_value::<String>()?);
            } else {
                return Err(de::Error::unknown_field(&field, SPANNED_FIELDS));
            }
        }
        let value = value.ok_or_else(|| de::Error::missing_field("key"))?;
        let span = start.zip(end).map(|(s, e)| s..e);
        Ok(SpannedKey(value, span))
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
    fn dotted_table_headers_parse() {
        let src = "[a.b]\nc = 1\n[d]\ne.f = 2\n";
        let doc = parse("f.toml", src).expect("valid toml");
        assert_eq!(doc[0].0.get_ref(), "a");
        let Node::Table(t) = doc[0].1.get_ref() else {
            panic!("expected a table")
        };
        assert_eq!(t[0].0.get_ref(), "b");
        let Node::Table(d) = doc[1].1.get_ref() else {
            panic!("expected a table")
        };
        let Node::Table(e) = d[0].1.get_ref() else {
            panic!("expected a table")
        };
        assert_eq!(e[0].0.get_ref(), "f");
        assert_eq!(*e[0].1.get_ref(), Node::Integer(2));
    }

    #[test]
    fn syntax_errors_are_positioned() {
        let err = parse("f.toml", "a = 1\nb = = 2\n").expect_err("invalid toml");
        assert_eq!(err.line, Some(2));
        assert!(err.message.starts_with("invalid TOML: "), "{}", err.message);
    }
}
