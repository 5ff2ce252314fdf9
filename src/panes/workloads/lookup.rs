//! The one-shot IO behind the row actions (`act::Job`), off the UI task:
//! the write path's read-only and RBAC answers for greying, the checks and
//! lookups before the confirm dialog (autoscalers for a scale, the pod's
//! grace period for a delete), and the revisions for the undo picker. All
//! reads go through the region's GET-only `ReadClient`; nothing here
//! changes a cluster.

use super::act::{Answer, Job, RowTargets, ROW_ACTIONS};
use super::plan::{self, Inputs, Offer, Planned, Target};
use super::rollout::{self, Revision};
use crate::action::Action;
use crate::effects::Env;
use crate::msg::Msg;

/// Runs a job off the UI task and answers through `tx`.
pub fn run(job: Job, env: &Env, tx: &tokio::sync::mpsc::Sender<Msg>) {
    let env = env.clone();
    let tx = tx.clone();
    tokio::spawn(async move {
        let answer = match job {
            Job::Offers(key, targets) => Answer::Offers(key, offers(&env, &targets).await),
            Job::Prepare {
                action,
                target,
                inputs,
            } => Answer::Prepared(prepared(&env, action, target, inputs).await),
            Job::Revisions(target) => Answer::Revisions {
                result: revisions(&env, &target).await,
                target,
            },
        };
        let _ = tx.send(Msg::Workloads(Box::new(answer))).await;
    });
}

async fn offers(env: &Env, t: &RowTargets) -> Vec<(Action, Offer)> {
    let mut out = Vec::new();
    for action in ROW_ACTIONS {
        if action == Action::RolloutStatus {
            continue;
        }
        let offer = match t.for_action(action) {
            Ok(target) => plan::offer(&env.writer, action, target).await,
            Err(why) => Offer::Greyed(why),
        };
        out.push((action, offer));
    }
    out
}

async fn prepared(
    env: &Env,
    action: Action,
    target: Target,
    inputs: Inputs,
) -> Result<(crate::write::Confirmation, Vec<String>), String> {
    let region = target.region();
    if let Offer::Greyed(why) = plan::offer(&env.writer, action, &target).await {
        return Err(format!("{}: {why}", action.name()));
    }
    let Planned::Change { object, mut params } = plan::plan(action, &target, &inputs)? else {
        return Err(format!("{} is not a change", action.name()));
    };
    let client = env
        .clients
        .get(region)
        .ok_or_else(|| "the region is not connected yet".to_string())?;
    let mut warnings = Vec::new();
    let ns = object.namespace.clone().unwrap_or_default();
    match &mut params {
        crate::write::Params::Delete {
            grace_period_seconds,
        } => {
            let path = format!("/api/v1/namespaces/{ns}/pods/{}", object.name);
            let pod: serde_json::Value = get(&client, &path).await?;
            *grace_period_seconds = pod["spec"]["terminationGracePeriodSeconds"]
                .as_u64()
                .and_then(|s| u32::try_from(s).ok());
        }
        crate::write::Params::Scale { .. } => {
            let path = format!("/apis/autoscaling/v2/namespaces/{ns}/horizontalpodautoscalers");
            match get::<serde_json::Value>(&client, &path).await {
                Ok(list) => {
                    let items = list["items"].as_array().cloned().unwrap_or_default();
                    warnings.extend(crate::widgets::confirm::hpa_warning(
                        &items,
                        &object.kind,
                        &object.name,
                    ));
                }
                Err(e) => warnings.push(format!("could not check autoscalers: {e}")),
            }
        }
        _ => {}
    }
    let confirmation = env
        .writer
        .prepare(region, object, params)
        .map_err(|r| r.to_string())?;
    Ok((confirmation, warnings))
}

async fn get<T: serde::de::DeserializeOwned>(
    client: &crate::write::ReadClient,
    path: &str,
) -> Result<T, String> {
    let req = http::Request::get(path)
        .body(Vec::new())
        .map_err(|e| e.to_string())?;
    client
        .request::<T>(req)
        .await
        .map_err(|e| crate::write::error_text(&e))
}

async fn revisions(env: &Env, target: &Target) -> Result<(Vec<Revision>, Vec<String>), String> {
    let Target::Workload {
        region,
        namespace,
        name,
        ..
    } = target
    else {
        return Err("undo applies to a Deployment".into());
    };
    let client = env
        .clients
        .get(*region)
        .ok_or_else(|| "the region is not connected yet".to_string())?;
    let d: k8s_openapi::api::apps::v1::Deployment = get(
        &client,
        &format!("/apis/apps/v1/namespaces/{namespace}/deployments/{name}"),
    )
    .await?;
    let uid = d.metadata.uid.clone().unwrap_or_default();
    let list: k8s_openapi::List<k8s_openapi::api::apps::v1::ReplicaSet> = get(
        &client,
        &format!("/apis/apps/v1/namespaces/{namespace}/replicasets"),
    )
    .await?;
    Ok((
        rollout::revisions(&uid, &list.items),
        rollout::running_images(&d),
    ))
}
