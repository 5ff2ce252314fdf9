//! Defuses text that comes from a cluster or a log before it reaches the
//! screen. ratatui passes control characters through to the terminal, so a
//! pod label holding `ESC ] 52 ; ...` could otherwise write the user's
//! clipboard or repaint the screen. Everything from outside goes through
//! `sanitize` (cells) or `sanitize_into` (hot paths that reuse a buffer).

use std::borrow::Cow;

/// Shown in place of a removed control or escape sequence, so the user can
/// see that something was there.
pub const REPLACEMENT: char = '\u{FFFD}';

/// True for characters that must never reach the terminal as they are.
fn is_unsafe(c: char) -> bool {
    c.is_control()
        // bidi embeddings, overrides and isolates can reorder what is shown
        || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
        // line and paragraph separators break the one-line cell
        || matches!(c, '\u{2028}' | '\u{2029}')
}

/// One line of safe text: escape sequences are removed whole and marked with
/// one `REPLACEMENT`, other control characters become `REPLACEMENT`, tab
/// becomes a space, newlines become `⏎`.
pub fn sanitize(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_unsafe) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    sanitize_into(s, &mut out);
    Cow::Owned(out)
}

/// Like `sanitize`, appending to `out` (no allocation when `out` has room).
pub fn sanitize_into(s: &str, out: &mut String) {
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if !is_unsafe(c) {
            out.push(c);
            continue;
        }
        match c {
            '\t' => out.push(' '),
            '\n' => out.push('⏎'),
            '\r' => {}
            '\u{1b}' => {
                skip_escape(&mut chars);
                out.push(REPLACEMENT);
            }
            // C1 CSI / OSC / DCS introducers carry a sequence like ESC does
            '\u{9b}' => {
                skip_csi(&mut chars);
                out.push(REPLACEMENT);
            }
            '\u{9d}' | '\u{90}' | '\u{98}' | '\u{9e}' | '\u{9f}' => {
                skip_string(&mut chars);
                out.push(REPLACEMENT);
            }
            _ => out.push(REPLACEMENT),
        }
    }
}

type Chars<'a> = std::iter::Peekable<std::str::Chars<'a>>;

/// After ESC: skip a CSI, OSC/DCS/SOS/PM/APC string, or a two-char escape.
fn skip_escape(chars: &mut Chars) {
    match chars.peek().copied() {
        Some('[') => {
            chars.next();
            skip_csi(chars);
        }
        Some(']' | 'P' | 'X' | '^' | '_') => {
            chars.next();
            skip_string(chars);
        }
        // intermediate bytes then one final byte (e.g. ESC ( B)
        Some(c) if ('\u{20}'..='\u{2f}').contains(&c) => {
            for c in chars.by_ref() {
                if !('\u{20}'..='\u{2f}').contains(&c) {
                    break;
                }
            }
        }
        Some(c) if ('\u{30}'..='\u{7e}').contains(&c) => {
            chars.next();
        }
        _ => {}
    }
}

/// CSI: parameter and intermediate bytes, then one final byte 0x40..=0x7e.
fn skip_csi(chars: &mut Chars) {
    for c in chars.by_ref() {
        if ('\u{40}'..='\u{7e}').contains(&c) {
            return;
        }
        if !('\u{20}'..='\u{3f}').contains(&c) {
            // not a CSI byte: the sequence is malformed, stop here
            return;
        }
    }
}

/// OSC-like string: up to BEL, ST (ESC \) or C1 ST, whichever comes first.
fn skip_string(chars: &mut Chars) {
    while let Some(c) = chars.next() {
        match c {
            '\u{7}' | '\u{9c}' => return,
            '\u{1b}' => {
                if chars.peek() == Some(&'\\') {
                    chars.next();
                }
                return;
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn clean_text_is_borrowed() {
        assert!(matches!(sanitize("checkout-7d9f-abcde"), Cow::Borrowed(_)));
    }

    #[test]
    fn escape_sequences_are_removed_whole() {
        assert_eq!(sanitize("a\x1b[31mred\x1b[0m"), "a\u{FFFD}red\u{FFFD}");
        assert_eq!(sanitize("x\x1b]52;c;aGVsbG8=\x07y"), "x\u{FFFD}y");
        assert_eq!(sanitize("x\x1b]0;title\x1b\\y"), "x\u{FFFD}y");
        assert_eq!(sanitize("x\u{9b}2Jy"), "x\u{FFFD}y");
        assert_eq!(sanitize("tab\there\nnext\r"), "tab here⏎next");
    }

    #[test]
    fn bidi_overrides_are_replaced() {
        assert_eq!(sanitize("ab\u{202E}cd\u{2066}"), "ab\u{FFFD}cd\u{FFFD}");
    }

    proptest! {
        #[test]
        fn output_never_holds_a_control_or_bidi_character(s in any::<String>()) {
            let out = sanitize(&s);
            prop_assert!(!out.chars().any(is_unsafe), "{:?} -> {:?}", s, out);
        }

        #[test]
        fn escape_heavy_input_is_always_safe(s in "[\\x1b\\x07\\x9b\\x9c\\[\\]\\\\;a-z0-9\u{202e}]{0,64}") {
            let out = sanitize(&s);
            prop_assert!(!out.chars().any(is_unsafe), "{:?} -> {:?}", s, out);
        }
    }
}
