//! The resources pane's IO: discovery of what each region serves, and a
//! resource's table in every region, listed as the server prints it
//! (`as=Table`, as kubectl asks) and listed again whenever its watch says
//! something changed (at most once a second per region), with backoff on
//! failures. Runs as one long-lived task per command; dropping it stops
//! every region's loop.

use crate::effects::Env;
use crate::fleet::backoff::Backoff;
use crate::model::resource::{
    from_resource_list, parse_table, preferred_versions, resolve, ResourceType, ResourcesMsg,
    MAX_TYPES,
};
use crate::model::RegionId;
use crate::msg::Msg;
use crate::write::ReadClient;
use futures::StreamExt;
use kube::api::{ListParams, WatchParams};
use kube::core::{Request, WatchEvent};
use serde_json::Value;
use std::time::Duration;
use tokio::sync::mpsc::Sender;

/// What `kubectl get` sends: a Table, else plain JSON.
const ACCEPT_TABLE: &str = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json";
/// Rows asked for per region (the table says when more were left out).
const MAX_ROWS: u32 = 5_000;
/// A change is followed by at most one relist per this much time.
const SETTLE: Duration = Duration::from_secs(1);
/// How long one watch stays open before it is reopened from a fresh list.
const WATCH_SECONDS: u32 = 240;

fn error_text(e: kube::Error) -> String {
    match e {
        kube::Error::Api(s) => format!("{} {}", s.code, s.message),
        other => other.to_string(),
    }
}

async fn get_json(client: &ReadClient, path: &str) -> Result<Value, String> {
    let req = http::Request::get(path)
        .body(Vec::new())
        .map_err(|e| e.to_string())?;
    client.request(req).await.map_err(error_text)
}

/// Every listable type a region serves: the core group and each group's
/// preferred version (a group that does not answer is skipped, as kubectl
/// warns and goes on).
pub async fn discover(client: &ReadClient) -> Result<Vec<ResourceType>, String> {
    let core = get_json(client, "/api/v1").await?;
    let mut out = from_resource_list("/api/v1", &core);
    let apis = get_json(client, "/apis").await?;
    for gv in preferred_versions(&apis) {
        if out.len() >= MAX_TYPES {
            break;
        }
        let api = format!("/apis/{gv}");
        if let Ok(list) = get_json(client, &api).await {
            out.extend(from_resource_list(&api, &list));
        }
    }
    out.truncate(MAX_TYPES);
    Ok(out)
}

fn collection(rt: &ResourceType) -> String {
    format!("{}/{}", rt.api, rt.plural)
}

async fn list_table(
    client: &ReadClient,
    rt: &ResourceType,
) -> Result<(crate::model::resource::TablePage, String), String> {
    let mut req = Request::new(collection(rt))
        .list(&ListParams::default().limit(MAX_ROWS))
        .map_err(|e| e.to_string())?;
    req.headers_mut().insert(
        http::header::ACCEPT,
        http::HeaderValue::from_static(ACCEPT_TABLE),
    );
    let table: Value = client.request(req).await.map_err(error_text)?;
    let rv = table
        .pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
        .unwrap_or("0")
        .to_string();
    Ok((parse_table(&table)?, rv))
}

/// Waits until the watch from `rv` reports a change (then lets the burst
/// settle), ends, or fails.
async fn next_change(client: &ReadClient, rt: &ResourceType, rv: &str) {
    // kube asks for bookmarks by default
    let params = WatchParams::default().timeout(WATCH_SECONDS);
    let Ok(req) = Request::new(collection(rt)).watch(&params, rv) else {
        return;
    };
    let Ok(stream) = client.request_events::<Value>(req).await else {
        return;
    };
    let mut stream = std::pin::pin!(stream);
    while let Some(event) = stream.next().await {
        match event {
            Ok(WatchEvent::Bookmark(_)) => continue,
            Ok(WatchEvent::Added(_) | WatchEvent::Modified(_) | WatchEvent::Deleted(_)) => {
                tokio::time::sleep(SETTLE).await;
                return;
            }
            Ok(WatchEvent::Error(_)) | Err(_) => return,
        }
    }
}

/// One region's table, kept current until the task is dropped.
async fn follow_region(
    env: Env,
    tx: Sender<Msg>,
    generation: u64,
    region: RegionId,
    rt: ResourceType,
) {
    let mut backoff = Backoff::new(Duration::from_millis(500), Duration::from_secs(30));
    loop {
        let Some(client) = env.clients.get(region) else {
            // the region's client is still being built
            tokio::time::sleep(backoff.next_delay()).await;
            continue;
        };
        match list_table(&client, &rt).await {
            Ok((page, rv)) => {
                let msg = ResourcesMsg::Table {
                    generation,
                    region,
                    result: Ok(page),
                };
                if tx.send(Msg::Resources(msg)).await.is_err() {
                    return;
                }
                backoff.reset();
                let opened = tokio::time::Instant::now();
                next_change(&client, &rt, &rv).await;
                // a watch the server ends at once must not turn into a
                // relist loop
                if opened.elapsed() < SETTLE {
                    tokio::time::sleep(backoff.next_delay()).await;
                }
            }
            Err(e) => {
                let msg = ResourcesMsg::Table {
                    generation,
                    region,
                    result: Err(e),
                };
                if tx.send(Msg::Resources(msg)).await.is_err() {
                    return;
                }
                tokio::time::sleep(backoff.next_delay()).await;
            }
        }
    }
}

/// Every connected region's discovery, for the palette's jumps.
pub async fn discover_all(env: Env, tx: Sender<Msg>, regions: usize) {
    for region in 0..regions {
        // a region not connected yet says so, so the asking ends
        let result = match env.clients.get(region) {
            Some(client) => discover(&client).await,
            None => Err("not connected yet".to_string()),
        };
        let msg = Msg::Resources(ResourcesMsg::Discovered { region, result });
        if tx.send(msg).await.is_err() {
            return;
        }
    }
}

/// The task behind `:<word>`: resolves the word (discovering each region's
/// types when the built-in names and earlier discoveries do not know it),
/// then follows the resource in every region.
pub async fn run(
    env: Env,
    tx: Sender<Msg>,
    generation: u64,
    regions: usize,
    word: String,
    known: Vec<ResourceType>,
) -> Result<(), String> {
    let mut rt = resolve(&word, &known);
    if rt.is_none() || known.is_empty() {
        for region in 0..regions {
            let Some(client) = env.clients.get(region) else {
                continue;
            };
            let result = discover(&client).await;
            if let Ok(types) = &result {
                if rt.is_none() {
                    rt = resolve(&word, types);
                }
            }
            let _ = tx
                .send(Msg::Resources(ResourcesMsg::Discovered { region, result }))
                .await;
        }
    }
    let Some(rt) = rt else {
        let _ = tx
            .send(Msg::Resources(ResourcesMsg::Unknown { word }))
            .await;
        return Ok(());
    };
    let loops = (0..regions)
        .map(|region| follow_region(env.clone(), tx.clone(), generation, region, rt.clone()));
    futures::future::join_all(loops).await;
    Ok(())
}
