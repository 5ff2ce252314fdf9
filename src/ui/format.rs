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

/// kubectl's `HumanDuration` (apimachinery): `45s`, `2m30s`, `12m`, `4h1m`,
/// `3d1h`, for tables and descriptions that print the server's way.
pub fn kube_age(secs: i64) -> String {
    if secs < -1 {
        return "<invalid>".into();
    }
    let secs = secs.max(0);
    let (m, h, d) = (secs / 60, secs / 3600, secs / 86_400);
    let pair = |a: i64, ua: &str, b: i64, ub: &str| {
        if b == 0 {
            format!("{a}{ua}")
        } else {
            format!("{a}{ua}{b}{ub}")
        }
    };
    match () {
        _ if secs < 120 => format!("{secs}s"),
        _ if m < 10 => pair(m, "m", secs % 60, "s"),
        _ if m < 180 => format!("{m}m"),
        _ if h < 8 => pair(h, "h", m % 60, "m"),
        _ if h < 48 => format!("{h}h"),
        _ if h < 24 * 8 => pair(d, "d", h % 24, "h"),
        _ if h < 24 * 365 * 2 => format!("{d}d"),
        _ if d / 365 < 8 => format!("{}y{}d", d / 365, d % 365),
        _ => format!("{}y", d / 365),
    }
}

/// `since 13:27:12, 4m`: when something started, as a clock time and an age.
pub fn since(now: Timestamp, then: Timestamp) -> String {
    format!("since {}, {}", clock(then), age(now, then))
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

    #[test]
    fn kube_ages_match_kubectl() {
        assert_eq!(kube_age(5), "5s");
        assert_eq!(kube_age(119), "119s");
        assert_eq!(kube_age(150), "2m30s");
        assert_eq!(kube_age(240), "4m");
        assert_eq!(kube_age(3600), "60m");
        assert_eq!(kube_age(4 * 3600 + 60), "4h1m");
        assert_eq!(kube_age(30 * 3600), "30h");
        assert_eq!(kube_age(3 * 86_400 + 3600), "3d1h");
        assert_eq!(kube_age(30 * 86_400), "30d");
    }
}
