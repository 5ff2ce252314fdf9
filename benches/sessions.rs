//! P11 of `PERFORMANCE.md`: exec, key press to the remote prompt; and a
//! port-forward's throughput against a direct connection to the same
//! responder. Results in `docs/BENCHMARKS.md`.
//!
//! The simulator (`test-small`) runs in-process over HTTPS on 127.0.0.1;
//! the cockpit is headless (`app::Cockpit`, the real sources, reducers and
//! effects). Exec: Enter in the exec picker -> the write path's check off
//! the UI task -> the session ready to take the terminal (`SessionMsg::
//! Ready`) -> the WebSocket exec opened with a TTY -> the shell's prompt
//! read. Not in the number: handing the terminal over (raw mode off and
//! on, the alternate screen: a few escape sequences) and the terminal
//! painting the prompt. The simulator starts a process 100 ms after the
//! upgrade, as a container runtime does, so that much of the figure is
//! the server's.
//!
//! Port-forward: a forward task (`panes::forwards::task`) to a pod, against
//! a local TCP server running the simulator's `Responder` for each
//! connection (the same HTTP answers, no API server or WebSocket between).
//! Three loads: sequential keep-alive requests on one connection, one
//! large upload (a POST body the responder reads and skips), and a new
//! connection per request. Nothing is asserted on timings.

use pitwall::app::{fleet_regions, wall_now, writer_for, Cockpit, CHANNEL};
use pitwall::fleet::{self, Clients, SourceOptions};
use pitwall::keymap::Keymap;
use pitwall::msg::Msg;
use pitwall::panes::exec::{SessionDialog, SessionMsg};
use pitwall::panes::forwards::state::{ForwardSpec, ForwardTarget};
use pitwall::state::Modal;
use pitwall::tasks::{TaskState, Tasks, MAX_TASKS};
use pitwall::theme::Styles;
use pitwall::update::Effect;
use pitwall::write::session::{self, ExecRequest};
use pitwall_sim::{Fleet, Responder, Scenario};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

struct Bench {
    cockpit: Cockpit,
    rx: mpsc::Receiver<Msg>,
    tx: mpsc::Sender<Msg>,
    env: pitwall::effects::Env,
    tasks: Tasks,
}

impl Bench {
    fn run(&mut self, effects: Vec<Effect>) {
        for e in effects {
            match e {
                Effect::Task(cmd) => self.tasks.apply(cmd, &self.env),
                other => pitwall::effects::spawn(other, &self.env, &self.tx),
            }
        }
    }

    /// Feeds messages until `stop` says so of one; panics after a minute.
    async fn until(&mut self, what: &str, mut stop: impl FnMut(&Msg, &Cockpit) -> bool) -> Msg {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        loop {
            let msg = tokio::time::timeout_at(deadline, self.rx.recv())
                .await
                .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
                .unwrap_or_else(|| panic!("channel closed waiting for {what}"));
            let done = stop(&msg, &self.cockpit);
            let effects = self.cockpit.handle(msg.clone());
            if done {
                return msg;
            }
            self.run(effects);
        }
    }
}

fn key(c: crossterm::event::KeyCode) -> Msg {
    Msg::Key(crossterm::event::KeyEvent::new(
        c,
        crossterm::event::KeyModifiers::NONE,
    ))
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(i).copied().unwrap_or_default()
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

/// The exec figure: `runs` times, Enter in the picker -> the prompt read.
async fn exec_prompt(
    b: &mut Bench,
    region: usize,
    pod: &str,
    runs: usize,
) -> Vec<(Duration, Duration)> {
    let mut out = Vec::new();
    for _ in 0..runs {
        let s = &mut b.cockpit.state;
        s.refresh_view();
        let index = s
            .store
            .view()
            .iter()
            .position(|slot| {
                s.store
                    .get(*slot)
                    .is_some_and(|r| r.region == region && r.name == pod)
            })
            .unwrap_or_else(|| panic!("{pod} not in view"));
        pitwall::panes::pods::select_index(s, index);
        let effects = b.cockpit.handle(key(crossterm::event::KeyCode::Char('e')));
        b.run(effects);
        b.until("the picker's check", |_, c| {
            matches!(&c.state.ui.modal, Some(Modal::Session(d))
                if matches!(d.as_ref(), SessionDialog::Exec(p) if p.access.is_some()))
        })
        .await;
        let t0 = Instant::now();
        let effects = b.cockpit.handle(key(crossterm::event::KeyCode::Enter));
        b.run(effects);
        b.until("the session ready", |m, _| {
            matches!(m, Msg::Session(SessionMsg::Ready(_)))
        })
        .await;
        let ready = t0.elapsed();
        let req = ExecRequest {
            region,
            namespace: "shop".into(),
            pod: pod.into(),
            container: None,
            command: vec!["bash".into()],
            tty: true,
        };
        let mut s = session::exec_session(&b.env.writer, &req)
            .await
            .unwrap_or_else(|r| panic!("exec: {r}"));
        let mut stdout = s.process.stdout().unwrap_or_else(|| panic!("no stdout"));
        let mut seen = Vec::new();
        let mut buf = [0u8; 4096];
        let prompt = format!("root@{pod}:/# ");
        while !String::from_utf8_lossy(&seen).contains(&prompt) {
            let n = tokio::time::timeout(Duration::from_secs(30), stdout.read(&mut buf))
                .await
                .unwrap_or_else(|_| panic!("no prompt"))
                .unwrap_or_else(|e| panic!("{e}"));
            assert!(n > 0, "session ended before its prompt");
            seen.extend_from_slice(&buf[..n]);
        }
        out.push((ready, t0.elapsed()));
        if let Some(mut stdin) = s.process.stdin() {
            let _ = stdin.write_all(b"exit\r").await;
        }
        if let Some(status) = s.process.take_status() {
            let code = tokio::time::timeout(Duration::from_secs(10), status)
                .await
                .ok()
                .flatten()
                .as_ref()
                .and_then(session::exit_code);
            s.audit.end(code, pitwall::write::audit::AuditResult::Ok);
        }
    }
    out
}

/// A local server answering every connection with the simulator's responder.
async fn direct_server(pod: String) -> u16 {
    let l = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let port = l.local_addr().unwrap_or_else(|e| panic!("{e}")).port();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = l.accept().await {
            let pod = pod.clone();
            tokio::spawn(async move {
                let mut r = Responder::new(&pod);
                let mut buf = vec![0u8; 64 * 1024];
                while let Ok(n) = sock.read(&mut buf).await {
                    if n == 0 {
                        break;
                    }
                    let out = r.feed(&buf[..n]);
                    if !out.is_empty() && sock.write_all(&out).await.is_err() {
                        break;
                    }
                }
            });
        }
    });
    port
}

/// Reads one answer (head + Content-Length body).
async fn answer(s: &mut TcpStream, buf: &mut Vec<u8>) {
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_lowercase();
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            if buf.len() >= end + 4 + len {
                buf.drain(..end + 4 + len);
                return;
            }
        }
        let n = s.read(&mut chunk).await.unwrap_or(0);
        assert!(n > 0, "connection closed mid-answer");
        buf.extend_from_slice(&chunk[..n]);
    }
}

const GET: &[u8] = b"GET / HTTP/1.1\r\nHost: bench\r\n\r\n";

async fn requests_per_second(port: u16, span: Duration) -> f64 {
    let mut s = TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let mut buf = Vec::new();
    let (t0, mut n) = (Instant::now(), 0u64);
    while t0.elapsed() < span {
        s.write_all(GET).await.unwrap_or_else(|e| panic!("{e}"));
        answer(&mut s, &mut buf).await;
        n += 1;
    }
    n as f64 / t0.elapsed().as_secs_f64()
}

async fn upload_mib_per_second(port: u16, bytes: usize) -> f64 {
    let mut s = TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let t0 = Instant::now();
    let head = format!("POST / HTTP/1.1\r\nHost: bench\r\nContent-Length: {bytes}\r\n\r\n");
    s.write_all(head.as_bytes())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let chunk = vec![b'x'; 64 * 1024];
    let mut left = bytes;
    while left > 0 {
        let n = left.min(chunk.len());
        s.write_all(&chunk[..n])
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        left -= n;
    }
    // the responder answers the POST once its head is read and skips the
    // body: the GET after it is answered only once the body went through
    s.write_all(GET).await.unwrap_or_else(|e| panic!("{e}"));
    let mut buf = Vec::new();
    answer(&mut s, &mut buf).await;
    answer(&mut s, &mut buf).await;
    bytes as f64 / (1024.0 * 1024.0) / t0.elapsed().as_secs_f64()
}

async fn connections_per_second(port: u16, span: Duration) -> f64 {
    let (t0, mut n) = (Instant::now(), 0u64);
    while t0.elapsed() < span {
        let mut s = TcpStream::connect(("127.0.0.1", port))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        s.write_all(GET).await.unwrap_or_else(|e| panic!("{e}"));
        let mut buf = Vec::new();
        answer(&mut s, &mut buf).await;
        n += 1;
    }
    n as f64 / t0.elapsed().as_secs_f64()
}

/// `kubectl port-forward` to the same pod, for comparison (its SPDY-in-
/// WebSocket path through the same simulator): the child and its port.
async fn kubectl_forward(kc: &std::path::Path, pod: &str) -> Option<(tokio::process::Child, u16)> {
    use tokio::io::AsyncBufReadExt;
    let mut child = tokio::process::Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(kc)
        .args(["--context", "beta", "-n", "shop", "port-forward"])
        .arg(format!("pod/{pod}"))
        .arg(":8080")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .ok()?;
    let out = child.stdout.take()?;
    let mut lines = tokio::io::BufReader::new(out).lines();
    let port = tokio::time::timeout(Duration::from_secs(30), async {
        while let Ok(Some(l)) = lines.next_line().await {
            // Forwarding from 127.0.0.1:41234 -> 8080
            if let Some(p) = l
                .strip_prefix("Forwarding from 127.0.0.1:")
                .and_then(|r| r.split_whitespace().next())
                .and_then(|p| p.parse::<u16>().ok())
            {
                return Some(p);
            }
        }
        None
    })
    .await
    .ok()
    .flatten()?;
    // keep reading its output so it never blocks on a full pipe
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Some((child, port))
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    if !quick && !std::env::args().any(|a| a == "--bench") {
        println!("run with `cargo bench --bench sessions` (or `-- --quick`)");
        return;
    }
    let (runs, span, upload) = if quick {
        (3, Duration::from_millis(500), 4 << 20)
    } else {
        (30, Duration::from_secs(5), 64 << 20)
    };
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/scenarios/test-small.toml");
    let scenario = Scenario::load(&path).unwrap_or_else(|e| panic!("{e}"));
    let fleet = Fleet::start(scenario, None)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let (regions, specs) = fleet_regions(&fleet).unwrap_or_else(|e| panic!("{e}"));
    let (tx, rx) = mpsc::channel(CHANNEL);
    let clients = Clients::new(regions.len());
    fleet::spawn_all(specs, tx.clone(), clients.clone(), SourceOptions::default());
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let (writer, _) = writer_for(
        &regions,
        Default::default(),
        &clients,
        Some(dir.path().join("audit")),
    );
    let env = pitwall::effects::Env { clients, writer };
    let cockpit = Cockpit::new(&regions, Keymap::default(), Styles::default(), wall_now());
    let tasks = Tasks::new(tx.clone(), MAX_TASKS);
    let mut b = Bench {
        cockpit,
        rx,
        tx,
        env,
        tasks,
    };
    let beta = regions
        .iter()
        .position(|r| r.name == "beta")
        .unwrap_or_else(|| panic!("no beta"));
    let mut pod = String::new();
    b.until("a ready web pod in beta", |_, c| {
        let found = c.state.store.rows().find(|r| {
            r.region == beta
                && r.name.starts_with("web-")
                && r.status == "Running"
                && r.ready == r.total
        });
        if let Some(r) = found {
            pod = r.name.clone();
        }
        found.is_some() && c.state.regions[beta].health.is_live()
    })
    .await;

    let mut times = exec_prompt(&mut b, beta, &pod, runs).await;
    times.sort();
    let mut total: Vec<Duration> = times.iter().map(|t| t.1).collect();
    total.sort();
    let mut ready: Vec<Duration> = times.iter().map(|t| t.0).collect();
    ready.sort();
    println!("| P11 exec | {runs} runs | Enter -> prompt median {}, p95 {}, max {} | of which the check off the UI task median {} |",
        ms(percentile(&total, 0.5)), ms(percentile(&total, 0.95)), ms(percentile(&total, 1.0)), ms(percentile(&ready, 0.5)));

    let spec = ForwardSpec {
        region: beta,
        region_name: "beta".into(),
        namespace: "shop".into(),
        target: ForwardTarget::Pod(pod.clone()),
        remote: 8080,
        local: {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
            l.local_addr().unwrap_or_else(|e| panic!("{e}")).port()
        },
    };
    let key = spec.key();
    let local = spec.local;
    b.run(vec![pitwall::panes::forwards::start(spec)]);
    b.until("the forward listening", |_, c| {
        matches!(
            c.state.tasks.get(&key),
            Some(TaskState::Running(_) | TaskState::Failed(_))
        )
    })
    .await;
    assert!(
        matches!(b.cockpit.state.tasks.get(&key), Some(TaskState::Running(_))),
        "{:?}",
        b.cockpit.state.tasks.get(&key)
    );
    // the loop keeps reading its channel meanwhile (counters arrive there)
    let mut rx_drain = std::mem::replace(&mut b.rx, mpsc::channel(1).1);
    let drain = tokio::spawn(async move { while rx_drain.recv().await.is_some() {} });
    let direct = direct_server(pod.clone()).await;
    let kc = dir.path().join("kubeconfig");
    std::fs::write(&kc, fleet.kubeconfig_yaml()).unwrap_or_else(|e| panic!("{e}"));
    let kubectl = kubectl_forward(&kc, &pod).await;
    let mut targets = vec![("direct", direct), ("port-forward", local)];
    if let Some((_, port)) = &kubectl {
        targets.push(("kubectl port-forward", *port));
    } else {
        println!("| P11 kubectl port-forward | kubectl not found: no comparison |");
    }
    for (name, port) in targets {
        let rps = requests_per_second(port, span).await;
        let up = upload_mib_per_second(port, upload).await;
        let cps = connections_per_second(port, span).await;
        println!("| P11 {name} | {rps:.0} requests/s on one connection | upload {up:.1} MiB/s | {cps:.0} new connections/s |");
    }
    drain.abort();
    b.tasks.shutdown(Duration::from_millis(500)).await;
    drop(fleet);
}
