//! A sparkline as text, so it sits in a table cell like any other.

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sparkline_scales_to_the_peak_and_keeps_the_latest() {
        assert_eq!(sparkline(&[0, 1, 2, 4, 8], 5), " ▂▃▅█");
        assert_eq!(sparkline(&[0, 0, 0], 3), "   ");
        assert_eq!(sparkline(&[9, 0, 3, 3], 2), "██");
        assert_eq!(sparkline(&[1; 30], 10).chars().count(), 10);
    }
}
