//! kubectl 1.31+'s port-forward: SPDY/3.1 tunnelled in WebSocket
//! (`SPDY/3.1+portforward.k8s.io`). The WebSocket's binary messages carry
//! the bytes of one SPDY connection; in it the client opens, per local
//! connection, an error stream and a data stream (headers `streamtype`,
//! `port`, `requestid`), as with the kubelet's SPDY port-forward. Data
//! streams reach the pod's responder. Only what port-forward uses is
//! spoken: SYN_STREAM / SYN_REPLY, DATA, RST_STREAM, PING, GOAWAY; SETTINGS,
//! HEADERS and WINDOW_UPDATE are read and let be (answers are small).

use crate::api::exec::{finish, pod_uid, Ws, POD_CHECK};
use crate::api::inflate::{Deflater, Inflater};
use crate::world::region::Region;
use crate::world::responder::Responder;
use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use std::collections::HashMap;
use std::sync::Arc;
use tokio_tungstenite::tungstenite::Message;

pub(crate) const TUNNEL: &str = "SPDY/3.1+portforward.k8s.io";
/// Bytes of an unfinished frame kept; a larger frame ends the connection.
const MAX_FRAME: usize = 1 << 20;
/// Streams open at once on one connection.
const MAX_STREAMS: usize = 256;
const FIN: u8 = 1;

struct Stream {
    data: bool,
    request: String,
    responder: Option<Responder>,
}

#[derive(Default)]
struct Conn {
    inflater: Inflater,
    deflater: Deflater,
    streams: HashMap<u32, Stream>,
    /// Frames to send.
    out: Vec<Vec<u8>>,
    closed: bool,
}

fn control(kind: u16, flags: u8, body: &[u8]) -> Vec<u8> {
    let mut f = vec![0x80, 3];
    f.extend_from_slice(&kind.to_be_bytes());
    f.push(flags);
    f.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    f.extend_from_slice(body);
    f
}

fn data(stream: u32, flags: u8, body: &[u8]) -> Vec<u8> {
    let mut f = (stream & 0x7fff_ffff).to_be_bytes().to_vec();
    f.push(flags);
    f.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    f.extend_from_slice(body);
    f
}

fn be32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

/// `name -> value` pairs of a decompressed header block.
fn parse_headers(b: &[u8]) -> Option<Vec<(String, String)>> {
    let n = be32(b.get(..4)?) as usize;
    let mut at = 4;
    let mut out = Vec::new();
    for _ in 0..n.min(64) {
        let mut take = || {
            let len = be32(b.get(at..at + 4)?) as usize;
            let s = b.get(at + 4..at + 4 + len)?;
            at += 4 + len;
            Some(String::from_utf8_lossy(s).into_owned())
        };
        let k = take()?;
        let v = take()?;
        out.push((k.to_ascii_lowercase(), v));
    }
    Some(out)
}

impl Conn {
    /// One frame from the client.
    fn frame(
        &mut self,
        pod: &str,
        uid: &str,
        listening: &[u16],
        f: &[u8],
    ) -> Result<(), &'static str> {
        let head = &f[..8];
        let body = &f[8..];
        if head[0] & 0x80 == 0 {
            let id = be32(head) & 0x7fff_ffff;
            let fin = head[4] & FIN != 0;
            let Some(s) = self.streams.get_mut(&id) else {
                return Ok(());
            };
            if let Some(r) = s.responder.as_mut() {
                let answer = r.feed(body);
                if !answer.is_empty() {
                    for chunk in answer.chunks(16 * 1024) {
                        self.out.push(data(id, 0, chunk));
                    }
                }
            }
            if fin && s.data {
                // the local connection ended: close both halves of the pair
                let request = s.request.clone();
                let pair: Vec<u32> = self
                    .streams
                    .iter()
                    .filter(|(_, o)| o.request == request)
                    .map(|(k, _)| *k)
                    .collect();
                for k in pair {
                    self.streams.remove(&k);
                    self.out.push(data(k, FIN, &[]));
                }
            }
            return Ok(());
        }
        let kind = u16::from_be_bytes([head[2], head[3]]);
        match kind {
            // SYN_STREAM
            1 => {
                let id = be32(body.get(..4).ok_or("short SYN_STREAM")?) & 0x7fff_ffff;
                let block = self
                    .inflater
                    .inflate(body.get(10..).ok_or("short SYN_STREAM")?)?;
                let headers = parse_headers(&block).ok_or("bad header block")?;
                let get = |k: &str| {
                    headers
                        .iter()
                        .find(|(n, _)| n == k)
                        .map(|(_, v)| v.clone())
                        .unwrap_or_default()
                };
                let port: u16 = get("port").parse().unwrap_or(0);
                let is_data = get("streamtype") == "data";
                let request = get("requestid");
                if self.streams.len() >= MAX_STREAMS {
                    // RST_STREAM, REFUSED_STREAM
                    let mut b = id.to_be_bytes().to_vec();
                    b.extend_from_slice(&3u32.to_be_bytes());
                    self.out.push(control(3, 0, &b));
                    return Ok(());
                }
                let mut reply = id.to_be_bytes().to_vec();
                reply.extend_from_slice(&self.deflater.block(&0u32.to_be_bytes()));
                self.out.push(control(2, 0, &reply));
                let open = listening.contains(&port);
                if is_data && !open {
                    let msg = format!(
                        "error forwarding port {port} to pod {pod}, uid {uid}: failed to connect to localhost:{port} inside namespace: connection refused"
                    );
                    if let Some((eid, _)) = self
                        .streams
                        .iter()
                        .find(|(_, s)| !s.data && s.request == request)
                    {
                        self.out.push(data(*eid, FIN, msg.as_bytes()));
                    }
                }
                self.streams.insert(
                    id,
                    Stream {
                        data: is_data,
                        request,
                        responder: (is_data && open).then(|| Responder::new(pod)),
                    },
                );
            }
            // RST_STREAM
            3 => {
                if let Some(b) = body.get(..4) {
                    self.streams.remove(&(be32(b) & 0x7fff_ffff));
                }
            }
            // PING: answered with the same id
            6 => self.out.push(control(6, 0, body)),
            // GOAWAY
            7 => self.closed = true,
            // HEADERS: keep the compression context in step
            8 => {
                if let Some(block) = body.get(4..) {
                    self.inflater.inflate(block)?;
                }
            }
            _ => {}
        }
        Ok(())
    }
}

pub(crate) async fn run(
    region: Arc<Region>,
    mut ws: Ws,
    ns: String,
    pod: String,
    listening: Vec<u16>,
) {
    let Some(uid) = pod_uid(&region, &ns, &pod) else {
        finish(&mut ws).await;
        return;
    };
    let mut conn = Conn::default();
    let mut buf: Vec<u8> = Vec::new();
    let mut check = tokio::time::interval(POD_CHECK);
    loop {
        tokio::select! {
            m = ws.next() => {
                match m {
                    Some(Ok(Message::Binary(b))) => buf.extend_from_slice(&b),
                    Some(Ok(Message::Text(t))) => buf.extend_from_slice(t.as_bytes()),
                    Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => continue,
                    Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return,
                }
                while buf.len() >= 8 {
                    let len = (be32(&buf[4..8]) & 0x00ff_ffff) as usize;
                    if len > MAX_FRAME {
                        finish(&mut ws).await;
                        return;
                    }
                    if buf.len() < 8 + len {
                        break;
                    }
                    let frame: Vec<u8> = buf.drain(..8 + len).collect();
                    if conn.frame(&pod, &uid, &listening, &frame).is_err() {
                        // GOAWAY, PROTOCOL_ERROR
                        let mut b = 0u32.to_be_bytes().to_vec();
                        b.extend_from_slice(&1u32.to_be_bytes());
                        let _ = ws.send(Message::Binary(Bytes::from(control(7, 0, &b)))).await;
                        finish(&mut ws).await;
                        return;
                    }
                }
                for f in std::mem::take(&mut conn.out) {
                    if ws.send(Message::Binary(Bytes::from(f))).await.is_err() {
                        return;
                    }
                }
                if conn.closed {
                    finish(&mut ws).await;
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

    fn syn(id: u32, deflater: &mut Deflater, h: &[(&str, &str)]) -> Vec<u8> {
        let mut block = (h.len() as u32).to_be_bytes().to_vec();
        for (k, v) in h {
            block.extend_from_slice(&(k.len() as u32).to_be_bytes());
            block.extend_from_slice(k.as_bytes());
            block.extend_from_slice(&(v.len() as u32).to_be_bytes());
            block.extend_from_slice(v.as_bytes());
        }
        let mut body = id.to_be_bytes().to_vec();
        body.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
        body.extend_from_slice(&deflater.block(&block));
        control(1, 0, &body)
    }

    #[test]
    fn a_forwarded_connection_reaches_the_responder() {
        let mut c = Conn::default();
        let mut d = Deflater::default();
        let (pod, uid, ports) = ("web-1", "u1", [8080u16]);
        let e = syn(
            1,
            &mut d,
            &[
                ("streamtype", "error"),
                ("port", "8080"),
                ("requestid", "0"),
            ],
        );
        c.frame(pod, uid, &ports, &e).expect("error stream");
        let s = syn(
            3,
            &mut d,
            &[("streamtype", "data"), ("port", "8080"), ("requestid", "0")],
        );
        c.frame(pod, uid, &ports, &s).expect("data stream");
        // two SYN_REPLYs
        assert_eq!(c.out.len(), 2);
        assert!(c.out.iter().all(|f| f[..4] == [0x80, 3, 0, 2]));
        c.out.clear();
        c.frame(pod, uid, &ports, &data(3, 0, b"GET / HTTP/1.1\r\n\r\n"))
            .expect("data");
        assert_eq!(c.out.len(), 1);
        assert_eq!(be32(&c.out[0][..4]), 3);
        assert!(c.out[0].ends_with(b"\r\n\r\nweb-1\n"));
        c.out.clear();
        // PING echoed, the pair closed when the data stream ends
        c.frame(pod, uid, &ports, &control(6, 0, &7u32.to_be_bytes()))
            .expect("ping");
        assert_eq!(c.out.pop(), Some(control(6, 0, &7u32.to_be_bytes())));
        c.frame(pod, uid, &ports, &data(3, FIN, b"")).expect("fin");
        assert_eq!(c.out.len(), 2);
        assert!(c.streams.is_empty());
    }

    #[test]
    fn a_port_the_pod_does_not_serve_is_refused_on_the_error_stream() {
        let mut c = Conn::default();
        let mut d = Deflater::default();
        let e = syn(
            1,
            &mut d,
            &[("streamtype", "error"), ("port", "9"), ("requestid", "4")],
        );
        let s = syn(
            3,
            &mut d,
            &[("streamtype", "data"), ("port", "9"), ("requestid", "4")],
        );
        c.frame("p", "u", &[8080], &e).expect("error stream");
        c.frame("p", "u", &[8080], &s).expect("data stream");
        let refused = c
            .out
            .iter()
            .find(|f| f[0] & 0x80 == 0)
            .expect("a message on the error stream");
        assert_eq!(be32(&refused[..4]), 1);
        assert!(String::from_utf8_lossy(refused).contains("connection refused"));
    }
}
