//! Command-line arguments. `main.rs` parses them and hands each subcommand to
//! the module that owns it.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "pitwall",
    version,
    about = "A keyboard-driven terminal cockpit for Kubernetes fleets"
)]
pub struct Cli {
    #[command(flatten)]
    pub cockpit: CockpitArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Options of the cockpit itself (also used by `demo`).
#[derive(Debug, Clone, Args, Default)]
pub struct CockpitArgs {
    /// Config file (default: the platform config dir's pitwall/config.toml).
    #[arg(long, global = true)]
    pub config: Option<PathBuf>,
    /// Only these kube contexts, comma-separated (when no regions are configured).
    #[arg(long, value_delimiter = ',', global = true)]
    pub context: Vec<String>,
    /// Kubeconfig file (default: $KUBECONFIG, then ~/.kube/config).
    #[arg(long, global = true)]
    pub kubeconfig: Option<PathBuf>,
    /// Theme name (default, light, high-contrast, mono) or a theme file.
    #[arg(long, global = true)]
    pub theme: Option<String>,
    /// Keymap name (default, vim, emacs) or a keymap file.
    #[arg(long, global = true)]
    pub keymap: Option<String>,
    /// Refuse every action that changes a cluster.
    #[arg(long, global = true)]
    pub read_only: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the cockpit on the embedded simulated fleet.
    Demo(DemoArgs),
    /// Run the simulated fleet standalone, for kubectl or any other client.
    Sim(SimArgs),
    /// Validate config, keymap and theme files; exit non-zero on any problem.
    CheckConfig,
    /// Print the audit log (JSON lines, oldest first).
    Audit(AuditArgs),
}

#[derive(Debug, Clone, Args)]
pub struct AuditArgs {
    /// Only this region's lines.
    #[arg(long)]
    pub region: Option<String>,
    /// Only lines since a time (2026-12-03T15:00:00Z) or a duration ago (90m, 2h).
    #[arg(long)]
    pub since: Option<String>,
    /// Audit log directory (default: the state dir's pitwall/audit).
    #[arg(long)]
    pub dir: Option<PathBuf>,
}

#[derive(Debug, Clone, Args)]
pub struct DemoArgs {
    /// Scenario file (default: the embedded assets/scenarios/demo.toml).
    #[arg(long)]
    pub scenario: Option<PathBuf>,
    /// Speed the scenario's clock up (2.0 = twice as fast).
    #[arg(long)]
    pub time_scale: Option<f64>,
}

impl From<SimArgs> for pitwall_sim::SimOptions {
    fn from(a: SimArgs) -> Self {
        pitwall_sim::SimOptions {
            scenario: a.scenario,
            kubeconfig_out: a.kubeconfig_out,
            port: a.port,
            time_scale: a.time_scale,
            pods_per_region: a.pods_per_region,
            churn: a.churn,
            state_dir: a.state_dir,
            prometheus_config_out: a.prometheus_config_out,
        }
    }
}

#[derive(Debug, Clone, Args)]
pub struct SimArgs {
    /// Scenario file (default: the embedded assets/scenarios/demo.toml).
    #[arg(long)]
    pub scenario: Option<PathBuf>,
    /// Where to write the kubeconfig (one context per region).
    #[arg(long)]
    pub kubeconfig_out: Option<PathBuf>,
    /// First port; region i listens on port+i (default: ephemeral ports).
    #[arg(long)]
    pub port: Option<u16>,
    /// Speed the scenario's clock up (overrides the scenario's time_scale).
    #[arg(long)]
    pub time_scale: Option<f64>,
    /// Override every region's pod count (benchmarks).
    #[arg(long)]
    pub pods_per_region: Option<usize>,
    /// Pod updates per second in every region (event-storm benchmarks).
    #[arg(long)]
    pub churn: Option<f64>,
    /// Keep the CA, tokens and ports here: a restarted simulator is
    /// rejoined by running clients and the kubeconfig written before.
    #[arg(long)]
    pub state_dir: Option<PathBuf>,
    /// Where to write a Prometheus configuration that scrapes the
    /// simulated node_exporters (plain HTTP on 127.0.0.1).
    #[arg(long)]
    pub prometheus_config_out: Option<PathBuf>,
}
