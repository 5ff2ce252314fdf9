//! The HTTP side of custom resources (`world/custom.rs`): their groups in
//! discovery, and list, get and watch of their objects, as JSON or as a
//! Table with the definition's printer columns (what `kubectl get <crd>`
//! shows).

use super::table::{self, Format};
use crate::transport::http::{json_response, status_with, stream_response, Response};
use crate::world::custom::Served;
use crate::world::region::Region;
use bytes::Bytes;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

fn ok(v: Value) -> Response {
    json_response(200, serde_json::to_vec(&v).unwrap_or_default())
}

fn group_of(s: &Served) -> Value {
    let gv = s.crd.group_version();
    json!({"name": s.crd.group, "versions": [{"groupVersion": gv, "version": s.crd.version}],
        "preferredVersion": {"groupVersion": gv, "version": s.crd.version}})
}

/// The groups `/apis` lists for these custom resources (one per group).
pub fn groups(custom: &[Served]) -> Vec<Value> {
    let mut seen: Vec<&str> = Vec::new();
    let mut out = Vec::new();
    for s in custom {
        if !seen.contains(&s.crd.group.as_str()) {
            seen.push(&s.crd.group);
            out.push(group_of(s));
        }
    }
    out
}

fn resource_list(custom: &[Served], group: &str, version: &str) -> Value {
    let resources: Vec<Value> = custom
        .iter()
        .filter(|s| s.crd.group == group && s.crd.version == version)
        .map(|s| {
            json!({"name": s.crd.plural, "singularName": s.crd.singular(), "namespaced": s.crd.namespaced,
                "kind": s.crd.kind, "verbs": ["get", "list", "watch"], "shortNames": s.crd.short_names,
                "categories": ["all"]})
        })
        .collect();
    json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": format!("{group}/{version}"), "resources": resources})
}

/// `.spec.replicas` read from an object (a simple JSONPath).
fn at_path<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    v.pointer(&path.replace('.', "/"))
}

/// A Table of `items`: NAME, then the printer columns, as the API server
/// prints a custom resource.
fn as_table(s: &Served, items: &[&Value], include: &str, now: jiff::Timestamp) -> Value {
    let mut columns = vec![json!({"name": "Name", "type": "string", "format": "name",
        "description": "Name must be unique within a namespace.", "priority": 0})];
    for c in &s.crd.columns {
        columns.push(json!({"name": c.name, "type": c.type_, "format": "", "description": "", "priority": c.priority}));
    }
    let rows: Vec<Value> = items
        .iter()
        .map(|v| {
            let mut cells = vec![json!(v
                .pointer("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or(""))];
            for c in &s.crd.columns {
                let cell = match (c.type_.as_str(), at_path(v, &c.json_path)) {
                    ("date", Some(Value::String(t))) => match crate::world::clock::parse(t) {
                        Some(then) => json!(table::human(now.duration_since(then).as_secs())),
                        None => Value::Null,
                    },
                    (_, Some(x)) => x.clone(),
                    (_, None) => Value::Null,
                };
                cells.push(cell);
            }
            let object = match include {
                "Object" => (*v).clone(),
                "None" => Value::Null,
                _ => table::partial_metadata(v),
            };
            json!({"cells": cells, "object": object})
        })
        .collect();
    json!({"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": {"resourceVersion": "1"},
        "columnDefinitions": columns, "rows": rows})
}

/// Holds a watch open until its timeout, with a bookmark at the region's
/// interval (the objects never change).
fn watch(region: &Region, s: &Served, q: &HashMap<String, String>) -> Response {
    let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(4);
    let secs: u64 = q
        .get("timeoutSeconds")
        .and_then(|t| t.parse().ok())
        .unwrap_or(1800)
        .clamp(1, 3600);
    let bookmarks = q.get("allowWatchBookmarks").is_some_and(|b| b == "true");
    let every = region.bookmark_interval.max(Duration::from_millis(100));
    let mark = json!({"type": "BOOKMARK", "object": {"kind": s.crd.kind, "apiVersion": s.crd.group_version(),
        "metadata": {"resourceVersion": "1"}}});
    let line = Bytes::from(format!("{mark}\n"));
    tokio::spawn(async move {
        let end = tokio::time::Instant::now() + Duration::from_secs(secs);
        loop {
            let next = tokio::time::Instant::now() + every;
            if next >= end {
                tokio::time::sleep_until(end).await;
                return;
            }
            tokio::time::sleep_until(next).await;
            if bookmarks && tx.send(line.clone()).await.is_err() {
                return;
            }
            if tx.is_closed() {
                return;
            }
        }
    });
    stream_response("application/json", rx)
}

/// The answer for a path under a custom resource's group, if it is one.
pub fn answer(
    region: &Arc<Region>,
    path: &str,
    q: &HashMap<String, String>,
    fmt: Format,
) -> Option<Response> {
    let custom = &region.custom;
    if custom.is_empty() {
        return None;
    }
    let segs: Vec<&str> = path
        .trim_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    match segs.as_slice() {
        ["apis"] => {
            let mut groups = super::discovery::builtin_groups();
            groups.extend(groups_of(custom));
            Some(ok(
                json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}),
            ))
        }
        ["apis", group] => {
            let s = custom.iter().find(|s| s.crd.group == *group)?;
            let g = group_of(s);
            Some(ok(
                json!({"kind": "APIGroup", "apiVersion": "v1", "name": group,
                "versions": g["versions"].clone(), "preferredVersion": g["preferredVersion"].clone()}),
            ))
        }
        ["apis", group, version] => {
            custom
                .iter()
                .find(|s| s.crd.group == *group && s.crd.version == *version)?;
            Some(ok(resource_list(custom, group, version)))
        }
        ["apis", group, version, rest @ ..] => {
            let (ns, rest): (Option<&str>, &[&str]) = match rest {
                ["namespaces", ns, more @ ..] if !more.is_empty() => (Some(*ns), more),
                other => (None, other),
            };
            let (plural, name) = match rest {
                [p] => (*p, None),
                [p, n] => (*p, Some(*n)),
                _ => return None,
            };
            let s = custom.iter().find(|s| {
                s.crd.group == *group && s.crd.version == *version && s.crd.plural == plural
            })?;
            let items: Vec<&Value> = s
                .objects
                .iter()
                .filter(|o| {
                    ns.is_none_or(|ns| {
                        o.pointer("/metadata/namespace").and_then(Value::as_str) == Some(ns)
                    })
                })
                .filter(|o| {
                    name.is_none_or(|n| {
                        o.pointer("/metadata/name").and_then(Value::as_str) == Some(n)
                    })
                })
                .collect();
            if q.get("watch").is_some_and(|w| w == "1" || w == "true") {
                return Some(watch(region, s, q));
            }
            let include = q.get("includeObject").map_or("Metadata", String::as_str);
            let now = region.clock.now();
            Some(match (name, fmt) {
                (Some(n), _) if items.is_empty() => status_with(
                    404,
                    "NotFound",
                    // group-qualified, as kube-apiserver names a custom resource
                    &format!("{}.{} \"{n}\" not found", s.crd.plural, s.crd.group),
                    Some(json!({"name": n, "group": s.crd.group, "kind": s.crd.plural})),
                ),
                (Some(_), Format::Table) => ok(as_table(s, &items, include, now)),
                (Some(_), _) => ok(items[0].clone()),
                (None, Format::Table) => ok(as_table(s, &items, include, now)),
                (None, _) => ok(
                    json!({"kind": format!("{}List", s.crd.kind), "apiVersion": s.crd.group_version(),
                    "metadata": {"resourceVersion": "1"}, "items": items}),
                ),
            })
        }
        _ => None,
    }
}

fn groups_of(custom: &[Served]) -> Vec<Value> {
    groups(custom)
}
