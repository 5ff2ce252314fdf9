//! Text formats shared by panes: ages, clock times, truncation.

use crate::model::Timestamp;

/// kubectl-style age at minute resolution (`<1m`, `5m`, `3h`, `2d`), since
/// ages on screen are refreshed at most once a minute.
pub fn age(now: Timestamp, then: Timestamp) -> String {
    let secs = (now - then).max(0);
    match secs {
        s if s < 60 => "<1m".into(),
        s if s < 3600 => format!("{}m", s / 60),
        s if s < 86_400 * 2 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86_400),
    }
}

/// The next moment `age(now, then)` reads differently.
pub fn age_changes_at(now: Timestamp, then: Timestamp) -> Timestamp {
    let secs = (now - then).max(0);
    let step = match secs {
        s if s < 3600 => 60,
        s if s < 86_400 * 2 => 3600,
        _ => 86_400,
    };
    then + (secs / step + 1) * step
}

/// `HH:MM:SS` in the local time zone (UTC when it cannot be determined).
pub fn clock(t: Timestamp) -> String {
    match jiff::Timestamp::from_second(t) {
        Ok(ts) => ts
            .to_zoned(jiff::tz::TimeZone::system())
            .strftime("%H:%M:%S")
            .to_string(),
        Err(_) => "??:??:??".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_like_kubectl_at_minute_resolution() {
        assert_eq!(age(1000, 990), "<1m");
        assert_eq!(age(1000, 1000 - 300), "5m");
        assert_eq!(age(100_000, 100_000 - 3 * 3600), "3h");
        assert_eq!(age(1_000_000, 1_000_000 - 5 * 86_400), "5d");
        assert_eq!(age(0, 10), "<1m", "clock skew never shows a negative age");
    }

    #[test]
    fn the_next_age_change_is_the_next_minute_hour_or_day_boundary() {
        for (now, then) in [
            (1000, 990),
            (1000, 700),
            (100_000, 100_000 - 3 * 3600 - 5),
            (1_000_000, 1_000_000 - 5 * 86_400 - 7),
            (0, 10),
        ] {
            let at = age_changes_at(now, then);
            assert!(at > now, "{now} {then}: {at}");
            assert_eq!(age(at - 1, then), age(now, then), "{now} {then}: {at}");
            assert_ne!(age(at, then), age(now, then), "{now} {then}: {at}");
        }
    }
}
