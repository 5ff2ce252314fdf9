//! Region and feed health. Each feed (a watched kind, the client) reports
//! its own `Health`; the region's badge is the worst of the feeds that
//! count toward it. A feed that does not count (metrics, log search: they
//! have badges of their own) never makes a region stale, never dims its
//! rows and never puts it on the triage list.

use crate::config::RegionConfig;
use crate::model::Timestamp;

/// What a region's header badge says. The screen never shows stale data as
/// live: anything but `Live` marks the region's rows as stale.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Health {
    /// Building the client, first request in flight.
    Connecting,
    /// The first list is arriving.
    Syncing,
    Live,
    /// Rows are kept but may be out of date: `since` is when the region
    /// stopped being live (kept across repeated stale reports).
    Stale {
        since: Timestamp,
        reason: String,
    },
    /// 401: the credentials were refused.
    Unauthorized(String),
    /// 403: not allowed to list or watch pods.
    Forbidden(String),
    /// Could not connect (refused, DNS, TLS, timeout), with the reason.
    Unreachable(String),
    /// Misconfigured: bad kubeconfig, unknown context, failed credential plugin.
    Error(String),
}

impl Health {
    pub fn is_live(&self) -> bool {
        matches!(self, Health::Live)
    }

    /// Higher is worse: the badge shows the worst of a region's feeds.
    pub fn severity(&self) -> u8 {
        match self {
            Health::Live => 0,
            Health::Syncing => 1,
            Health::Connecting => 2,
            Health::Stale { .. } => 3,
            Health::Unreachable(_) => 4,
            Health::Forbidden(_) => 5,
            Health::Unauthorized(_) => 6,
            Health::Error(_) => 7,
        }
    }
}

/// A feed of a region, as it reports its health.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Feed {
    pub name: &'static str,
    /// Whether its health is part of the region's badge.
    pub counts_toward_badge: bool,
}

impl Feed {
    /// The region's client (connecting, credential plugin errors).
    pub const CLIENT: Feed = Feed::badge("client");
    pub const PODS: Feed = Feed::badge("pods");
    pub const EVENTS: Feed = Feed::badge("events");
    pub const DEPLOYMENTS: Feed = Feed::badge("deployments");
    pub const STATEFULSETS: Feed = Feed::badge("statefulsets");

    /// A feed whose health is the region's: pods, events, workloads.
    pub const fn badge(name: &'static str) -> Feed {
        Feed {
            name,
            counts_toward_badge: true,
        }
    }

    /// A feed with a badge of its own (metrics, log search): its outages
    /// never mark the region stale.
    pub const fn own_badge(name: &'static str) -> Feed {
        Feed {
            name,
            counts_toward_badge: false,
        }
    }
}

/// One region as the header shows it.
#[derive(Debug, Clone)]
pub struct RegionState {
    pub name: String,
    pub context: String,
    pub production: bool,
    /// `read_only = true` in its `[[region]]`; ask `State::read_only`.
    pub read_only: bool,
    /// The worst of `feeds`: what the badge shows.
    pub health: Health,
    /// Each feed's own health (pods, events, ...), badge or not.
    pub feeds: Vec<(Feed, Health)>,
    /// Since when the badge has been down (stale, unreachable, refused,
    /// error), kept across changes between those; `None` while it is up.
    pub down_since: Option<Timestamp>,
}

impl RegionState {
    pub fn from_config(cfg: &RegionConfig) -> RegionState {
        RegionState {
            name: cfg.name.clone(),
            context: cfg.context.clone(),
            production: cfg.production,
            read_only: cfg.read_only,
            health: Health::Connecting,
            feeds: Vec::new(),
            down_since: None,
        }
    }

    /// After `set_feed`: when the badge went down, if it is down.
    pub fn note_down_since(&mut self, now: Timestamp) {
        let down = !matches!(
            self.health,
            Health::Live | Health::Syncing | Health::Connecting
        );
        if !down {
            self.down_since = None;
        } else if self.down_since.is_none() {
            // a stale feed knows when it stopped being live
            self.down_since = Some(match &self.health {
                Health::Stale { since, .. } => *since,
                _ => now,
            });
        }
    }

    /// Records one feed's health and recomputes the badge from the feeds
    /// that count toward it. A feed that stays stale keeps the moment it
    /// first stopped being live.
    pub fn set_feed(&mut self, feed: Feed, health: Health) {
        let health = match (self.feeds.iter().find(|(f, _)| f.name == feed.name), health) {
            (Some((_, Health::Stale { since, .. })), Health::Stale { reason, .. }) => {
                Health::Stale {
                    since: *since,
                    reason,
                }
            }
            (_, h) => h,
        };
        match self.feeds.iter_mut().find(|(f, _)| f.name == feed.name) {
            Some(slot) => slot.1 = health,
            None => self.feeds.push((feed, health)),
        }
        let badge = || {
            self.feeds
                .iter()
                .filter(|(f, _)| f.counts_toward_badge)
                .map(|(_, h)| h)
        };
        let worst = badge().max_by_key(|h| h.severity());
        self.health = match worst {
            // the earliest moment any stale feed stopped being live
            Some(Health::Stale { reason, .. }) => {
                let since = badge()
                    .filter_map(|h| match h {
                        Health::Stale { since, .. } => Some(*since),
                        _ => None,
                    })
                    .min()
                    .unwrap_or_default();
                Health::Stale {
                    since,
                    reason: reason.clone(),
                }
            }
            Some(h) => h.clone(),
            None => Health::Connecting,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn region() -> RegionState {
        RegionState::from_config(&RegionConfig {
            name: "eu-west".into(),
            context: "eu-west".into(),
            ..RegionConfig::default()
        })
    }

    #[test]
    fn a_feed_that_does_not_count_never_changes_the_badge() {
        let metrics = Feed::own_badge("metrics");
        let mut r = region();
        r.set_feed(Feed::CLIENT, Health::Live);
        r.set_feed(Feed::PODS, Health::Live);
        for bad in [
            Health::Stale {
                since: 5,
                reason: "no answer".into(),
            },
            Health::Unreachable("connection refused".into()),
            Health::Error("bad query".into()),
        ] {
            r.set_feed(metrics, bad.clone());
            assert_eq!(r.health, Health::Live, "{bad:?} reached the badge");
            assert!(r
                .feeds
                .iter()
                .any(|(f, h)| f.name == "metrics" && *h == bad));
        }
        // a feed that counts still does
        r.set_feed(Feed::EVENTS, Health::Unreachable("gone".into()));
        assert_eq!(r.health, Health::Unreachable("gone".into()));
        r.set_feed(Feed::EVENTS, Health::Live);
        assert_eq!(r.health, Health::Live);
    }

    #[test]
    fn only_feeds_that_do_not_count_leave_the_region_connecting() {
        let mut r = region();
        r.set_feed(Feed::own_badge("logs"), Health::Live);
        assert_eq!(r.health, Health::Connecting, "no badge feed has answered");
    }
}
