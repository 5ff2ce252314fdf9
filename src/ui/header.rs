//! The header: one badge per region saying exactly how fresh its rows are.

use super::format::clock;
use crate::msg::Health;
use crate::sanitize::sanitize;
use crate::state::{RegionState, State};
use crate::theme::Styles;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
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

fn badge_spans<'a>(state: &State, styles: &Styles, width: u16) -> Vec<Span<'a>> {
    let max = if width < COMPACT { SHORT_REASON } else { 200 };
    let mut spans = vec![Span::styled("pitwall ", styles.get("ui.title"))];
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
        let text = sanitize(&badge_text(state, i, r, max)).into_owned();
        spans.push(Span::styled(
            format!(" {text}]"),
            styles.get(badge_scope(&r.health)),
        ));
        spans.push(Span::raw(" "));
    }
    spans
}

/// Lines the header needs at this width (badges wrap on narrow terminals).
pub fn height(state: &State, styles: &Styles, width: u16) -> u16 {
    let len: usize = badge_spans(state, styles, width)
        .iter()
        .map(|s| s.width())
        .sum();
    let w = width.max(1) as usize;
    (len.div_ceil(w)).clamp(1, 3) as u16
}

pub fn draw(state: &State, styles: &Styles, frame: &mut Frame, area: Rect) {
    let p = Paragraph::new(Line::from(badge_spans(state, styles, area.width)))
        .style(styles.get("ui.statusbar"))
        .wrap(Wrap { trim: true });
    frame.render_widget(p, area);
}
