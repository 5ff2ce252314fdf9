//! The path to one region's API server, shared by its feeds: when it last
//! answered, whether it is declared dead, and the gate its feeds wait at
//! after a 429.
//!
//! kube-rs speaks HTTP/1.1, so each watch is its own TCP connection and a
//! path that dies silently (no FIN, no RST) leaves every watch waiting for
//! ever. A quiet watch is normal (kube-apiserver sends a BOOKMARK about once
//! a minute), so silence alone says nothing. The prober tells the two apart:
//! once every feed of the region has been quiet for `probe_after`, it sends
//! `GET /version` (a few hundred bytes, no watch cache, no etcd) with its own
//! deadline. Any HTTP answer, an error status included, proves the server
//! alive. No answer for `dead_after` declares the path dead: the badge turns
//! stale, the feeds drop their hung requests and wait; the prober keeps
//! asking, and on the first answer the feeds resume from their
//! resourceVersions.

use super::backoff::Backoff;
use super::health::Feed;
use super::listwatch::Closed;
use super::SourceOptions;
use crate::model::RegionId;
use crate::msg::{Health, Msg};
use crate::write::ReadClient;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;
use tokio::sync::mpsc::Sender;
use tokio::sync::watch;
use tokio::time::Instant;

/// The feed name the path's health is reported under.
pub const FEED: Feed = Feed::badge("api");

pub struct Link {
    start: Instant,
    /// Milliseconds after `start` the server last answered anything.
    heard_ms: AtomicU64,
    up: watch::Sender<bool>,
    gate: Mutex<Gate>,
}

/// Shared by a region's feeds: after a 429 no feed sends before `until`.
struct Gate {
    until: Option<Instant>,
    backoff: Backoff,
}

impl Link {
    pub fn new(opts: &SourceOptions) -> Link {
        Link {
            start: Instant::now(),
            heard_ms: AtomicU64::new(0),
            up: watch::Sender::new(true),
            gate: Mutex::new(Gate {
                until: None,
                backoff: Backoff::new(opts.backoff_min, opts.backoff_max),
            }),
        }
    }

    /// The server answered (an HTTP status, a watch line, a list page).
    pub fn heard(&self) {
        let ms = self.start.elapsed().as_millis() as u64;
        self.heard_ms.fetch_max(ms, Ordering::Relaxed);
    }

    /// A response carried real data: the region's 429 gate starts over.
    pub fn carried_data(&self) {
        self.heard();
        if let Ok(mut g) = self.gate.lock() {
            g.backoff.reset();
        }
    }

    fn heard_at(&self) -> Instant {
        self.start + Duration::from_millis(self.heard_ms.load(Ordering::Relaxed))
    }

    /// How long since the server last answered; a 429's hold counts as an
    /// answer until it ends (the server asked for the quiet).
    pub fn quiet_for(&self) -> Duration {
        let mut last = self.heard_at();
        if let Some(until) = self.gate.lock().ok().and_then(|g| g.until) {
            last = last.max(until);
        }
        Instant::now().saturating_duration_since(last)
    }

    pub fn is_up(&self) -> bool {
        *self.up.borrow()
    }

    /// Returns once the path is not declared dead.
    pub async fn wait_up(&self) {
        let mut rx = self.up.subscribe();
        let _ = rx.wait_for(|up| *up).await;
    }

    /// Resolves when the path is declared dead (never while it is up).
    pub async fn went_down(&self) {
        let mut rx = self.up.subscribe();
        if rx.wait_for(|up| !*up).await.is_err() {
            std::future::pending::<()>().await;
        }
    }

    fn set_up(&self, up: bool) {
        self.up.send_replace(up);
    }

    /// A 429 (or 503 with Retry-After): every feed of the region waits. The
    /// first refusal after the gate opened grows the gate's own backoff, so
    /// feeds refused in the same round do not multiply it.
    pub fn hold(&self, retry_after: Option<Duration>) {
        let Ok(mut g) = self.gate.lock() else { return };
        let now = Instant::now();
        let asked = retry_after.unwrap_or_default();
        let until = match g.until {
            Some(until) if until > now => until.max(now + asked),
            _ => now + asked.max(g.backoff.next_delay()),
        };
        g.until = Some(until);
    }

    /// Waits until the region's 429 gate is open.
    pub async fn gate(&self) {
        loop {
            let until = self.gate.lock().ok().and_then(|g| g.until);
            match until {
                Some(until) if until > Instant::now() => tokio::time::sleep_until(until).await,
                _ => return,
            }
        }
    }
}

/// One cheap request that any live API server answers.
async fn probe(client: &ReadClient) -> Result<(), kube::Error> {
    let req = http::Request::get("/version")
        .body(Vec::new())
        .map_err(kube::Error::HttpError)?;
    let res = client.send(req.map(kube::client::Body::from)).await?;
    // the status line is the answer; the body is a few hundred bytes
    let _ = res.into_body().collect_bytes().await;
    Ok(())
}

/// Watches the path of one region until the cockpit shuts down: probes while
/// the feeds are quiet, declares the path dead after `dead_after` without an
/// answer and live again on the next one.
pub async fn run(
    link: &Link,
    region: RegionId,
    client: &ReadClient,
    tx: &Sender<Msg>,
    opts: &SourceOptions,
) -> Result<(), Closed> {
    let health = |health: Health| async move {
        tx.send(Msg::RegionHealth {
            region,
            feed: FEED,
            health,
        })
        .await
        .map_err(|_| Closed)
    };
    health(Health::Live).await?;
    loop {
        let quiet = link.quiet_for();
        if link.is_up() && quiet < opts.probe_after {
            tokio::time::sleep(opts.probe_after - quiet).await;
            continue;
        }
        let sent = Instant::now();
        // declared dead on time even while a probe is still waiting
        let dead_at = sent + opts.dead_after.saturating_sub(link.quiet_for());
        let answer = tokio::time::timeout(opts.probe_timeout, probe(client));
        tokio::pin!(answer);
        let answered = loop {
            tokio::select! {
                r = &mut answer => break matches!(r, Ok(Ok(()))),
                _ = tokio::time::sleep_until(dead_at), if link.is_up() => {
                    declare_dead(link, region, &health).await?;
                }
            }
        };
        if answered {
            link.heard();
            if !link.is_up() {
                tracing::info!(region, "API server answers again");
                link.set_up(true);
                health(Health::Live).await?;
            }
        } else if link.is_up() {
            // refused at once: still dead on time
            tokio::time::sleep_until(dead_at.min(sent + opts.probe_after)).await;
            if link.quiet_for() >= opts.dead_after {
                declare_dead(link, region, &health).await?;
            }
        }
        // one probe at a time, at most one per `probe_after`
        tokio::time::sleep_until(sent + opts.probe_after).await;
    }
}

async fn declare_dead<F, Fut>(link: &Link, region: RegionId, health: &F) -> Result<(), Closed>
where
    F: Fn(Health) -> Fut,
    Fut: std::future::Future<Output = Result<(), Closed>>,
{
    let quiet = link.quiet_for();
    let secs = quiet.as_secs();
    tracing::warn!(region, "no answer from the API server for {secs} s");
    link.set_up(false);
    let since = jiff::Timestamp::now()
        .checked_sub(jiff::SignedDuration::try_from(quiet).unwrap_or_default())
        .unwrap_or_else(|_| jiff::Timestamp::now())
        .as_second();
    health(Health::Stale {
        since,
        reason: format!("no answer from the API server for {secs} s"),
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn held_for(link: &Link) -> Duration {
        let until = link.gate.lock().ok().and_then(|g| g.until);
        until.map_or(Duration::ZERO, |u| {
            u.saturating_duration_since(Instant::now())
        })
    }

    #[tokio::test]
    async fn a_429_holds_every_feed_and_grows_once_per_round() {
        let opts = SourceOptions::default();
        let link = Link::new(&opts);
        link.hold(Some(Duration::from_secs(120)));
        // a second feed refused in the same round does not shorten it
        link.hold(Some(Duration::from_secs(1)));
        assert!(held_for(&link) > Duration::from_secs(110));
        // the hold counts as an answer while it lasts
        assert_eq!(link.quiet_for(), Duration::ZERO);

        // without Retry-After the gate backs off, doubling per round
        let link = Link::new(&opts);
        let mut last = Duration::ZERO;
        for _ in 0..8 {
            link.gate.lock().map(|mut g| g.until = None).ok();
            link.hold(None);
            last = held_for(&link);
        }
        assert!(last >= opts.backoff_max / 2 - Duration::from_millis(50));
        // data resets it
        link.carried_data();
        link.gate.lock().map(|mut g| g.until = None).ok();
        link.hold(None);
        assert!(held_for(&link) <= opts.backoff_min);
        link.gate().await;
    }
}
