//! Promotions kept in the state dir, so a restarted cockpit shows a plan
//! and its progress and can resume or abort it: one JSON file per
//! workload (`<ns>_<name>.json`), file 0600 in a 0700 directory, each at
//! most `MAX_FILE` bytes, at most `MAX_PLANS` files (the oldest finished go
//! first). No credential is ever part of a plan.

use super::plan::{Plan, PlanState};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

pub const MAX_FILE: usize = 256 * 1024;
pub const MAX_PLANS: usize = 64;

/// `<state dir>/pitwall/promotions`, next to the audit log.
pub fn default_dir() -> Option<PathBuf> {
    crate::write::Audit::default_dir().and_then(|a| a.parent().map(|p| p.join("promotions")))
}

fn file_name(plan_ns: &str, name: &str) -> String {
    let clean = |s: &str| -> String {
        s.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                    c
                } else {
                    '_'
                }
            })
            .collect()
    };
    format!("{}_{}.json", clean(plan_ns), clean(name))
}

fn ensure_dir(dir: &Path) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
        .map_err(|e| format!("{}: {e}", dir.display()))
}

/// Writes the plan (whole file replaced through a rename, so a crash
/// leaves the old or the new, never half).
pub fn save(dir: &Path, plan: &Plan) -> Result<(), String> {
    ensure_dir(dir)?;
    let text = serde_json::to_vec_pretty(plan).map_err(|e| e.to_string())?;
    if text.len() > MAX_FILE {
        return Err(format!("promotion record over {MAX_FILE} bytes: not saved"));
    }
    let path = dir.join(file_name(&plan.namespace, &plan.name));
    let tmp = path.with_extension("json.tmp");
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(|e| format!("{}: {e}", tmp.display()))?;
    f.write_all(&text)
        .and_then(|()| f.sync_all())
        .map_err(|e| format!("{}: {e}", tmp.display()))?;
    std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o600))
        .map_err(|e| e.to_string())?;
    std::fs::rename(&tmp, &path).map_err(|e| format!("{}: {e}", path.display()))?;
    prune(dir);
    Ok(())
}

/// Every plan in `dir`; one that was running is `Interrupted` now (no task
/// drives it until resumed). Unreadable files are skipped.
pub fn load_all(dir: &Path) -> Vec<Plan> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut plans: Vec<Plan> = entries
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
        .filter(|e| e.metadata().is_ok_and(|m| m.len() <= MAX_FILE as u64))
        .filter_map(|e| std::fs::read(e.path()).ok())
        .filter_map(|b| serde_json::from_slice::<Plan>(&b).ok())
        .take(MAX_PLANS)
        .collect();
    for p in &mut plans {
        if matches!(p.state, PlanState::Running | PlanState::Proposed) {
            p.state = PlanState::Interrupted;
        }
    }
    plans.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
    plans
}

/// Keeps at most `MAX_PLANS` files: the oldest finished plans go first.
fn prune(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut files: Vec<(bool, i64, PathBuf)> = entries
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
        .map(|e| {
            let plan = std::fs::read(e.path())
                .ok()
                .and_then(|b| serde_json::from_slice::<Plan>(&b).ok());
            let finished = plan.as_ref().is_some_and(|p| p.state.finished());
            (!finished, plan.map_or(0, |p| p.updated), e.path())
        })
        .collect();
    if files.len() <= MAX_PLANS {
        return;
    }
    // finished first, oldest first
    files.sort();
    for (_, _, path) in files.iter().take(files.len() - MAX_PLANS) {
        let _ = std::fs::remove_file(path);
    }
}
