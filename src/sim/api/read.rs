//! get and list: one object, or a page of them (limit/continue), as JSON,
//! a Table or PartialObjectMetadata.

use crate::api::select::Selector;
use crate::api::table::{self, Format};
use crate::api::Target;
use crate::transport::http::{json_response, not_found, status, Response};
use crate::world::region::Region;
use base64::Engine;
use bytes::{BufMut, Bytes, BytesMut};
use serde_json::{json, Value};
use std::collections::HashMap;

pub(crate) fn get(
    region: &Region,
    t: &Target,
    fmt: Format,
    q: &HashMap<String, String>,
) -> Response {
    let name = t.name.as_deref().unwrap_or("");
    let json = {
        let st = region.lock();
        match st
            .store
            .get(t.kind, t.namespace.as_deref().unwrap_or(""), name)
        {
            Some(o) => o.json.clone(),
            None => return not_found(t.kind, name),
        }
    };
    match fmt {
        Format::Json => json_response(200, json),
        Format::Table | Format::Metadata => {
            let v: Value = serde_json::from_slice(&json).unwrap_or(Value::Null);
            let out = if fmt == Format::Table {
                let include = q
                    .get("includeObject")
                    .map(String::as_str)
                    .unwrap_or("Metadata");
                let meta = json!({"resourceVersion": v.pointer("/metadata/resourceVersion").cloned().unwrap_or(Value::Null)});
                table::table(t.kind, &[v], meta, include, region.clock.now())
            } else {
                table::partial_metadata(&v)
            };
            json_response(200, serde_json::to_vec(&out).unwrap_or_default())
        }
    }
}

#[derive(serde::Serialize, serde::Deserialize)]
pub(crate) struct Continue {
    rv: u64,
    start: String,
}

pub(crate) fn list(
    region: &Region,
    t: &Target,
    q: &HashMap<String, String>,
    fmt: Format,
) -> Response {
    let sel = match Selector::parse(
        q.get("labelSelector").map(String::as_str),
        q.get("fieldSelector").map(String::as_str),
        t.kind,
    ) {
        Ok(s) => s,
        Err(e) => return status(400, "BadRequest", &e),
    };
    let limit: usize = q.get("limit").and_then(|l| l.parse().ok()).unwrap_or(0);
    let after: Option<(String, String)> = match q.get("continue").filter(|c| !c.is_empty()) {
        Some(c) => {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(c)
                .ok()
                .and_then(|b| serde_json::from_slice::<Continue>(&b).ok());
            match decoded {
                Some(c) => match c.start.split_once('\0') {
                    Some((a, b)) => Some((a.to_string(), b.to_string())),
                    None => return status(400, "BadRequest", "invalid continue token"),
                },
                None => return status(400, "BadRequest", "invalid continue token"),
            }
        }
        None => None,
    };
    let ns_filter = t.namespace.clone();
    let st = region.lock();
    let rv = st.store.rv();
    let mut picked: Vec<Bytes> = Vec::with_capacity(limit.clamp(16, 100_000));
    let mut last_key: Option<(String, String)> = None;
    let mut remaining = 0usize;
    // Objects cannot have an empty name, so starting after (ns, "") visits
    // exactly the namespace's objects first.
    let start = match (&after, &ns_filter) {
        (Some(a), _) => Some(a.clone()),
        (None, Some(ns)) => Some((ns.clone(), String::new())),
        (None, None) => None,
    };
    for (key, obj) in st.store.range_after(t.kind, start.as_ref()) {
        if let Some(ns) = &ns_filter {
            if key.0 != *ns {
                break;
            }
        }
        if !sel.is_empty() && !sel.matches(&obj.index) {
            continue;
        }
        if limit > 0 && picked.len() >= limit {
            remaining += 1;
            continue;
        }
        picked.push(obj.json.clone());
        last_key = Some(key.clone());
    }
    drop(st);
    let mut meta = json!({"resourceVersion": rv.to_string()});
    if remaining > 0 {
        if let Some((a, b)) = last_key {
            let token = serde_json::to_vec(&Continue {
                rv,
                start: format!("{a}\0{b}"),
            })
            .unwrap_or_default();
            meta["continue"] = json!(base64::engine::general_purpose::STANDARD.encode(token));
            meta["remainingItemCount"] = json!(remaining);
        }
    }
    match fmt {
        Format::Json => {
            let head = format!(
                "{{\"kind\":\"{}List\",\"apiVersion\":\"{}\",\"metadata\":{},\"items\":[",
                t.kind.name(),
                t.kind.api_version(),
                meta
            );
            let size: usize = picked.iter().map(|b| b.len() + 1).sum();
            let mut out = BytesMut::with_capacity(head.len() + size + 2);
            out.put_slice(head.as_bytes());
            for (i, b) in picked.iter().enumerate() {
                if i > 0 {
                    out.put_u8(b',');
                }
                out.put_slice(b);
            }
            out.put_slice(b"]}");
            json_response(200, out.freeze())
        }
        Format::Table => {
            let items: Vec<Value> = picked
                .iter()
                .filter_map(|b| serde_json::from_slice(b).ok())
                .collect();
            let include = q
                .get("includeObject")
                .map(String::as_str)
                .unwrap_or("Metadata");
            let tab = table::table(t.kind, &items, meta, include, region.clock.now());
            json_response(200, serde_json::to_vec(&tab).unwrap_or_default())
        }
        Format::Metadata => {
            let items: Vec<Value> = picked
                .iter()
                .filter_map(|b| serde_json::from_slice::<Value>(b).ok())
                .map(|v| table::partial_metadata(&v))
                .collect();
            let body = json!({"kind": "PartialObjectMetadataList", "apiVersion": "meta.k8s.io/v1", "metadata": meta, "items": items});
            json_response(200, serde_json::to_vec(&body).unwrap_or_default())
        }
    }
}
