//! A careful reader of the Prometheus text exposition format (0.0.4), as
//! node_exporter serves it: `# HELP`/`# TYPE` lines, samples with escaped
//! label values (`\\`, `\"`, `\n`), `NaN`/`+Inf`/`-Inf`, an optional
//! timestamp. Bounded: at most `MAX_SAMPLES` samples are kept; a malformed
//! line is skipped and counted, never fatal (one bad line must not blank
//! a node).

/// Samples kept from one scrape (a director of a big region reports a few
/// thousand real servers; anything past this is cut).
pub const MAX_SAMPLES: usize = 100_000;

#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub name: String,
    /// In the order served.
    pub labels: Vec<(String, String)>,
    pub value: f64,
}

impl Sample {
    pub fn label(&self, key: &str) -> Option<&str> {
        self.labels
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Debug, Default)]
pub struct Parsed {
    pub samples: Vec<Sample>,
    /// Lines that could not be read.
    pub bad_lines: usize,
    /// Samples dropped past `MAX_SAMPLES`.
    pub cut: usize,
}

pub fn parse(text: &str) -> Parsed {
    let mut out = Parsed::default();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        match sample(line) {
            Some(s) if out.samples.len() < MAX_SAMPLES => out.samples.push(s),
            Some(_) => out.cut += 1,
            None => out.bad_lines += 1,
        }
    }
    out
}

fn valid_name(n: &str) -> bool {
    let mut chars = n.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

fn value(v: &str) -> Option<f64> {
    match v {
        "NaN" => Some(f64::NAN),
        "+Inf" | "Inf" => Some(f64::INFINITY),
        "-Inf" => Some(f64::NEG_INFINITY),
        _ => v.parse().ok(),
    }
}

fn sample(line: &str) -> Option<Sample> {
    let name_end = line.find(|c: char| c == '{' || c.is_whitespace())?;
    let name = &line[..name_end];
    if !valid_name(name) {
        return None;
    }
    let mut rest = &line[name_end..];
    let mut labels = Vec::new();
    if let Some(body) = rest.strip_prefix('{') {
        let (ls, after) = labels_block(body)?;
        labels = ls;
        rest = after;
    }
    let mut fields = rest.split_whitespace();
    let v = value(fields.next()?)?;
    // An optional timestamp (ms); anything more is malformed.
    if let Some(ts) = fields.next() {
        ts.parse::<i64>().ok()?;
    }
    if fields.next().is_some() {
        return None;
    }
    Some(Sample {
        name: name.to_string(),
        labels,
        value: v,
    })
}

/// Labels up to the closing brace; returns them and what follows.
fn labels_block(s: &str) -> Option<(Vec<(String, String)>, &str)> {
    let mut labels = Vec::new();
    let mut i = 0;
    let b = s.as_bytes();
    loop {
        while i < b.len() && (b[i] == b' ' || b[i] == b',') {
            i += 1;
        }
        if i < b.len() && b[i] == b'}' {
            return Some((labels, &s[i + 1..]));
        }
        let eq = s[i..].find('=')? + i;
        let key = s[i..eq].trim();
        if !valid_name(key) {
            return None;
        }
        i = eq + 1;
        if b.get(i) != Some(&b'"') {
            return None;
        }
        i += 1;
        let mut val = String::new();
        loop {
            let c = s[i..].chars().next()?;
            i += c.len_utf8();
            match c {
                '"' => break,
                '\\' => {
                    let e = s[i..].chars().next()?;
                    i += e.len_utf8();
                    match e {
                        'n' => val.push('\n'),
                        '\\' => val.push('\\'),
                        '"' => val.push('"'),
                        other => {
                            val.push('\\');
                            val.push(other);
                        }
                    }
                }
                c => val.push(c),
            }
        }
        labels.push((key.to_string(), val));
        while i < b.len() && b[i] == b' ' {
            i += 1;
        }
        match b.get(i) {
            Some(b',') => i += 1,
            Some(b'}') => {}
            _ => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_node_exporter_lines() {
        let text = "# HELP node_nf_conntrack_entries Number of flows.\n\
# TYPE node_nf_conntrack_entries gauge\n\
node_nf_conntrack_entries 1234\n\
node_ipvs_backend_weight{local_address=\"10.96.0.11\",local_mark=\"\",local_port=\"80\",proto=\"TCP\",remote_address=\"10.64.0.2\",remote_port=\"8080\"} 1\n\
node_load1 0.5 1700000000000\n";
        let p = parse(text);
        assert_eq!(p.bad_lines, 0);
        assert_eq!(p.samples.len(), 3);
        assert_eq!(p.samples[0].value, 1234.0);
        let w = &p.samples[1];
        assert_eq!(w.label("remote_address"), Some("10.64.0.2"));
        assert_eq!(w.label("local_mark"), Some(""));
        assert_eq!(p.samples[2].value, 0.5);
    }

    #[test]
    fn escapes_special_values_and_bad_lines() {
        let text = "m{a=\"x\\\"y\\\\z\\n\",b=\"é,}\"} NaN\n\
up +Inf\n\
down -Inf\n\
9bad 1\n\
m{a=\"unterminated} 1\n\
m{a=x} 1\n\
m 1 2 3\n\
m notanumber\n\
m{a=\"1\",} 2\n";
        let p = parse(text);
        assert_eq!(p.bad_lines, 5, "{:?}", p.samples);
        assert_eq!(p.samples[0].label("a"), Some("x\"y\\z\n"));
        assert_eq!(p.samples[0].label("b"), Some("é,}"));
        assert!(p.samples[0].value.is_nan());
        assert_eq!(p.samples[1].value, f64::INFINITY);
        assert_eq!(p.samples[2].value, f64::NEG_INFINITY);
        assert_eq!(
            p.samples[3].label("a"),
            Some("1"),
            "trailing comma is allowed"
        );
    }

    #[test]
    fn bounded() {
        let text = "x 1\n".repeat(MAX_SAMPLES + 5);
        let p = parse(&text);
        assert_eq!(p.samples.len(), MAX_SAMPLES);
        assert_eq!(p.cut, 5);
    }
}
