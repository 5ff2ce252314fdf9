//! delete: pods gracefully, workloads with their ReplicaSets and pods,
//! namespaces emptied first.

use crate::api::{store_error, Target};
use crate::transport::http::{json_response, not_found, Response};
use crate::world::region::Region;
use crate::world::store::{Kind, StoreError};
use serde_json::{json, Value};

pub(crate) fn delete(region: &Region, t: &Target, name: &str) -> Response {
    let ns = t.namespace.clone().unwrap_or_default();
    let clock = region.clock.clone();
    let mut st = region.lock();
    if st.store.get(t.kind, &ns, name).is_none() {
        return not_found(t.kind, name);
    }
    let result = match t.kind {
        Kind::Pod => st
            .terminate_pod(&clock, &ns, name)
            .ok_or(StoreError::NotFound),
        Kind::Deployment | Kind::StatefulSet | Kind::ReplicaSet => {
            // Background cascading deletion of owned objects.
            let v = st.store.delete(t.kind, &ns, name);
            if let Ok(obj) = &v {
                let uid = obj
                    .pointer("/metadata/uid")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string();
                cascade(&clock, &mut st, &ns, &uid, name);
            }
            v
        }
        Kind::Namespace => {
            let mut v = st
                .store
                .get_value(Kind::Namespace, "", name)
                .unwrap_or(Value::Null);
            v["status"]["phase"] = json!("Terminating");
            v["metadata"]["deletionTimestamp"] = json!(clock.stamp());
            let r = st.store.put(Kind::Namespace, v, &clock.stamp());
            // Everything in it goes; the namespace itself once its pods are gone.
            st.empty_namespace(&clock, name);
            r
        }
        _ => st.store.delete(t.kind, &ns, name),
    };
    st.dirty = true;
    drop(st);
    region.wake.notify_one();
    match result {
        Ok(v) => json_response(200, serde_json::to_vec(&v).unwrap_or_default()),
        Err(e) => store_error(e, t, name),
    }
}

pub(crate) fn cascade(
    clock: &crate::world::clock::Clock,
    st: &mut crate::world::region::State,
    ns: &str,
    uid: &str,
    _name: &str,
) {
    let owned = |st: &crate::world::region::State, kind: Kind| -> Vec<(String, String)> {
        st.store
            .iter(kind)
            .filter(|((n, _), o)| n == ns && memchr_uid(&o.json, uid))
            .map(|(_, o)| o)
            .filter_map(|o| serde_json::from_slice::<Value>(&o.json).ok())
            .filter(|v| {
                v.pointer("/metadata/ownerReferences")
                    .and_then(Value::as_array)
                    .is_some_and(|r| {
                        r.iter()
                            .any(|r| r.get("uid").and_then(Value::as_str) == Some(uid))
                    })
            })
            .map(|v| {
                (
                    v.pointer("/metadata/name")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string(),
                    v.pointer("/metadata/uid")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string(),
                )
            })
            .collect()
    };
    for (rs, rs_uid) in owned(st, Kind::ReplicaSet) {
        let _ = st.store.delete(Kind::ReplicaSet, ns, &rs);
        for (pod, _) in owned_by(st, ns, &rs_uid) {
            st.terminate_pod(clock, ns, &pod);
        }
    }
    for (pod, _) in owned_by(st, ns, uid) {
        st.terminate_pod(clock, ns, &pod);
    }
}

pub(crate) fn owned_by(
    st: &crate::world::region::State,
    ns: &str,
    uid: &str,
) -> Vec<(String, String)> {
    st.store
        .iter(Kind::Pod)
        .filter(|((n, _), o)| n == ns && memchr_uid(&o.json, uid))
        .map(|((_, name), _)| (name.clone(), String::new()))
        .collect()
}

pub(crate) fn memchr_uid(json: &[u8], uid: &str) -> bool {
    !uid.is_empty() && json.windows(uid.len()).any(|w| w == uid.as_bytes())
}
