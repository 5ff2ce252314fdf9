//! IO that acts on a cluster or fetches on demand; each effect runs as its
//! own task and answers with a `Msg`. A confirmed change (`Effect::Write`)
//! goes through `write::send` alone, which audits it.

pub mod describe;

use crate::fleet::Clients;
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
                    Some(c) => describe::fetch_pod(&c, &namespace, &name).await,
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
        Effect::Quit | Effect::Suspend | Effect::Task(_) | Effect::Terminal(_) => {}
    }
}
