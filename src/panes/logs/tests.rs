//! The logs pane's reducer: keys in, selection, stream tasks and state out.

use crate::fleet::owners::{OwnerKind, WorkloadKey};
use crate::model::{ContainerRow, ContainerState, PodRow};
use crate::msg::{Msg, PodChange, PodUpdate};
use crate::panes::logs::select::Scope;
use crate::state::{Pane, State};
use crate::tasks::TaskCommand;
use crate::update::tests::{code, key, list, state};
use crate::update::{update, Effect};
use crossterm::event::KeyCode;

fn checkout(region: usize, name: &str, restarts: u32) -> PodRow {
    PodRow {
        region,
        uid: format!("uid-{region}-{name}"),
        namespace: "shop".into(),
        name: name.into(),
        phase: "Running".into(),
        status: "Running".into(),
        owner_kind: "ReplicaSet".into(),
        owner_name: "checkout-7d9f8c".into(),
        containers: vec![ContainerRow {
            name: "app".into(),
            restart_count: restarts,
            state: ContainerState::Running { started: None },
            ..Default::default()
        }],
        ..Default::default()
    }
}

fn starts(effects: &[Effect]) -> usize {
    effects
        .iter()
        .filter(|e| matches!(e, Effect::Task(TaskCommand::Start(..))))
        .count()
}

fn stops(effects: &[Effect]) -> usize {
    effects
        .iter()
        .filter(|e| matches!(e, Effect::Task(TaskCommand::Stop(k)) if !k.0.ends_with("history")))
        .count()
}

fn fleet() -> State {
    let mut s = state(&["eu", "us"]);
    list(&mut s, 0, vec![checkout(0, "checkout-7d9f8c-a", 0)]);
    list(&mut s, 1, vec![checkout(1, "checkout-7d9f8c-b", 0)]);
    s
}

fn typed(s: &mut State, text: &str) -> Vec<Effect> {
    for c in text.chars() {
        update(s, key(c));
    }
    update(s, code(KeyCode::Enter))
}

#[test]
fn l_on_a_pod_then_every_region_follows_pods_as_they_join_restart_and_leave() {
    let mut s = fleet();
    s.ui.focus = Pane::Pods;
    s.refresh_view();
    let fx = update(&mut s, key('l'));
    assert_eq!(s.ui.focus, Pane::Logs);
    assert_eq!(starts(&fx), 1, "{fx:?}");
    assert!(matches!(
        s.logs.selection.as_ref().map(|x| &x.scope),
        Some(Scope::Pod { .. })
    ));
    // a: the pod's workload in every region; the old stream stops
    let fx = update(&mut s, key('a'));
    assert_eq!((stops(&fx), starts(&fx)), (1, 2), "{fx:?}");
    let sel = s.logs.selection.clone().expect("selection");
    assert!(sel.all_regions);
    assert!(matches!(sel.scope, Scope::Workload { ref name, .. } if name == "checkout"));
    // a pod joins, restarts, leaves: one stream each way
    let upsert = |s: &mut State, row: PodRow| {
        update(
            s,
            Msg::Pods {
                region: row.region,
                update: PodUpdate::Changes(vec![PodChange::Upsert(row)]),
            },
        )
    };
    let fx = upsert(&mut s, checkout(1, "checkout-7d9f8c-c", 0));
    assert_eq!((stops(&fx), starts(&fx)), (0, 1));
    let fx = upsert(&mut s, checkout(1, "checkout-7d9f8c-c", 1));
    assert_eq!(
        (stops(&fx), starts(&fx)),
        (1, 1),
        "a restart is a new stream"
    );
    let fx = update(
        &mut s,
        Msg::Pods {
            region: 1,
            update: PodUpdate::Changes(vec![PodChange::Delete("uid-1-checkout-7d9f8c-c".into())]),
        },
    );
    assert_eq!((stops(&fx), starts(&fx)), (1, 0));
    // nothing changed: nothing to do
    let fx = upsert(&mut s, checkout(0, "checkout-7d9f8c-a", 0));
    assert!(fx.is_empty(), "{fx:?}");
    // X closes: every stream stops, focus goes back
    let fx = update(&mut s, key('X'));
    assert_eq!(stops(&fx), 2);
    assert_eq!(s.ui.focus, Pane::Pods);
    assert!(s.logs.selection.is_none() && s.logs.started.is_empty());
}

#[test]
fn a_workload_key_selects_its_pods_and_the_cap_counts_the_rest() {
    let mut s = fleet();
    s.logs.configure(crate::panes::logs::state::LogsSettings {
        max_streams: 1,
        ..Default::default()
    });
    // a workload key, as a probe row, a triage item or a workloads row has
    s.ui.focus = Pane::Probes;
    let fx = crate::panes::logs::keys::open_workload(
        &mut s,
        &WorkloadKey {
            region: 1,
            namespace: "shop".into(),
            kind: OwnerKind::Deployment,
            name: "checkout".into(),
        },
    );
    assert_eq!(starts(&fx), 1);
    assert_eq!(s.logs.view.not_streamed, 0, "one region, one pod");
    let fx = update(&mut s, key('a'));
    assert_eq!(starts(&fx), 1);
    assert_eq!(
        s.logs.view.not_streamed, 1,
        "every region: one over the cap"
    );
    let mut term = ratatui::Terminal::new(ratatui::backend::TestBackend::new(120, 20)).unwrap();
    term.draw(|f| crate::ui::draw(&s, &crate::theme::Styles::default(), f))
        .unwrap();
    let screen = format!("{:?}", term.backend());
    assert!(screen.contains("not streamed 1"), "{screen}");
    assert!(
        screen.contains("deployment shop/checkout in every region"),
        "{screen}"
    );
}

#[test]
fn inputs_keep_the_previous_filter_on_a_bad_value_and_choose_containers() {
    let mut s = fleet();
    s.ui.focus = Pane::Pods;
    s.refresh_view();
    update(&mut s, key('l'));
    update(&mut s, key('v'));
    typed(&mut s, "warn");
    assert!(s.logs.input.is_none());
    assert!(s.logs.view.filter.min_level.is_some());
    update(&mut s, key('i'));
    typed(&mut s, "(");
    assert!(s.logs.input.is_some(), "a bad regex keeps the input open");
    let why = s.logs.view.error.clone().unwrap_or_default();
    assert!(why.contains("unclosed group"), "{why}");
    assert!(s.logs.view.filter.include.is_none() && s.logs.view.filter.min_level.is_some());
    update(&mut s, code(KeyCode::Esc));
    assert!(s.logs.input.is_none());
    // the keys of the pane, not of the table: p pauses
    assert!(s.logs.view.follow);
    update(&mut s, key('p'));
    assert!(!s.logs.view.follow);
    // containers: init ones by name
    update(&mut s, key('c'));
    let fx = typed(&mut s, "migrate");
    assert_eq!((stops(&fx), starts(&fx)), (1, 1));
    let t = s
        .logs
        .selection
        .as_ref()
        .map(|x| x.targets(&s.store, &s.region_names))
        .unwrap_or_default();
    assert!(t.iter().all(|t| t.container == "migrate") && t.len() == 1);
    // typed selection: a namespace in every region
    update(&mut s, key('l'));
    let fx = typed(&mut s, "shop");
    assert_eq!(starts(&fx), 2);
    assert!(s.logs.selection.as_ref().is_some_and(|x| x.all_regions));
    // history without Elasticsearch says why
    update(&mut s, key('H'));
    typed(&mut s, "");
    let why = s.logs.view.error.clone().unwrap_or_default();
    assert!(why.contains("no Elasticsearch configured"), "{why}");
}

/// A kubelet that writes `LINES` lines at once per container, then ends the
/// stream; asked again, it says the container restarted (the stream ends).
#[derive(Clone)]
struct Flood {
    asked: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

const LINES: usize = 5_000;

impl super::follow::LogClient for Flood {
    fn stream(
        &self,
        path: String,
    ) -> futures::future::BoxFuture<'static, Result<super::follow::BoxRead, super::follow::OpenError>>
    {
        Box::pin(async move {
            let mut text = String::new();
            for k in 0..LINES {
                text.push_str(&format!(
                    "2026-12-03T10:00:00.{k:09}Z GET /checkout 200 line {k} of {path} {}\n",
                    "x".repeat(k % 120)
                ));
            }
            Ok(Box::pin(futures::io::Cursor::new(text.into_bytes())) as super::follow::BoxRead)
        })
    }

    fn text(
        &self,
        _path: String,
    ) -> futures::future::BoxFuture<'static, Result<String, super::follow::OpenError>> {
        let n = self
            .asked
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let id = if n == 0 { "one" } else { "two" };
        Box::pin(async move {
            Ok(format!(
                r#"{{"status":{{"containerStatuses":[{{"name":"app","containerID":"{id}","state":{{"running":{{}}}}}}]}}}}"#
            ))
        })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streams_faster_than_the_pane_stay_within_the_byte_budget_and_every_drop_is_counted() {
    use super::budget::Budget;
    use super::pane::LogsPane;
    use super::state::Target;
    use super::task::{self, LogsMsg, StreamSettings};
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    const STREAMS: usize = 8;
    let mut pane = LogsPane::default();
    // small enough that the flood overflows it many times over
    let budget = Arc::new(Budget::new(256 << 10));
    pane.budget = budget.clone();
    let settings = StreamSettings {
        tail: 0,
        names: Arc::new(Default::default()),
        max_line: 1000,
        budget: budget.clone(),
    };
    // the loop's channel, as large as the cockpit's: only the budget bounds
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Msg>(crate::app::CHANNEL);
    let cancel = tokio_util::sync::CancellationToken::new();
    for s in 0..STREAMS {
        let target = Target {
            region: "eu-west".into(),
            namespace: "shop".into(),
            pod: format!("p{s}"),
            container: "app".into(),
            container_id: format!("one-{s}"),
        };
        let key = format!("logs#1 {}", target.container_id);
        pane.started.insert(
            target.container_id.clone(),
            crate::tasks::TaskKey(key.clone()),
        );
        let client = Flood {
            asked: Default::default(),
        };
        tokio::spawn(task::stream(
            client,
            target,
            settings.clone(),
            (key.as_str().into(), tx.clone()),
            cancel.clone(),
        ));
    }
    drop(tx);
    let store = crate::fleet::store::Store::new(1);
    let names = vec!["eu-west".to_string()];
    let (mut received, mut dropped, mut ended, mut msgs) = (0u64, 0u64, 0usize, 0u64);
    while let Ok(Some(m)) = tokio::time::timeout(Duration::from_secs(20), rx.recv()).await {
        assert!(
            budget.held() <= budget.limit(),
            "in flight {} > budget {}",
            budget.held(),
            budget.limit()
        );
        let Msg::Logs(m) = m else { continue };
        match &m {
            LogsMsg::Batch { lines, .. } => received += lines.len() as u64,
            LogsMsg::Ended {
                dropped: d, why, ..
            } => {
                assert_eq!(why, "container restarted");
                dropped += d;
                ended += 1;
            }
            _ => {}
        }
        pane.on_msg(m, Instant::now(), &store, &names);
        msgs += 1;
        // the pane is slower than the streams
        if msgs % 4 == 0 {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }
    assert_eq!(ended, STREAMS, "every stream reported its end");
    let offered = (STREAMS * LINES) as u64;
    assert_eq!(received + dropped, offered, "nothing dropped silently");
    assert!(dropped > 0, "the flood overflowed the budget");
    assert!(received > 0);
    assert!(budget.peak() <= budget.limit());
    assert_eq!(
        budget.held(),
        0,
        "the reducer gave every batch's bytes back"
    );
    // the pane shows the drops per stream, as the streams counted them
    pane.view.tick(Instant::now() + Duration::from_secs(5));
    let c = pane.view.counts();
    assert_eq!(c.dropped_streams, dropped, "every stream shows its drops");
    assert_eq!(c.entries as u64 + c.dropped_oldest, received);
}

#[test]
fn elasticsearch_failing_is_a_logs_badge_in_the_header_never_the_regions() {
    use crate::fleet::health::{Feed, Health};
    let mut s = state(&["eu", "us"]);
    for r in 0..2 {
        update(
            &mut s,
            Msg::RegionHealth {
                region: r,
                feed: Feed::PODS,
                health: Health::Live,
            },
        );
    }
    update(
        &mut s,
        Msg::RegionHealth {
            region: 1,
            feed: super::task::ES_FEED,
            health: Health::Unauthorized("401 Unauthorized".into()),
        },
    );
    assert!(s.regions[1].health.is_live(), "the region stays live");
    let draw = |s: &State| {
        let mut term =
            ratatui::Terminal::new(ratatui::backend::TestBackend::new(160, 10)).expect("terminal");
        let styles = crate::theme::Styles::default();
        term.draw(|f| crate::ui::draw(s, &styles, f)).expect("draw");
        term.backend().to_string()
    };
    let screen = draw(&s);
    let header = screen.lines().next().unwrap_or_default().to_string();
    assert!(header.contains("· logs: 401 Unauthorized"), "{header}");
    assert_eq!(header.matches("· logs").count(), 1, "{header}");
    // it answers again: the badge goes
    update(
        &mut s,
        Msg::RegionHealth {
            region: 1,
            feed: super::task::ES_FEED,
            health: Health::Live,
        },
    );
    assert!(!draw(&s).lines().next().unwrap_or_default().contains("logs"));
}
