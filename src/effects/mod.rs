//! IO that acts on a cluster or fetches on demand; each effect runs as its
//! own task and answers with a `Msg`. A confirmed change (`Effect::Write`)
//! goes through `write::send` alone, which audits it.

pub mod describe;
pub mod describe_text;

use crate::fleet::Clients;
use crate::model::{ApiObject, ShowAs};
use crate::msg::Msg;
use crate::update::Effect;
use crate::write::Writer;
use std::sync::Arc;
use tokio::sync::mpsc::Sender;

/// What effects and long-lived tasks may use: each region's GET-only
/// client, and the one write path (which holds the only client that can
/// change a cluster). Cheap to clone.
#[derive(Clone)]
pub struct Env {
    pub clients: Clients,
    pub writer: Arc<Writer>,
}

type IoFn = Box<dyn FnOnce(Env) -> futures::future::BoxFuture<'static, Msg> + Send>;

/// One-shot IO as data a reducer can return (an access check, a fetch):
/// it gets the loop's `Env` and answers with one `Msg`.
#[derive(Clone)]
pub struct IoJob(Arc<std::sync::Mutex<Option<IoFn>>>);

impl IoJob {
    pub fn new<F, Fut>(run: F) -> IoJob
    where
        F: FnOnce(Env) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = Msg> + Send + 'static,
    {
        let boxed: IoFn = Box::new(move |env| Box::pin(run(env)));
        IoJob(Arc::new(std::sync::Mutex::new(Some(boxed))))
    }

    fn take(&self) -> Option<IoFn> {
        self.0.lock().ok()?.take()
    }
}

impl std::fmt::Debug for IoJob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IoJob")
    }
}

impl PartialEq for IoJob {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for IoJob {}

/// Starts the IO for an effect the loop does not handle itself.
pub fn spawn(effect: Effect, env: &Env, tx: &Sender<Msg>) {
    let clients = &env.clients;
    match effect {
        Effect::Describe {
            region,
            namespace,
            name,
        } => {
            let client = clients.get(region);
            let tx = tx.clone();
            tokio::spawn(async move {
                let result = match client {
                    Some(c) => {
                        let pod = ApiObject::pod(region, &namespace, &name);
                        describe::show(&c, &pod, ShowAs::Describe).await
                    }
                    None => Err("the region is not connected yet".to_string()),
                };
                let _ = tx
                    .send(Msg::Described {
                        region,
                        namespace,
                        name,
                        result,
                    })
                    .await;
            });
        }
        Effect::Write(confirmed) => {
            let writer = env.writer.clone();
            let tx = tx.clone();
            // one per confirmed dialog: a person's answer bounds how many
            tokio::spawn(async move {
                let sentence = confirmed.mutation().sentence().to_string();
                let result = crate::write::send(&writer, *confirmed).await;
                let _ = tx.send(Msg::Written { sentence, result }).await;
            });
        }
        Effect::Workload(job) => crate::panes::workloads::lookup::run(job, env, tx),
        Effect::Io(job) => {
            if let Some(run) = job.take() {
                let (env, tx) = (env.clone(), tx.clone());
                tokio::spawn(async move {
                    let _ = tx.send(run(env).await).await;
                });
            }
        }
        Effect::Show { object, show } => {
            let client = clients.get(object.region);
            let tx = tx.clone();
            tokio::spawn(async move {
                let result = match client {
                    Some(c) => describe::show(&c, &object, show).await,
                    None => Err("the region is not connected yet".to_string()),
                };
                let _ = tx
                    .send(Msg::Shown {
                        object,
                        show,
                        result,
                    })
                    .await;
            });
        }
        Effect::Quit | Effect::Suspend | Effect::Task(_) | Effect::Terminal(_) => {}
    }
}
