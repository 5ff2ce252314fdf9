//! Whether pitwall may change a cluster: one answer for the write path.

use super::RegionConfig;

/// Why a region is read-only. The first that applies wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadOnly {
    /// The config file did not load cleanly (this many problems): nothing
    /// it said can be trusted, so nothing is written.
    ConfigProblems(usize),
    /// `--read-only` or `read_only = true` at the top of config.toml.
    Global,
    /// `read_only = true` in this region's `[[region]]`.
    Region,
}

impl ReadOnly {
    /// For the refusal shown to the user.
    pub fn reason(self) -> String {
        match self {
            ReadOnly::ConfigProblems(n) => format!(
                "read-only: config has {n} problem{}",
                if n == 1 { "" } else { "s" }
            ),
            ReadOnly::Global => "read-only (--read-only or read_only = true)".into(),
            ReadOnly::Region => "read-only region (read_only = true in its [[region]])".into(),
        }
    }
}

/// The global half of the answer, fixed at start-up.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Access {
    /// `--read-only` or the config's top-level `read_only = true`.
    pub read_only: bool,
    /// Problems in the config file; > 0 means it did not load.
    pub config_problems: usize,
}

impl Access {
    /// The one question the write path asks: may a region whose own
    /// `[[region]] read_only` is `region_read_only` be changed? `None` = yes.
    pub fn read_only(&self, region_read_only: bool) -> Option<ReadOnly> {
        if self.config_problems > 0 {
            Some(ReadOnly::ConfigProblems(self.config_problems))
        } else if self.read_only {
            Some(ReadOnly::Global)
        } else if region_read_only {
            Some(ReadOnly::Region)
        } else {
            None
        }
    }

    /// `read_only` for a configured region.
    pub fn region(&self, region: &RegionConfig) -> Option<ReadOnly> {
        self.read_only(region.read_only)
    }
}
