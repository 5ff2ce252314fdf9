//! One log entry as the logs pane holds it: where it came from, its instant
//! (the kubelet's `timestamps=true` prefix), its text made safe, and what a
//! JSON line says (level, message, time, trace id, other fields), parsed
//! once on arrival with configurable field names.

use crate::sanitize::sanitize_into;
use serde_json::Value;
use std::sync::Arc;

/// Longest line kept; the rest is cut with a marker.
pub const DEFAULT_MAX_LINE: usize = 16 * 1024;
/// Marks a line whose bytes were not valid UTF-8 (kept lossily).
pub const LOSSY_MARK: &str = "[invalid UTF-8] ";

/// Field names a JSON line's parts are looked up by, first match wins;
/// dotted names also match nested objects (`log.level`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldNames {
    pub level: Vec<String>,
    pub message: Vec<String>,
    pub time: Vec<String>,
    pub trace: Vec<String>,
}

impl Default for FieldNames {
    fn default() -> Self {
        let v = |xs: &[&str]| xs.iter().map(|s| s.to_string()).collect();
        FieldNames {
            level: v(&["level", "lvl", "severity", "log.level"]),
            message: v(&["msg", "message"]),
            time: v(&["ts", "time", "@timestamp"]),
            trace: v(&["trace_id", "trace.id"]),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
    Fatal,
}

impl Level {
    pub fn parse(s: &str) -> Option<Level> {
        Some(match s.trim().to_ascii_lowercase().as_str() {
            "trace" | "trc" => Level::Trace,
            "debug" | "dbg" | "d" => Level::Debug,
            "info" | "inf" | "information" | "notice" | "i" => Level::Info,
            "warn" | "warning" | "wrn" | "w" => Level::Warn,
            "error" | "err" | "e" => Level::Error,
            "fatal" | "critical" | "crit" | "panic" | "emergency" | "alert" => Level::Fatal,
            _ => return None,
        })
    }

    pub fn label(self) -> &'static str {
        match self {
            Level::Trace => "TRACE",
            Level::Debug => "DEBUG",
            Level::Info => "INFO",
            Level::Warn => "WARN",
            Level::Error => "ERROR",
            Level::Fatal => "FATAL",
        }
    }
}

/// Where a line came from; shared by every line of a stream.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Origin {
    pub region: String,
    pub namespace: String,
    pub pod: String,
    pub container: String,
}

impl Origin {
    /// `region/pod/container`, the tag shown before each line.
    pub fn tag(&self) -> String {
        format!("{}/{}/{}", self.region, self.pod, self.container)
    }

    /// A stable colour slot for the pod (same pod, same colour, every run).
    pub fn colour_slot(&self, slots: usize) -> usize {
        // FNV-1a: stable across runs and platforms, unlike the std hasher
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in self.region.bytes().chain([0]).chain(self.pod.bytes()) {
            h ^= b as u64;
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        (h % slots.max(1) as u64) as usize
    }
}

/// What a JSON line says.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    pub message: Option<String>,
    pub time: Option<String>,
    pub trace: Option<String>,
    /// Other top-level fields, `key=value`, sanitised, by name.
    pub fields: Vec<(String, String)>,
    /// The whole object, pretty-printed and sanitised line by line.
    pub pretty: Vec<String>,
}

/// One entry: a line, plus the continuation lines of a multi-line entry
/// (a stack trace stays with its first line).
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    pub origin: Arc<Origin>,
    /// Epoch nanoseconds from the kubelet's prefix (0 when there was none).
    pub ts: i64,
    /// The kubelet's timestamp as sent (RFC 3339, nanoseconds).
    pub stamp: String,
    /// The text, sanitised, cut, marked when it was not UTF-8.
    pub text: String,
    pub level: Option<Level>,
    pub parsed: Option<Parsed>,
    pub continuation: Vec<String>,
    pub cut: bool,
    pub lossy: bool,
}

impl Line {
    /// Bytes this entry costs the ring buffer (text plus bookkeeping).
    pub fn cost(&self) -> usize {
        let parsed = self.parsed.as_ref().map_or(0, |p| {
            p.message.as_ref().map_or(0, String::len)
                + p.fields
                    .iter()
                    .map(|(k, v)| k.len() + v.len() + 48)
                    .sum::<usize>()
                + p.pretty.iter().map(|l| l.len() + 24).sum::<usize>()
        });
        self.text.len()
            + self.stamp.len()
            + self
                .continuation
                .iter()
                .map(|l| l.len() + 24)
                .sum::<usize>()
            + parsed
            + 128
    }

    /// Every line's text, for filters and saving.
    pub fn all_text(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.text.as_str()).chain(self.continuation.iter().map(String::as_str))
    }
}

/// Split the kubelet's `timestamps=true` prefix off a raw line.
pub fn split_stamp(raw: &[u8]) -> (Option<(i64, String)>, &[u8]) {
    let Some(sp) = raw.iter().position(|b| *b == b' ') else {
        return (None, raw);
    };
    let Ok(head) = std::str::from_utf8(&raw[..sp]) else {
        return (None, raw);
    };
    match head.parse::<jiff::Timestamp>() {
        Ok(t) => (
            Some((t.as_nanosecond() as i64, head.to_string())),
            &raw[sp + 1..],
        ),
        Err(_) => (None, raw),
    }
}

/// Text made safe for one screen line: lossy UTF-8 marked, cut at `max`
/// bytes with a marker, sanitised. Returns (text, cut, lossy).
pub fn clean(raw: &[u8], max: usize) -> (String, bool, bool) {
    clean_over(raw, max, 0)
}

/// `clean` of a line of which `over` more bytes were not even read.
pub fn clean_over(raw: &[u8], max: usize, over: usize) -> (String, bool, bool) {
    let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
    let total = raw.len() + over;
    let (body, cut) = if total > max {
        (&raw[..max.min(raw.len())], true)
    } else {
        (raw, false)
    };
    let s = String::from_utf8_lossy(body);
    // A cut inside a multi-byte character is not the source's fault.
    let lossy = matches!(s, std::borrow::Cow::Owned(_))
        && !(cut && std::str::from_utf8(body).is_err_and(|e| e.error_len().is_none()));
    let mut out = String::with_capacity(s.len() + 24);
    if lossy {
        out.push_str(LOSSY_MARK);
    }
    let s = if cut && !lossy {
        let end = match std::str::from_utf8(body) {
            Ok(_) => body.len(),
            Err(e) => e.valid_up_to(),
        };
        String::from_utf8_lossy(&body[..end])
    } else {
        s
    };
    sanitize_into(&s, &mut out);
    if cut {
        out.push_str(&format!(" …[cut {} bytes]", total - body.len()));
    }
    (out, cut, lossy)
}

fn lookup<'a>(obj: &'a Value, name: &str) -> Option<&'a Value> {
    if let Some(v) = obj.get(name) {
        return Some(v);
    }
    let mut cur = obj;
    for part in name.split('.') {
        cur = cur.get(part)?;
    }
    Some(cur)
}

fn as_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn safe(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    sanitize_into(s, &mut out);
    out
}

/// Parse a JSON object line with the configured names.
pub fn parse_json(text: &str, names: &FieldNames) -> Option<(Option<Level>, Parsed)> {
    let t = text.trim_start();
    if !t.starts_with('{') {
        return None;
    }
    let v: Value = serde_json::from_str(t).ok()?;
    let obj = v.as_object()?;
    let pick = |list: &[String]| -> Option<(String, String)> {
        list.iter()
            .find_map(|n| lookup(&v, n).map(|x| (n.clone(), as_text(x))))
    };
    let level = pick(&names.level);
    let message = pick(&names.message);
    let time = pick(&names.time);
    let trace = pick(&names.trace);
    let used: Vec<&str> = [&level, &message, &time, &trace]
        .iter()
        .filter_map(|x| x.as_ref().map(|(n, _)| n.split('.').next().unwrap_or(n)))
        .collect();
    let fields = obj
        .iter()
        .filter(|(k, _)| !used.contains(&k.as_str()))
        .map(|(k, x)| (safe(k), safe(&as_text(x))))
        .collect();
    let pretty = serde_json::to_string_pretty(&v)
        .unwrap_or_default()
        .lines()
        .map(safe)
        .collect();
    Some((
        level.as_ref().and_then(|(_, l)| Level::parse(l)),
        Parsed {
            message: message.map(|(_, m)| safe(&m)),
            time: time.map(|(_, t)| safe(&t)),
            trace: trace.map(|(_, t)| safe(&t)),
            fields,
            pretty,
        },
    ))
}

/// The level word of a plain line (`... ERROR [worker] ...`), if any of its
/// first four words is one.
pub fn plain_level(text: &str) -> Option<Level> {
    text.split_whitespace()
        .take(4)
        .map(|w| w.trim_matches(|c: char| !c.is_ascii_alphabetic()))
        .filter(|w| w.len() >= 4 && w.chars().all(|c| c.is_ascii_uppercase()))
        .find_map(Level::parse)
}

/// Whether a line continues the previous entry: indented lines, `Caused
/// by:`, `... N more`, and the exception line a trace starts with.
pub fn is_continuation(text: &str) -> bool {
    if text.starts_with([' ', '\t']) {
        return !text.trim().is_empty();
    }
    if text.starts_with("Caused by:") || text.starts_with("...") {
        return true;
    }
    let head = text.split([':', ' ']).next().unwrap_or("");
    head.contains('.')
        && (head.ends_with("Exception") || head.ends_with("Error"))
        && head
            .chars()
            .all(|c| c.is_alphanumeric() || c == '.' || c == '$' || c == '_')
}

/// Build an entry from one raw line of a stream.
pub fn build(origin: &Arc<Origin>, raw: &[u8], names: &FieldNames, max: usize) -> Line {
    build_cut(origin, raw, names, max, 0)
}

/// `build` of a line of which `over` more bytes were not read (too long).
pub fn build_cut(
    origin: &Arc<Origin>,
    raw: &[u8],
    names: &FieldNames,
    max: usize,
    over: usize,
) -> Line {
    let (stamp, rest) = split_stamp(raw);
    let (ts, stamp) = stamp.unwrap_or((0, String::new()));
    let (text, cut, lossy) = clean_over(rest, max, over);
    let parsed = if lossy || cut {
        None
    } else {
        std::str::from_utf8(rest)
            .ok()
            .and_then(|t| parse_json(t, names))
    };
    let (level, parsed) = match parsed {
        Some((l, p)) => (l, Some(p)),
        None => (plain_level(&text), None),
    };
    Line {
        origin: origin.clone(),
        ts,
        stamp,
        text,
        level,
        parsed,
        continuation: Vec::new(),
        cut,
        lossy,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin() -> Arc<Origin> {
        Arc::new(Origin {
            region: "eu".into(),
            namespace: "shop".into(),
            pod: "web-1".into(),
            container: "app".into(),
        })
    }

    #[test]
    fn json_lines_are_parsed_with_the_default_names() {
        let raw = br#"2026-12-03T10:00:01.123456789Z {"ts":"t","level":"warn","msg":"slow","trace_id":"abc","path":"/x","n":3}"#;
        let l = build(&origin(), raw, &FieldNames::default(), DEFAULT_MAX_LINE);
        assert_eq!(l.stamp, "2026-12-03T10:00:01.123456789Z");
        assert_eq!(l.ts % 1_000_000_000, 123_456_789);
        assert_eq!(l.level, Some(Level::Warn));
        let p = l.parsed.expect("parsed");
        assert_eq!(p.message.as_deref(), Some("slow"));
        assert_eq!(p.trace.as_deref(), Some("abc"));
        assert_eq!(
            p.fields,
            vec![("n".into(), "3".into()), ("path".into(), "/x".into())]
        );
        let nested = br#"{"log":{"level":"ERROR"},"message":"m","trace":{"id":"t1"}}"#;
        let l = build(&origin(), nested, &FieldNames::default(), DEFAULT_MAX_LINE);
        assert_eq!(l.level, Some(Level::Error));
        assert_eq!(l.parsed.unwrap().trace.as_deref(), Some("t1"));
        let names = FieldNames {
            level: vec!["sev".into()],
            ..FieldNames::default()
        };
        let l = build(&origin(), br#"{"sev":"fatal","msg":"x"}"#, &names, 100);
        assert_eq!(l.level, Some(Level::Fatal));
    }

    #[test]
    fn hostile_overlong_and_invalid_lines_are_defused_and_marked() {
        let raw = b"2026-12-03T10:00:01Z boom \x1b]52;c;cHduZWQ=\x07\x1b[2J\xe2\x80\xaetxt";
        let l = build(&origin(), raw, &FieldNames::default(), DEFAULT_MAX_LINE);
        assert!(
            !l.text.chars().any(|c| c.is_control() || c == '\u{202e}'),
            "{:?}",
            l.text
        );
        assert!(l.text.starts_with("boom "));
        let long = vec![b'a'; 100];
        let (t, cut, lossy) = clean(&long, 10);
        assert!(cut && !lossy);
        assert_eq!(t, "aaaaaaaaaa …[cut 90 bytes]");
        let (t, _, lossy) = clean(b"ok \xff\xfe end", 100);
        assert!(lossy);
        assert!(t.starts_with(LOSSY_MARK) && t.ends_with("end"), "{t}");
        // a cut inside a multi-byte character is not marked lossy
        let (t, cut, lossy) = clean("ééééé".as_bytes(), 3);
        assert!(cut && !lossy, "{t}");
        assert!(t.starts_with('é'));
    }

    #[test]
    fn levels_and_continuations_of_plain_lines() {
        assert_eq!(
            plain_level("2026-12-03T10:00:01Z ERROR [worker-3] unhandled"),
            Some(Level::Error)
        );
        assert_eq!(plain_level("GET /index.html 200"), None);
        assert!(is_continuation("\tat com.shop.Pool.acquire(Pool.java:12)"));
        assert!(is_continuation(
            "java.lang.IllegalStateException: connection reset by peer"
        ));
        assert!(is_continuation("Caused by: java.io.IOException"));
        assert!(!is_continuation("2026-12-03T10:00:01Z INFO ok"));
        assert!(!is_continuation("{\"msg\":\"x\"}"));
    }

    #[test]
    fn pod_colours_are_stable() {
        let o = origin();
        assert_eq!(o.colour_slot(8), o.colour_slot(8));
        assert_eq!(o.tag(), "eu/web-1/app");
    }
}
