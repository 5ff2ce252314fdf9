//! Key syntax: `q`, `G`, `gg`, `<C-d>`, `<S-Tab>`, `<C-A-x>`, `<F5>`.
//!
//! Parsing normalises, so two spellings of one key compare equal and
//! `format_keys(parse_keys(s))` gives the canonical spelling back.

use super::Key;
use crossterm::event::{KeyCode, KeyModifiers};

/// Named keys inside angle brackets (matched case-insensitively).
const NAMED: &[(&str, KeyCode)] = &[
    ("Tab", KeyCode::Tab),
    ("BackTab", KeyCode::BackTab),
    ("Esc", KeyCode::Esc),
    ("Enter", KeyCode::Enter),
    ("CR", KeyCode::Enter),
    ("Return", KeyCode::Enter),
    ("Up", KeyCode::Up),
    ("Down", KeyCode::Down),
    ("Left", KeyCode::Left),
    ("Right", KeyCode::Right),
    ("PageUp", KeyCode::PageUp),
    ("PageDown", KeyCode::PageDown),
    ("Home", KeyCode::Home),
    ("End", KeyCode::End),
    ("Space", KeyCode::Char(' ')),
    ("Backspace", KeyCode::Backspace),
    ("BS", KeyCode::Backspace),
    ("Delete", KeyCode::Delete),
    ("Del", KeyCode::Delete),
    ("Insert", KeyCode::Insert),
    ("lt", KeyCode::Char('<')),
    ("gt", KeyCode::Char('>')),
];

/// The longest key sequence a binding may have: nobody types more, and the
/// lookup structure is as deep as the longest sequence.
pub const MAX_SEQUENCE: usize = 8;

/// Parses a whole binding key such as `gg` or `<C-w>j` into its keys.
pub fn parse_keys(text: &str) -> Result<Vec<Key>, String> {
    if text.is_empty() {
        return Err("empty key".into());
    }
    let mut keys = Vec::new();
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if keys.len() == MAX_SEQUENCE {
            return Err(format!(
                "a binding is at most {MAX_SEQUENCE} keys long; this one is longer"
            ));
        }
        if c == '<' {
            let Some(end) = rest.find('>') else {
                return Err(format!("`{rest}` has no closing `>`"));
            };
            // `<>` is not a key; `<>>` would be ambiguous: spell `>` bare.
            keys.push(parse_bracketed(&rest[1..end])?);
            rest = &rest[end + 1..];
        } else {
            if c.is_control() {
                return Err(format!(
                    "control character {c:?} is not a key; use <C-x> syntax"
                ));
            }
            keys.push(Key {
                code: KeyCode::Char(c),
                mods: KeyModifiers::NONE,
            });
            rest = &rest[c.len_utf8()..];
        }
    }
    Ok(keys)
}

/// The inside of `<...>`: modifiers (`C-`, `A-`/`M-`, `S-`) then a key.
fn parse_bracketed(inner: &str) -> Result<Key, String> {
    if inner.is_empty() {
        return Err("`<>` names no key".into());
    }
    let mut mods = KeyModifiers::NONE;
    let mut rest = inner;
    // A modifier is one letter and a dash, and never the last thing.
    while rest.len() > 2 && rest.as_bytes()[1] == b'-' {
        let m = match rest.as_bytes()[0].to_ascii_uppercase() {
            b'C' => KeyModifiers::CONTROL,
            b'A' | b'M' => KeyModifiers::ALT,
            b'S' => KeyModifiers::SHIFT,
            _ => return Err(format!("unknown modifier `{}` in `<{inner}>`", &rest[..2])),
        };
        if mods.contains(m) {
            return Err(format!("modifier repeated in `<{inner}>`"));
        }
        mods |= m;
        rest = &rest[2..];
    }
    let mut chars = rest.chars();
    let code = match (chars.next(), chars.next()) {
        (Some(c), None) => KeyCode::Char(c),
        _ => named_code(rest).ok_or_else(|| format!("unknown key name `{rest}` in `<{inner}>`"))?,
    };
    Ok(normalise(Key { code, mods }))
}

fn named_code(name: &str) -> Option<KeyCode> {
    if let Some((_, code)) = NAMED.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)) {
        return Some(*code);
    }
    let digits = name.strip_prefix('F').or_else(|| name.strip_prefix('f'))?;
    match digits.parse::<u8>() {
        Ok(n @ 1..=24) => Some(KeyCode::F(n)),
        _ => None,
    }
}

/// One canonical form per key: terminals report a shifted letter as the
/// upper-case letter (SHIFT dropped by `Key::from_event`), and Shift-Tab as
/// `BackTab`.
pub fn normalise(key: Key) -> Key {
    let Key { mut code, mut mods } = key;
    match code {
        KeyCode::Char(c) if mods.contains(KeyModifiers::SHIFT) => {
            mods.remove(KeyModifiers::SHIFT);
            code = KeyCode::Char(c.to_uppercase().next().unwrap_or(c));
        }
        KeyCode::Tab if mods.contains(KeyModifiers::SHIFT) => {
            mods.remove(KeyModifiers::SHIFT);
            code = KeyCode::BackTab;
        }
        KeyCode::BackTab => mods.remove(KeyModifiers::SHIFT),
        _ => {}
    }
    Key { code, mods }
}

/// The canonical spelling of one key.
pub fn format_key(key: Key) -> String {
    let Key { code, mods } = key;
    let (base, named) = match code {
        KeyCode::Char(' ') => ("Space".to_string(), true),
        KeyCode::Char('<') => ("lt".to_string(), true),
        KeyCode::Char('>') if !mods.is_empty() => ("gt".to_string(), true),
        KeyCode::Char(c) => (c.to_string(), false),
        KeyCode::BackTab => {
            // Written the way people type it.
            let prefix = modifier_prefix(mods);
            return format!("<{prefix}S-Tab>");
        }
        KeyCode::F(n) => (format!("F{n}"), true),
        other => {
            let name = NAMED
                .iter()
                .find(|(_, c)| *c == other)
                .map_or_else(|| format!("{other:?}"), |(n, _)| n.to_string());
            (name, true)
        }
    };
    let prefix = modifier_prefix(mods);
    if prefix.is_empty() && !named {
        base
    } else {
        format!("<{prefix}{base}>")
    }
}

fn modifier_prefix(mods: KeyModifiers) -> String {
    let mut s = String::new();
    if mods.contains(KeyModifiers::CONTROL) {
        s.push_str("C-");
    }
    if mods.contains(KeyModifiers::ALT) {
        s.push_str("A-");
    }
    if mods.contains(KeyModifiers::SHIFT) {
        s.push_str("S-");
    }
    s
}

/// The canonical spelling of a key sequence.
pub fn format_keys(keys: &[Key]) -> String {
    keys.iter().map(|k| format_key(*k)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::{KeyEvent, KeyEventKind, KeyEventState};

    fn key(code: KeyCode, mods: KeyModifiers) -> Key {
        Key { code, mods }
    }

    #[test]
    fn plain_named_and_modified_keys_parse() {
        let none = KeyModifiers::NONE;
        assert_eq!(parse_keys("q"), Ok(vec![key(KeyCode::Char('q'), none)]));
        assert_eq!(
            parse_keys("gg"),
            Ok(vec![
                key(KeyCode::Char('g'), none),
                key(KeyCode::Char('g'), none)
            ])
        );
        assert_eq!(parse_keys("<Tab>"), Ok(vec![key(KeyCode::Tab, none)]));
        assert_eq!(parse_keys("<S-Tab>"), Ok(vec![key(KeyCode::BackTab, none)]));
        assert_eq!(
            parse_keys("<C-d>"),
            Ok(vec![key(KeyCode::Char('d'), KeyModifiers::CONTROL)])
        );
        assert_eq!(
            parse_keys("<C-A-x>"),
            Ok(vec![key(
                KeyCode::Char('x'),
                KeyModifiers::CONTROL | KeyModifiers::ALT
            )])
        );
        assert_eq!(parse_keys("<F5>"), Ok(vec![key(KeyCode::F(5), none)]));
        assert_eq!(
            parse_keys("<Space>"),
            Ok(vec![key(KeyCode::Char(' '), none)])
        );
        assert_eq!(parse_keys("]"), Ok(vec![key(KeyCode::Char(']'), none)]));
    }

    #[test]
    fn spellings_of_one_key_normalise_alike() {
        assert_eq!(parse_keys("<S-g>"), parse_keys("G"));
        assert_eq!(parse_keys("<c-d>"), parse_keys("<C-d>"));
        assert_eq!(parse_keys("<M-x>"), parse_keys("<A-x>"));
        assert_eq!(parse_keys("<A-C-x>"), parse_keys("<C-A-x>"));
        assert_eq!(parse_keys("<tab>"), parse_keys("<Tab>"));
        assert_eq!(parse_keys("<CR>"), parse_keys("<Enter>"));
        assert_eq!(parse_keys(" "), parse_keys("<Space>"));
        assert_eq!(parse_keys("<BackTab>"), parse_keys("<S-Tab>"));
    }

    #[test]
    fn bad_syntax_is_rejected_with_the_reason() {
        assert_eq!(parse_keys(""), Err("empty key".to_string()));
        assert_eq!(
            parse_keys("<C-d"),
            Err("`<C-d` has no closing `>`".to_string())
        );
        assert_eq!(
            parse_keys("<Foo>"),
            Err("unknown key name `Foo` in `<Foo>`".to_string())
        );
        assert_eq!(
            parse_keys("<X-a>"),
            Err("unknown modifier `X-` in `<X-a>`".to_string())
        );
        assert_eq!(parse_keys("<>"), Err("`<>` names no key".to_string()));
        assert_eq!(
            parse_keys("<F25>"),
            Err("unknown key name `F25` in `<F25>`".to_string())
        );
        assert_eq!(
            parse_keys("<C-C-x>"),
            Err("modifier repeated in `<C-C-x>`".to_string())
        );
        assert!(parse_keys("\t").is_err());
    }

    #[test]
    fn canonical_spellings_round_trip() {
        for s in [
            "q",
            "G",
            "gg",
            "/",
            "?",
            ":",
            "]",
            "<Tab>",
            "<S-Tab>",
            "<Esc>",
            "<Enter>",
            "<Up>",
            "<Down>",
            "<Left>",
            "<Right>",
            "<PageUp>",
            "<PageDown>",
            "<Home>",
            "<End>",
            "<Space>",
            "<Backspace>",
            "<F1>",
            "<F12>",
            "<C-x>",
            "<A-x>",
            "<C-A-x>",
            "<C-X>",
            "<S-Up>",
            "<C-S-Tab>",
            "<lt>",
            "<C-w>j",
            ">",
        ] {
            let keys = parse_keys(s).unwrap_or_else(|e| panic!("{s}: {e}"));
            assert_eq!(format_keys(&keys), s, "canonical form of {s}");
        }
    }

    #[test]
    fn typed_keys_match_their_written_form() {
        let ev = |code, modifiers| KeyEvent {
            code,
            modifiers,
            kind: KeyEventKind::Press,
            state: KeyEventState::NONE,
        };
        // Terminals send Shift-g as `G` with SHIFT, Shift-Tab as BackTab with SHIFT.
        let typed = Key::from_event(&ev(KeyCode::Char('G'), KeyModifiers::SHIFT));
        assert_eq!(vec![typed], parse_keys("G").unwrap_or_default());
        let typed = Key::from_event(&ev(KeyCode::BackTab, KeyModifiers::SHIFT));
        assert_eq!(vec![typed], parse_keys("<S-Tab>").unwrap_or_default());
        let typed = Key::from_event(&ev(KeyCode::Char('d'), KeyModifiers::CONTROL));
        assert_eq!(vec![typed], parse_keys("<C-d>").unwrap_or_default());
    }

    fn arb_key() -> impl proptest::strategy::Strategy<Value = Key> {
        use proptest::prelude::*;
        let code = prop_oneof![
            proptest::char::range('!', '~').prop_map(KeyCode::Char),
            Just(KeyCode::Char(' ')),
            Just(KeyCode::Char('é')),
            (1u8..=24).prop_map(KeyCode::F),
            proptest::sample::select(NAMED.iter().map(|(_, c)| *c).collect::<Vec<_>>()),
        ];
        (code, 0u8..8).prop_map(|(code, bits)| {
            let mods = KeyModifiers::from_bits_truncate(bits);
            Key { code, mods }
        })
    }

    proptest::proptest! {
        #[test]
        fn any_key_sequence_round_trips(keys in proptest::collection::vec(arb_key(), 1..4)) {
            let normal: Vec<Key> = keys.into_iter().map(normalise).collect();
            let text = format_keys(&normal);
            proptest::prop_assert_eq!(parse_keys(&text), Ok(normal), "via {}", text);
        }
    }
}
