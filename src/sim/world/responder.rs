//! What a pod serves on its container ports through a port-forward: a tiny
//! HTTP/1.1 server answering every request with the pod's name, so a client
//! can tell which pod it reached (and that a forward moved to a new pod).

/// Largest request head kept; a longer one is answered 431 and dropped.
const MAX_HEAD: usize = 16 * 1024;

pub struct Responder {
    pod: String,
    buf: Vec<u8>,
    /// Body bytes of the current request still to skip.
    skip: usize,
}

impl Responder {
    pub fn new(pod: &str) -> Responder {
        Responder {
            pod: pod.to_string(),
            buf: Vec::new(),
            skip: 0,
        }
    }

    /// Bytes from the client in; answer bytes out (possibly several
    /// pipelined answers, possibly none yet).
    pub fn feed(&mut self, mut data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        loop {
            if self.skip > 0 {
                let n = self.skip.min(data.len());
                self.skip -= n;
                data = &data[n..];
                if self.skip > 0 {
                    return out;
                }
            }
            let room = MAX_HEAD.saturating_sub(self.buf.len());
            let take = data.len().min(room + 4);
            self.buf.extend_from_slice(&data[..take]);
            data = &data[take..];
            let Some(end) = find(&self.buf, b"\r\n\r\n") else {
                if self.buf.len() > MAX_HEAD {
                    out.extend_from_slice(&answer(431, "Request Header Fields Too Large\n"));
                    self.buf.clear();
                    data = &[];
                }
                if data.is_empty() {
                    return out;
                }
                continue;
            };
            let head = String::from_utf8_lossy(&self.buf[..end]).into_owned();
            let rest = self.buf.split_off(end + 4);
            self.buf.clear();
            let length = head
                .lines()
                .filter_map(|l| l.split_once(':'))
                .find(|(k, _)| k.trim().eq_ignore_ascii_case("content-length"))
                .and_then(|(_, v)| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            let head_only = head.starts_with("HEAD ");
            let body = format!("{}\n", self.pod);
            let mut a = answer(200, &body);
            if head_only {
                a.truncate(a.len() - body.len());
            }
            out.extend_from_slice(&a);
            self.skip = length;
            // the rest of this read may be the body or the next request
            let mut pending = rest;
            pending.extend_from_slice(data);
            if pending.is_empty() {
                return out;
            }
            let n = self.skip.min(pending.len());
            self.skip -= n;
            self.buf = pending.split_off(n);
            data = &[];
            if find(&self.buf, b"\r\n\r\n").is_none() {
                return out;
            }
        }
    }
}

fn answer(code: u16, body: &str) -> Vec<u8> {
    let reason = if code == 200 { "OK" } else { "Error" };
    format!(
        "HTTP/1.1 {code} {reason}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_each_request_with_the_pod_name() {
        let mut r = Responder::new("checkout-7d9f-abcde");
        // a request split across reads
        assert!(r.feed(b"GET / HTTP/1.1\r\nHost: x\r\n").is_empty());
        let a = String::from_utf8(r.feed(b"\r\n")).unwrap();
        assert!(a.starts_with("HTTP/1.1 200 OK\r\n"), "{a}");
        assert!(a.ends_with("\r\n\r\ncheckout-7d9f-abcde\n"), "{a}");
        assert!(a.contains("Content-Length: 20\r\n"));
        // pipelined: a POST with a body, then a GET, in one read
        let two = r.feed(b"POST /x HTTP/1.1\r\nContent-Length: 3\r\n\r\nabcGET / HTTP/1.1\r\n\r\n");
        let two = String::from_utf8(two).unwrap();
        assert_eq!(two.matches("HTTP/1.1 200 OK").count(), 2, "{two}");
        // a body arriving after its head is skipped, not taken for a request
        assert_eq!(
            r.feed(b"PUT / HTTP/1.1\r\nContent-Length: 4\r\n\r\n").len(),
            a.len()
        );
        assert!(r.feed(b"bo").is_empty());
        assert_eq!(r.feed(b"dyGET / HTTP/1.1\r\n\r\n").len(), a.len());
    }

    #[test]
    fn an_endless_head_is_refused_and_forgotten() {
        let mut r = Responder::new("p");
        let junk = vec![b'a'; MAX_HEAD + 10];
        let a = String::from_utf8(r.feed(&junk)).unwrap();
        assert!(a.starts_with("HTTP/1.1 431"), "{a}");
        assert!(r.buf.is_empty());
    }
}
