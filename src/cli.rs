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
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Only these kube contexts, comma-separated (when no regions are configured).
    #[arg(long, value_delimiter = ',')]
    pub context: Vec<String>,
    /// Kubeconfig file (default: $KUBECONFIG, then ~/.kube/config).
    #[arg(long)]
    pub kubeconfig: Option<PathBuf>,
    /// Theme name (default, light, high-contrast, mono) or a theme file.
    #[arg(long)]
    pub theme: Option<String>,
    /// Keymap name (default, vim, emacs) or a keymap file.
    #[arg(long)]
    pub keymap: Option<String>,
    /// Refuse every action that changes a cluster.
    #[arg(long)]
    pub read_only: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the cockpit on the embedded simulated fleet.
    Demo(DemoArgs),
    /// Run the simulated fleet standalone, for kubectl or any other client.
    Sim(SimArgs),
    /// Validate config, keymap and theme files; exit non-zero on any problem.
    CheckConfig(CheckArgs),
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

/// `check-config` reads what the cockpit would.
#[derive(Debug, Clone, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub cockpit: CockpitArgs,
}

impl CockpitArgs {
    /// A subcommand's own flags, with those given before it as fallback
    /// (`pitwall --theme mono demo` and `pitwall demo --theme mono` agree).
    pub fn or(self, before: CockpitArgs) -> CockpitArgs {
        CockpitArgs {
            config: self.config.or(before.config),
            context: if self.context.is_empty() {
                before.context
            } else {
                self.context
            },
            kubeconfig: self.kubeconfig.or(before.kubeconfig),
            theme: self.theme.or(before.theme),
            keymap: self.keymap.or(before.keymap),
            read_only: self.read_only || before.read_only,
        }
    }
}

#[derive(Debug, Clone, Args)]
pub struct DemoArgs {
    #[command(flatten)]
    pub cockpit: CockpitArgs,
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

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn help(sub: &str) -> String {
        let mut cmd = Cli::command();
        cmd.build();
        match cmd.find_subcommand_mut(sub) {
            Some(sc) => sc.render_long_help().to_string(),
            None => panic!("no subcommand {sub}"),
        }
    }

    #[test]
    fn each_subcommand_shows_only_its_own_flags() {
        let sim = help("sim");
        for flag in [
            "--theme",
            "--keymap",
            "--read-only",
            "--context",
            "--config",
        ] {
            assert!(!sim.contains(flag), "sim --help lists {flag}:\n{sim}");
        }
        assert!(sim.contains("--kubeconfig-out") && sim.contains("--port"));
        let demo = help("demo");
        for flag in ["--theme", "--keymap", "--read-only", "--scenario"] {
            assert!(demo.contains(flag), "demo --help lacks {flag}:\n{demo}");
        }
        assert!(!demo.contains("--kubeconfig-out"));
        assert!(help("check-config").contains("--config"));
        // a cockpit flag means nothing to the simulator: refused
        assert!(Cli::try_parse_from(["pitwall", "sim", "--theme", "mono"]).is_err());
    }

    #[test]
    fn cockpit_flags_work_before_or_after_the_subcommand() {
        for args in [
            &["pitwall", "demo", "--theme", "mono"][..],
            &["pitwall", "--theme", "mono", "demo"][..],
        ] {
            let cli = Cli::try_parse_from(args).unwrap_or_else(|e| panic!("{e}"));
            let Some(Command::Demo(demo)) = cli.command else {
                panic!("not demo: {args:?}");
            };
            let merged = demo.cockpit.or(cli.cockpit);
            assert_eq!(merged.theme.as_deref(), Some("mono"), "{args:?}");
        }
    }
}
