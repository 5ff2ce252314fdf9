//! Long-lived IO, keyed: log follows, port-forwards, pollers, promotions.
//! Each task runs until it ends by itself or the user stops it, holds a
//! cancel token, and reports its state (`Starting`, `Running(detail)`, then
//! `Failed(reason)` or `Stopped`) as `Msg::Task`, in that order. The count is
//! bounded. On quit and on every signal that ends the loop, `shutdown`
//! cancels them all and waits briefly, so no listener is left behind.
//! Effects stay one-shot; this is where IO that outlives a key press lives.
//!
//! Starting a key that is still running (or still stopping) is refused, not
//! replaced: a second port-forward on the same key would fight the first
//! for its port. Stop it first.
//!
//! `TerminalJob` is the other kind of long IO: one that takes over the
//! terminal (exec). It runs in the loop, as Ctrl-Z suspend does
//! (`take_terminal`).

use crate::msg::Msg;
use futures::future::BoxFuture;
use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc::Sender;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// Most tasks running at once.
pub const MAX_TASKS: usize = 64;
/// How long quitting waits for tasks to wind down before aborting them.
pub const SHUTDOWN_GRACE: Duration = Duration::from_millis(500);

/// What names a task: `port-forward eu/shop/web-1 8080`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TaskKey(pub String);

impl std::fmt::Display for TaskKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskState {
    Starting,
    /// Working, with what to show (`127.0.0.1:8080, 2 connections`).
    Running(String),
    Failed(String),
    Stopped,
}

/// One state change of one task. `generation` tells a task from an earlier
/// one under the same key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskReport {
    pub key: TaskKey,
    pub generation: u64,
    pub state: TaskState,
}

/// What the loop can ask of the registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskCommand {
    /// Start `job` under `key` (refused if the key runs or the registry is
    /// full: the refusal comes back as `Msg::TaskRefused`).
    Start(TaskKey, TaskJob),
    Stop(TaskKey),
    StopAll,
}

type TaskFn =
    Box<dyn FnOnce(crate::effects::Env, TaskCtx) -> BoxFuture<'static, Result<(), String>> + Send>;

/// The IO of a long-lived task as data a reducer can return: it gets the
/// loop's `Env` (read clients, the writer) and its `TaskCtx` when started.
#[derive(Clone)]
pub struct TaskJob(Arc<Mutex<Option<TaskFn>>>);

impl TaskJob {
    pub fn new<F, Fut>(run: F) -> TaskJob
    where
        F: FnOnce(crate::effects::Env, TaskCtx) -> Fut + Send + 'static,
        Fut: Future<Output = Result<(), String>> + Send + 'static,
    {
        let boxed: TaskFn = Box::new(move |env, ctx| Box::pin(run(env, ctx)));
        TaskJob(Arc::new(Mutex::new(Some(boxed))))
    }

    fn take(&self) -> Option<TaskFn> {
        self.0.lock().ok()?.take()
    }
}

impl std::fmt::Debug for TaskJob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TaskJob")
    }
}

impl PartialEq for TaskJob {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for TaskJob {}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskRefusal {
    /// The key runs (or is still stopping): stop it first.
    Busy(TaskKey),
    /// Already `max` tasks.
    Full { max: usize },
    /// The cockpit is quitting.
    ShuttingDown,
}

impl std::fmt::Display for TaskRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TaskRefusal::Busy(k) => write!(f, "{k} is already running; stop it first"),
            TaskRefusal::Full { max } => {
                write!(f, "{max} tasks already run; stop one to start another")
            }
            TaskRefusal::ShuttingDown => f.write_str("quitting: no new tasks"),
        }
    }
}

/// What a running task holds: its key, its cancel token, and the way to
/// report progress.
#[derive(Clone)]
pub struct TaskCtx {
    key: TaskKey,
    generation: u64,
    cancel: CancellationToken,
    tx: Sender<Msg>,
}

impl TaskCtx {
    pub fn key(&self) -> &TaskKey {
        &self.key
    }

    /// The loop's channel, for tasks that deliver their own data (tables,
    /// lines, figures, a forward's counters) as their own `Msg`s. A task
    /// that must not lose data awaits `send` (it waits while the loop is
    /// behind); one whose data is a snapshot may `try_send`.
    pub fn sender(&self) -> &Sender<Msg> {
        &self.tx
    }

    /// Cancelled when the task is stopped or the cockpit quits. A task that
    /// does not watch it is dropped at its next await point anyway.
    pub fn token(&self) -> &CancellationToken {
        &self.cancel
    }

    /// Reports `Running(detail)`.
    pub async fn running(&self, detail: impl Into<String>) {
        report(
            &self.tx,
            &self.key,
            self.generation,
            TaskState::Running(detail.into()),
        )
        .await;
    }
}

async fn report(tx: &Sender<Msg>, key: &TaskKey, generation: u64, state: TaskState) {
    let _ = tx
        .send(Msg::Task(TaskReport {
            key: key.clone(),
            generation,
            state,
        }))
        .await;
}

struct Entry {
    generation: u64,
    cancel: CancellationToken,
    handle: JoinHandle<()>,
}

/// The registry. Owned by the loop; `start` and `stop` never block.
pub struct Tasks {
    tx: Sender<Msg>,
    max: usize,
    root: CancellationToken,
    entries: HashMap<TaskKey, Entry>,
    generation: u64,
}

impl Tasks {
    pub fn new(tx: Sender<Msg>, max: usize) -> Tasks {
        Tasks {
            tx,
            max,
            root: CancellationToken::new(),
            entries: HashMap::new(),
            generation: 0,
        }
    }

    /// Forgets tasks that have ended.
    fn reap(&mut self) {
        self.entries.retain(|_, e| !e.handle.is_finished());
    }

    /// Starts `run` under `key`. Its future is dropped as soon as the task is
    /// cancelled, so whatever it holds (sockets, listeners) is released;
    /// `Err(reason)` reports `Failed(reason)`, `Ok` reports `Stopped`.
    pub fn start<F, Fut>(&mut self, key: TaskKey, run: F) -> Result<u64, TaskRefusal>
    where
        F: FnOnce(TaskCtx) -> Fut,
        Fut: Future<Output = Result<(), String>> + Send + 'static,
    {
        if self.root.is_cancelled() {
            return Err(TaskRefusal::ShuttingDown);
        }
        self.reap();
        if self.entries.contains_key(&key) {
            return Err(TaskRefusal::Busy(key));
        }
        if self.entries.len() >= self.max {
            return Err(TaskRefusal::Full { max: self.max });
        }
        self.generation += 1;
        let generation = self.generation;
        let cancel = self.root.child_token();
        let ctx = TaskCtx {
            key: key.clone(),
            generation,
            cancel: cancel.clone(),
            tx: self.tx.clone(),
        };
        let fut = run(ctx);
        let (tx, k, token) = (self.tx.clone(), key.clone(), cancel.clone());
        let handle = tokio::spawn(async move {
            report(&tx, &k, generation, TaskState::Starting).await;
            let end = tokio::select! {
                biased;
                _ = token.cancelled() => TaskState::Stopped,
                r = fut => match r {
                    Ok(()) => TaskState::Stopped,
                    Err(reason) => TaskState::Failed(reason),
                },
            };
            report(&tx, &k, generation, end).await;
        });
        self.entries.insert(
            key,
            Entry {
                generation,
                cancel,
                handle,
            },
        );
        Ok(generation)
    }

    /// Cancels `key`; it reports `Stopped` once its future is dropped.
    /// False when no such task runs.
    pub fn stop(&mut self, key: &TaskKey) -> bool {
        self.reap();
        match self.entries.get(key) {
            Some(e) if !e.cancel.is_cancelled() => {
                e.cancel.cancel();
                true
            }
            _ => false,
        }
    }

    pub fn apply(&mut self, cmd: TaskCommand, env: &crate::effects::Env) {
        match cmd {
            TaskCommand::Start(key, job) => {
                let refused = match job.take() {
                    Some(run) => {
                        let env = env.clone();
                        self.start(key.clone(), move |ctx| run(env, ctx)).err()
                    }
                    None => Some(TaskRefusal::Busy(key.clone())),
                };
                if let Some(why) = refused {
                    // try_send: the loop must not wait on its own channel
                    let _ = self.tx.try_send(Msg::TaskRefused {
                        key,
                        reason: why.to_string(),
                    });
                }
            }
            TaskCommand::Stop(key) => {
                self.stop(&key);
            }
            TaskCommand::StopAll => self.entries.values().for_each(|e| e.cancel.cancel()),
        }
    }

    /// The tasks not yet ended, by key, with their generation and whether
    /// they were asked to stop.
    pub fn list(&mut self) -> Vec<(TaskKey, u64, bool)> {
        self.reap();
        let mut out: Vec<_> = self
            .entries
            .iter()
            .map(|(k, e)| (k.clone(), e.generation, e.cancel.is_cancelled()))
            .collect();
        out.sort();
        out
    }

    /// Cancels every task and refuses new ones, waits up to `grace` for
    /// them to end, then aborts the rest. Returns how many had to be aborted.
    pub async fn shutdown(&mut self, grace: Duration) -> usize {
        self.root.cancel();
        let deadline = tokio::time::Instant::now() + grace;
        let mut aborted = 0;
        for (_, mut e) in self.entries.drain() {
            if tokio::time::timeout_at(deadline, &mut e.handle)
                .await
                .is_err()
            {
                e.handle.abort();
                aborted += 1;
            }
        }
        aborted
    }
}

impl Drop for Tasks {
    fn drop(&mut self) {
        self.root.cancel();
        for e in self.entries.values() {
            e.handle.abort();
        }
    }
}

/// The latest state of every task, as the reducer keeps it for the UI.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskBoard {
    rows: BTreeMap<TaskKey, (u64, TaskState)>,
}

/// Ended tasks kept on the board for the user to read.
const BOARD_ENDED: usize = 32;

impl TaskBoard {
    /// Applies a report; a late report of an earlier task under the same key
    /// is ignored.
    pub fn apply(&mut self, r: TaskReport) {
        if let Some((generation, _)) = self.rows.get(&r.key) {
            if *generation > r.generation {
                return;
            }
        }
        self.rows.insert(r.key, (r.generation, r.state));
        let mut ended: Vec<(u64, TaskKey)> = self
            .rows
            .iter()
            .filter(|(_, (_, s))| matches!(s, TaskState::Stopped | TaskState::Failed(_)))
            .map(|(k, (g, _))| (*g, k.clone()))
            .collect();
        if ended.len() > BOARD_ENDED {
            ended.sort();
            let extra = ended.len() - BOARD_ENDED;
            for (_, k) in ended.drain(..extra) {
                self.rows.remove(&k);
            }
        }
    }

    pub fn get(&self, key: &TaskKey) -> Option<&TaskState> {
        self.rows.get(key).map(|(_, s)| s)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&TaskKey, &TaskState)> {
        self.rows.iter().map(|(k, (_, s))| (k, s))
    }
}

type JobFn = Box<dyn FnOnce() -> BoxFuture<'static, Result<String, String>> + Send>;

/// IO that takes over the terminal (an exec session): the loop gives it the
/// terminal in cooked mode on the main screen and takes it back after,
/// whatever the job's outcome. `Ok(text)` is what to tell the user on
/// return (`exit code 3`), `Err` why it failed.
#[derive(Clone)]
pub struct TerminalJob {
    pub label: String,
    run: Arc<Mutex<Option<JobFn>>>,
}

impl TerminalJob {
    pub fn new<F, Fut>(label: impl Into<String>, run: F) -> TerminalJob
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = Result<String, String>> + Send + 'static,
    {
        let boxed: JobFn = Box::new(move || Box::pin(run()));
        TerminalJob {
            label: label.into(),
            run: Arc::new(Mutex::new(Some(boxed))),
        }
    }

    fn take(&self) -> Option<JobFn> {
        self.run.lock().ok()?.take()
    }

    /// Runs the job on its own task, so a panic in it is caught here (and
    /// only logged by the panic hook) instead of unwinding the loop.
    pub async fn run(self) -> Result<String, String> {
        self.run_until(std::future::pending()).await
    }

    /// `run`, but the job is aborted (and everything it holds dropped) as
    /// soon as `interrupt` says why.
    pub async fn run_until(
        self,
        interrupt: impl Future<Output = String>,
    ) -> Result<String, String> {
        let Some(job) = self.take() else {
            return Err(format!("{}: already ran", self.label));
        };
        let mut handle = tokio::spawn(job());
        tokio::select! {
            joined = &mut handle => match joined {
                Ok(r) => r,
                Err(e) if e.is_panic() => Err(format!(
                    "{}: internal error (see the log); the cockpit is back",
                    self.label
                )),
                Err(_) => Err(format!("{}: cancelled", self.label)),
            },
            why = interrupt => {
                handle.abort();
                Err(format!("{}: {why}", self.label))
            }
        }
    }
}

impl std::fmt::Debug for TerminalJob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TerminalJob({})", self.label)
    }
}

impl PartialEq for TerminalJob {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.run, &other.run)
    }
}

impl Eq for TerminalJob {}

/// Gives the terminal to `job` and takes it back: raw mode off and the main
/// screen while it runs, then raw mode, the alternate screen and a full
/// repaint, whether the job succeeded, failed or panicked. SIGTERM or
/// SIGHUP meanwhile ends the job at once; the loop's own listeners see the
/// same signal next and quit.
pub async fn take_terminal(
    term: &mut crate::tui::Term,
    job: TerminalJob,
) -> (Result<String, String>, std::io::Result<()>) {
    use tokio::signal::unix::{signal, SignalKind};
    let interrupt = async {
        match (
            signal(SignalKind::terminate()),
            signal(SignalKind::hangup()),
        ) {
            (Ok(mut term), Ok(mut hup)) => tokio::select! {
                _ = term.recv() => "ended by SIGTERM".to_string(),
                _ = hup.recv() => "ended by SIGHUP".to_string(),
            },
            _ => std::future::pending().await,
        }
    };
    hand_over(job, interrupt, crate::tui::restore, || {
        crate::tui::enter().and_then(|()| term.clear())
    })
    .await
}

/// `leave`, the job (until `interrupt`), then `back`, whatever the job did.
async fn hand_over(
    job: TerminalJob,
    interrupt: impl Future<Output = String>,
    leave: impl FnOnce(),
    back: impl FnOnce() -> std::io::Result<()>,
) -> (Result<String, String>, std::io::Result<()>) {
    leave();
    let result = job.run_until(interrupt).await;
    (result, back())
}

#[cfg(test)]
mod tests;
