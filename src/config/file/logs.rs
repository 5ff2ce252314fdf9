//! `[logs]` (the logs pane's bounds and JSON field names) and a region's
//! `[region.elasticsearch]` (history): checked like the rest of the file.
//! Secrets may be written inline or as `env:NAME` (read from the
//! environment at start); they are never logged (`es::Auth`'s `Debug`).

use super::{Checker, Value};
use crate::config::read_text_file;
use crate::config::spanned::Node;
use crate::panes::logs::es::{Auth, EsConfig, Mapping};
use crate::panes::logs::state::LogsSettings;
use std::time::Duration;

impl Checker<'_> {
    fn int_in(&mut self, what: &str, value: &Value, lo: i64, hi: i64) -> Option<i64> {
        match value.get_ref() {
            Node::Integer(n) if (lo..=hi).contains(n) => Some(*n),
            Node::Integer(n) => {
                self.error(
                    value.span(),
                    format!("`{what}` must be between {lo} and {hi}, found {n}"),
                );
                None
            }
            _ => {
                self.wrong_type(what, "an integer", value);
                None
            }
        }
    }

    fn strings(&mut self, what: &str, value: &Value) -> Option<Vec<String>> {
        let Node::Array(items) = value.get_ref() else {
            self.wrong_type(what, "an array of strings", value);
            return None;
        };
        let mut out = Vec::new();
        for item in items {
            out.push(self.non_empty_string(what, item)?.to_string());
        }
        if out.is_empty() {
            self.error(
                value.span(),
                format!("`{what}` must name at least one field"),
            );
            return None;
        }
        Some(out)
    }

    pub(super) fn logs(&mut self, value: &Value) -> LogsSettings {
        let mut s = LogsSettings::default();
        let Node::Table(fields) = value.get_ref() else {
            self.wrong_type("logs", "a table", value);
            return s;
        };
        for (key, v) in fields {
            match key.get_ref().as_str() {
                "max_streams" => {
                    // the task registry runs 64 at once: 8 stay for the rest
                    let most = (crate::tasks::MAX_TASKS - 8) as i64;
                    if let Some(n) = self.int_in("max_streams", v, 1, most) {
                        s.max_streams = n as usize;
                    }
                }
                "buffer_mib" => {
                    if let Some(n) = self.int_in("buffer_mib", v, 1, 4096) {
                        s.buffer_bytes = (n as usize) << 20;
                    }
                }
                "max_line" => {
                    if let Some(n) = self.int_in("max_line", v, 256, 1 << 20) {
                        s.max_line = n as usize;
                    }
                }
                "tail" => {
                    if let Some(n) = self.int_in("tail", v, 0, 100_000) {
                        s.tail = n as u64;
                    }
                }
                "level_fields" => {
                    if let Some(f) = self.strings("level_fields", v) {
                        s.names.level = f;
                    }
                }
                "message_fields" => {
                    if let Some(f) = self.strings("message_fields", v) {
                        s.names.message = f;
                    }
                }
                "time_fields" => {
                    if let Some(f) = self.strings("time_fields", v) {
                        s.names.time = f;
                    }
                }
                "trace_fields" => {
                    if let Some(f) = self.strings("trace_fields", v) {
                        s.names.trace = f;
                    }
                }
                other => self.error(
                    key.span(),
                    format!(
                        "unknown key `{other}` in [logs] (expected max_streams, buffer_mib, \
                         max_line, tail, level_fields, message_fields, time_fields or trace_fields)"
                    ),
                ),
            }
        }
        s
    }

    /// A secret: inline, or `env:NAME`.
    fn secret(&mut self, what: &str, value: &Value) -> Option<String> {
        let s = self.non_empty_string(what, value)?;
        match s.strip_prefix("env:") {
            Some(name) => match std::env::var(name) {
                Ok(v) if !v.is_empty() => Some(v),
                _ => {
                    self.error(
                        value.span(),
                        format!("`{what}`: the environment variable {name} is not set"),
                    );
                    None
                }
            },
            None => Some(s.to_string()),
        }
    }

    pub(super) fn elasticsearch(&mut self, value: &Value) -> Option<EsConfig> {
        let Node::Table(fields) = value.get_ref() else {
            self.wrong_type("elasticsearch", "a table", value);
            return None;
        };
        let mut cfg = EsConfig {
            url: String::new(),
            auth: Auth::None,
            ca_pem: None,
            index: "logs-*".into(),
            mapping: Mapping::ecs(),
            timeout: Duration::from_secs(10),
        };
        let mut user = None;
        let mut password = None;
        for (key, v) in fields {
            match key.get_ref().as_str() {
                "url" => cfg.url = self.url("url", v).unwrap_or_default(),
                "index" => {
                    if let Some(s) = self.non_empty_string("index", v) {
                        cfg.index = s.to_string();
                    }
                }
                "mapping" => match self.string("mapping", v) {
                    Some("ecs") => cfg.mapping = Mapping::ecs(),
                    Some("fluentbit") => cfg.mapping = Mapping::fluent_bit(),
                    Some(other) => self.error(
                        v.span(),
                        format!("unknown mapping `{other}` (expected ecs or fluentbit)"),
                    ),
                    None => {}
                },
                "ca" => {
                    if let Some(s) = self.non_empty_string("ca", v) {
                        let path = self.path(s);
                        match read_text_file(&path) {
                            Ok(pem) => cfg.ca_pem = Some(pem.into_bytes()),
                            Err(e) => self.error(
                                v.span(),
                                format!("`ca`: cannot read {}: {e}", path.display()),
                            ),
                        }
                    }
                }
                "timeout" => {
                    if let Some(n) = self.int_in("timeout", v, 1, 300) {
                        cfg.timeout = Duration::from_secs(n as u64);
                    }
                }
                "username" => user = self.non_empty_string("username", v).map(String::from),
                "password" => password = self.secret("password", v),
                "api_key" => {
                    if let Some(k) = self.secret("api_key", v) {
                        cfg.auth = Auth::ApiKey(k);
                    }
                }
                "bearer_token" => {
                    if let Some(t) = self.secret("bearer_token", v) {
                        cfg.auth = Auth::Bearer(t);
                    }
                }
                other => self.error(
                    key.span(),
                    format!(
                        "unknown key `{other}` in [region.elasticsearch] (expected url, index, \
                         mapping, ca, timeout, username, password, api_key or bearer_token)"
                    ),
                ),
            }
        }
        match (user, password) {
            (Some(user), Some(password)) => cfg.auth = Auth::Basic { user, password },
            (None, None) => {}
            _ => self.error(
                value.span(),
                "[region.elasticsearch] needs both `username` and `password`".into(),
            ),
        }
        if cfg.url.is_empty() {
            self.error(value.span(), "[region.elasticsearch] needs a `url`".into());
            return None;
        }
        Some(cfg)
    }
}

#[cfg(test)]
mod tests {
    use crate::config::parse;
    use crate::panes::logs::es::Auth;

    #[test]
    fn logs_and_elasticsearch_parse_and_their_secrets_never_print() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("ca.pem"), "-----BEGIN CERTIFICATE-----\n").unwrap();
        std::env::set_var("PITWALL_TEST_ES_KEY", "c2VjcmV0LWtleQ==");
        let source = r#"
[logs]
max_streams = 20
buffer_mib = 16
max_line = 4096
level_fields = ["severity"]

[[region]]
name = "eu"
context = "eu"
[region.elasticsearch]
url = "https://es.eu:9200"
index = "k8s-*"
mapping = "fluentbit"
ca = "ca.pem"
api_key = "env:PITWALL_TEST_ES_KEY"

[[region]]
name = "us"
context = "us"
[region.elasticsearch]
url = "https://es.us:9200"
username = "elastic"
password = "hunter2"
"#;
        let c = parse("config.toml", source, Some(dir.path())).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(c.logs.max_streams, 20);
        assert_eq!(c.logs.buffer_bytes, 16 << 20);
        assert_eq!(c.logs.names.level, vec!["severity".to_string()]);
        let eu = c.regions[0].logs_history().expect("eu");
        assert_eq!(eu.index, "k8s-*");
        assert_eq!(eu.mapping.message, "log");
        assert!(eu.ca_pem.is_some());
        assert_eq!(eu.auth, Auth::ApiKey("c2VjcmV0LWtleQ==".into()));
        let us = c.regions[1].logs_history().expect("us");
        assert!(matches!(us.auth, Auth::Basic { .. }));
        let printed = format!("{c:?}");
        assert!(
            !printed.contains("hunter2") && !printed.contains("c2VjcmV0"),
            "{printed}"
        );

        let bad = r#"
[logs]
max_streams = 0
colour = 1

[[region]]
name = "eu"
context = "eu"
[region.elasticsearch]
url = "es.eu:9200"
mapping = "loki"
password = "x"
"#;
        let errors: Vec<String> = parse("config.toml", bad, None)
            .expect_err("errors")
            .iter()
            .map(|d| d.to_string())
            .collect();
        let all = errors.join("\n");
        for want in [
            "`max_streams` must be between 1 and 56, found 0",
            "unknown key `colour` in [logs]",
            "`url` must start with http:// or https://",
            "unknown mapping `loki`",
            "needs both `username` and `password`",
        ] {
            assert!(all.contains(want), "{want}: {all}");
        }
    }
}
