//! IO that acts on a cluster or fetches on demand; each effect runs as its
//! own task and answers with a `Msg`. Mutating actions (scale, rollout, ...)
//! land here later, each with its audit record.

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
