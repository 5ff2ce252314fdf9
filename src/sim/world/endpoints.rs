//! Endpoints follow the readiness of the pods each Service selects.

use crate::world::clock::Clock;
use crate::world::region::{s, Stage, State};
use crate::world::store::Kind;
use serde_json::{json, Value};

impl State {
    /// Endpoints follow ready pods selected by each service.
    pub fn update_endpoints(&mut self, clock: &Clock) {
        if !self.endpoints_dirty {
            return;
        }
        self.endpoints_dirty = false;
        let now = clock.stamp();
        for svc in self.store.values(Kind::Service) {
            let ns = s(&svc, "/metadata/namespace").to_string();
            let name = s(&svc, "/metadata/name").to_string();
            let Some(sel) = svc.pointer("/spec/selector").and_then(Value::as_object) else {
                continue;
            };
            let mut ready = Vec::new();
            let mut not_ready = Vec::new();
            for ((pns, pname), o) in self.store.iter(Kind::Pod) {
                if *pns != ns
                    || !sel
                        .iter()
                        .all(|(k, v)| o.index.labels.get(k).map(String::as_str) == v.as_str())
                {
                    continue;
                }
                let Some(p) = self.pods.get(&(pns.clone(), pname.clone())) else {
                    continue;
                };
                let addr = json!({"ip": p.ip, "nodeName": p.node, "targetRef": {"kind": "Pod", "namespace": ns, "name": pname, "uid": p.uid}});
                if p.ready && p.stage == Stage::Running {
                    ready.push(addr);
                } else {
                    not_ready.push(addr);
                }
            }
            let ports: Vec<Value> = svc
                .pointer("/spec/ports")
                .and_then(Value::as_array)
                .map(|ps| ps.iter().map(|p| json!({"name": p["name"], "port": p["targetPort"], "protocol": "TCP"})).collect())
                .unwrap_or_default();
            let mut subset = json!({"ports": ports});
            if !ready.is_empty() {
                subset["addresses"] = json!(ready);
            }
            if !not_ready.is_empty() {
                subset["notReadyAddresses"] = json!(not_ready);
            }
            let ep = json!({
                "metadata": {"name": name, "namespace": ns, "labels": svc["metadata"]["labels"].clone(),
                             "creationTimestamp": s(&svc, "/metadata/creationTimestamp")},
                "subsets": [subset],
            });
            let changed = match self.store.get_value(Kind::Endpoints, &ns, &name) {
                Some(old) => old["subsets"] != ep["subsets"],
                None => true,
            };
            if changed {
                let _ = self.store.put(Kind::Endpoints, ep, &now);
            }
        }
    }
}
