//! `pods/exec` and `pods/attach` over WebSocket (`v5.channel.k8s.io`,
//! `v4.channel.k8s.io`), as the kubelet's remotecommand server speaks them:
//! every binary message starts with its channel byte (0 stdin, 1 stdout,
//! 2 stderr, 3 error, 4 resize, 255 close in v5); the final `Status` goes
//! on channel 3. Behind it the simulated shell of `world/shell.rs`.

use crate::api::Target;
use crate::transport::http::{status, Response};
use crate::world::region::{Region, Stage};
use crate::world::shell::{Container, Shell, Step};
use crate::world::store::Kind;
use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use hyper::header::{
    HeaderValue, CONNECTION, SEC_WEBSOCKET_ACCEPT, SEC_WEBSOCKET_PROTOCOL, UPGRADE,
};
use hyper::Request;
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;
use tokio_util::sync::CancellationToken;

pub(crate) const V5: &str = "v5.channel.k8s.io";
pub(crate) const V4: &str = "v4.channel.k8s.io";
/// Streaming sessions (exec, attach, port-forward) open at once, process-wide.
pub(crate) static SESSIONS: Semaphore = Semaphore::const_new(1024);
/// How often a session checks that its pod still exists.
pub(crate) const POD_CHECK: Duration = Duration::from_millis(250);
/// Stdin typed while a command runs, kept for after it.
const MAX_TYPEAHEAD: usize = 64 * 1024;
/// Time the simulated runtime takes to start an exec'd process.
const EXEC_START: Duration = Duration::from_millis(100);
/// Largest message accepted from a client.
const MAX_MESSAGE: usize = 1 << 20;

pub(crate) type Ws = WebSocketStream<TokioIo<hyper::upgrade::Upgraded>>;

/// The query as pairs: `command` and `ports` repeat.
pub(crate) fn pairs(query: Option<&str>) -> Vec<(String, String)> {
    query
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (
                crate::transport::http::percent_decode(k),
                crate::transport::http::percent_decode(v),
            ),
            None => (crate::transport::http::percent_decode(p), String::new()),
        })
        .collect()
}

fn flag(q: &[(String, String)], key: &str) -> bool {
    q.iter()
        .any(|(k, v)| k == key && (v == "true" || v == "1" || v.is_empty()))
}

/// Accept a WebSocket upgrade offering one of `supported`, the first the
/// client lists winning, as the kubelet's wsstream negotiates. The session
/// runs in `session` once the connection is switched; it ends with the
/// fleet (`stop`) at the latest.
pub(crate) fn upgrade<F, Fut>(
    req: &mut Request<hyper::body::Incoming>,
    supported: &[&'static str],
    session: F,
) -> Response
where
    F: FnOnce(Ws, &'static str) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let h = req.headers();
    let upgrade = h
        .get(UPGRADE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if upgrade.contains("spdy") {
        return status(
            400,
            "BadRequest",
            "SPDY is not served by the simulator: use a WebSocket client (kubectl 1.30+ does by default)",
        );
    }
    if !upgrade.contains("websocket") {
        return status(400, "BadRequest", "Upgrade request required");
    }
    let Some(key) = h.get("sec-websocket-key").map(|k| k.as_bytes().to_vec()) else {
        return status(400, "BadRequest", "missing Sec-WebSocket-Key");
    };
    let offered: Vec<String> = h
        .get_all(SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty())
        .collect();
    let Some(proto) = negotiate(&offered, supported) else {
        return status(
            400,
            "BadRequest",
            &format!(
                "requested protocol(s) are not supported: {offered:?}; supports {supported:?}"
            ),
        );
    };
    let Ok(permit) = SESSIONS.try_acquire() else {
        return status(
            429,
            "TooManyRequests",
            "too many streaming sessions; try again later",
        );
    };
    let stop = req
        .extensions()
        .get::<CancellationToken>()
        .cloned()
        .unwrap_or_default();
    let on = hyper::upgrade::on(req);
    tokio::spawn(async move {
        let _permit = permit;
        let Ok(io) = on.await else { return };
        let cfg = WebSocketConfig::default()
            .max_message_size(Some(MAX_MESSAGE))
            .max_frame_size(Some(MAX_MESSAGE));
        let ws = WebSocketStream::from_raw_socket(TokioIo::new(io), Role::Server, Some(cfg)).await;
        tokio::select! {
            _ = stop.cancelled() => {}
            _ = session(ws, proto) => {}
        }
    });
    let mut r = hyper::Response::new(crate::transport::http::Body::Full(None));
    *r.status_mut() = hyper::StatusCode::SWITCHING_PROTOCOLS;
    let hs = r.headers_mut();
    hs.insert(UPGRADE, HeaderValue::from_static("websocket"));
    hs.insert(CONNECTION, HeaderValue::from_static("Upgrade"));
    if let Ok(v) =
        HeaderValue::from_str(&tokio_tungstenite::tungstenite::handshake::derive_accept_key(&key))
    {
        hs.insert(SEC_WEBSOCKET_ACCEPT, v);
    }
    if !proto.is_empty() {
        hs.insert(SEC_WEBSOCKET_PROTOCOL, HeaderValue::from_static(proto));
    }
    r
}

/// The subprotocol: the first the client offers that is served; none
/// offered is the plain binary channel protocol, where served ("").
pub(crate) fn negotiate(offered: &[String], supported: &[&'static str]) -> Option<&'static str> {
    if offered.is_empty() {
        return supported.iter().find(|s| s.is_empty()).copied();
    }
    offered.iter().find_map(|o| {
        supported
            .iter()
            .find(|s| !s.is_empty() && **s == o.as_str())
            .copied()
    })
}

/// One channel message.
pub(crate) fn frame(channel: u8, data: &[u8]) -> Message {
    let mut b = Vec::with_capacity(data.len() + 1);
    b.push(channel);
    b.extend_from_slice(data);
    Message::Binary(Bytes::from(b))
}

/// Close politely, then read out what the client still sends (its close
/// reply) so the socket is not reset under unread data.
pub(crate) async fn finish(ws: &mut Ws) {
    // a close without a code reads as an error to client-go (1005)
    let _ = ws
        .close(Some(CloseFrame {
            code: CloseCode::Normal,
            reason: "".into(),
        }))
        .await;
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        while let Some(Ok(_)) = ws.next().await {}
    })
    .await;
}

/// The pod's identity while a session runs: gone or replaced ends it.
pub(crate) fn pod_uid(region: &Region, ns: &str, name: &str) -> Option<String> {
    let st = region.lock();
    st.pods
        .get(&(ns.to_string(), name.to_string()))
        .filter(|p| p.stage != Stage::Terminating)
        .map(|p| p.uid.clone())
}

/// The final Status of a command, as the kubelet writes it on channel 3.
pub fn exit_status(code: i32, command: &[String]) -> Value {
    if code == 0 {
        return json!({"metadata": {}, "status": "Success"});
    }
    json!({
        "metadata": {},
        "status": "Failure",
        "message": format!(
            "command terminated with non-zero exit code: error executing command [{}], exit code {code}",
            command.join(" ")
        ),
        "reason": "NonZeroExitCode",
        "details": {"causes": [{"reason": "ExitCode", "message": code.to_string()}]}
    })
}

struct Opts {
    command: Vec<String>,
    stdin: bool,
    stdout: bool,
    stderr: bool,
    tty: bool,
}

pub async fn handle(
    region: Arc<Region>,
    mut req: Request<hyper::body::Incoming>,
    t: &Target,
) -> Response {
    let attach = t.sub.as_deref() == Some("attach");
    let q = pairs(req.uri().query());
    let ns = t.namespace.clone().unwrap_or_default();
    let name = t.name.clone().unwrap_or_default();
    let opts = Opts {
        command: q
            .iter()
            .filter(|(k, _)| k == "command")
            .map(|(_, v)| v.clone())
            .collect(),
        stdin: flag(&q, "stdin"),
        stdout: flag(&q, "stdout"),
        stderr: flag(&q, "stderr"),
        tty: flag(&q, "tty"),
    };
    let wanted = q
        .iter()
        .find(|(k, v)| k == "container" && !v.is_empty())
        .map(|(_, v)| v.clone());
    let container = {
        let st = region.lock();
        let Some(p) = st.pods.get(&(ns.clone(), name.clone())) else {
            return crate::transport::http::not_found(crate::world::store::Kind::Pod, &name);
        };
        if let Some(c) = &wanted {
            if *c != p.container {
                return status(
                    400,
                    "BadRequest",
                    &format!("container {c} is not valid for pod {name}"),
                );
            }
        }
        if p.stage != Stage::Running {
            return status(
                400,
                "BadRequest",
                &format!(
                    "unable to upgrade connection: container not found (\"{}\")",
                    p.container
                ),
            );
        }
        let env = st
            .store
            .get_value(Kind::Pod, &ns, &name)
            .and_then(|v| v.pointer("/spec/containers/0/env").cloned())
            .and_then(|e| e.as_array().cloned())
            .unwrap_or_default()
            .iter()
            .filter_map(|e| {
                Some((
                    e.get("name")?.as_str()?.to_string(),
                    e.get("value")?.as_str()?.to_string(),
                ))
            })
            .collect();
        Container {
            pod: name.clone(),
            namespace: ns.clone(),
            image: p.image.clone(),
            env,
        }
    };
    if !opts.stdin && !opts.stdout && !opts.stderr {
        return status(
            400,
            "BadRequest",
            "you must specify at least 1 of stdin, stdout, stderr",
        );
    }
    if !attach && opts.command.is_empty() {
        return status(
            400,
            "BadRequest",
            "you must specify at least one command for the container",
        );
    }
    upgrade(&mut req, &[V5, V4], move |ws, proto| {
        run(region, ws, proto, container, opts, attach)
    })
}

async fn run(
    region: Arc<Region>,
    mut ws: Ws,
    proto: &'static str,
    c: Container,
    o: Opts,
    attach: bool,
) {
    let (ns, pod) = (c.namespace.clone(), c.pod.clone());
    let Some(uid) = pod_uid(&region, &ns, &pod) else {
        finish(&mut ws).await;
        return;
    };
    let mut shell = Shell::new(c, o.tty);
    // attach joins the container's main process: here an interactive shell
    let mut queue: VecDeque<Step> = shell.start(if attach { &[] } else { &o.command }).into();
    // a container runtime takes a moment to start the process; client-go
    // sets up its streams after the handshake and drops what comes sooner
    let mut sleeping = Some(Box::pin(tokio::time::sleep(EXEC_START)));
    let mut typeahead: Vec<u8> = Vec::new();
    let mut stdin_eof = false;
    let mut check = tokio::time::interval(POD_CHECK);
    loop {
        while sleeping.is_none() {
            let step = match queue.pop_front() {
                Some(s) => s,
                None if !typeahead.is_empty() => {
                    queue.extend(shell.input(&std::mem::take(&mut typeahead)));
                    continue;
                }
                None if stdin_eof => {
                    stdin_eof = false;
                    queue.extend(shell.stdin_closed());
                    continue;
                }
                None => break,
            };
            let sent = match step {
                Step::Out(b) if o.stdout => ws.send(frame(1, &b)).await,
                Step::Err(b) if o.stderr => ws.send(frame(2, &b)).await,
                Step::Out(_) | Step::Err(_) => Ok(()),
                Step::Sleep(d) => {
                    sleeping = Some(Box::pin(tokio::time::sleep(d)));
                    Ok(())
                }
                Step::Exit(code) => {
                    let st = exit_status(code, &o.command);
                    let _ = ws.send(frame(3, st.to_string().as_bytes())).await;
                    finish(&mut ws).await;
                    return;
                }
            };
            if sent.is_err() {
                return;
            }
        }
        tokio::select! {
            _ = async { if let Some(s) = sleeping.as_mut() { s.await } }, if sleeping.is_some() => {
                sleeping = None;
            }
            m = ws.next() => {
                let data: Vec<u8> = match m {
                    Some(Ok(Message::Binary(b))) => b.to_vec(),
                    Some(Ok(Message::Text(t))) => t.as_bytes().to_vec(),
                    // pings are answered by the WebSocket layer as it reads
                    Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => continue,
                    Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return,
                };
                let Some((&ch, body)) = data.split_first() else { continue };
                match ch {
                    0 if o.stdin => {
                        if sleeping.is_some() {
                            if o.tty && body.contains(&0x03) {
                                sleeping = None;
                                queue.clear();
                                queue.extend(shell.interrupt());
                            } else if typeahead.len() + body.len() <= MAX_TYPEAHEAD {
                                typeahead.extend_from_slice(body);
                            }
                        } else {
                            queue.extend(shell.input(body));
                        }
                    }
                    4 => {
                        if let Ok(v) = serde_json::from_slice::<Value>(body) {
                            let w = v.get("Width").and_then(Value::as_u64).unwrap_or(0);
                            let h = v.get("Height").and_then(Value::as_u64).unwrap_or(0);
                            shell.resize(w.min(u16::MAX as u64) as u16, h.min(u16::MAX as u64) as u16);
                        }
                    }
                    255 if proto == V5 && body.first() == Some(&0) => stdin_eof = true,
                    _ => {}
                }
            }
            _ = check.tick() => {
                if pod_uid(&region, &ns, &pod).as_deref() != Some(uid.as_str()) {
                    // the container was killed under the session
                    let st = exit_status(137, &o.command);
                    let _ = ws.send(frame(3, st.to_string().as_bytes())).await;
                    finish(&mut ws).await;
                    return;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_lead_with_their_channel() {
        assert_eq!(
            frame(1, b"hi"),
            Message::Binary(Bytes::from_static(b"\x01hi"))
        );
        assert_eq!(frame(3, b""), Message::Binary(Bytes::from_static(b"\x03")));
    }

    #[test]
    fn the_exit_status_is_the_kubelets() {
        let ok = exit_status(0, &["hostname".into()]);
        assert_eq!(ok, json!({"metadata": {}, "status": "Success"}));
        let cmd = vec!["sh".to_string(), "-c".into(), "exit 3".into()];
        let f = exit_status(3, &cmd);
        assert_eq!(f["status"], "Failure");
        assert_eq!(f["reason"], "NonZeroExitCode");
        assert_eq!(
            f["details"]["causes"][0],
            json!({"reason": "ExitCode", "message": "3"})
        );
        assert!(f["message"]
            .as_str()
            .unwrap_or("")
            .ends_with("[sh -c exit 3], exit code 3"));
    }

    #[test]
    fn the_clients_first_served_protocol_wins() {
        let offer = |o: &[&str]| o.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(negotiate(&offer(&[V5, V4]), &[V5, V4]), Some(V5));
        assert_eq!(negotiate(&offer(&[V4, V5]), &[V5, V4]), Some(V4));
        assert_eq!(
            negotiate(&offer(&["v4.base64.channel.k8s.io", V4]), &[V5, V4]),
            Some(V4)
        );
        assert_eq!(negotiate(&offer(&["channel.k8s.io"]), &[V5, V4]), None);
        assert_eq!(negotiate(&[], &[V5, V4]), None, "exec needs a subprotocol");
        assert_eq!(negotiate(&[], &[V4, ""]), Some(""));
    }

    #[test]
    fn repeated_query_keys_are_kept_in_order() {
        let q = pairs(Some(
            "command=sh&command=-c&command=exit%203&tty=true&stdin",
        ));
        let cmd: Vec<&str> = q
            .iter()
            .filter(|(k, _)| k == "command")
            .map(|(_, v)| v.as_str())
            .collect();
        assert_eq!(cmd, vec!["sh", "-c", "exit 3"]);
        assert!(flag(&q, "tty") && flag(&q, "stdin") && !flag(&q, "stderr"));
    }
}
