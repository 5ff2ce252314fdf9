//! The audit log: one JSON line per change sent to a cluster, and per exec
//! or port-forward session start and end. In the state dir (0700), file 0600,
//! bounded by size with rotation (`audit.jsonl`, `.1` .. `.keep`). Strings
//! that look like credentials are redacted before anything is written.

use super::ObjectRef;
use serde::Serialize;
use serde_json::{Map, Value};
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

pub const FILE: &str = "audit.jsonl";
/// Rotate past this size.
pub const MAX_BYTES: u64 = 4 * 1024 * 1024;
/// Rotated files kept beside the current one.
pub const KEEP: usize = 3;
/// A line above this has its parameters summed up by their size.
const MAX_LINE: usize = 16 * 1024;

/// How a change or session ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditResult {
    Ok,
    /// The server's Status message, or why the request failed.
    Failed(String),
}

/// An exec or port-forward session: one record when it starts, one when it
/// ends (exit code, bytes each way).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Session {
    /// `start` or `end`.
    pub phase: &'static str,
    /// `exec` or `port-forward`.
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    pub bytes_in: u64,
    pub bytes_out: u64,
}

/// One line of the audit log. `time`, `user` and `host` are filled by
/// `Audit::record`.
#[derive(Debug, Clone, Serialize)]
pub struct Record {
    pub time: String,
    pub user: String,
    pub host: String,
    pub region: String,
    pub context: String,
    /// The Kubernetes verb (`patch`, `delete`, `create`).
    pub verb: String,
    /// What the person chose (`scale`, `rollout restart`, `exec`).
    pub action: String,
    pub object: ObjectRef,
    pub parameters: Value,
    pub result: AuditResult,
    pub duration_ms: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session: Option<Session>,
}

impl Record {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        region: &str,
        context: &str,
        verb: &str,
        action: &str,
        object: ObjectRef,
        parameters: Value,
        result: AuditResult,
        duration: std::time::Duration,
    ) -> Record {
        Record {
            time: String::new(),
            user: String::new(),
            host: String::new(),
            region: region.into(),
            context: context.into(),
            verb: verb.into(),
            action: action.into(),
            object,
            parameters,
            result,
            duration_ms: duration.as_millis().min(u64::MAX as u128) as u64,
            session: None,
        }
    }
}

/// The audit writer. Appends are serialised; each line is written whole.
pub struct Audit {
    dir: PathBuf,
    max_bytes: u64,
    keep: usize,
    lock: Mutex<()>,
    /// Why the log could not be opened: every record fails with this.
    broken: Option<String>,
}

impl Audit {
    /// `dir` is created 0700 (and made so if it exists).
    pub fn open(dir: &Path) -> Result<Audit, String> {
        Audit::with_bounds(dir, MAX_BYTES, KEEP)
    }

    pub fn with_bounds(dir: &Path, max_bytes: u64, keep: usize) -> Result<Audit, String> {
        let fail = |e: std::io::Error| format!("audit log {}: {e}", dir.display());
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(fail)?;
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).map_err(fail)?;
        Ok(Audit {
            dir: dir.to_path_buf(),
            max_bytes: max_bytes.max(1),
            keep,
            lock: Mutex::new(()),
            broken: None,
        })
    }

    /// A log that could not be opened: it records nothing and says why.
    /// The cockpit then runs read-only, so no change goes unaudited.
    pub fn unavailable(why: String) -> Audit {
        Audit {
            dir: PathBuf::new(),
            max_bytes: 1,
            keep: 0,
            lock: Mutex::new(()),
            broken: Some(why),
        }
    }

    /// `<state dir>/audit`.
    pub fn default_dir() -> Option<PathBuf> {
        directories::ProjectDirs::from("", "", "pitwall")
            .map(|d| d.state_dir().unwrap_or(d.data_local_dir()).join("audit"))
    }

    pub fn path(&self) -> PathBuf {
        self.dir.join(FILE)
    }

    /// Appends `record`, stamped with the time, the local user and host.
    pub fn record(&self, mut record: Record) -> Result<(), String> {
        if let Some(why) = &self.broken {
            return Err(why.clone());
        }
        record.time = jiff::Timestamp::now().to_string();
        record.user = local_user();
        record.host = host_name();
        let line = render(&record)?;
        let _guard = self.lock.lock().map_err(|_| "audit log lock poisoned")?;
        let path = self.path();
        let size = fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        if size > 0 && size + line.len() as u64 > self.max_bytes {
            self.rotate()
                .map_err(|e| format!("audit log rotation: {e}"))?;
        }
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(&path)
            .map_err(|e| format!("audit log {}: {e}", path.display()))?;
        // a file made by hand or by an older version is tightened too
        let _ = file.set_permissions(fs::Permissions::from_mode(0o600));
        file.write_all(line.as_bytes())
            .map_err(|e| format!("audit log {}: {e}", path.display()))
    }

    /// `audit.jsonl` -> `.1` -> `.2` ...; the oldest past `keep` is dropped.
    fn rotate(&self) -> std::io::Result<()> {
        let name = |n: usize| self.dir.join(format!("{FILE}.{n}"));
        if self.keep == 0 {
            return fs::remove_file(self.path());
        }
        let _ = fs::remove_file(name(self.keep));
        for n in (1..self.keep).rev() {
            if name(n).exists() {
                fs::rename(name(n), name(n + 1))?;
            }
        }
        fs::rename(self.path(), name(1))
    }
}

/// The record as one redacted JSON line, bounded.
fn render(record: &Record) -> Result<String, String> {
    let mut value = serde_json::to_value(record).map_err(|e| e.to_string())?;
    redact(&mut value);
    let mut line = value.to_string();
    if line.len() > MAX_LINE {
        value["parameters"] =
            serde_json::json!({"omitted_bytes": value["parameters"].to_string().len()});
        line = value.to_string();
    }
    line.push('\n');
    Ok(line)
}

fn secret_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    [
        "password",
        "passwd",
        "token",
        "secret",
        "authorization",
        "apikey",
        "api_key",
        "credential",
    ]
    .iter()
    .any(|s| k.contains(s))
}

fn secret_patterns() -> &'static [(regex::Regex, &'static str)] {
    static RE: OnceLock<Vec<(regex::Regex, &'static str)>> = OnceLock::new();
    RE.get_or_init(|| {
        [
            (
                r"(?i)\b(bearer|basic)\s+[A-Za-z0-9\-._~+/]+=*",
                "$1 <redacted>",
            ),
            (
                r"(?i)\b(password|passwd|pwd|token|secret|api[_-]?key)(\s*[=:]\s*)[^\s,;&]+",
                "$1$2<redacted>",
            ),
            // JWTs (service account tokens)
            (
                r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*",
                "<redacted>",
            ),
        ]
        .into_iter()
        .filter_map(|(re, to)| regex::Regex::new(re).ok().map(|r| (r, to)))
        .collect()
    })
}

/// Replaces whatever looks like a credential, in values and under keys that
/// name one.
pub fn redact(value: &mut Value) {
    match value {
        Value::String(s) => {
            for (re, to) in secret_patterns() {
                if re.is_match(s) {
                    *s = re.replace_all(s, *to).into_owned();
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact),
        Value::Object(map) => redact_map(map),
        _ => {}
    }
}

fn redact_map(map: &mut Map<String, Value>) {
    for (k, v) in map.iter_mut() {
        if secret_key(k) && !v.is_null() {
            *v = Value::String("<redacted>".into());
        } else {
            redact(v);
        }
    }
}

/// The local user's login name.
pub fn local_user() -> String {
    for var in ["USER", "LOGNAME"] {
        if let Ok(u) = std::env::var(var) {
            if !u.is_empty() {
                return u;
            }
        }
    }
    // SAFETY: getuid has no preconditions.
    format!("uid:{}", unsafe { libc::getuid() })
}

pub fn host_name() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its length; the result is NUL-terminated
    // or truncated, and we stop at the first NUL.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return "unknown".into();
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}
