//! A forward to a Service, resolved as `kubectl port-forward svc/NAME`
//! does: the Service's selector finds a ready pod, and the service port is
//! mapped to that pod's port (the `targetPort`: a number, or a name looked
//! up in the pod's container ports).

use crate::write::session;
use crate::write::ReadClient;
use k8s_openapi::api::core::v1::{Pod, Service};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use std::collections::BTreeMap;

/// GET of the Service through the region's read client.
pub async fn get(client: &ReadClient, namespace: &str, name: &str) -> Result<Service, String> {
    let req = kube::core::Request::new(format!("/api/v1/namespaces/{namespace}/services"))
        .get(name, &kube::api::GetParams::default())
        .map_err(|e| e.to_string())?;
    client
        .request::<Service>(req)
        .await
        .map_err(|e| format!("service/{name}: {}", session::describe_error(&e)))
}

/// The ports the Service declares (for the dialog).
pub async fn ports(client: &ReadClient, namespace: &str, name: &str) -> Result<Vec<u16>, String> {
    let svc = get(client, namespace, name).await?;
    let mut out: Vec<u16> = svc
        .spec
        .iter()
        .flat_map(|s| s.ports.iter().flatten())
        .filter_map(|p| u16::try_from(p.port).ok())
        .collect();
    out.dedup();
    Ok(out)
}

/// The Service's selector; a Service without one has no pods to reach
/// (its endpoints are kept by hand), which is said in words.
pub fn selector(svc: &Service, name: &str) -> Result<BTreeMap<String, String>, String> {
    svc.spec
        .as_ref()
        .and_then(|s| s.selector.clone())
        .filter(|s| !s.is_empty())
        .ok_or_else(|| format!("service/{name} has no selector: there is no pod to forward to"))
}

/// The pod port that service port `port` reaches on `pod`.
pub fn target_port(svc: &Service, name: &str, port: u16, pod: &Pod) -> Result<u16, String> {
    let ports: Vec<_> = svc
        .spec
        .iter()
        .flat_map(|s| s.ports.iter().flatten())
        .collect();
    let Some(sp) = ports.iter().find(|p| p.port == i32::from(port)) else {
        let have: Vec<String> = ports.iter().map(|p| p.port.to_string()).collect();
        return Err(format!(
            "service/{name} has no port {port} (it has: {})",
            if have.is_empty() {
                "none".to_string()
            } else {
                have.join(", ")
            }
        ));
    };
    let pod_name = pod.metadata.name.as_deref().unwrap_or_default();
    match &sp.target_port {
        // no targetPort: the same number, as the API server defaults it
        None => Ok(port),
        Some(IntOrString::Int(n)) => u16::try_from(*n)
            .ok()
            .filter(|p| *p > 0)
            .ok_or_else(|| format!("service/{name}: targetPort {n} is not a port")),
        Some(IntOrString::String(wanted)) => pod
            .spec
            .iter()
            .flat_map(|s| s.containers.iter())
            .flat_map(|c| c.ports.iter().flatten())
            .find(|p| p.name.as_deref() == Some(wanted.as_str()))
            .and_then(|p| u16::try_from(p.container_port).ok())
            .ok_or_else(|| {
                format!("pod {pod_name} has no container port named `{wanted}` (service/{name} port {port})")
            }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn svc(ports: serde_json::Value) -> Service {
        serde_json::from_value(json!({
            "metadata": {"name": "web", "namespace": "shop"},
            "spec": {"selector": {"app": "web"}, "ports": ports}
        }))
        .unwrap_or_else(|e| panic!("{e}"))
    }

    fn pod() -> Pod {
        serde_json::from_value(json!({
            "metadata": {"name": "web-1"},
            "spec": {"containers": [
                {"name": "app", "ports": [{"name": "http", "containerPort": 8080}]},
                {"name": "side", "ports": [{"name": "metrics", "containerPort": 9090}]}
            ]}
        }))
        .unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn a_numeric_target_port_is_used_as_is() {
        let s = svc(json!([{"port": 80, "targetPort": 8080}]));
        assert_eq!(target_port(&s, "web", 80, &pod()), Ok(8080));
    }

    #[test]
    fn no_target_port_means_the_service_port() {
        let s = svc(json!([{"port": 8080}]));
        assert_eq!(target_port(&s, "web", 8080, &pod()), Ok(8080));
    }

    #[test]
    fn a_named_target_port_is_looked_up_in_the_pods_containers() {
        let s = svc(json!([
            {"port": 80, "targetPort": "http"},
            {"port": 9000, "targetPort": "metrics"}
        ]));
        assert_eq!(target_port(&s, "web", 80, &pod()), Ok(8080));
        assert_eq!(target_port(&s, "web", 9000, &pod()), Ok(9090));
    }

    #[test]
    fn a_missing_name_or_port_says_so() {
        let s = svc(json!([{"port": 80, "targetPort": "grpc"}]));
        let err = target_port(&s, "web", 80, &pod()).unwrap_err();
        assert!(err.contains("no container port named `grpc`"), "{err}");
        assert!(err.contains("web-1"), "{err}");
        let err = target_port(&s, "web", 443, &pod()).unwrap_err();
        assert!(err.contains("no port 443 (it has: 80)"), "{err}");
    }

    #[test]
    fn a_service_without_selector_has_no_pods() {
        let s: Service = serde_json::from_value(json!({
            "metadata": {"name": "db"},
            "spec": {"ports": [{"port": 5432}]}
        }))
        .unwrap_or_else(|e| panic!("{e}"));
        let err = selector(&s, "db").unwrap_err();
        assert!(err.contains("service/db has no selector"), "{err}");
        assert_eq!(selector(&svc(json!([])), "web").map(|s| s.len()), Ok(1));
    }
}
