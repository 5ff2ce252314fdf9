//! Text the incident panes show, kept here so it is tested once and drawn
//! the same everywhere: sparklines, probe configuration, warnings.

use super::probes::ProbeRow;
use super::workloads::ProbeSpec;

const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// One character per value, scaled to the largest; zero is a space so
/// quiet minutes read as quiet. `width` keeps the most recent values.
pub fn sparkline(values: &[u32], width: usize) -> String {
    let values = &values[values.len().saturating_sub(width)..];
    let max = values.iter().copied().max().unwrap_or(0);
    values
        .iter()
        .map(|&v| {
            if v == 0 || max == 0 {
                ' '
            } else {
                let i = (u64::from(v) * 7).div_ceil(u64::from(max)) as usize;
                BARS[i.min(7)]
            }
        })
        .collect()
}

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
    use crate::incident::workloads::{ProbeKind, ProbeTarget};

    #[test]
    fn sparkline_scales_to_the_peak_and_keeps_the_latest() {
        assert_eq!(sparkline(&[0, 1, 2, 4, 8], 5), " ▂▃▅█");
        assert_eq!(sparkline(&[0, 0, 0], 3), "   ");
        assert_eq!(sparkline(&[9, 0, 3, 3], 2), "██");
        assert_eq!(sparkline(&[1; 30], 10).chars().count(), 10);
    }

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
