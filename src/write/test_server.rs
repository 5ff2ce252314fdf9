//! A recording HTTP/1.1 server on 127.0.0.1 for the write path's tests:
//! answers SelfSubjectAccessReviews and writes as scripted, and keeps every
//! request (method, target, content type, body) it was sent.

use super::ReadClient;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub target: String,
    pub content_type: String,
    pub body: Value,
}

/// What the test server answers.
#[derive(Clone)]
pub struct Script {
    /// SelfSubjectAccessReviews are answered with this.
    pub allow: bool,
    /// Writes are answered with this status code and body.
    pub write_status: u16,
    pub write_body: Value,
}

impl Default for Script {
    fn default() -> Self {
        Script {
            allow: true,
            write_status: 200,
            write_body: json!({"kind": "Scale", "spec": {"replicas": 8}}),
        }
    }
}

/// An HTTP/1.1 server that records every request (one per connection).
pub struct Server {
    url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
    script: Arc<Mutex<Script>>,
}

impl Server {
    pub async fn start(script: Script) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let addr = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let script = Arc::new(Mutex::new(script));
        let (s, sc) = (seen.clone(), script.clone());
        tokio::spawn(async move {
            while let Ok((sock, _)) = listener.accept().await {
                let (s, sc) = (s.clone(), sc.clone());
                tokio::spawn(async move {
                    let _ = serve(sock, s, sc).await;
                });
            }
        });
        Server {
            url: format!("http://{addr}"),
            seen,
            script,
        }
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().map(|v| v.clone()).unwrap_or_default()
    }

    pub fn set(&self, f: impl FnOnce(&mut Script)) {
        if let Ok(mut s) = self.script.lock() {
            f(&mut s);
        }
    }

    pub fn client(&self) -> ReadClient {
        let uri = self.url.parse().unwrap_or_else(|e| panic!("{e}"));
        let config = kube::Config::new(uri);
        ReadClient::new(kube::Client::try_from(config).unwrap_or_else(|e| panic!("{e}")))
    }
}

async fn serve(
    sock: tokio::net::TcpStream,
    seen: Arc<Mutex<Vec<Seen>>>,
    script: Arc<Mutex<Script>>,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(sock);
    let mut line = String::new();
    reader.read_line(&mut line).await?;
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or("").to_string();
    let target = parts.next().unwrap_or("").to_string();
    let (mut len, mut content_type) = (0usize, String::new());
    loop {
        let mut h = String::new();
        reader.read_line(&mut h).await?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (k, v) = h.split_once(':').unwrap_or((h, ""));
        match k.to_ascii_lowercase().as_str() {
            "content-length" => len = v.trim().parse().unwrap_or(0),
            "content-type" => content_type = v.trim().to_string(),
            _ => {}
        }
    }
    let mut body = vec![0; len];
    reader.read_exact(&mut body).await?;
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let script = script.lock().map(|s| s.clone()).unwrap_or_default();
    let (code, answer) = if target.contains("selfsubjectaccessreviews") {
        let status = if script.allow {
            json!({"allowed": true})
        } else {
            json!({"allowed": false, "denied": true, "reason": "no rule allows it"})
        };
        let mut review = body.clone();
        review["status"] = status;
        (201, review)
    } else {
        (script.write_status, script.write_body.clone())
    };
    if let Ok(mut s) = seen.lock() {
        s.push(Seen {
            method,
            target,
            content_type,
            body,
        });
    }
    let text = answer.to_string();
    let out = format!(
        "HTTP/1.1 {code} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{text}",
        text.len()
    );
    reader.get_mut().write_all(out.as_bytes()).await
}
