//! The header: one badge per region saying exactly how fresh its rows are.

use super::format::clock;
use crate::msg::Health;
use crate::panes::triage::rank::Level;
use crate::sanitize::sanitize;
use crate::state::{RegionState, State};
use crate::theme::Styles;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

/// Narrower than this, badge reasons are cut to `SHORT_REASON` characters.
const COMPACT: u16 = 120;
const SHORT_REASON: usize = 22;

fn cut(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
        out.push('…');
        out
    }
}

/// The badge text of one region (without its name); `max` bounds reasons.
pub fn badge_text(state: &State, region: usize, r: &RegionState, max: usize) -> String {
    let reason = |m: &str| cut(m, max);
    match &r.health {
        Health::Connecting => "connecting".into(),
        Health::Syncing => format!(
            "syncing ({} pods so far)",
            state.store.listed_so_far(region)
        ),
        Health::Live => format!("live ({})", state.store.region_len(region)),
        Health::Stale { since, reason: why } => {
            format!("stale since {} ({})", clock(*since), reason(why))
        }
        Health::Unauthorized(m) => format!("unauthorized: {}", reason(m)),
        Health::Forbidden(m) => format!("forbidden: {}", reason(m)),
        Health::Unreachable(m) => format!("unreachable: {}", reason(m)),
        Health::Error(m) => format!("error: {}", reason(m)),
    }
}

fn badge_scope(h: &Health) -> &'static str {
    match h {
        Health::Live => "region.badge.live",
        Health::Connecting | Health::Syncing => "region.badge.syncing",
        Health::Stale { .. } => "region.badge.stale",
        _ => "region.badge.error",
    }
}

/// The triage count and its worst severity, first in the header so an
/// incident shows whatever pane has focus: `!! 3 wrong, critical`.
fn triage_span<'a>(state: &State, styles: &Styles, short: bool) -> Span<'a> {
    let items = &state.incident.triage.items;
    match items.iter().map(|i| i.level).max() {
        None => Span::styled("ok ", styles.get("ui.dim")),
        Some(level) => {
            let (mark, word, scope) = match level {
                Level::Critical => ("!!", "critical", "triage.critical"),
                Level::Warning => ("!", "warning", "triage.warning"),
                Level::Notice => ("·", "notice", "triage.info"),
            };
            let text = if short {
                format!("{mark}{} ", items.len())
            } else {
                format!("{mark} {} wrong, {word} ", items.len())
            };
            Span::styled(text, styles.get(scope))
        }
    }
}

/// How much of each badge to say: the reason at length, cut short, left
/// out (it is in the triage item), or only the state's first word.
#[derive(Clone, Copy, PartialEq)]
enum Detail {
    /// Reasons cut to this many characters; the triage count in words.
    Full(usize),
    /// The same with the triage count as `!!5`.
    Reason(usize),
    NoReason,
    Word,
    /// `ok`, `sync`, `stale` or `down`, and the triage count alone.
    Mark,
}

fn badge_body(state: &State, i: usize, r: &RegionState, detail: Detail) -> String {
    let text = match detail {
        Detail::Full(max) | Detail::Reason(max) => badge_text(state, i, r, max),
        Detail::Mark => match &r.health {
            Health::Live => "ok".into(),
            Health::Connecting | Health::Syncing => "sync".into(),
            Health::Stale { .. } => "stale".into(),
            _ => "down".into(),
        },
        Detail::NoReason if r.health.is_live() => badge_text(state, i, r, 0),
        Detail::NoReason | Detail::Word => {
            let full = badge_text(state, i, r, 0);
            // `unreachable: …` -> `unreachable`; `stale since 13:01 (…)` -> `stale since 13:01`
            let at = [": ", " ("]
                .iter()
                .filter_map(|sep| full.find(sep))
                .min()
                .unwrap_or(full.len());
            full[..at].to_string()
        }
    };
    let text = if matches!(detail, Detail::Word) {
        text.split_whitespace()
            .next()
            .unwrap_or_default()
            .to_string()
    } else {
        text
    };
    sanitize(&text).into_owned()
}

/// The badges of feeds that have their own (the network's metrics, the
/// logs' Elasticsearch), only while they fail and the region itself is live
/// (a region that is down says why itself): they never change the region's
/// badge. ` · metrics: timed out`, ` · logs: 401 Unauthorized`.
fn own_badges(r: &RegionState, detail: Detail) -> Vec<String> {
    if !r.health.is_live() {
        return Vec::new();
    }
    r.feeds
        .iter()
        .filter(|(f, _)| !f.counts_toward_badge)
        .filter_map(|(f, h)| {
            let why = match h {
                Health::Live | Health::Connecting | Health::Syncing => return None,
                Health::Unreachable(m)
                | Health::Error(m)
                | Health::Unauthorized(m)
                | Health::Forbidden(m) => m.as_str(),
                Health::Stale { reason, .. } => reason.as_str(),
            };
            Some(match detail {
                Detail::Full(max) | Detail::Reason(max) if !why.is_empty() => {
                    format!(" · {}: {}", f.name, sanitize(&cut(why, max)))
                }
                Detail::Mark => format!(" {}!", f.name.chars().next().unwrap_or('?')),
                _ => format!(" · {} down", f.name),
            })
        })
        .collect()
}

fn badge_spans_at<'a>(state: &State, styles: &Styles, detail: Detail) -> Vec<Span<'a>> {
    let mut spans = vec![
        Span::styled("pitwall ", styles.get("ui.title")),
        triage_span(state, styles, !matches!(detail, Detail::Full(_))),
    ];
    if state.regions.is_empty() && state.access.config_problems > 0 {
        spans.push(Span::styled(
            "no region: the config did not load and names none that checked out",
            styles.get("region.badge.error"),
        ));
    }
    for (i, r) in state.regions.iter().enumerate() {
        let name_style = if r.production {
            styles.get("region.production")
        } else {
            styles.get("ui.text")
        };
        spans.push(Span::styled(format!("[{}", sanitize(&r.name)), name_style));
        let text = badge_body(state, i, r, detail);
        let style = styles.get(badge_scope(&r.health));
        spans.push(Span::styled(format!(" {text}"), style));
        for m in own_badges(r, detail) {
            spans.push(Span::styled(m, styles.get("region.badge.error")));
        }
        spans.push(Span::styled("]", style));
        spans.push(Span::raw(" "));
    }
    spans
}

/// The most detailed badges that fit on one line (the header never wraps;
/// what does not fit is cut at the right edge).
fn badge_spans<'a>(state: &State, styles: &Styles, width: u16) -> Vec<Span<'a>> {
    let mut tries = vec![Detail::Full(200)];
    tries.extend([200, 60, 48, 40, 32, SHORT_REASON].map(Detail::Reason));
    tries.extend([Detail::NoReason, Detail::Word, Detail::Mark]);
    // narrow terminals start short: a long reason never fits beside four
    let from = if width < COMPACT { tries.len() - 4 } else { 0 };
    let mut spans = Vec::new();
    for detail in &tries[from..] {
        spans = badge_spans_at(state, styles, *detail);
        let len: usize = spans.iter().map(|s| s.width()).sum();
        if len <= width as usize {
            break;
        }
    }
    spans
}

/// Always one line: badges shorten to fit rather than wrap.
pub fn height(_state: &State, _styles: &Styles, _width: u16) -> u16 {
    1
}

pub fn draw(state: &State, styles: &Styles, frame: &mut Frame, area: Rect) {
    let p = Paragraph::new(Line::from(badge_spans(state, styles, area.width)))
        .style(styles.get("ui.statusbar"));
    frame.render_widget(p, area);
}
