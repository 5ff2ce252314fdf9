//! Text the incident panes show, kept here so it is tested once and drawn
//! the same everywhere: probe configuration, warnings (the sparkline is a
//! shared widget: `widgets::sparkline`).

use crate::fleet::workloads::ProbeSpec;
use crate::panes::probes::book::ProbeRow;

/// `GET :8080/ready delay 0s period 5s timeout 1s threshold 1`
pub fn probe_config(spec: &ProbeSpec) -> String {
    format!(
        "{} [{}] delay {}s period {}s timeout {}s threshold {}",
        spec.target,
        spec.container,
        spec.initial_delay_s,
        spec.period_s,
        spec.timeout_s,
        spec.failure_threshold
    )
}

/// `2/6` pods affected.
pub fn pods_share(row: &ProbeRow) -> String {
    format!("{}/{}", row.pods_affected, row.pods_total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fleet::workloads::{ProbeKind, ProbeTarget};

    #[test]
    fn probe_config_reads_as_one_line() {
        let spec = ProbeSpec {
            container: "app".into(),
            kind: ProbeKind::Readiness,
            target: ProbeTarget::Http {
                path: "/ready".into(),
                port: "8080".into(),
            },
            initial_delay_s: 0,
            period_s: 5,
            timeout_s: 1,
            failure_threshold: 1,
        };
        assert_eq!(
            probe_config(&spec),
            "GET :8080/ready [app] delay 0s period 5s timeout 1s threshold 1"
        );
    }
}
