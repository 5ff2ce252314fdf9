//! The full object behind a row, fetched only when a person asks for it:
//! described as `kubectl describe` reads (with its events), or as YAML.

use crate::model::{ApiObject, ShowAs};
use crate::write::ReadClient;
use kube::api::{GetParams, ListParams};
use kube::core::Request;
use serde_json::Value;

/// At most this many events are asked for per description.
const EVENT_LIMIT: u32 = 500;

fn error_text(e: kube::Error) -> String {
    match e {
        kube::Error::Api(s) => format!("{} {}", s.code, s.message),
        other => other.to_string(),
    }
}

async fn get(client: &ReadClient, object: &ApiObject) -> Result<Value, String> {
    let req = Request::new(object.collection())
        .get(&object.name, &GetParams::default())
        .map_err(|e| e.to_string())?;
    client.request(req).await.map_err(error_text)
}

/// The object's events, as kubectl finds them: by the involved object's
/// name, namespace and kind.
async fn events(client: &ReadClient, object: &ApiObject) -> Result<Vec<Value>, String> {
    let mut fields = format!(
        "involvedObject.name={},involvedObject.kind={}",
        object.name, object.kind
    );
    let path = match &object.namespace {
        Some(ns) => {
            fields.push_str(&format!(",involvedObject.namespace={ns}"));
            format!("/api/v1/namespaces/{ns}/events")
        }
        None => "/api/v1/events".to_string(),
    };
    let params = ListParams::default().fields(&fields).limit(EVENT_LIMIT);
    let req = Request::new(path)
        .list(&params)
        .map_err(|e| e.to_string())?;
    let list: Value = client.request(req).await.map_err(error_text)?;
    Ok(list
        .get("items")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default())
}

/// The object described or as YAML (without `managedFields`, as kubectl
/// hides them).
pub async fn show(client: &ReadClient, object: &ApiObject, how: ShowAs) -> Result<String, String> {
    let mut value = get(client, object).await?;
    match how {
        ShowAs::Yaml => {
            if let Some(meta) = value.get_mut("metadata").and_then(|m| m.as_object_mut()) {
                meta.remove("managedFields");
            }
            serde_saphyr::to_string(&value).map_err(|e| format!("cannot render as YAML: {e}"))
        }
        ShowAs::Describe => {
            // a description without its events is still worth reading
            let (evs, problem) = match events(client, object).await {
                Ok(evs) => (evs, None),
                Err(e) => (Vec::new(), Some(e)),
            };
            let mut text = super::describe_text::render(&value, &evs, jiff::Timestamp::now());
            if let Some(e) = problem {
                text.push_str(&format!("  (events could not be listed: {e})\n"));
            }
            Ok(text)
        }
    }
}
