//! Namespace deletion: empty it (pods gracefully), then let it vanish.

use crate::world::clock::Clock;
use crate::world::region::State;
use crate::world::store::Kind;

impl State {
    /// Delete everything in a namespace (pods gracefully).
    pub fn empty_namespace(&mut self, clock: &Clock, ns: &str) {
        for kind in [
            Kind::Deployment,
            Kind::ReplicaSet,
            Kind::StatefulSet,
            Kind::Service,
            Kind::Endpoints,
            Kind::Event,
            Kind::HorizontalPodAutoscaler,
            Kind::ConfigMap,
        ] {
            let names: Vec<String> = self
                .store
                .iter(kind)
                .filter(|((n, _), _)| n == ns)
                .map(|((_, name), _)| name.clone())
                .collect();
            for name in names {
                let _ = self.store.delete(kind, ns, &name);
            }
        }
        let pods: Vec<String> = self
            .pods
            .keys()
            .filter(|(n, _)| n == ns)
            .map(|(_, name)| name.clone())
            .collect();
        for p in pods {
            self.terminate_pod(clock, ns, &p);
        }
        let bare: Vec<String> = self
            .store
            .iter(Kind::Pod)
            .filter(|((n, _), _)| n == ns)
            .map(|((_, name), _)| name.clone())
            .collect();
        for p in bare {
            if !self.pods.contains_key(&(ns.to_string(), p.clone())) {
                let _ = self.store.delete(Kind::Pod, ns, &p);
            }
        }
        self.dirty = true;
    }

    /// Remove terminating namespaces whose pods are all gone.
    pub fn finish_namespaces(&mut self) {
        let done: Vec<String> = self
            .store
            .iter(Kind::Namespace)
            .filter(|(_, o)| o.index.field("status.phase") == Some("Terminating"))
            .map(|((_, name), _)| name.clone())
            .filter(|ns| !self.pods.keys().any(|(n, _)| n == ns))
            .collect();
        for ns in done {
            let _ = self.store.delete(Kind::Namespace, "", &ns);
        }
    }
}
