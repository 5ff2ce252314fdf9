//! Access rules from the scenario: requests and SelfSubjectAccessReviews
//! are answered from the same rules, so `kubectl auth can-i` tells the truth.

use super::region::Region;
use super::scenario::RbacRule;
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
