//! Release stages: the ordered waves a promotion goes through, each a set
//! of regions with the gates that must hold before the next wave starts.

/// What must hold while a wave soaks. Gates read the same pod facts triage
/// does (`fleet::owners::PodFacts`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gates {
    /// Seconds the new release must stay healthy before the next wave.
    pub soak_secs: u64,
    /// Most pods of the workload unready past triage's grace period.
    pub max_unready: u32,
    /// Most new probe failures (Unhealthy events) during the wave.
    pub max_probe_failures: u32,
    /// Any pod in a crash loop fails the wave.
    pub no_crash_loop: bool,
    /// Seconds the rollout may take to complete.
    pub rollout_deadline_secs: u64,
}

impl Default for Gates {
    fn default() -> Gates {
        Gates {
            soak_secs: 120,
            max_unready: 0,
            max_probe_failures: 5,
            no_crash_loop: true,
            rollout_deadline_secs: 600,
        }
    }
}

/// One stage (a wave of regions), `[[stage]]` in config.toml.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stage {
    pub name: String,
    pub regions: Vec<String>,
    pub gates: Gates,
}

impl Stage {
    pub fn new(name: &str, regions: &[&str]) -> Stage {
        Stage {
            name: name.into(),
            regions: regions.iter().map(|r| r.to_string()).collect(),
            gates: Gates::default(),
        }
    }
}

/// The demo fleet's order: pre-release, then cn-north, then us-east and
/// ap-southeast together.
pub fn demo_stages() -> Vec<Stage> {
    vec![
        Stage::new("pre-release", &["pre-release"]),
        Stage::new("canary", &["cn-north"]),
        Stage::new("production", &["us-east", "ap-southeast"]),
    ]
}
