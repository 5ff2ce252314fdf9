//! `pods/portforward` over WebSocket (`v4.channel.k8s.io`,
//! `portforward.k8s.io`, or no subprotocol; kubectl's SPDY tunnel is in
//! `spdy.rs`), as the kubelet serves it: for
//! the i-th requested port, channel 2i carries data and 2i+1 errors, and the
//! server's first message on each is the port, 2 bytes little-endian. Behind
//! each port the pod's responder (`world/responder.rs`) when the container
//! declares the port; otherwise the connection is refused on the error
//! channel. A pod deleted or replaced closes its forwards.

use crate::api::exec::{finish, frame, pairs, pod_uid, upgrade, Ws, POD_CHECK, V4};
use crate::api::Target;
use crate::transport::http::{status, Response};
use crate::world::region::{Region, Stage};
use crate::world::responder::Responder;
use crate::world::store::Kind;
use futures::{SinkExt, StreamExt};
use hyper::Request;
use serde_json::Value;
use std::sync::Arc;
use tokio_tungstenite::tungstenite::Message;

/// The WebSocket subprotocol kubectl's port-forward offers besides v4.
pub(crate) const PORTFORWARD: &str = "portforward.k8s.io";
/// Ports one request may forward (each takes two channels of one byte).
const MAX_PORTS: usize = 64;

/// The `ports` (or `port`) query values, repeated or comma-separated.
fn ports(q: &[(String, String)]) -> Result<Vec<u16>, String> {
    let mut out = Vec::new();
    for (_, v) in q.iter().filter(|(k, _)| k == "ports" || k == "port") {
        for p in v.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            match p.parse::<u16>() {
                Ok(n) if n > 0 => out.push(n),
                _ => return Err(format!("invalid port {p:?}: must be between 1 and 65535")),
            }
        }
    }
    if out.is_empty() {
        return Err("query parameter \"port\" is required".into());
    }
    if out.len() > MAX_PORTS {
        return Err(format!(
            "at most {MAX_PORTS} ports may be forwarded at once"
        ));
    }
    Ok(out)
}

pub async fn handle(
    region: Arc<Region>,
    mut req: Request<hyper::body::Incoming>,
    t: &Target,
) -> Response {
    let q = pairs(req.uri().query());
    let ns = t.namespace.clone().unwrap_or_default();
    let name = t.name.clone().unwrap_or_default();
    // SPDY names its ports in each stream's headers, not in the query
    let spdy = req
        .headers()
        .get_all(hyper::header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.split(',').any(|p| p.trim() == crate::api::spdy::TUNNEL));
    let requested = match ports(&q) {
        Ok(p) => p,
        Err(_) if spdy => Vec::new(),
        Err(m) => return status(400, "BadRequest", &m),
    };
    let listening: Vec<u16> = {
        let st = region.lock();
        let Some(p) = st.pods.get(&(ns.clone(), name.clone())) else {
            return crate::transport::http::not_found(crate::world::store::Kind::Pod, &name);
        };
        if p.stage != Stage::Running {
            return status(400, "BadRequest", &format!("pod {name} is not running"));
        }
        st.store
            .get_value(Kind::Pod, &ns, &name)
            .and_then(|v| v.pointer("/spec/containers").cloned())
            .and_then(|c| c.as_array().cloned())
            .unwrap_or_default()
            .iter()
            .flat_map(|c| {
                c.get("ports")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default()
            })
            .filter_map(|p| p.get("containerPort").and_then(Value::as_u64))
            .filter_map(|p| u16::try_from(p).ok())
            .collect()
    };
    upgrade(
        &mut req,
        &[crate::api::spdy::TUNNEL, V4, PORTFORWARD, ""],
        move |ws, proto| async move {
            if proto == crate::api::spdy::TUNNEL {
                crate::api::spdy::run(region, ws, ns, name, listening).await
            } else {
                run(region, ws, ns, name, requested, listening).await
            }
        },
    )
}

async fn run(
    region: Arc<Region>,
    mut ws: Ws,
    ns: String,
    pod: String,
    ports: Vec<u16>,
    listening: Vec<u16>,
) {
    let Some(uid) = pod_uid(&region, &ns, &pod) else {
        finish(&mut ws).await;
        return;
    };
    for (i, p) in ports.iter().enumerate() {
        let ch = (i * 2) as u8;
        for c in [ch, ch + 1] {
            if ws.send(frame(c, &p.to_le_bytes())).await.is_err() {
                return;
            }
        }
    }
    let mut responders: Vec<Option<Responder>> = ports
        .iter()
        .map(|p| listening.contains(p).then(|| Responder::new(&pod)))
        .collect();
    let mut refused = vec![false; ports.len()];
    let mut check = tokio::time::interval(POD_CHECK);
    loop {
        tokio::select! {
            m = ws.next() => {
                let data: Vec<u8> = match m {
                    Some(Ok(Message::Binary(b))) => b.to_vec(),
                    Some(Ok(Message::Text(t))) => t.as_bytes().to_vec(),
                    Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => continue,
                    Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return,
                };
                let Some((&ch, body)) = data.split_first() else { continue };
                let i = (ch / 2) as usize;
                if ch % 2 != 0 || i >= ports.len() || body.is_empty() {
                    continue;
                }
                let reply = match responders[i].as_mut() {
                    Some(r) => {
                        let a = r.feed(body);
                        if a.is_empty() { continue; }
                        frame(ch, &a)
                    }
                    None if !refused[i] => {
                        refused[i] = true;
                        let p = ports[i];
                        frame(ch + 1, format!(
                            "error forwarding port {p} to pod {pod}, uid {uid}: failed to connect to localhost:{p} inside namespace: connection refused"
                        ).as_bytes())
                    }
                    None => continue,
                };
                if ws.send(reply).await.is_err() {
                    return;
                }
            }
            _ = check.tick() => {
                if pod_uid(&region, &ns, &pod).as_deref() != Some(uid.as_str()) {
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

    fn q(s: &str) -> Vec<(String, String)> {
        pairs(Some(s))
    }

    #[test]
    fn ports_come_repeated_or_comma_separated() {
        assert_eq!(ports(&q("ports=8080&ports=9090")), Ok(vec![8080, 9090]));
        assert_eq!(ports(&q("ports=8080,9090")), Ok(vec![8080, 9090]));
        assert_eq!(ports(&q("port=80")), Ok(vec![80]));
        assert!(ports(&q("ports=0")).is_err());
        assert!(ports(&q("ports=70000")).is_err());
        assert!(ports(&q("")).unwrap_err().contains("required"));
    }

    #[test]
    fn the_first_frame_of_a_channel_is_its_port() {
        assert_eq!(
            frame(3, &8080u16.to_le_bytes()),
            Message::Binary(bytes::Bytes::from_static(&[3, 0x90, 0x1f]))
        );
    }
}
