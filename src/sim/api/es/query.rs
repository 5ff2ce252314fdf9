//! The query DSL subset the Elasticsearch endpoint understands: `match_all`,
//! `query_string` (words, "phrases", `field:value`, AND/OR/NOT, `-`, `*`
//! suffixes, parentheses), `range` on `@timestamp`, `term`/`terms`/`match`/
//! `match_phrase`, `bool`. Anything else is a `parsing_exception`, as a real
//! server answers an unknown query.

use serde_json::Value;

/// A parsed query.
#[derive(Debug, Clone, PartialEq)]
pub enum Q {
    All,
    /// `@timestamp` between two inclusive bounds in epoch nanoseconds.
    Range(Option<i64>, Option<i64>),
    /// Exact value of a keyword field (`term`, `terms`).
    Term(String, Vec<String>),
    /// Analysed match: words on `message`, exact elsewhere.
    Match(String, String, bool),
    Bool {
        must: Vec<Q>,
        should: Vec<Q>,
        must_not: Vec<Q>,
        min_should: usize,
    },
}

/// What a query sees of a document; `None` from `field` means "not known
/// yet" (the instance-level pass knows the pod but not the line).
pub trait Fields {
    fn field(&self, name: &str) -> Option<Option<String>>;
    fn ts(&self) -> Option<i64>;
}

/// Lower-case words of a text, as the standard analyser splits them.
pub fn words(s: &str) -> impl Iterator<Item = String> + '_ {
    s.split(|c: char| !c.is_alphanumeric() && c != '_')
        .filter(|w| !w.is_empty())
        .map(|w| w.to_lowercase())
}

fn canonical(field: &str) -> &str {
    field.strip_suffix(".keyword").unwrap_or(field)
}

impl Q {
    /// Some(true/false) when decided, None when it depends on unknown fields.
    pub fn eval(&self, d: &dyn Fields) -> Option<bool> {
        match self {
            Q::All => Some(true),
            Q::Range(lo, hi) => {
                let t = d.ts()?;
                Some(lo.is_none_or(|l| t >= l) && hi.is_none_or(|h| t <= h))
            }
            Q::Term(f, vals) => {
                let v = d.field(canonical(f))?;
                Some(v.is_some_and(|v| {
                    vals.iter().any(|x| {
                        if canonical(f) == "log.level" {
                            x.eq_ignore_ascii_case(&v)
                        } else {
                            *x == v
                        }
                    })
                }))
            }
            Q::Match(f, text, phrase) => {
                let f = canonical(f);
                if f == "*" || f == "message" || f == "_all" {
                    let v = d.field("message")?.unwrap_or_default();
                    Some(text_matches(&v, text, *phrase))
                } else {
                    let v = d.field(f)?;
                    Some(v.is_some_and(|v| {
                        v.eq_ignore_ascii_case(text) || {
                            // Wildcards in query_string on a keyword field.
                            text.strip_suffix('*').is_some_and(|p| v.starts_with(p))
                        }
                    }))
                }
            }
            Q::Bool {
                must,
                should,
                must_not,
                min_should,
            } => {
                let mut unknown = false;
                for q in must {
                    match q.eval(d) {
                        Some(false) => return Some(false),
                        None => unknown = true,
                        Some(true) => {}
                    }
                }
                for q in must_not {
                    match q.eval(d) {
                        Some(true) => return Some(false),
                        None => unknown = true,
                        Some(false) => {}
                    }
                }
                if *min_should > 0 {
                    let (mut yes, mut maybe) = (0, 0);
                    for q in should {
                        match q.eval(d) {
                            Some(true) => yes += 1,
                            None => maybe += 1,
                            Some(false) => {}
                        }
                    }
                    if yes + maybe < *min_should {
                        return Some(false);
                    }
                    if yes < *min_should {
                        unknown = true;
                    }
                }
                if unknown {
                    None
                } else {
                    Some(true)
                }
            }
        }
    }

    /// Inclusive `@timestamp` bounds every match lies within.
    pub fn bounds(&self) -> (Option<i64>, Option<i64>) {
        match self {
            Q::Range(lo, hi) => (*lo, *hi),
            Q::Bool { must, .. } => {
                let (mut lo, mut hi) = (None::<i64>, None::<i64>);
                for q in must {
                    let (l, h) = q.bounds();
                    lo = match (lo, l) {
                        (Some(a), Some(b)) => Some(a.max(b)),
                        (a, b) => a.or(b),
                    };
                    hi = match (hi, h) {
                        (Some(a), Some(b)) => Some(a.min(b)),
                        (a, b) => a.or(b),
                    };
                }
                (lo, hi)
            }
            _ => (None, None),
        }
    }
}

fn text_matches(text: &str, query: &str, phrase: bool) -> bool {
    if phrase {
        return text.to_lowercase().contains(&query.to_lowercase());
    }
    let q: Vec<String> = query.split_whitespace().map(|w| w.to_lowercase()).collect();
    if q.iter().any(|w| w == "*") {
        return true;
    }
    words(text).any(|w| {
        q.iter().any(|x| match x.strip_suffix('*') {
            Some(p) => w.starts_with(p),
            None => words(x).any(|x| x == w),
        })
    })
}

/// A query error: the ES `type` and `reason`.
pub type Err = (&'static str, String);

fn perr(reason: impl Into<String>) -> Err {
    ("parsing_exception", reason.into())
}

/// Parse the `query` object of a search body.
pub fn parse(v: &Value) -> Result<Q, Err> {
    let Some(obj) = v.as_object() else {
        return Err(perr("query malformed, must start with start_object"));
    };
    if obj.len() != 1 {
        return Err(perr(
            "[query] malformed query, expected a single query clause",
        ));
    }
    let (kind, body) = obj.iter().next().ok_or_else(|| perr("empty query"))?;
    match kind.as_str() {
        "match_all" => Ok(Q::All),
        "bool" => parse_bool(body),
        "range" => parse_range(body),
        "term" | "match" | "match_phrase" => {
            let (field, val) = single_field(kind, body)?;
            let val = match val {
                Value::Object(o) => o
                    .get("value")
                    .or_else(|| o.get("query"))
                    .cloned()
                    .unwrap_or(Value::Null),
                other => other.clone(),
            };
            let text =
                scalar(&val).ok_or_else(|| perr(format!("[{kind}] value must be a scalar")))?;
            Ok(match kind.as_str() {
                "term" => Q::Term(field, vec![text]),
                k => Q::Match(field, text, k == "match_phrase"),
            })
        }
        "terms" => {
            let (field, val) = single_field(kind, body)?;
            let vals = val
                .as_array()
                .ok_or_else(|| perr("[terms] query does not support a non-array value"))?
                .iter()
                .filter_map(scalar)
                .collect();
            Ok(Q::Term(field, vals))
        }
        "query_string" | "simple_query_string" => {
            let q = body
                .get("query")
                .and_then(Value::as_str)
                .ok_or_else(|| perr(format!("[{kind}] requires 'query' field")))?;
            let and = body
                .get("default_operator")
                .and_then(Value::as_str)
                .is_some_and(|o| o.eq_ignore_ascii_case("and"));
            let field = body
                .get("default_field")
                .and_then(Value::as_str)
                .unwrap_or("message");
            query_string(q, field, and)
        }
        other => Err(perr(format!("unknown query [{other}]"))),
    }
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn single_field<'a>(kind: &str, body: &'a Value) -> Result<(String, &'a Value), Err> {
    let o = body
        .as_object()
        .filter(|o| o.len() == 1)
        .ok_or_else(|| perr(format!("[{kind}] query doesn't support multiple fields")))?;
    let (f, v) = o.iter().next().ok_or_else(|| perr("empty"))?;
    Ok((f.clone(), v))
}

fn clauses(v: Option<&Value>) -> Result<Vec<Q>, Err> {
    match v {
        None => Ok(vec![]),
        Some(Value::Array(a)) => a.iter().map(parse).collect(),
        Some(o) => Ok(vec![parse(o)?]),
    }
}

fn parse_bool(body: &Value) -> Result<Q, Err> {
    let o = body
        .as_object()
        .ok_or_else(|| perr("[bool] query malformed"))?;
    for k in o.keys() {
        if ![
            "must",
            "filter",
            "should",
            "must_not",
            "minimum_should_match",
            "boost",
        ]
        .contains(&k.as_str())
        {
            return Err(perr(format!("[bool] query does not support [{k}]")));
        }
    }
    let mut must = clauses(o.get("must"))?;
    must.extend(clauses(o.get("filter"))?);
    let should = clauses(o.get("should"))?;
    let must_not = clauses(o.get("must_not"))?;
    let min_should = match o.get("minimum_should_match") {
        Some(v) => scalar(v).and_then(|s| s.parse().ok()).unwrap_or(1),
        None if must.is_empty() && !should.is_empty() => 1,
        None => 0,
    };
    Ok(Q::Bool {
        must,
        should,
        must_not,
        min_should,
    })
}

fn parse_range(body: &Value) -> Result<Q, Err> {
    let (field, r) = single_field("range", body)?;
    if field != "@timestamp" {
        return Err(perr(format!(
            "[range] is supported on [@timestamp] only, not [{field}]"
        )));
    }
    let bound = |k: &str| -> Result<Option<i64>, Err> {
        match r.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => date_nanos(v).map(Some).ok_or_else(|| {
                (
                    "parse_exception",
                    format!("failed to parse date field [{v}] with format [strict_date_optional_time||epoch_millis]"),
                )
            }),
        }
    };
    let lo = match (bound("gte")?, bound("gt")?) {
        (Some(a), _) => Some(a),
        (None, Some(b)) => Some(b.saturating_add(1)),
        _ => None,
    };
    let hi = match (bound("lte")?, bound("lt")?) {
        (Some(a), _) => Some(a),
        (None, Some(b)) => Some(b.saturating_sub(1)),
        _ => None,
    };
    Ok(Q::Range(lo, hi))
}

/// A date as ES reads it: RFC 3339, epoch milliseconds, or `now[-+]N[smhd]`.
pub fn date_nanos(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().map(|ms| ms.saturating_mul(1_000_000)),
        Value::String(s) => {
            if let Some(rest) = s.strip_prefix("now") {
                let now = jiff::Timestamp::now().as_nanosecond() as i64;
                let rest = rest.split('/').next().unwrap_or("");
                if rest.is_empty() {
                    return Some(now);
                }
                let (sign, num) = match rest.split_at(1) {
                    ("-", n) => (-1i64, n),
                    ("+", n) => (1, n),
                    _ => return None,
                };
                let unit = num.chars().last()?;
                let n: i64 = num[..num.len() - 1].parse().ok()?;
                let secs = match unit {
                    's' => n,
                    'm' => n * 60,
                    'h' => n * 3600,
                    'd' => n * 86_400,
                    _ => return None,
                };
                return Some(now + sign * secs * 1_000_000_000);
            }
            if let Ok(ms) = s.parse::<i64>() {
                return Some(ms.saturating_mul(1_000_000));
            }
            s.parse::<jiff::Timestamp>()
                .ok()
                .map(|t| t.as_nanosecond() as i64)
        }
        _ => None,
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(String),
    Phrase(String),
    Field(String),
    And,
    Or,
    Not,
    Open,
    Close,
}

fn lex(s: &str) -> Result<Vec<Tok>, Err> {
    let mut out = Vec::new();
    let mut it = s.chars().peekable();
    while let Some(&c) = it.peek() {
        match c {
            c if c.is_whitespace() => {
                it.next();
            }
            '(' | ')' => {
                it.next();
                out.push(if c == '(' { Tok::Open } else { Tok::Close });
            }
            '-' | '!' => {
                it.next();
                out.push(Tok::Not);
            }
            '+' => {
                it.next();
            }
            '"' => {
                it.next();
                let mut p = String::new();
                loop {
                    match it.next() {
                        Some('"') => break,
                        Some('\\') => p.extend(it.next()),
                        Some(c) => p.push(c),
                        None => {
                            return Err((
                                "query_shard_exception",
                                format!("Failed to parse query [{s}]: unterminated phrase"),
                            ))
                        }
                    }
                }
                out.push(Tok::Phrase(p));
            }
            _ => {
                let mut w = String::new();
                while let Some(&c) = it.peek() {
                    if c.is_whitespace() || c == '(' || c == ')' || c == '"' {
                        break;
                    }
                    it.next();
                    if c == '\\' {
                        w.extend(it.next());
                        continue;
                    }
                    w.push(c);
                    if c == '\u{1}' {
                        // `field:` ends the word; a phrase or group may follow
                        break;
                    }
                }
                match w.as_str() {
                    "AND" | "&&" => out.push(Tok::And),
                    "OR" | "||" => out.push(Tok::Or),
                    "NOT" => out.push(Tok::Not),
                    _ => out.push(Tok::Word(w)),
                }
            }
        }
    }
    Ok(out)
}

/// Parse a Lucene-style query string into a `Q`.
pub fn query_string(s: &str, default_field: &str, default_and: bool) -> Result<Q, Err> {
    let toks = lex_fields(s)?;
    let mut p = Parser {
        toks,
        pos: 0,
        field: default_field.to_string(),
        and: default_and,
        src: s.to_string(),
    };
    if p.toks.is_empty() {
        return Ok(Q::All);
    }
    let q = p.or()?;
    if p.pos < p.toks.len() {
        return Err(p.err("unexpected token"));
    }
    Ok(q)
}

/// Lex, turning `word:` into field markers (the lexer drops the colon).
fn lex_fields(s: &str) -> Result<Vec<Tok>, Err> {
    // Mark field names by a private prefix before lexing: `name:` -> field.
    let mut marked = String::with_capacity(s.len());
    let mut in_phrase = false;
    let mut prev = '\0';
    for c in s.chars() {
        if c == '"' && prev != '\\' {
            in_phrase = !in_phrase;
        }
        if c == ':' && !in_phrase && prev != '\\' {
            marked.push('\u{1}');
        } else {
            marked.push(c);
        }
        prev = c;
    }
    Ok(lex(&marked)?
        .into_iter()
        .flat_map(|t| match t {
            Tok::Word(w) if w.contains('\u{1}') => {
                let (f, v) = w.split_once('\u{1}').unwrap_or((&w, ""));
                let mut v2 = vec![Tok::Field(f.to_string())];
                if !v.is_empty() {
                    v2.push(Tok::Word(v.replace('\u{1}', ":")));
                }
                v2
            }
            Tok::Phrase(p) => vec![Tok::Phrase(p.replace('\u{1}', ":"))],
            t => vec![t],
        })
        .collect())
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
    field: String,
    and: bool,
    src: String,
}

impl Parser {
    fn err(&self, why: &str) -> Err {
        (
            "query_shard_exception",
            format!("Failed to parse query [{}]: {why}", self.src),
        )
    }

    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn or(&mut self) -> Result<Q, Err> {
        let mut parts = vec![self.and_expr()?];
        while self.peek() == Some(&Tok::Or) {
            self.pos += 1;
            parts.push(self.and_expr()?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Q::Bool {
                must: vec![],
                should: parts,
                must_not: vec![],
                min_should: 1,
            }
        })
    }

    fn and_expr(&mut self) -> Result<Q, Err> {
        // Juxtaposed terms join with the default operator.
        let mut must = vec![];
        let mut must_not = vec![];
        let mut should = vec![];
        let mut explicit_and = false;
        loop {
            let neg = if self.peek() == Some(&Tok::Not) {
                self.pos += 1;
                true
            } else {
                false
            };
            let q = self.unary()?;
            match (neg, self.and || explicit_and) {
                (true, _) => must_not.push(q),
                (false, true) => must.push(q),
                (false, false) => should.push(q),
            }
            match self.peek() {
                Some(Tok::And) => {
                    self.pos += 1;
                    explicit_and = true;
                    must.append(&mut should);
                }
                None | Some(Tok::Or) | Some(Tok::Close) => break,
                _ => {}
            }
        }
        if must.len() == 1 && should.is_empty() && must_not.is_empty() {
            return Ok(must.remove(0));
        }
        if should.len() == 1 && must.is_empty() && must_not.is_empty() {
            return Ok(should.remove(0));
        }
        let min_should = usize::from(must.is_empty() && !should.is_empty());
        if must.is_empty() && should.is_empty() {
            must.push(Q::All);
        }
        Ok(Q::Bool {
            must,
            should,
            must_not,
            min_should,
        })
    }

    fn unary(&mut self) -> Result<Q, Err> {
        let field = match self.peek() {
            Some(Tok::Field(f)) => {
                let f = f.clone();
                self.pos += 1;
                Some(f)
            }
            _ => None,
        };
        let f = field.unwrap_or_else(|| self.field.clone());
        match self.toks.get(self.pos).cloned() {
            Some(Tok::Open) => {
                self.pos += 1;
                let saved = std::mem::replace(&mut self.field, f);
                let q = self.or()?;
                self.field = saved;
                if self.peek() != Some(&Tok::Close) {
                    return Err(self.err("missing ')'"));
                }
                self.pos += 1;
                Ok(q)
            }
            Some(Tok::Word(w)) => {
                self.pos += 1;
                if w == "*" && (f == "*" || f == "message") {
                    return Ok(Q::All);
                }
                Ok(Q::Match(f, w, false))
            }
            Some(Tok::Phrase(p)) => {
                self.pos += 1;
                Ok(Q::Match(f, p, true))
            }
            _ => Err(self.err("expected a term")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    struct D(&'static str, &'static str, i64);
    impl Fields for D {
        fn field(&self, name: &str) -> Option<Option<String>> {
            Some(match name {
                "message" => Some(self.0.to_string()),
                "log.level" => Some(self.1.to_string()),
                "kubernetes.pod.name" => Some("checkout-1".into()),
                _ => None,
            })
        }
        fn ts(&self) -> Option<i64> {
            Some(self.2)
        }
    }

    fn m(q: &str, d: &D) -> bool {
        query_string(q, "message", false).unwrap().eval(d).unwrap()
    }

    #[test]
    fn query_strings_match_as_lucene_would() {
        let d = D("payment authorised for cart", "error", 5);
        assert!(m("payment", &d));
        assert!(m("pay*", &d));
        assert!(!m("refund", &d));
        assert!(m("refund OR payment", &d));
        assert!(m("refund payment", &d), "default operator is OR");
        assert!(!m("refund AND payment", &d));
        assert!(m("\"authorised for\"", &d));
        assert!(!m("\"for authorised\"", &d));
        assert!(m("log.level:error AND payment", &d));
        assert!(!m("log.level:info", &d));
        assert!(!m("NOT payment", &d));
        assert!(m("-refund", &d));
        assert!(m("kubernetes.pod.name:checkout-1", &d));
        assert!(m("(refund OR cart) AND log.level:ERROR", &d));
        assert!(query_string("(a", "message", false).is_err());
        assert!(query_string("\"a", "message", false).is_err());
    }

    #[test]
    fn dsl_bool_range_terms() {
        let q = parse(&json!({"bool": {
            "filter": [{"range": {"@timestamp": {"gte": 3, "lt": 10}}}],
            "must": [{"match": {"message": "cart"}}],
            "must_not": [{"term": {"log.level": "info"}}]
        }}))
        .unwrap();
        assert_eq!(q.bounds(), (Some(3_000_000), Some(9_999_999)));
        assert_eq!(q.eval(&D("cart", "error", 5_000_000)), Some(true));
        assert_eq!(q.eval(&D("cart", "info", 5_000_000)), Some(false));
        assert_eq!(q.eval(&D("cart", "error", 10_000_000)), Some(false));
        assert!(parse(&json!({"fuzzy": {"message": "x"}})).is_err());
        assert!(parse(&json!({"range": {"@timestamp": {"gte": "yesterday"}}})).is_err());
    }
}
