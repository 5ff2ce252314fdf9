//! The read-only handle to a region's API server. Everything outside
//! `write/` (sources, describe, panes) holds a `ReadClient`: it sends GET
//! requests only (list, watch, get, logs), and not to the subresources that
//! reach into a container or node (exec, attach, portforward, proxy), so no
//! other code can change a cluster. The raw `kube::Client` inside is
//! reachable from `write/` alone.

use futures::TryStream;
use http::{Method, Request};
use kube::core::{Status, WatchEvent};
use serde::de::DeserializeOwned;

/// A region's client that can only read.
#[derive(Clone)]
pub struct ReadClient(kube::Client);

impl ReadClient {
    /// Wraps a freshly built client; whoever built it keeps no other copy.
    pub fn new(client: kube::Client) -> ReadClient {
        ReadClient(client)
    }

    /// The raw client, for the write path only.
    pub(in crate::write) fn raw(&self) -> &kube::Client {
        &self.0
    }

    /// `Client::request` for GET requests.
    pub async fn request<T: DeserializeOwned>(&self, req: Request<Vec<u8>>) -> kube::Result<T> {
        only_get(&req)?;
        self.0.request(req).await
    }

    /// `Client::request_text` for GET requests (logs).
    pub async fn request_text(&self, req: Request<Vec<u8>>) -> kube::Result<String> {
        only_get(&req)?;
        self.0.request_text(req).await
    }

    /// `Client::request_stream` for GET requests (log follows).
    pub async fn request_stream(
        &self,
        req: Request<Vec<u8>>,
    ) -> kube::Result<impl futures::AsyncBufRead + use<>> {
        only_get(&req)?;
        self.0.request_stream(req).await
    }

    /// `Client::send` for GET requests: the raw response, for callers that
    /// read its status line and headers (Retry-After) themselves.
    pub async fn send(
        &self,
        req: Request<kube::client::Body>,
    ) -> kube::Result<http::Response<kube::client::Body>> {
        only_get(&req)?;
        self.0.send(req).await
    }

    /// node_exporter's `/metrics` through the pod proxy, and nothing else
    /// a proxy could reach: exactly `GET
    /// /api/v1/namespaces/{ns}/pods/{pod}:{port}/proxy/metrics`, with names
    /// that cannot climb out of that path.
    pub async fn scrape_metrics(
        &self,
        namespace: &str,
        pod: &str,
        port: u16,
    ) -> kube::Result<impl futures::AsyncBufRead + use<>> {
        let name_ok = |s: &str| {
            !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
                && s != "."
                && s != ".."
        };
        if !name_ok(namespace) || !name_ok(pod) {
            return Err(kube::Error::Api(
                Status::failure("not a pod name", "BadRequest")
                    .with_code(400)
                    .boxed(),
            ));
        }
        let path = format!("/api/v1/namespaces/{namespace}/pods/{pod}:{port}/proxy/metrics");
        let req = Request::get(path)
            .body(Vec::new())
            .map_err(kube::Error::HttpError)?;
        self.0.request_stream(req).await
    }

    /// `Client::request_events` for GET requests (watches).
    pub async fn request_events<T: Clone + DeserializeOwned>(
        &self,
        req: Request<Vec<u8>>,
    ) -> kube::Result<impl TryStream<Item = kube::Result<WatchEvent<T>>> + use<T>> {
        only_get(&req)?;
        self.0.request_events(req).await
    }
}

impl std::fmt::Debug for ReadClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ReadClient")
    }
}

/// Subresources a GET can open a session on.
const SESSIONS: [&str; 4] = ["exec", "attach", "portforward", "proxy"];

/// The subresource of an API path, if any:
/// `/api/v1/namespaces/shop/pods/web-1/exec` -> `exec`.
fn subresource(path: &str) -> Option<&str> {
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    let rest = match segs.first() {
        Some(&"api") => segs.get(2..)?,
        Some(&"apis") => segs.get(3..)?,
        _ => return None,
    };
    let rest = match rest {
        ["namespaces", _, res, ..] if !res.is_empty() => rest.get(2..)?,
        _ => rest,
    };
    rest.get(2).copied()
}

/// Refuses any method but GET, and GETs that open a session, before
/// anything is sent, as a 405 the callers already know how to show.
fn only_get<B>(req: &Request<B>) -> kube::Result<()> {
    let path = req.uri().path();
    let session = subresource(path).is_some_and(|s| SESSIONS.contains(&s));
    if req.method() == Method::GET && !session {
        return Ok(());
    }
    let message = format!(
        "{} {path} refused: this handle only reads; changes go through the write path",
        req.method(),
    );
    Err(kube::Error::Api(
        Status::failure(&message, "MethodNotAllowed")
            .with_code(405)
            .boxed(),
    ))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_subresource_is_found_in_every_path_shape() {
        let cases = [
            ("/api/v1/namespaces/shop/pods/web-1/exec", Some("exec")),
            ("/api/v1/namespaces/shop/pods/web-1/log", Some("log")),
            ("/api/v1/namespaces/shop/pods/exec", None),
            ("/api/v1/namespaces/shop/pods", None),
            ("/api/v1/namespaces/shop", None),
            ("/api/v1/namespaces/shop/finalize", None),
            ("/api/v1/nodes/n1/proxy/metrics", Some("proxy")),
            ("/api/v1/nodes/n1", None),
            (
                "/apis/apps/v1/namespaces/shop/deployments/web/scale",
                Some("scale"),
            ),
            ("/apis/apps/v1/deployments", None),
            ("/version", None),
        ];
        for (path, want) in cases {
            assert_eq!(super::subresource(path), want, "{path}");
        }
    }
}
