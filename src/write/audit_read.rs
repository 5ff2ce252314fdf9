//! `pitwall audit`: the audit log read back, oldest first across rotated
//! files, filtered by region and by time.

use super::audit::{FILE, KEEP};
use jiff::{SignedDuration, Timestamp};
use serde_json::Value;
use std::path::Path;

/// Which lines to print.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub region: Option<String>,
    /// Lines at or after this time.
    pub since: Option<Timestamp>,
}

/// `--since`: an RFC 3339 time (`2026-12-03T15:00:00Z`) or a duration back
/// from `now` (`90m`, `2h`, `1h30m`).
pub fn parse_since(text: &str, now: Timestamp) -> Result<Timestamp, String> {
    if let Ok(t) = text.parse::<Timestamp>() {
        return Ok(t);
    }
    let d: SignedDuration = text.parse().map_err(|_| {
        format!("--since `{text}`: give a time (2026-12-03T15:00:00Z) or a duration (90m, 2h)")
    })?;
    now.checked_sub(d.abs())
        .map_err(|e| format!("--since `{text}`: {e}"))
}

/// The log's lines that pass `filter`, oldest first. A line that is not
/// JSON or has no readable time is kept when no time filter is set.
pub fn read(dir: &Path, filter: &Filter) -> Result<Vec<String>, String> {
    let mut files: Vec<_> = (1..=KEEP)
        .rev()
        .map(|i| dir.join(format!("{FILE}.{i}")))
        .collect();
    files.push(dir.join(FILE));
    let mut out = Vec::new();
    for path in files {
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(format!("{}: {e}", path.display())),
        };
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let v: Option<Value> = serde_json::from_str(line).ok();
            let field = |k: &str| v.as_ref().and_then(|v| v.get(k)).and_then(Value::as_str);
            if let Some(r) = &filter.region {
                if field("region") != Some(r.as_str()) {
                    continue;
                }
            }
            if let Some(since) = filter.since {
                match field("time").and_then(|t| t.parse::<Timestamp>().ok()) {
                    Some(t) if t >= since => {}
                    _ => continue,
                }
            }
            out.push(crate::sanitize::sanitize(line).into_owned());
        }
    }
    Ok(out)
}

/// The `pitwall audit` command: prints the matching JSON lines.
pub fn run(
    dir: Option<&Path>,
    region: Option<String>,
    since: Option<&str>,
) -> Result<std::process::ExitCode, String> {
    use std::io::Write;
    let dir = match dir {
        Some(d) => d.to_path_buf(),
        None => super::Audit::default_dir().ok_or("no state directory for the audit log")?,
    };
    let since = since
        .map(|s| parse_since(s, Timestamp::now()))
        .transpose()?;
    let lines = read(&dir, &Filter { region, since })?;
    let mut out = std::io::stdout().lock();
    for l in lines {
        writeln!(out, "{l}").map_err(|e| e.to_string())?;
    }
    Ok(std::process::ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_takes_a_time_or_a_duration_back_from_now() {
        let now: Timestamp = "2026-12-03T16:00:00Z".parse().expect("now");
        let at = |s: &str| parse_since(s, now).expect(s).to_string();
        assert_eq!(at("2026-12-03T15:00:00Z"), "2026-12-03T15:00:00Z");
        assert_eq!(at("90m"), "2026-12-03T14:30:00Z");
        assert_eq!(at("2h"), "2026-12-03T14:00:00Z");
        assert!(parse_since("yesterday-ish", now)
            .expect_err("bad")
            .contains("--since"));
    }

    #[test]
    fn rotated_files_are_read_oldest_first_and_filtered() {
        let dir = tempfile::tempdir().expect("dir");
        let line = |t: &str, r: &str| format!("{{\"time\":\"{t}\",\"region\":\"{r}\"}}\n");
        let write = |name: &str, text: String| std::fs::write(dir.path().join(name), text);
        write(&format!("{FILE}.2"), line("2026-12-03T10:00:00Z", "eu")).expect("w");
        write(&format!("{FILE}.1"), line("2026-12-03T11:00:00Z", "us")).expect("w");
        write(
            FILE,
            line("2026-12-03T12:00:00Z", "eu") + "not json\x1b[31m\n",
        )
        .expect("w");
        let all = read(dir.path(), &Filter::default()).expect("read");
        assert_eq!(all.len(), 4);
        assert!(all[0].contains("10:00") && all[1].contains("11:00") && all[2].contains("12:00"));
        assert!(!all[3].contains('\x1b'), "a hostile line is defused");
        let eu = read(
            dir.path(),
            &Filter {
                region: Some("eu".into()),
                since: None,
            },
        )
        .expect("read");
        assert_eq!(eu.len(), 2);
        let late = read(
            dir.path(),
            &Filter {
                region: None,
                since: Some("2026-12-03T10:30:00Z".parse().expect("t")),
            },
        )
        .expect("read");
        assert_eq!(late.len(), 2);
        assert!(late[0].contains("11:00"));
    }
}
