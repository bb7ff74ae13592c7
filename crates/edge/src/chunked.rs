//! `Transfer-Encoding: chunked` (RFC 9112 §7.1): decoding an upstream's response body out of
//! the read buffer without copying the data, and the framing of a request body the edge sends
//! chunked.

use bytes::{Buf, Bytes, BytesMut};
use http::HeaderMap;
use http::header::{self, HeaderName, HeaderValue};

use crate::headers::is_hop_by_hop;

use crate::wire::ExchangeError;

/// Longest chunk-size line (with extensions) accepted.
const MAX_LINE: usize = 4096;
/// Largest trailer section accepted.
const MAX_TRAILERS: usize = 16 * 1024;
/// Most trailer fields accepted.
const MAX_TRAILER_FIELDS: usize = 32;

/// The last chunk and an empty trailer section: the end of a chunked body.
pub(crate) const LAST_CHUNK: &[u8] = b"0\r\n\r\n";

/// Where the decoder is in a chunked body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Chunked {
    /// Before a chunk-size line.
    Size,
    /// Inside a chunk, with this many bytes of it still to come.
    Data(u64),
    /// After a chunk's data, before its CRLF.
    DataEnd,
    /// After the last chunk, before the trailer section.
    Trailers,
    /// The body is complete.
    Done,
}

/// One step of decoding.
#[derive(Debug)]
pub(crate) enum Decoded {
    /// Body bytes.
    Data(Bytes),
    /// The trailer fields, after the last chunk.
    Trailers(HeaderMap),
    /// The body is complete.
    End,
    /// More bytes must be read first.
    More,
}

impl Chunked {
    /// Decodes the next piece of the body out of `buf`, consuming what it decoded.
    pub(crate) fn decode(&mut self, buf: &mut BytesMut) -> Result<Decoded, ExchangeError> {
        loop {
            match *self {
                Chunked::Size => {
                    let Some(size) = size_line(buf)? else {
                        return Ok(Decoded::More);
                    };
                    *self = if size == 0 {
                        Chunked::Trailers
                    } else {
                        Chunked::Data(size)
                    };
                }
                Chunked::Data(left) => {
                    if buf.is_empty() {
                        return Ok(Decoded::More);
                    }
                    let n = usize::try_from(left).map_or(buf.len(), |l| l.min(buf.len()));
                    let data = buf.split_to(n).freeze();
                    *self = match left - n as u64 {
                        0 => Chunked::DataEnd,
                        rest => Chunked::Data(rest),
                    };
                    return Ok(Decoded::Data(data));
                }
                Chunked::DataEnd => {
                    if buf.len() < 2 {
                        return Ok(Decoded::More);
                    }
                    if &buf[..2] != b"\r\n" {
                        return Err(ExchangeError::Chunk("chunk data not followed by CRLF"));
                    }
                    buf.advance(2);
                    *self = Chunked::Size;
                }
                Chunked::Trailers => {
                    if buf.starts_with(b"\r\n") {
                        buf.advance(2);
                        *self = Chunked::Done;
                        return Ok(Decoded::End);
                    }
                    let Some(trailers) = trailers(buf)? else {
                        return Ok(Decoded::More);
                    };
                    *self = Chunked::Done;
                    return Ok(Decoded::Trailers(trailers));
                }
                Chunked::Done => return Ok(Decoded::End),
            }
        }
    }

    /// Consumes the end of the body when it is already in `buf` (the CRLF after the last
    /// data, the last chunk and an empty trailer section) without decoding any data, so the
    /// body can tell it is complete as soon as its last bytes were handed out. True when the
    /// body is complete.
    pub(crate) fn settle(&mut self, buf: &mut BytesMut) -> bool {
        loop {
            match *self {
                Chunked::DataEnd if buf.starts_with(b"\r\n") => {
                    buf.advance(2);
                    *self = Chunked::Size;
                }
                Chunked::Size if buf.starts_with(LAST_CHUNK) => {
                    buf.advance(LAST_CHUNK.len());
                    *self = Chunked::Done;
                }
                Chunked::Trailers if buf.starts_with(b"\r\n") => {
                    buf.advance(2);
                    *self = Chunked::Done;
                }
                Chunked::Done => return true,
                _ => return false,
            }
        }
    }
}

/// The size of the chunk whose size line starts `buf`, consuming the line; `None` when the
/// line is not complete yet. Chunk extensions are ignored.
fn size_line(buf: &mut BytesMut) -> Result<Option<u64>, ExchangeError> {
    let Some(end) = buf.iter().take(MAX_LINE).position(|&b| b == b'\n') else {
        if buf.len() >= MAX_LINE {
            return Err(ExchangeError::Chunk("chunk-size line too long"));
        }
        return Ok(None);
    };
    let line = buf[..end]
        .strip_suffix(b"\r")
        .ok_or(ExchangeError::Chunk("chunk-size line not ended by CRLF"))?;
    let digits = line.iter().take_while(|b| b.is_ascii_hexdigit()).count();
    if digits == 0 || digits > 16 {
        return Err(ExchangeError::Chunk("invalid chunk size"));
    }
    let rest = &line[digits..];
    let ext = rest
        .iter()
        .position(|&b| b != b' ' && b != b'\t')
        .map_or(&[][..], |i| &rest[i..]);
    if ext.first().is_some_and(|&b| b != b';') {
        return Err(ExchangeError::Chunk("invalid chunk size"));
    }
    // At most 16 hex digits: no overflow.
    let size = line[..digits].iter().fold(0u64, |n, &b| {
        (n << 4) | u64::from(char::from(b).to_digit(16).unwrap_or(0))
    });
    buf.advance(end + 1);
    Ok(Some(size))
}

/// The trailer section at the start of `buf` (ending with an empty line), consuming it;
/// `None` when it is not complete yet.
fn trailers(buf: &mut BytesMut) -> Result<Option<HeaderMap>, ExchangeError> {
    let mut fields = [httparse::EMPTY_HEADER; MAX_TRAILER_FIELDS];
    match httparse::parse_headers(buf, &mut fields) {
        Ok(httparse::Status::Complete((len, fields))) => {
            let mut map = HeaderMap::with_capacity(fields.len());
            for f in fields {
                let name = HeaderName::from_bytes(f.name.as_bytes())
                    .map_err(|_| ExchangeError::Chunk("invalid trailer name"))?;
                let value = HeaderValue::from_bytes(f.value)
                    .map_err(|_| ExchangeError::Chunk("invalid trailer value"))?;
                // Fields that describe this connection or the framing never belong in a
                // trailer (RFC 9110 §6.5.1); they are not passed on.
                if !is_hop_by_hop(&name) && name != header::CONTENT_LENGTH {
                    map.append(name, value);
                }
            }
            buf.advance(len);
            Ok(Some(map))
        }
        Ok(httparse::Status::Partial) if buf.len() >= MAX_TRAILERS => {
            Err(ExchangeError::Chunk("trailer section too large"))
        }
        Ok(httparse::Status::Partial) => Ok(None),
        Err(_) => Err(ExchangeError::Chunk("malformed trailer section")),
    }
}

/// Appends the chunk-size line of a `len`-byte chunk to `out`.
pub(crate) fn size_line_of(out: &mut Vec<u8>, len: usize) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let digits = (usize::BITS - len.leading_zeros()).div_ceil(4).max(1);
    for i in (0..digits).rev() {
        out.push(HEX[(len >> (i * 4)) & 0xf]);
    }
    out.extend_from_slice(b"\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    type Decoding = (Vec<u8>, Option<HeaderMap>, Vec<u8>);

    /// Decodes `raw` fed in pieces of `step` bytes: the data, the trailers, and what is left.
    fn decode_in_steps(raw: &[u8], step: usize) -> Result<Decoding, ExchangeError> {
        let mut dec = Chunked::Size;
        let mut buf = BytesMut::new();
        let (mut data, mut trailers) = (Vec::new(), None);
        let mut fed = 0;
        loop {
            match dec.decode(&mut buf)? {
                Decoded::Data(d) => data.extend_from_slice(&d),
                Decoded::Trailers(t) => trailers = Some(t),
                Decoded::End => return Ok((data, trailers, buf.to_vec())),
                Decoded::More if fed == raw.len() => return Err(ExchangeError::Closed),
                Decoded::More => {
                    let n = step.min(raw.len() - fed);
                    buf.extend_from_slice(&raw[fed..fed + n]);
                    fed += n;
                }
            }
        }
    }

    #[test]
    fn decodes_chunks_whatever_the_read_sizes() {
        let raw = b"5\r\nhello\r\n7;ext=1\r\n, world\r\n00\r\n\r\nNEXT";
        for step in 1..raw.len() {
            let (data, trailers, left) = decode_in_steps(raw, step).unwrap();
            assert_eq!(data, b"hello, world", "{step}");
            assert!(trailers.is_none());
            assert!(b"NEXT".starts_with(&left), "{step}: {left:?}");
        }
    }

    #[test]
    fn trailers_are_decoded() {
        let raw = b"A\r\n0123456789\r\n0\r\nX-Checksum: abc\r\nConnection: close\r\nContent-Length: 5\r\nX-Other: 1\r\nTransfer-Encoding: chunked\r\n\r\n";
        for step in [1, 3, raw.len()] {
            let (data, trailers, left) = decode_in_steps(raw, step).unwrap();
            assert_eq!(data, b"0123456789");
            let t = trailers.unwrap();
            assert_eq!(t["x-checksum"], "abc");
            assert_eq!(t["x-other"], "1");
            assert_eq!(
                t.len(),
                2,
                "connection and framing fields are dropped: {t:?}"
            );
            assert!(left.is_empty());
        }
    }

    #[test]
    fn malformed_bodies_are_errors() {
        for raw in [
            &b"x\r\n"[..],
            b"5\nhello\r\n0\r\n\r\n",
            b"5\r\nhelloXX0\r\n\r\n",
            b"12345678901234567\r\n",
            b"5 x\r\nhello\r\n",
            b"0\r\nBad Trailer\r\n\r\n",
        ] {
            assert!(decode_in_steps(raw, raw.len()).is_err(), "{raw:?}");
        }
        let long = format!("1;{}\r\n", "e".repeat(MAX_LINE));
        assert!(decode_in_steps(long.as_bytes(), long.len()).is_err());
    }

    #[test]
    fn a_buffered_end_is_settled_without_another_read() {
        let mut buf = BytesMut::from(&b"3\r\nabc\r\n0\r\n\r\n"[..]);
        let mut dec = Chunked::Size;
        assert!(matches!(dec.decode(&mut buf).unwrap(), Decoded::Data(d) if d == "abc"));
        assert!(dec.settle(&mut buf));
        assert!(buf.is_empty());
        let mut buf = BytesMut::from(&b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"[..]);
        let mut dec = Chunked::Size;
        dec.decode(&mut buf).unwrap();
        assert!(!dec.settle(&mut buf), "another chunk follows");
        assert_eq!(dec, Chunked::Size);
        assert!(matches!(dec.decode(&mut buf).unwrap(), Decoded::Data(d) if d == "de"));
        assert!(dec.settle(&mut buf));
    }

    #[test]
    fn size_lines_are_hex() {
        for (len, line) in [
            (0, "0\r\n"),
            (5, "5\r\n"),
            (255, "ff\r\n"),
            (65536, "10000\r\n"),
        ] {
            let mut out = Vec::new();
            size_line_of(&mut out, len);
            assert_eq!(out, line.as_bytes());
        }
    }
}
