//! The full object behind a row, fetched only when a person asks for it.

use crate::write::ReadClient;
use kube::api::GetParams;
use kube::core::Request;

/// The pod as YAML, without `managedFields` (as kubectl hides them).
pub async fn fetch_pod(client: &ReadClient, namespace: &str, name: &str) -> Result<String, String> {
    let req = Request::new(format!("/api/v1/namespaces/{namespace}/pods"))
        .get(name, &GetParams::default())
        .map_err(|e| e.to_string())?;
    let mut value: serde_json::Value = client.request(req).await.map_err(|e| match e {
        kube::Error::Api(s) => format!("{} {}", s.code, s.message),
        other => other.to_string(),
    })?;
    if let Some(meta) = value.get_mut("metadata").and_then(|m| m.as_object_mut()) {
        meta.remove("managedFields");
    }
    serde_saphyr::to_string(&value).map_err(|e| format!("cannot render as YAML: {e}"))
}
