//! `--state-dir`: what a restarted simulator keeps, as a restarted API
//! server does: its CA, its tokens and its listening ports, so clients and
//! kubeconfigs written before reconnect. One JSON file, 0600, in a 0700
//! directory. It holds the simulator's own credentials by design.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

const FILE: &str = "sim-state.json";
/// A state file is a few KB; anything much larger is not ours.
const MAX_BYTES: u64 = 1 << 20;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Kept {
    pub ca_cert_pem: String,
    pub ca_key_pem: String,
    pub admin_token: String,
    pub admin_port: u16,
    /// The plain-HTTP metrics port (0 in state written before it existed).
    #[serde(default)]
    pub metrics_port: u16,
    pub regions: BTreeMap<String, KeptRegion>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct KeptRegion {
    pub port: u16,
    pub token: String,
    /// The region's Elasticsearch endpoint (0: none kept yet).
    #[serde(default)]
    pub es_port: u16,
}

fn path(dir: &Path) -> PathBuf {
    dir.join(FILE)
}

/// The kept state, or None when the directory holds none yet.
pub fn load(dir: &Path) -> Result<Option<Kept>, String> {
    let p = path(dir);
    let meta = match std::fs::metadata(&p) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("{}: {e}", p.display())),
    };
    if meta.len() > MAX_BYTES {
        return Err(format!("{}: too large to be a state file", p.display()));
    }
    let text = std::fs::read_to_string(&p).map_err(|e| format!("{}: {e}", p.display()))?;
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|e| format!("{}: not a simulator state file: {e}", p.display()))
}

/// Write the state (directory 0700, file 0600, replaced atomically).
pub fn save(dir: &Path, kept: &Kept) -> Result<(), String> {
    let e = |p: &Path, err: std::io::Error| format!("{}: {err}", p.display());
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|x| e(dir, x))?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(|x| e(dir, x))?;
    let tmp = dir.join(format!("{FILE}.tmp"));
    let body = serde_json::to_vec_pretty(kept).map_err(|x| x.to_string())?;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(|x| e(&tmp, x))?;
    f.set_permissions(std::fs::Permissions::from_mode(0o600))
        .map_err(|x| e(&tmp, x))?;
    f.write_all(&body).map_err(|x| e(&tmp, x))?;
    f.sync_all().map_err(|x| e(&tmp, x))?;
    let p = path(dir);
    std::fs::rename(&tmp, &p).map_err(|x| e(&p, x))
}
