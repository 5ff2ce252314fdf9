//! The read-only handle to a region's API server. Everything outside
//! `write/` (sources, describe, panes) holds a `ReadClient`: it sends GET
//! requests only (list, watch, get, logs), so no other code can change a
//! cluster. The raw `kube::Client` inside is reachable from `write/` alone.

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

/// Refuses any method but GET before anything is sent, as a 405 the callers
/// already know how to show.
fn only_get(req: &Request<Vec<u8>>) -> kube::Result<()> {
    if req.method() == Method::GET {
        return Ok(());
    }
    let message = format!(
        "{} {} refused: this handle only reads; changes go through the write path",
        req.method(),
        req.uri().path()
    );
    Err(kube::Error::Api(
        Status::failure(&message, "MethodNotAllowed")
            .with_code(405)
            .boxed(),
    ))
}
