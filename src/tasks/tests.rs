//! The registry with real tasks on the tokio runtime: what they report, in
//! which order, and that what they hold (a listening socket) is released
//! when they are stopped or the cockpit quits.

use super::*;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

/// An `Env` with no regions: its writer refuses everything.
fn test_env() -> crate::effects::Env {
    let clients = crate::fleet::Clients::new(0);
    let (writer, _) = crate::app::writer_for(&[], crate::config::Access::default(), &clients, None);
    crate::effects::Env { clients, writer }
}

fn key(s: &str) -> TaskKey {
    TaskKey(s.into())
}

async fn next_report(rx: &mut mpsc::Receiver<Msg>) -> TaskReport {
    match tokio::time::timeout(Duration::from_secs(10), rx.recv()).await {
        Ok(Some(Msg::Task(r))) => r,
        other => panic!("expected a task report, got {other:?}"),
    }
}

/// Until the registry has forgotten every ended task (bounded).
async fn settle(tasks: &mut Tasks, want: usize) -> Vec<(TaskKey, u64, bool)> {
    for _ in 0..1000 {
        let l = tasks.list();
        if l.len() == want {
            return l;
        }
        tokio::task::yield_now().await;
    }
    panic!("tasks still listed: {:?}", tasks.list());
}

/// A task that listens on 127.0.0.1 and says where, then serves until
/// stopped; `dropped` turns true when its future is gone.
fn listener_task(
    dropped: Arc<AtomicBool>,
) -> impl FnOnce(TaskCtx) -> BoxFuture<'static, Result<(), String>> {
    struct Guard(Arc<AtomicBool>);
    impl Drop for Guard {
        fn drop(&mut self) {
            self.0.store(true, Ordering::SeqCst);
        }
    }
    move |ctx| {
        Box::pin(async move {
            let _guard = Guard(dropped);
            let l = TcpListener::bind("127.0.0.1:0")
                .await
                .map_err(|e| e.to_string())?;
            let addr = l.local_addr().map_err(|e| e.to_string())?;
            ctx.running(addr.to_string()).await;
            loop {
                // never looks at its token: dropping it is what stops it
                let _ = l.accept().await;
            }
        })
    }
}

fn port_of(state: &TaskState) -> std::net::SocketAddr {
    match state {
        TaskState::Running(a) => a.parse().unwrap_or_else(|e| panic!("{e}: {a}")),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn start_list_and_stop_release_what_the_task_held() {
    let (tx, mut rx) = mpsc::channel(64);
    let mut tasks = Tasks::new(tx, 8);
    let dropped = Arc::new(AtomicBool::new(false));
    let g = tasks
        .start(
            key("port-forward eu/shop/web-1 8080"),
            listener_task(dropped.clone()),
        )
        .unwrap_or_else(|e| panic!("{e}"));
    let r = next_report(&mut rx).await;
    assert_eq!(
        (r.key.0.as_str(), r.generation, &r.state),
        ("port-forward eu/shop/web-1 8080", g, &TaskState::Starting)
    );
    let addr = port_of(&next_report(&mut rx).await.state);
    assert!(std::net::TcpStream::connect(addr).is_ok(), "it listens");
    assert_eq!(
        tasks.list(),
        vec![(key("port-forward eu/shop/web-1 8080"), g, false)]
    );

    assert!(tasks.stop(&key("port-forward eu/shop/web-1 8080")));
    assert!(!tasks.stop(&key("nothing")));
    assert_eq!(next_report(&mut rx).await.state, TaskState::Stopped);
    assert!(dropped.load(Ordering::SeqCst));
    // the port is free again: the listener is closed
    assert!(std::net::TcpListener::bind(addr).is_ok());
    settle(&mut tasks, 0).await;
}

#[tokio::test]
async fn states_arrive_in_order_and_a_failure_says_why() {
    let (tx, mut rx) = mpsc::channel(64);
    let mut tasks = Tasks::new(tx, 8);
    tasks
        .start(key("follow"), |ctx| async move {
            ctx.running("connecting").await;
            ctx.running("12 lines").await;
            Err("410 Gone: too old resource version".to_string())
        })
        .unwrap_or_else(|e| panic!("{e}"));
    let mut states = Vec::new();
    for _ in 0..4 {
        states.push(next_report(&mut rx).await.state);
    }
    assert_eq!(
        states,
        [
            TaskState::Starting,
            TaskState::Running("connecting".into()),
            TaskState::Running("12 lines".into()),
            TaskState::Failed("410 Gone: too old resource version".into()),
        ]
    );
    // an ended task frees its key
    settle(&mut tasks, 0).await;
    assert!(tasks.start(key("follow"), |_| async { Ok(()) }).is_ok());
}

#[tokio::test]
async fn a_running_key_is_refused_and_the_count_is_bounded() {
    let (tx, mut rx) = mpsc::channel(64);
    let mut tasks = Tasks::new(tx, 2);
    let forever = |_ctx: TaskCtx| std::future::pending::<Result<(), String>>();
    tasks
        .start(key("a"), forever)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        tasks.start(key("a"), forever),
        Err(TaskRefusal::Busy(key("a")))
    );
    tasks
        .start(key("b"), forever)
        .unwrap_or_else(|e| panic!("{e}"));
    let full = tasks.start(key("c"), forever);
    assert_eq!(full, Err(TaskRefusal::Full { max: 2 }));
    assert_eq!(
        full.err().map(|e| e.to_string()).unwrap_or_default(),
        "2 tasks already run; stop one to start another"
    );
    tasks.apply(TaskCommand::Stop(key("a")), &test_env());
    // still stopping, or stopped: either way "a" is not replaced underneath
    loop {
        let r = next_report(&mut rx).await;
        if r.key == key("a") && r.state == TaskState::Stopped {
            break;
        }
    }
    settle(&mut tasks, 1).await;
    assert!(tasks.start(key("c"), forever).is_ok());
}

#[tokio::test]
async fn quitting_cancels_every_task_releases_its_listener_and_refuses_new_ones() {
    let (tx, mut rx) = mpsc::channel(64);
    let mut tasks = Tasks::new(tx, 8);
    let flags: Vec<Arc<AtomicBool>> = (0..3).map(|_| Arc::new(AtomicBool::new(false))).collect();
    let mut addrs = Vec::new();
    for (i, f) in flags.iter().enumerate() {
        tasks
            .start(key(&format!("pf-{i}")), listener_task(f.clone()))
            .unwrap_or_else(|e| panic!("{e}"));
    }
    // one more that watches its token and winds down by itself
    let saw_cancel = Arc::new(AtomicBool::new(false));
    let seen = saw_cancel.clone();
    tasks
        .start(key("poller"), move |ctx| async move {
            ctx.token().cancelled().await;
            seen.store(true, Ordering::SeqCst);
            Ok(())
        })
        .unwrap_or_else(|e| panic!("{e}"));
    while addrs.len() < 3 {
        let r = next_report(&mut rx).await;
        if let TaskState::Running(_) = r.state {
            addrs.push(port_of(&r.state));
        }
    }
    let aborted = tasks.shutdown(SHUTDOWN_GRACE).await;
    assert_eq!(aborted, 0, "every task ended within the grace period");
    assert!(flags.iter().all(|f| f.load(Ordering::SeqCst)));
    for a in addrs {
        assert!(std::net::TcpListener::bind(a).is_ok(), "{a} still bound");
    }
    assert!(tasks.list().is_empty());
    assert_eq!(
        tasks.start(key("late"), |_| async { Ok(()) }),
        Err(TaskRefusal::ShuttingDown)
    );
    let _ = saw_cancel; // either it saw the token or it was dropped first: both stop it
    let mut stopped = 0;
    while let Ok(Msg::Task(r)) = rx.try_recv() {
        stopped += usize::from(r.state == TaskState::Stopped);
    }
    assert_eq!(stopped, 4);
}

#[test]
fn the_board_keeps_the_latest_state_and_ignores_an_earlier_task() {
    let mut board = TaskBoard::default();
    let r = |k: &str, g, state| TaskReport {
        key: key(k),
        generation: g,
        state,
    };
    board.apply(r("pf", 2, TaskState::Running("up".into())));
    // a late report from the task this one replaced
    board.apply(r("pf", 1, TaskState::Stopped));
    assert_eq!(
        board.get(&key("pf")),
        Some(&TaskState::Running("up".into()))
    );
    for i in 0..100 {
        board.apply(r(&format!("old-{i:03}"), 10 + i, TaskState::Stopped));
    }
    assert_eq!(
        board.iter().count(),
        BOARD_ENDED + 1,
        "ended rows are bounded"
    );
    assert_eq!(
        board.get(&key("pf")),
        Some(&TaskState::Running("up".into()))
    );
    assert!(board.get(&key("old-099")).is_some() && board.get(&key("old-000")).is_none());
}

#[tokio::test]
async fn a_terminal_job_that_panics_or_fails_comes_back_with_the_reason() {
    let job = TerminalJob::new("exec eu/shop/web-1", || async {
        Ok("exit code 3".to_string())
    });
    assert_eq!(job.clone().run().await, Ok("exit code 3".into()));
    assert_eq!(
        job.run().await,
        Err("exec eu/shop/web-1: already ran".into())
    );
    let job = TerminalJob::new("exec eu/shop/web-2", || async {
        if std::env::var_os("PITWALL_NEVER_SET_THIS").is_none() {
            panic!("boom");
        }
        Ok(String::new())
    });
    let r = job.run().await;
    assert_eq!(
        r,
        Err("exec eu/shop/web-2: internal error (see the log); the cockpit is back".into())
    );
}

#[test]
fn the_reducer_keeps_task_states_and_tells_what_a_terminal_job_returned() {
    use crate::state::State;
    let mut s = State::new(Vec::new(), crate::keymap::Keymap::default(), 1_000);
    let fx = crate::update::update(
        &mut s,
        Msg::Task(TaskReport {
            key: key("pf"),
            generation: 1,
            state: TaskState::Failed("port 8080 is in use".into()),
        }),
    );
    assert!(fx.is_empty());
    assert_eq!(
        s.tasks.get(&key("pf")),
        Some(&TaskState::Failed("port 8080 is in use".into()))
    );
    crate::update::update(
        &mut s,
        Msg::TerminalReturned {
            label: "exec eu/shop/web-1".into(),
            result: Ok("exit code 3".into()),
        },
    );
    let shown: Vec<String> = s.ui.toasts.iter().map(|t| t.text.clone()).collect();
    assert_eq!(shown, ["exec eu/shop/web-1: exit code 3"]);
}

#[tokio::test]
async fn the_terminal_comes_back_after_the_job_whatever_it_did() {
    let jobs = [
        TerminalJob::new("ok", || async { Ok("exit code 0".to_string()) }),
        TerminalJob::new("err", || async {
            Err("403: pods \"web-1\" is forbidden".to_string())
        }),
        TerminalJob::new("panics", || async {
            if std::env::var_os("PITWALL_NEVER_SET_THIS").is_none() {
                panic!("boom");
            }
            Ok(String::new())
        }),
    ];
    for job in jobs {
        let label = job.label.clone();
        let steps = Arc::new(Mutex::new(Vec::new()));
        let (s1, s2, s3) = (steps.clone(), steps.clone(), steps.clone());
        let job = TerminalJob::new(label.clone(), move || {
            let inner = job;
            async move {
                if let Ok(mut s) = s2.lock() {
                    s.push("job");
                }
                inner.run().await
            }
        });
        let (result, back) = hand_over(
            job,
            std::future::pending(),
            move || {
                if let Ok(mut s) = s1.lock() {
                    s.push("leave");
                }
            },
            move || {
                if let Ok(mut s) = s3.lock() {
                    s.push("back");
                }
                Ok(())
            },
        )
        .await;
        assert!(back.is_ok());
        assert_eq!(
            *steps.lock().unwrap_or_else(|e| e.into_inner()),
            ["leave", "job", "back"],
            "{label}"
        );
        match label.as_str() {
            "ok" => assert_eq!(result, Ok("exit code 0".into())),
            "err" => assert_eq!(result, Err("403: pods \"web-1\" is forbidden".into())),
            _ => assert!(
                result.is_err_and(|e| e.contains("internal error")),
                "{label}"
            ),
        }
    }
}

#[tokio::test]
async fn a_signal_during_a_terminal_job_ends_it_and_still_gives_the_terminal_back() {
    let dropped = Arc::new(AtomicBool::new(false));
    let (started_tx, started_rx) = tokio::sync::oneshot::channel::<()>();
    let flag = dropped.clone();
    let job = TerminalJob::new("exec eu/shop/web-1", move || async move {
        struct Guard(Arc<AtomicBool>);
        impl Drop for Guard {
            fn drop(&mut self) {
                self.0.store(true, Ordering::SeqCst);
            }
        }
        let _guard = Guard(flag);
        let _ = started_tx.send(());
        std::future::pending::<()>().await;
        Ok(String::new())
    });
    let came_back = Arc::new(AtomicBool::new(false));
    let back_flag = came_back.clone();
    let interrupt = async move {
        let _ = started_rx.await;
        "ended by SIGTERM".to_string()
    };
    let (result, back) = hand_over(
        job,
        interrupt,
        || {},
        move || {
            back_flag.store(true, Ordering::SeqCst);
            Ok(())
        },
    )
    .await;
    assert_eq!(result, Err("exec eu/shop/web-1: ended by SIGTERM".into()));
    assert!(back.is_ok() && came_back.load(Ordering::SeqCst));
    // the aborted job's future is dropped (the runtime drops it shortly after abort)
    for _ in 0..1000 {
        if dropped.load(Ordering::SeqCst) {
            break;
        }
        tokio::task::yield_now().await;
    }
    assert!(dropped.load(Ordering::SeqCst));
}

#[tokio::test]
async fn a_reducer_starts_a_task_as_data_and_hears_a_refusal() {
    let (tx, mut rx) = mpsc::channel(64);
    let mut tasks = Tasks::new(tx, 4);
    let env = test_env();
    let job = || {
        TaskJob::new(|env: crate::effects::Env, ctx: TaskCtx| async move {
            // the job gets the loop's env: here, a region that does not exist
            let client = env.clients.get(0);
            ctx.running(format!("client: {}", client.is_some())).await;
            std::future::pending::<Result<(), String>>().await
        })
    };
    tasks.apply(TaskCommand::Start(key("follow"), job()), &env);
    assert_eq!(next_report(&mut rx).await.state, TaskState::Starting);
    assert_eq!(
        next_report(&mut rx).await.state,
        TaskState::Running("client: false".into())
    );
    // the same key again: refused, and the refusal is a message
    tasks.apply(TaskCommand::Start(key("follow"), job()), &env);
    match rx.recv().await {
        Some(Msg::TaskRefused { key: k, reason }) => {
            assert_eq!(k, key("follow"));
            assert_eq!(reason, "follow is already running; stop it first");
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
}
