//! P9 end to end: streams as tasks -> `Msg::Logs` -> the loop -> state and
//! frames, with the bytes generated in memory at the offered rate.

use futures::future::BoxFuture;
use futures::TryStreamExt;
use pitwall::app::Cockpit;
use pitwall::config::RegionConfig;
use pitwall::keymap::Keymap;
use pitwall::model::{ContainerRow, ContainerState, PodRow};
use pitwall::msg::{Msg, Update};
use pitwall::panes::logs::follow::{BoxRead, LogClient, OpenError};
use pitwall::panes::logs::select::LogSelection;
use pitwall::panes::logs::state::LogsSettings;
use pitwall::panes::logs::task::{self, StreamSettings};
use pitwall::tasks::Tasks;
use pitwall::theme::Styles;
use ratatui::backend::TestBackend;
use ratatui::Terminal;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

const REGIONS: [&str; 4] = ["eu", "us", "ap", "cn"];
const STREAMS: usize = 200;
const RATE: u64 = 100_000;
const STEP: Duration = Duration::from_millis(10);

/// The kubelet's side of 200 follows: each stream writes its share of the
/// rate every 10 ms, in the kubelet's format (timestamp, then the line).
#[derive(Clone)]
struct Generator {
    produced: Arc<AtomicU64>,
}

impl LogClient for Generator {
    fn stream(&self, path: String) -> BoxFuture<'static, Result<BoxRead, OpenError>> {
        let produced = self.produced.clone();
        // the pod's number picks its lines
        let s: usize = path
            .split("/pods/p")
            .nth(1)
            .and_then(|r| r.split('/').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        Box::pin(async move {
            let per_step = (RATE as f64 * STEP.as_secs_f64() / STREAMS as f64).ceil() as u64;
            let start = tokio::time::Instant::now();
            let chunks = futures::stream::unfold((0u64, start), move |(i, next)| {
                let produced = produced.clone();
                async move {
                    tokio::time::sleep_until(next).await;
                    let t = jiff::Timestamp::now();
                    let mut buf = String::new();
                    for k in 0..per_step {
                        for line in super::raw(s, i + k, t) {
                            buf.push_str(&line);
                            buf.push('\n');
                            produced.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    Some((
                        Ok::<_, std::io::Error>(buf.into_bytes()),
                        (i + per_step, next + STEP),
                    ))
                }
            });
            Ok(Box::pin(Box::pin(chunks).into_async_read()) as BoxRead)
        })
    }

    fn text(&self, path: String) -> BoxFuture<'static, Result<String, OpenError>> {
        Box::pin(async move {
            Ok(format!(
                r#"{{"status":{{"containerStatuses":[{{"name":"app","containerID":"sim://{path}","state":{{"running":{{}}}}}}]}}}}"#
            ))
        })
    }
}

fn pod(region: usize, n: usize) -> PodRow {
    PodRow {
        region,
        uid: format!("uid-{n}"),
        namespace: "shop".into(),
        name: format!("p{n}"),
        phase: "Running".into(),
        status: "Running".into(),
        containers: vec![ContainerRow {
            name: "app".into(),
            state: ContainerState::Running { started: None },
            ..Default::default()
        }],
        ..Default::default()
    }
}

/// utime + stime of the calling thread, in seconds.
fn thread_cpu() -> f64 {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap_or_default();
    let rest = stat.rsplit_once(')').map(|x| x.1).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    let get = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (get(11) + get(12)) / ticks.max(1.0)
}

pub fn run(secs: u64) {
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => panic!("runtime: {e}"),
    };
    let regions: Vec<RegionConfig> = REGIONS
        .iter()
        .map(|r| RegionConfig {
            name: r.to_string(),
            context: r.to_string(),
            ..RegionConfig::default()
        })
        .collect();
    let mut cockpit = Cockpit::new(&regions, Keymap::default(), Styles::default(), 0);
    let settings = LogsSettings {
        max_streams: STREAMS,
        ..LogsSettings::default()
    };
    cockpit.state.logs.configure(settings.clone());
    for n in 0..STREAMS {
        cockpit.handle(Msg::Pods {
            region: n % REGIONS.len(),
            update: Update::ListPage(vec![pod(n % REGIONS.len(), n)]),
        });
    }
    // the pane's own path: selection, plan (every stream under the cap)
    let sel =
        match LogSelection::parse("shop", 0, &cockpit.state.store, &cockpit.state.region_names) {
            Ok(s) => s,
            Err(e) => panic!("selection: {e}"),
        };
    let planned = pitwall::panes::logs::keys::open(&mut cockpit.state, sel.clone());
    let starts = planned
        .iter()
        .filter(|e| {
            matches!(
                e,
                pitwall::update::Effect::Task(pitwall::tasks::TaskCommand::Start(..))
            )
        })
        .count();
    assert_eq!(starts, STREAMS, "a task per stream");
    assert!(cockpit
        .state
        .logs
        .view
        .set_filter(|f| f.set_include("(?i)error|timeout|status\":5\\d\\d")));
    let targets = sel.targets(&cockpit.state.store, &cockpit.state.region_names);

    let (tx, mut rx) = mpsc::channel::<Msg>(pitwall::app::CHANNEL);
    let generator = Generator {
        produced: Arc::new(AtomicU64::new(0)),
    };
    let mut tasks = rt.block_on(async { Tasks::new(tx.clone(), STREAMS + 8) });
    let stream_settings = StreamSettings {
        tail: 0,
        names: Arc::new(settings.names.clone()),
        max_line: settings.max_line,
        budget: cockpit.state.logs.budget.clone(),
    };
    // the planned tasks, under the keys the plan gave them, with the
    // in-memory kubelet instead of the region's client
    let _guard = rt.enter();
    for t in &targets {
        let Some(key) = cockpit.state.logs.started.get(&t.container_id).cloned() else {
            panic!("not planned: {}", t.container_id);
        };
        let (g, t, ss) = (generator.clone(), t.clone(), stream_settings.clone());
        if let Err(e) = tasks.start(key, move |ctx| {
            let out = (ctx.key().0.as_str().into(), ctx.sender().clone());
            task::stream(g, t, ss, out, ctx.token().clone())
        }) {
            panic!("task: {e}");
        }
    }

    let budget = cockpit.state.logs.budget.clone();
    // the loop, on its own thread as in the cockpit: drain, handle, draw
    let (rss0, cpu0) = (super::rss_kb(), super::cpu_seconds());
    let window = Duration::from_secs(secs);
    let looped = std::thread::spawn(move || {
        let lrt = match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(rt) => rt,
            Err(e) => panic!("loop runtime: {e}"),
        };
        let mut term = match Terminal::new(TestBackend::new(200, 50)) {
            Ok(t) => t,
            Err(e) => panic!("terminal: {e}"),
        };
        lrt.block_on(async move {
            let (cpu0, t0) = (thread_cpu(), Instant::now());
            let (mut msgs, mut frames, mut last_draw) = (0u64, 0u64, Instant::now());
            let mut worst_frame = Duration::ZERO;
            while t0.elapsed() < window {
                let due = cockpit
                    .state
                    .logs
                    .view
                    .next_due()
                    .unwrap_or_else(|| Instant::now() + Duration::from_millis(50));
                match tokio::time::timeout_at(due.into(), rx.recv()).await {
                    Ok(Some(m)) => {
                        cockpit.handle(m);
                        msgs += 1;
                        let mut n = 1;
                        while n < pitwall::app::MAX_DRAIN {
                            let Ok(m) = rx.try_recv() else { break };
                            cockpit.handle(m);
                            msgs += 1;
                            n += 1;
                        }
                    }
                    Ok(None) => break,
                    Err(_) => {
                        cockpit.handle(Msg::Tick(0));
                    }
                }
                if last_draw.elapsed() >= pitwall::app::FRAME {
                    let f0 = Instant::now();
                    if let Err(e) = cockpit.draw(&mut term) {
                        panic!("draw: {e}");
                    }
                    worst_frame = worst_frame.max(f0.elapsed());
                    frames += 1;
                    last_draw = Instant::now();
                }
            }
            let cpu = thread_cpu() - cpu0;
            let wall = t0.elapsed().as_secs_f64();
            (cockpit, rx, cpu, wall, msgs, frames, worst_frame)
        })
    });
    let (mut cockpit, mut rx, loop_cpu, wall, msgs, frames, worst_frame) = match looped.join() {
        Ok(r) => r,
        Err(_) => panic!("the loop thread panicked"),
    };
    let cpu_all = super::cpu_seconds() - cpu0;
    let produced = generator.produced.load(Ordering::Relaxed);
    // stop every stream; their last batches and end reports come in
    rt.block_on(async {
        let aborted = tasks.shutdown(Duration::from_secs(5)).await;
        drop(tasks);
        assert_eq!(aborted, 0, "every stream stopped");
        drop(tx);
        while let Ok(Some(m)) = tokio::time::timeout(Duration::from_secs(2), rx.recv()).await {
            cockpit.handle(m);
        }
    });
    cockpit
        .state
        .logs
        .view
        .tick(Instant::now() + Duration::from_secs(5));
    let v = &cockpit.state.logs.view;
    let c = v.counts();
    let received: u64 = v.streams.values().map(|s| s.lines).sum();
    assert_eq!(
        c.entries as u64 + c.dropped_oldest,
        received,
        "every entry received is in the ring or counted as dropped oldest"
    );
    println!("| scenario | target | result |");
    println!("|---|---|---|");
    println!(
        "| P9 end to end: {STREAMS} streams as tasks -> Msg::Logs -> loop -> state + frames, include regex, sanitising | <= 1 core, memory within the buffer budget, every drop counted | loop thread {:.2} cores ({:.1} s CPU over {:.1} s; {} messages, {} frames, worst frame {:.1} ms); whole process {:.2} cores incl. the in-memory kubelet; {} physical lines offered ({:.0}/s) -> {} entries received, {} dropped at streams (counted), {} dropped oldest (counted); ring {} entries / {:.1} MiB of {:.0} MiB; RSS +{} MiB; in flight at most {:.1} of its {:.1} MiB budget |",
        loop_cpu / wall,
        loop_cpu,
        wall,
        msgs,
        frames,
        worst_frame.as_secs_f64() * 1000.0,
        cpu_all / wall,
        produced,
        produced as f64 / wall,
        received,
        c.dropped_streams,
        c.dropped_oldest,
        c.entries,
        c.bytes as f64 / 1048576.0,
        v.settings.buffer_bytes as f64 / 1048576.0,
        super::rss_kb().saturating_sub(rss0) / 1024,
        budget.peak() as f64 / 1048576.0,
        budget.limit() as f64 / 1048576.0,
    );
    assert!(budget.peak() <= budget.limit(), "in flight within budget");
    assert_eq!(budget.held(), 0, "every batch taken gave its bytes back");
}
