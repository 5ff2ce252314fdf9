//! The network pane's settings, read from `config.toml`:
//!
//! ```toml
//! [network]
//! warn = 0.75                      # conntrack utilisation thresholds
//! critical = 0.90
//! poll_interval_seconds = 15       # while the pane is on screen
//! idle_poll_interval_seconds = 60  # while it is not (triage still reads)
//! exporter_selector = "app.kubernetes.io/name=node-exporter"
//! exporter_namespace = "monitoring" # optional; default all namespaces
//! exporter_port = 9100
//! [network.queries]                # PromQL templates for every region
//! drop = 'rate(node_nf_conntrack_stat_drop{$selector}[5m])'
//!
//! [[region]]
//! name = "us-east"
//! # ...
//! [region.prometheus]
//! url = "https://prometheus.us-east.example"
//! bearer_token_env = "PROM_TOKEN"  # or basic_user + basic_password_env
//! headers = { "X-Scope-OrgID" = "us-east" }
//! ca_file = "~/certs/prom-ca.pem"
//! timeout_seconds = 5
//! poll_interval_seconds = 15
//! selector = 'cluster="us-east"'   # label matchers for $selector
//! [region.prometheus.queries]      # PromQL templates, each optional
//! entries = 'node_nf_conntrack_entries{$selector}'
//! ```
//!
//! Secrets are named by environment variable, never written in the file.

use super::direct::DirectConfig;
use super::join::Thresholds;
use super::prom::{Auth, PromConfig, Queries};
use std::time::Duration;
use toml::Value;

/// `[network]` as loaded.
#[derive(Debug, Clone, PartialEq)]
pub struct NetworkSettings {
    pub thresholds: Thresholds,
    pub direct: DirectConfig,
    /// Between polls while the pane is on screen.
    pub poll_interval: Duration,
    /// Between polls while it is not.
    pub idle_poll_interval: Duration,
    /// Every region's PromQL templates, unless the region sets its own.
    pub queries: Queries,
}

// thresholds are checked finite when read
impl Eq for NetworkSettings {}

impl Default for NetworkSettings {
    fn default() -> NetworkSettings {
        NetworkSettings {
            thresholds: Thresholds::default(),
            direct: DirectConfig::default(),
            poll_interval: Duration::from_secs(15),
            idle_poll_interval: Duration::from_secs(60),
            queries: Queries::default(),
        }
    }
}

impl NetworkSettings {
    /// A region's Prometheus with `[network.queries]` in every query the
    /// region leaves at its default.
    pub fn region_prometheus(&self, region: &PromConfig) -> PromConfig {
        let mut p = region.clone();
        let d = Queries::default();
        let n = &self.queries;
        for (slot, def, net) in [
            (&mut p.queries.entries, &d.entries, &n.entries),
            (&mut p.queries.limit, &d.limit, &n.limit),
            (&mut p.queries.drop, &d.drop, &n.drop),
            (
                &mut p.queries.insert_failed,
                &d.insert_failed,
                &n.insert_failed,
            ),
            (&mut p.queries.early_drop, &d.early_drop, &n.early_drop),
            (&mut p.queries.active, &d.active, &n.active),
            (&mut p.queries.inactive, &d.inactive, &n.inactive),
            (&mut p.queries.weight, &d.weight, &n.weight),
        ] {
            if slot == def {
                *slot = net.clone();
            }
        }
        p
    }
}

/// `[network]`: thresholds, polling and how exporters are found.
pub fn network(v: &Value) -> Result<NetworkSettings, String> {
    let t = v.as_table().ok_or("[network] must be a table")?;
    let mut s = NetworkSettings::default();
    let (mut th, mut direct) = (s.thresholds, s.direct.clone());
    for (k, val) in t {
        match k.as_str() {
            "poll_interval_seconds" => s.poll_interval = seconds(k, val)?,
            "idle_poll_interval_seconds" => s.idle_poll_interval = seconds(k, val)?,
            "queries" => queries(val, &mut s.queries)?,
            "warn" => th.warn = fraction(k, val)?,
            "critical" => th.critical = fraction(k, val)?,
            "exporter_selector" => direct.selector = string(k, val)?,
            "exporter_namespace" => direct.namespace = Some(string(k, val)?),
            "exporter_port" => {
                direct.port = val
                    .as_integer()
                    .and_then(|p| u16::try_from(p).ok())
                    .filter(|p| *p > 0)
                    .ok_or("network.exporter_port must be a port number")?
            }
            other => {
                return Err(format!(
                    "unknown key `{other}` in [network] (expected warn, critical, poll_interval_seconds, idle_poll_interval_seconds, exporter_selector, exporter_namespace, exporter_port, queries)"
                ))
            }
        }
    }
    if th.warn >= th.critical {
        return Err("network.warn must be below network.critical".into());
    }
    s.thresholds = th;
    s.direct = direct;
    Ok(s)
}

/// A `queries` table: PromQL templates by name.
fn queries(val: &Value, q: &mut Queries) -> Result<(), String> {
    let t = val.as_table().ok_or("queries must be a table")?;
    for (qk, qv) in t {
        let text = string(qk, qv)?;
        let slot = match qk.as_str() {
            "entries" => &mut q.entries,
            "limit" => &mut q.limit,
            "drop" => &mut q.drop,
            "insert_failed" => &mut q.insert_failed,
            "early_drop" => &mut q.early_drop,
            "active" => &mut q.active,
            "inactive" => &mut q.inactive,
            "weight" => &mut q.weight,
            other => return Err(format!(
                "unknown query `{other}` (expected entries, limit, drop, insert_failed, early_drop, active, inactive, weight)"
            )),
        };
        *slot = text;
    }
    Ok(())
}

/// `[region.prometheus]`; `env` reads an environment variable.
pub fn prometheus(v: &Value, env: &dyn Fn(&str) -> Option<String>) -> Result<PromConfig, String> {
    let t = v.as_table().ok_or("prometheus must be a table")?;
    let url = t
        .get("url")
        .map(|u| string("url", u))
        .transpose()?
        .ok_or("prometheus needs a `url`")?;
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(format!(
            "prometheus.url must start with http:// or https://, got {url:?}"
        ));
    }
    let mut cfg = PromConfig::new(&url);
    let mut basic_user = None;
    let mut basic_password = None;
    let secret = |k: &str, val: &Value| -> Result<String, String> {
        let var = string(k, val)?;
        env(&var).ok_or(format!(
            "prometheus.{k}: environment variable {var} is not set"
        ))
    };
    for (k, val) in t {
        match k.as_str() {
            "url" => {}
            "bearer_token_env" => cfg.auth = Auth::Bearer(secret(k, val)?),
            "basic_user" => basic_user = Some(string(k, val)?),
            "basic_password_env" => basic_password = Some(secret(k, val)?),
            "headers" => {
                let h = val.as_table().ok_or("prometheus.headers must be a table")?;
                for (hk, hv) in h {
                    cfg.headers.push((hk.clone(), string(hk, hv)?));
                }
            }
            "ca_file" => {
                let path = string(k, val)?;
                let path = match path.strip_prefix("~/") {
                    Some(rest) => directories::BaseDirs::new()
                        .map(|d| d.home_dir().join(rest))
                        .unwrap_or_else(|| path.clone().into()),
                    None => path.clone().into(),
                };
                let pem = std::fs::read_to_string(&path)
                    .map_err(|e| format!("prometheus.ca_file {}: {e}", path.display()))?;
                cfg.ca_pem = Some(pem);
            }
            "timeout_seconds" => cfg.timeout = seconds(k, val)?,
            "poll_interval_seconds" => cfg.poll_interval = seconds(k, val)?,
            "selector" => cfg.selector = string(k, val)?,
            "queries" => queries(val, &mut cfg.queries)?,
            other => {
                return Err(format!(
                    "unknown key `{other}` in prometheus (expected url, bearer_token_env, basic_user, basic_password_env, headers, ca_file, timeout_seconds, poll_interval_seconds, selector, queries)"
                ))
            }
        }
    }
    match (basic_user, basic_password) {
        (Some(user), Some(password)) => cfg.auth = Auth::Basic { user, password },
        (None, None) => {}
        _ => return Err("prometheus: basic_user and basic_password_env go together".into()),
    }
    Ok(cfg)
}

fn string(k: &str, v: &Value) -> Result<String, String> {
    v.as_str()
        .map(String::from)
        .ok_or(format!("{k} must be a string"))
}

fn fraction(k: &str, v: &Value) -> Result<f64, String> {
    let x = v
        .as_float()
        .or_else(|| v.as_integer().map(|i| i as f64))
        .ok_or(format!("network.{k} must be a number"))?;
    if !(x > 0.0 && x <= 1.0) {
        return Err(format!("network.{k} must be in (0, 1], got {x}"));
    }
    Ok(x)
}

fn seconds(k: &str, v: &Value) -> Result<Duration, String> {
    let x = v
        .as_float()
        .or_else(|| v.as_integer().map(|i| i as f64))
        .ok_or(format!("prometheus.{k} must be a number"))?;
    if !(0.1..=3600.0).contains(&x) {
        return Err(format!("prometheus.{k} must be between 0.1 and 3600"));
    }
    Ok(Duration::from_secs_f64(x))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Value {
        toml::from_str(s).expect("toml")
    }

    #[test]
    fn network_thresholds_and_selector() {
        let s = network(&v(
            "warn = 0.6\ncritical = 0.8\nexporter_selector = \"app=ne\"\nexporter_port = 9101",
        ))
        .expect("ok");
        let (th, d) = (s.thresholds, s.direct);
        assert_eq!((th.warn, th.critical), (0.6, 0.8));
        assert_eq!(
            (d.selector.as_str(), d.port, d.namespace),
            ("app=ne", 9101, None)
        );
        let th = network(&v("")).expect("defaults").thresholds;
        assert_eq!(th, Thresholds::default());
        assert!(network(&v("warn = 0.9\ncritical = 0.8")).is_err());
        assert!(network(&v("warn = 75")).is_err());
        assert!(network(&v("colour = 1"))
            .unwrap_err()
            .contains("unknown key `colour`"));
    }

    #[test]
    fn network_polling_and_queries_layer_under_each_regions_own() {
        let s = network(&v(
            "poll_interval_seconds = 5\nidle_poll_interval_seconds = 120\n[queries]\ndrop = 'irate(my_drop{$selector}[1m])'",
        ))
        .expect("ok");
        assert_eq!(s.poll_interval, Duration::from_secs(5));
        assert_eq!(s.idle_poll_interval, Duration::from_secs(120));
        let mut own = PromConfig::new("http://p");
        own.queries.entries = "mine{$selector}".into();
        let p = s.region_prometheus(&own);
        assert_eq!(
            p.queries.entries, "mine{$selector}",
            "the region's own wins"
        );
        assert_eq!(p.queries.drop, "irate(my_drop{$selector}[1m])");
        assert_eq!(p.queries.limit, Queries::default().limit);
        assert!(network(&v("poll_interval_seconds = 0")).is_err());
        assert!(network(&v("[queries]\nnope = 'x'")).is_err());
    }

    #[test]
    fn secrets_never_show_in_debug_output() {
        let env = |_: &str| Some("s3cret-token".to_string());
        let c = prometheus(
            &v("url = \"https://p\"\nbearer_token_env = \"T\"\nheaders = { \"X-Api-Key\" = \"k3y\" }"),
            &env,
        )
        .expect("ok");
        let shown = format!("{c:?}");
        assert!(
            !shown.contains("s3cret") && !shown.contains("k3y"),
            "{shown}"
        );
        assert!(shown.contains("X-Api-Key"), "{shown}");
        let basic = prometheus(
            &v("url = \"https://p\"\nbasic_user = \"ops\"\nbasic_password_env = \"P\""),
            &env,
        )
        .expect("ok");
        assert!(!format!("{basic:?}").contains("s3cret"));
    }

    #[test]
    fn prometheus_auth_headers_queries_from_env() {
        let env = |k: &str| (k == "PROM_TOKEN").then(|| "s3cret".to_string());
        let c = prometheus(
            &v("url = \"https://p.example\"\nbearer_token_env = \"PROM_TOKEN\"\ntimeout_seconds = 2\nselector = 'cluster=\"x\"'\nheaders = { \"X-Scope-OrgID\" = \"x\" }\n[queries]\nentries = 'my_entries{$selector}'"),
            &env,
        )
        .expect("ok");
        assert_eq!(c.auth, Auth::Bearer("s3cret".into()));
        assert_eq!(c.timeout, Duration::from_secs(2));
        assert_eq!(
            c.headers,
            vec![("X-Scope-OrgID".to_string(), "x".to_string())]
        );
        assert_eq!(c.queries.entries, "my_entries{$selector}");
        assert_eq!(
            c.queries.limit,
            "node_nf_conntrack_entries_limit{$selector}"
        );
        let e =
            prometheus(&v("url = \"http://p\"\nbearer_token_env = \"NOPE\""), &env).unwrap_err();
        assert!(e.contains("NOPE is not set"), "{e}");
        assert!(prometheus(&v("url = \"ftp://p\""), &env).is_err());
        assert!(prometheus(&v("url = \"http://p\"\nbasic_user = \"u\""), &env).is_err());
        assert!(prometheus(&v("url = \"http://p\"\n[queries]\nnope = 'x'"), &env).is_err());
    }
}
