//! PATCH bodies: JSON merge patch (RFC 7386), the strategic merge patch
//! subset kubectl sends, and JSON patch (RFC 6902).

use serde_json::Value;

pub fn merge(target: &mut Value, patch: &Value) {
    match patch {
        Value::Object(p) => {
            if !target.is_object() {
                *target = Value::Object(Default::default());
            }
            if let Value::Object(t) = target {
                for (k, v) in p {
                    if v.is_null() {
                        t.remove(k);
                    } else {
                        merge(t.entry(k.clone()).or_insert(Value::Null), v);
                    }
                }
            }
        }
        other => *target = other.clone(),
    }
}

/// Keys by which lists of objects merge (`patchMergeKey` in the API types).
fn merge_key(item: &serde_json::Map<String, Value>) -> Option<&'static str> {
    ["name", "containerPort", "type", "ip", "mountPath", "port"]
        .into_iter()
        .find(|k| item.contains_key(*k))
}

pub fn strategic(target: &mut Value, patch: &Value) {
    match patch {
        Value::Object(p) => {
            if p.get("$patch").and_then(Value::as_str) == Some("replace") {
                let mut clean = patch.clone();
                if let Some(o) = clean.as_object_mut() {
                    o.remove("$patch");
                }
                *target = clean;
                return;
            }
            if !target.is_object() {
                *target = Value::Object(Default::default());
            }
            let Value::Object(t) = target else { return };
            for (k, v) in p {
                if k.starts_with('$') {
                    continue;
                }
                if v.is_null() {
                    t.remove(k);
                    continue;
                }
                match (t.get_mut(k), v) {
                    (Some(Value::Array(ta)), Value::Array(pa))
                        if pa.iter().all(Value::is_object) && !pa.is_empty() =>
                    {
                        merge_list(ta, pa);
                    }
                    (Some(tv), pv) => strategic(tv, pv),
                    (None, pv) => {
                        let mut fresh = Value::Null;
                        strategic(&mut fresh, pv);
                        t.insert(k.clone(), fresh);
                    }
                }
            }
        }
        other => *target = other.clone(),
    }
}

fn merge_list(target: &mut Vec<Value>, patch: &[Value]) {
    for item in patch {
        let Some(obj) = item.as_object() else {
            continue;
        };
        let Some(key) = merge_key(obj) else {
            target.push(item.clone());
            continue;
        };
        let kv = &obj[key];
        let pos = target.iter().position(|t| t.get(key) == Some(kv));
        let delete = obj.get("$patch").and_then(Value::as_str) == Some("delete");
        match (pos, delete) {
            (Some(i), true) => {
                target.remove(i);
            }
            (Some(i), false) => strategic(&mut target[i], item),
            (None, false) => {
                let mut fresh = Value::Null;
                strategic(&mut fresh, item);
                target.push(fresh);
            }
            (None, true) => {}
        }
    }
}

fn unescape(token: &str) -> String {
    token.replace("~1", "/").replace("~0", "~")
}

fn parent<'a>(target: &'a mut Value, path: &str) -> Result<(&'a mut Value, String), String> {
    let (head, last) = path
        .rsplit_once('/')
        .ok_or_else(|| format!("invalid JSON pointer {path:?}"))?;
    let p = target
        .pointer_mut(head)
        .ok_or_else(|| format!("path {head:?} does not exist"))?;
    Ok((p, unescape(last)))
}

fn add(target: &mut Value, path: &str, value: Value) -> Result<(), String> {
    if path.is_empty() {
        *target = value;
        return Ok(());
    }
    let (p, key) = parent(target, path)?;
    match p {
        Value::Object(o) => {
            o.insert(key, value);
        }
        Value::Array(a) => {
            if key == "-" {
                a.push(value);
            } else {
                let i: usize = key.parse().map_err(|_| format!("bad index {key:?}"))?;
                if i > a.len() {
                    return Err(format!("index {i} out of range"));
                }
                a.insert(i, value);
            }
        }
        _ => return Err(format!("cannot add at {path:?}")),
    }
    Ok(())
}

fn remove(target: &mut Value, path: &str) -> Result<Value, String> {
    let (p, key) = parent(target, path)?;
    match p {
        Value::Object(o) => o
            .remove(&key)
            .ok_or_else(|| format!("path {path:?} does not exist")),
        Value::Array(a) => {
            let i: usize = key.parse().map_err(|_| format!("bad index {key:?}"))?;
            if i >= a.len() {
                return Err(format!("index {i} out of range"));
            }
            Ok(a.remove(i))
        }
        _ => Err(format!("cannot remove {path:?}")),
    }
}

pub fn json_patch(target: &mut Value, ops: &Value) -> Result<(), String> {
    let ops = ops.as_array().ok_or("a JSON patch must be an array")?;
    for op in ops {
        let kind = op
            .get("op")
            .and_then(Value::as_str)
            .ok_or("op: Required value")?;
        let path = op
            .get("path")
            .and_then(Value::as_str)
            .ok_or("path: Required value")?;
        let value = || {
            op.get("value")
                .cloned()
                .ok_or_else(|| "value: Required value".to_string())
        };
        match kind {
            "add" => add(target, path, value()?)?,
            "remove" => {
                remove(target, path)?;
            }
            "replace" => {
                let slot = target
                    .pointer_mut(path)
                    .ok_or_else(|| format!("path {path:?} does not exist"))?;
                *slot = value()?;
            }
            "test" => {
                if target.pointer(path) != Some(&value()?) {
                    return Err(format!("test failed at {path:?}"));
                }
            }
            "move" | "copy" => {
                let from = op
                    .get("from")
                    .and_then(Value::as_str)
                    .ok_or("from: Required value")?;
                let v = if kind == "move" {
                    remove(target, from)?
                } else {
                    target
                        .pointer(from)
                        .cloned()
                        .ok_or_else(|| format!("path {from:?} does not exist"))?
                };
                add(target, path, v)?;
            }
            other => return Err(format!("unknown op {other:?}")),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn strategic_merges_containers_by_name() {
        let mut t = json!({"spec": {"containers": [{"name": "a", "image": "x:1"}, {"name": "b", "image": "y:1"}]}});
        strategic(
            &mut t,
            &json!({"spec": {"containers": [{"name": "b", "image": "y:2"}], "paused": true}}),
        );
        assert_eq!(t["spec"]["containers"][0]["image"], "x:1");
        assert_eq!(t["spec"]["containers"][1]["image"], "y:2");
        assert_eq!(t["spec"]["paused"], true);
    }

    #[test]
    fn json_patch_replace_and_add() {
        let mut t = json!({"metadata": {"annotations": {"a": "1"}}, "spec": {"template": {}}});
        json_patch(
            &mut t,
            &json!([{"op": "replace", "path": "/spec/template", "value": {"x": 1}},
                    {"op": "add", "path": "/metadata/annotations/b~1c", "value": "2"}]),
        )
        .unwrap();
        assert_eq!(t["spec"]["template"]["x"], 1);
        assert_eq!(t["metadata"]["annotations"]["b/c"], "2");
        assert!(json_patch(&mut t, &json!([{"op": "remove", "path": "/nope"}])).is_err());
    }

    #[test]
    fn merge_removes_nulls() {
        let mut t = json!({"a": {"b": 1, "c": 2}});
        merge(&mut t, &json!({"a": {"b": null, "d": 3}}));
        assert_eq!(t, json!({"a": {"c": 2, "d": 3}}));
    }
}
