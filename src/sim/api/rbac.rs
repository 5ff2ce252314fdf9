//! Access rules from the scenario: requests and SelfSubjectAccessReviews
//! are answered from the same rules, so `kubectl auth can-i` tells the truth.

use crate::world::region::Region;
use crate::world::scenario::RbacRule;
use serde_json::{json, Value};

/// The user every token of the simulator stands for.
pub const USER: &str = "pitwall-sim:oncall";

fn matches(list: &[String], x: &str) -> bool {
    list.iter().any(|l| l == "*" || l == x)
}

/// First matching rule decides; no rules (or no match with no rules) allows.
pub fn allowed(rules: &[RbacRule], verb: &str, resource: &str, namespace: &str) -> bool {
    if rules.is_empty() {
        return true;
    }
    for r in rules {
        let ns_ok = namespace.is_empty() || matches(&r.namespaces, namespace);
        if matches(&r.verbs, verb) && matches(&r.resources, resource) && ns_ok {
            return r.effect == "allow";
        }
    }
    false
}

/// Answer a SelfSubjectAccessReview.
pub fn review(region: &Region, mut body: Value) -> Vec<u8> {
    let attrs = body
        .pointer("/spec/resourceAttributes")
        .cloned()
        .unwrap_or(Value::Null);
    let get = |k: &str| {
        attrs
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let (allowed_now, reason) = if attrs.is_null() {
        // Non-resource URLs (e.g. /healthz): everything is readable.
        (true, "non-resource URLs are readable".to_string())
    } else {
        let mut resource = get("resource");
        let sub = get("subresource");
        if !sub.is_empty() {
            resource = format!("{resource}/{sub}");
        }
        let ok = allowed(&region.rbac, &get("verb"), &resource, &get("namespace"));
        (
            ok,
            if ok {
                "allowed by the scenario's rules".into()
            } else {
                "denied by the scenario's rules".into()
            },
        )
    };
    body["kind"] = json!("SelfSubjectAccessReview");
    body["apiVersion"] = json!("authorization.k8s.io/v1");
    if !body.get("metadata").is_some_and(Value::is_object) {
        body["metadata"] = json!({});
    }
    body["metadata"]["creationTimestamp"] = Value::Null;
    body["status"] = if allowed_now {
        json!({"allowed": true, "reason": reason})
    } else {
        json!({"allowed": false, "denied": true, "reason": reason})
    };
    serde_json::to_vec(&body).unwrap_or_default()
}

fn varint(buf: &[u8], pos: &mut usize) -> Option<u64> {
    let mut x = 0u64;
    for shift in (0..64).step_by(7) {
        let b = *buf.get(*pos)?;
        *pos += 1;
        x |= ((b & 0x7f) as u64) << shift;
        if b & 0x80 == 0 {
            return Some(x);
        }
    }
    None
}

/// The length-delimited fields of a protobuf message, by number.
fn pb_fields(buf: &[u8]) -> Option<Vec<(u64, &[u8])>> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < buf.len() {
        let key = varint(buf, &mut pos)?;
        let (num, wire) = (key >> 3, (key & 7) as u8);
        match wire {
            0 => {
                varint(buf, &mut pos)?;
            }
            1 => pos += 8,
            5 => pos += 4,
            2 => {
                let len = varint(buf, &mut pos)? as usize;
                let end = pos.checked_add(len)?;
                out.push((num, buf.get(pos..end)?));
                pos = end;
            }
            _ => return None,
        }
    }
    Some(out)
}

/// Decode a protobuf-encoded SelfSubjectAccessReview (kubectl sends these)
/// into its JSON form: the `k8s\0` envelope, then `Unknown.raw`, then
/// spec.resourceAttributes / nonResourceAttributes.
pub fn ssar_from_protobuf(body: &[u8]) -> Option<Value> {
    let inner = body.strip_prefix(b"k8s\0")?;
    let raw = pb_fields(inner)?.into_iter().find(|(n, _)| *n == 2)?.1;
    let spec = pb_fields(raw)?.into_iter().find(|(n, _)| *n == 2)?.1;
    let mut out = json!({"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview", "metadata": {}, "spec": {}});
    for (n, payload) in pb_fields(spec)? {
        let fields = pb_fields(payload)?;
        let text = |want: u64| {
            fields
                .iter()
                .find(|(n, _)| *n == want)
                .map(|(_, b)| String::from_utf8_lossy(b).into_owned())
                .unwrap_or_default()
        };
        if n == 1 {
            out["spec"]["resourceAttributes"] = json!({
                "namespace": text(1), "verb": text(2), "group": text(3), "version": text(4),
                "resource": text(5), "subresource": text(6), "name": text(7),
            });
        } else if n == 2 {
            out["spec"]["nonResourceAttributes"] = json!({"path": text(1), "verb": text(2)});
        }
    }
    Some(out)
}
