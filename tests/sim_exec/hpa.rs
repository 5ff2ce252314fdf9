//! HorizontalPodAutoscalers served to kubectl and kube-rs.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn horizontal_pod_autoscalers_are_served() {
    use futures::StreamExt;
    use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
    let env = start().await;
    let kc = env.kubeconfig.as_path();

    let o = kubectl(kc, "beta", &["api-resources", "--api-group=autoscaling"]).await;
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(
        o.stdout
            .lines()
            .any(|l| l.starts_with("horizontalpodautoscalers")
                && l.contains("hpa")
                && l.contains("autoscaling/v2")),
        "{}",
        o.stdout
    );
    let o = kubectl(kc, "beta", &["-n", "shop", "get", "hpa"]).await;
    assert_eq!(o.code, 0, "{}", o.stderr);
    let header = o.stdout.lines().next().unwrap_or("");
    for c in [
        "NAME",
        "REFERENCE",
        "TARGETS",
        "MINPODS",
        "MAXPODS",
        "REPLICAS",
        "AGE",
    ] {
        assert!(header.contains(c), "{header}");
    }
    let row: Vec<&str> = o
        .stdout
        .lines()
        .find(|l| l.starts_with("web "))
        .unwrap_or_else(|| panic!("web's HPA listed: {}", o.stdout))
        .split_whitespace()
        .collect();
    assert_eq!(&row[..2], ["web", "Deployment/web"], "{row:?}");
    assert!(row[3].ends_with("/70%"), "{row:?}");
    assert_eq!(&row[4..6], ["3", "10"], "{row:?}");

    // its status follows the target: watch it while the Deployment is scaled
    let client = {
        let kcfg = kube::config::Kubeconfig::read_from(kc).expect("kubeconfig");
        let opts = kube::config::KubeConfigOptions {
            context: Some("beta".into()),
            ..Default::default()
        };
        let cfg = kube::Config::from_custom_kubeconfig(kcfg, &opts)
            .await
            .expect("config");
        kube::Client::try_from(cfg).expect("client")
    };
    let api: kube::Api<HorizontalPodAutoscaler> = kube::Api::namespaced(client, "shop");
    let hpa = api.get("web").await.expect("get hpa");
    assert_eq!(hpa.spec.as_ref().map(|s| s.max_replicas), Some(10));
    let rv = hpa.metadata.resource_version.clone().unwrap_or_default();
    let mut events = api
        .watch(
            &kube::api::WatchParams::default().fields("metadata.name=web"),
            &rv,
        )
        .await
        .expect("watch hpa")
        .boxed();
    let o = kubectl(
        kc,
        "beta",
        &["-n", "shop", "scale", "deployment/web", "--replicas=6"],
    )
    .await;
    assert_eq!(o.code, 0, "{}", o.stderr);
    tokio::time::timeout(WAIT, async {
        while let Some(e) = events.next().await {
            if let Ok(kube::api::WatchEvent::Modified(h)) = e {
                let current = h.status.as_ref().and_then(|s| s.current_replicas);
                if current == Some(6) {
                    return;
                }
            }
        }
        panic!("the watch ended before the HPA saw 6 replicas");
    })
    .await
    .expect("the HPA's status follows the scale");
}
