//! Just enough zlib for SPDY/3 header blocks: an inflater whose history
//! starts with SPDY's fixed dictionary and carries over from one header
//! block to the next (one compression context per connection and
//! direction), and the stored-block framing the simulator answers with.
//! Header blocks are small and few, so this favours plainness over speed.

/// Longest output of one header block (a port-forward's headers are ~100 B).
const MAX_OUT: usize = 64 * 1024;
/// History a deflate stream may refer back to.
const WINDOW: usize = 32 * 1024;

/// SPDY/3's header-compression dictionary (draft-mbelshe-httpbis-spdy-00,
/// 2.6.10.1): these words, each after its 4-byte big-endian length, then
/// the tail as is.
const DICT_WORDS: &[&str] = &[
    "options",
    "head",
    "post",
    "put",
    "delete",
    "trace",
    "accept",
    "accept-charset",
    "accept-encoding",
    "accept-language",
    "accept-ranges",
    "age",
    "allow",
    "authorization",
    "cache-control",
    "connection",
    "content-base",
    "content-encoding",
    "content-language",
    "content-length",
    "content-location",
    "content-md5",
    "content-range",
    "content-type",
    "date",
    "etag",
    "expect",
    "expires",
    "from",
    "host",
    "if-match",
    "if-modified-since",
    "if-none-match",
    "if-range",
    "if-unmodified-since",
    "last-modified",
    "location",
    "max-forwards",
    "pragma",
    "proxy-authenticate",
    "proxy-authorization",
    "range",
    "referer",
    "retry-after",
    "server",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "user-agent",
    "vary",
    "via",
    "warning",
    "www-authenticate",
    "method",
    "get",
    "status",
    "200 OK",
    "version",
    "HTTP/1.1",
    "url",
    "public",
    "set-cookie",
    "keep-alive",
    "origin",
];
const DICT_TAIL: &str = "100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request401 Unauthorized403 Forbidden404 Not Found500 Internal Server Error501 Not Implemented503 Service UnavailableJan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMTchunked,text/html,image/png,image/jpg,image/gif,application/xml,application/xhtml+xml,text/plain,text/javascript,publicprivatemax-age=gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0.";

pub fn dictionary() -> Vec<u8> {
    let mut d = Vec::with_capacity(1424);
    for w in DICT_WORDS {
        d.extend_from_slice(&(w.len() as u32).to_be_bytes());
        d.extend_from_slice(w.as_bytes());
    }
    d.extend_from_slice(DICT_TAIL.as_bytes());
    d
}

pub fn adler32(data: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for &x in data {
        a = (a + u32::from(x)) % 65521;
        b = (b + a) % 65521;
    }
    (b << 16) | a
}

pub type Error = &'static str;

struct Bits<'a> {
    data: &'a [u8],
    pos: usize,
    bit: u32,
}

impl Bits<'_> {
    fn bit(&mut self) -> Result<u32, Error> {
        let byte = *self.data.get(self.pos).ok_or("header block cut short")?;
        let b = (u32::from(byte) >> self.bit) & 1;
        self.bit += 1;
        if self.bit == 8 {
            self.bit = 0;
            self.pos += 1;
        }
        Ok(b)
    }
    fn bits(&mut self, n: u32) -> Result<u32, Error> {
        let mut v = 0;
        for i in 0..n {
            v |= self.bit()? << i;
        }
        Ok(v)
    }
    fn align(&mut self) {
        if self.bit > 0 {
            self.bit = 0;
            self.pos += 1;
        }
    }
}

/// A canonical Huffman code: how many codes of each length, and the
/// symbols in code order.
struct Huffman {
    count: [u16; 16],
    symbol: Vec<u16>,
}

impl Huffman {
    fn new(lengths: &[u8]) -> Huffman {
        let mut count = [0u16; 16];
        for &l in lengths {
            count[l as usize] += 1;
        }
        count[0] = 0;
        let mut offs = [0u16; 16];
        for l in 1..16 {
            offs[l] = offs[l - 1] + count[l - 1];
        }
        let mut symbol = vec![0u16; lengths.len()];
        for (s, &l) in lengths.iter().enumerate() {
            if l != 0 {
                symbol[offs[l as usize] as usize] = s as u16;
                offs[l as usize] += 1;
            }
        }
        Huffman { count, symbol }
    }

    fn decode(&self, r: &mut Bits) -> Result<u16, Error> {
        let (mut code, mut first, mut index) = (0i32, 0i32, 0i32);
        for len in 1..16 {
            code |= r.bit()? as i32;
            let count = i32::from(self.count[len]);
            if code - count < first {
                return self
                    .symbol
                    .get((index + code - first) as usize)
                    .copied()
                    .ok_or("bad Huffman code");
            }
            index += count;
            first = (first + count) << 1;
            code <<= 1;
        }
        Err("bad Huffman code")
    }
}

const LBASE: [u16; 29] = [
    3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131,
    163, 195, 227, 258,
];
const LEXT: [u8; 29] = [
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
];
const DBASE: [u16; 30] = [
    1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537,
    2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577,
];
const DEXT: [u8; 30] = [
    0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13,
    13,
];
const ORDER: [usize; 19] = [
    16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15,
];

/// One direction's decompression context.
pub struct Inflater {
    /// Recent output (the dictionary first), what back-references reach.
    history: Vec<u8>,
    started: bool,
}

impl Default for Inflater {
    fn default() -> Self {
        Inflater {
            history: dictionary(),
            started: false,
        }
    }
}

impl Inflater {
    /// Decompress one header block (it ends on a flush, at a byte boundary).
    pub fn inflate(&mut self, data: &[u8]) -> Result<Vec<u8>, Error> {
        let mut r = Bits {
            data,
            pos: 0,
            bit: 0,
        };
        if !self.started {
            let (cmf, flg) = (
                *data.first().ok_or("empty header block")?,
                *data.get(1).ok_or("empty header block")?,
            );
            if cmf & 0x0f != 8 || (u16::from(cmf) << 8 | u16::from(flg)) % 31 != 0 {
                return Err("not a zlib stream");
            }
            r.pos = 2;
            if flg & 0x20 != 0 {
                let id = data.get(2..6).ok_or("header block cut short")?;
                if u32::from_be_bytes([id[0], id[1], id[2], id[3]]) != adler32(&dictionary()) {
                    return Err("the header block uses another dictionary");
                }
                r.pos = 6;
            }
            self.started = true;
        }
        let start = self.history.len();
        while r.pos < data.len() {
            let _last = r.bit()?;
            match r.bits(2)? {
                0 => {
                    r.align();
                    let h = data.get(r.pos..r.pos + 4).ok_or("header block cut short")?;
                    let len = u16::from_le_bytes([h[0], h[1]]);
                    if len != !u16::from_le_bytes([h[2], h[3]]) {
                        return Err("bad stored block length");
                    }
                    r.pos += 4;
                    let body = data
                        .get(r.pos..r.pos + len as usize)
                        .ok_or("header block cut short")?;
                    self.history.extend_from_slice(body);
                    r.pos += len as usize;
                }
                1 => {
                    let mut l = [8u8; 288];
                    l[144..256].fill(9);
                    l[256..280].fill(7);
                    self.codes(&mut r, &Huffman::new(&l), &Huffman::new(&[5u8; 30]), start)?;
                }
                2 => {
                    let (lit, dist) = dynamic(&mut r)?;
                    self.codes(&mut r, &lit, &dist, start)?;
                }
                _ => return Err("bad block type"),
            }
            if self.history.len() - start > MAX_OUT {
                return Err("header block too large");
            }
        }
        let out = self.history[start..].to_vec();
        if self.history.len() > 2 * WINDOW {
            self.history.drain(..self.history.len() - WINDOW);
        }
        Ok(out)
    }

    fn codes(
        &mut self,
        r: &mut Bits,
        lit: &Huffman,
        dist: &Huffman,
        start: usize,
    ) -> Result<(), Error> {
        loop {
            let sym = lit.decode(r)?;
            match sym {
                0..=255 => self.history.push(sym as u8),
                256 => return Ok(()),
                _ => {
                    let i = usize::from(sym - 257);
                    let len = usize::from(*LBASE.get(i).ok_or("bad length")?)
                        + r.bits(u32::from(LEXT[i]))? as usize;
                    let d = usize::from(dist.decode(r)?);
                    let back = usize::from(*DBASE.get(d).ok_or("bad distance")?)
                        + r.bits(u32::from(DEXT[d]))? as usize;
                    if back > self.history.len() {
                        return Err("distance too far back");
                    }
                    for _ in 0..len {
                        let b = self.history[self.history.len() - back];
                        self.history.push(b);
                    }
                }
            }
            if self.history.len() - start > MAX_OUT {
                return Err("header block too large");
            }
        }
    }
}

fn dynamic(r: &mut Bits) -> Result<(Huffman, Huffman), Error> {
    let nlen = r.bits(5)? as usize + 257;
    let ndist = r.bits(5)? as usize + 1;
    let ncode = r.bits(4)? as usize + 4;
    if nlen > 286 || ndist > 30 {
        return Err("bad code counts");
    }
    let mut cl = [0u8; 19];
    for &o in ORDER.iter().take(ncode) {
        cl[o] = r.bits(3)? as u8;
    }
    let clh = Huffman::new(&cl);
    let mut lengths = Vec::with_capacity(nlen + ndist);
    while lengths.len() < nlen + ndist {
        let sym = clh.decode(r)?;
        let (value, times) = match sym {
            0..=15 => (sym as u8, 1),
            16 => (
                *lengths.last().ok_or("repeat with no length")?,
                3 + r.bits(2)?,
            ),
            17 => (0, 3 + r.bits(3)?),
            18 => (0, 11 + r.bits(7)?),
            _ => return Err("bad code length code"),
        };
        for _ in 0..times {
            lengths.push(value);
        }
    }
    if lengths.len() != nlen + ndist {
        return Err("too many code lengths");
    }
    Ok((
        Huffman::new(&lengths[..nlen]),
        Huffman::new(&lengths[nlen..]),
    ))
}

/// The compressing side, without compression: stored blocks, each header
/// block ending with a sync flush as Go's spdystream writes them.
#[derive(Default)]
pub struct Deflater {
    started: bool,
}

impl Deflater {
    pub fn block(&mut self, data: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(data.len() + 8);
        if !self.started {
            // zlib header, no preset dictionary needed to read stored blocks
            out.extend_from_slice(&[0x78, 0x01]);
            self.started = true;
        }
        for chunk in data.chunks(0xffff) {
            let len = chunk.len() as u16;
            out.push(0);
            out.extend_from_slice(&len.to_le_bytes());
            out.extend_from_slice(&(!len).to_le_bytes());
            out.extend_from_slice(chunk);
        }
        // an empty stored block, as a sync flush ends: Go's inflater stops
        // there instead of reading on into the next frame
        out.extend_from_slice(&[0, 0, 0, 0xff, 0xff]);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dictionary_is_spdy3s() {
        let d = dictionary();
        assert_eq!(d.len(), 1423);
        assert_eq!(&d[..11], b"\x00\x00\x00\x07options");
        assert!(d.ends_with(b",*,enq=0."));
    }

    #[test]
    fn stored_blocks_read_back_across_blocks() {
        let mut w = Deflater::default();
        let mut r = Inflater::default();
        assert_eq!(r.inflate(&w.block(b"hello")).as_deref(), Ok(&b"hello"[..]));
        assert_eq!(r.inflate(&w.block(b"")).as_deref(), Ok(&b""[..]));
        assert_eq!(r.inflate(&w.block(b"again")).as_deref(), Ok(&b"again"[..]));
    }

    #[test]
    fn compressed_blocks_with_the_dictionary() {
        // zlib.compressobj(9, zdict=dictionary()), two blocks each ended by
        // Z_SYNC_FLUSH: SPDY headers of a port-forward's error and data streams
        let mut r = Inflater::default();
        let first = r.inflate(FIRST).expect("first block");
        assert_eq!(
            first,
            headers(&[
                ("port", "8080"),
                ("requestid", "0"),
                ("streamtype", "error")
            ])
        );
        let second = r.inflate(SECOND).expect("second block");
        assert_eq!(
            second,
            headers(&[("port", "8080"), ("requestid", "0"), ("streamtype", "data")])
        );
    }

    fn headers(h: &[(&str, &str)]) -> Vec<u8> {
        let mut v = (h.len() as u32).to_be_bytes().to_vec();
        for (k, x) in h {
            v.extend_from_slice(&(k.len() as u32).to_be_bytes());
            v.extend_from_slice(k.as_bytes());
            v.extend_from_slice(&(x.len() as u32).to_be_bytes());
            v.extend_from_slice(x.as_bytes());
        }
        v
    }

    include!("inflate_vectors.rs");
}
