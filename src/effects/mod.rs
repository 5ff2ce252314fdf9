//! IO that acts on a cluster or fetches on demand; each effect runs as its
//! own task and answers with a `Msg`. Mutating actions (scale, rollout, ...)
//! land here later, each with its audit record.

pub mod describe;

use crate::fleet::Clients;
use crate::msg::Msg;
use crate::update::Effect;
use tokio::sync::mpsc::Sender;

/// Starts the IO for an effect the loop does not handle itself.
pub fn spawn(effect: Effect, clients: &Clients, tx: &Sender<Msg>) {
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
        Effect::Quit | Effect::Suspend | Effect::Task(_) | Effect::Terminal(_) => {}
    }
}
