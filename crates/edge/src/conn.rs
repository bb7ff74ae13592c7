//! One keep-alive HTTP/1.1 connection to an upstream, spoken by the edge itself and driven by
//! the task of the request that uses it: no task, channel or wake-up of its own. The request's
//! task writes the head and streams the request body while it waits for the response head;
//! the response body reads the connection as the client takes the bytes. Buffers and the
//! timer live as long as the connection, so a request on a pooled connection allocates
//! nothing here. (Measured against hyper's client connection driven the same way: see
//! `docs/benchmarks.md`.)
//!
//! An idle connection in the pool is polled by nobody; the next request that takes it out
//! checks it first, which notices an upstream that closed it meanwhile without a system call
//! when it did not (the socket's readiness is known from the last read).

use std::future::poll_fn;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use bytes::{Buf, Bytes, BytesMut};
use http::HeaderName;
use http_body::{Body, Frame, SizeHint};
use hyper::body::Incoming;
use tokio::io::AsyncWrite;
use tokio::net::TcpStream;
use tokio::time::{Instant, Sleep, sleep_until, timeout};

use crate::chunked::{Chunked, Decoded, LAST_CHUNK, size_line_of};
use crate::upstream::UpstreamError;
use crate::wire::{self, ExchangeError, RequestBody, ResponseBody, ResponseHead};

/// Read buffer for response heads and small bodies.
const HEAD_READ: usize = 8 * 1024;
/// Reads of large bodies.
const BODY_READ: usize = 64 * 1024;
/// Request body frames up to this size are copied next to the head (one write); larger ones
/// are written from their own buffer.
const COPY_MAX: usize = 16 * 1024;

/// A connection to an upstream.
pub(crate) struct UpstreamConn {
    io: TcpStream,
    /// Bytes read and not consumed yet.
    rbuf: BytesMut,
    /// Bytes to write: the request head, small body frames, chunk framing.
    out: Vec<u8>,
    /// How much of `out` is written.
    written: usize,
    /// A large request body frame, written after `out` straight from its buffer.
    frame: Bytes,
    /// `frame` is a chunk: CRLF follows it.
    frame_crlf: bool,
    upload: Upload,
    reading: Reading,
    /// Bytes of the current response have arrived.
    received: bool,
    /// The upstream keeps the connection open after the current response.
    keep_alive: bool,
    /// Something went wrong: never reuse.
    broken: bool,
    /// The first-byte and total timeouts, armed lazily and kept across exchanges: moving a
    /// deadline later is a compare-and-swap, not a timer-wheel operation.
    timer: Option<Pin<Box<Sleep>>>,
}

/// The request body on its way.
enum Upload {
    /// Nothing (more) to send.
    Done,
    /// Streaming the client's body.
    Body {
        body: Incoming,
        chunked: bool,
        /// A frame was taken from the body: it cannot be sent elsewhere any more.
        started: bool,
    },
    /// Writing failed. The upstream may have answered without reading the whole request (a
    /// `413`) and closed: its answer is still read. Nothing more is sent; what is left of the
    /// client's body is discarded once the response is over.
    Failed { body: Incoming, started: bool },
}

/// The response on its way.
#[derive(Debug)]
enum Reading {
    /// No exchange.
    Idle,
    /// Waiting for the response head.
    Head { head_request: bool },
    /// Reading the body.
    Body(Decoder),
    /// The response is complete.
    Done,
}

#[derive(Debug)]
enum Decoder {
    Length(u64),
    Chunked(Chunked),
    UntilClose,
}

/// An exchange that failed before the response head arrived.
#[derive(Debug)]
pub(crate) struct Failed {
    pub(crate) error: Failure,
    /// The request body, when none of it was taken: the request can go elsewhere.
    pub(crate) body: Option<Incoming>,
    /// No byte of a response arrived.
    pub(crate) nothing_received: bool,
}

/// Why an exchange failed.
#[derive(Debug)]
pub(crate) enum Failure {
    /// The upstream broke the exchange.
    Upstream(ExchangeError),
    /// No response head before the deadline.
    Timeout,
    /// The client's request body failed (the client went away).
    ClientBody(hyper::Error),
}

impl UpstreamConn {
    /// Connects to `addr` within `limit` (`TCP_NODELAY`: small requests and responses must not
    /// wait for Nagle's algorithm).
    pub(crate) async fn open(addr: &str, limit: Duration) -> Result<UpstreamConn, UpstreamError> {
        let io = match timeout(limit, TcpStream::connect(addr)).await {
            Err(_) => {
                return Err(UpstreamError::ConnectTimeout {
                    addr: addr.into(),
                    after: limit,
                });
            }
            Ok(Err(source)) => {
                return Err(UpstreamError::Connect {
                    addr: addr.into(),
                    source,
                });
            }
            Ok(Ok(io)) => io,
        };
        let _ = io.set_nodelay(true);
        Ok(UpstreamConn {
            io,
            rbuf: BytesMut::with_capacity(HEAD_READ),
            out: Vec::with_capacity(1024),
            written: 0,
            frame: Bytes::new(),
            frame_crlf: false,
            upload: Upload::Done,
            reading: Reading::Idle,
            received: false,
            keep_alive: true,
            broken: false,
            timer: None,
        })
    }

    /// Whether the connection can still carry a request.
    pub(crate) fn is_open(&self) -> bool {
        !self.broken && self.keep_alive
    }

    /// Checks an idle connection before a request: false when the upstream closed it (or sent
    /// bytes nobody asked for).
    pub(crate) async fn ready(&mut self) -> bool {
        poll_fn(|cx| Poll::Ready(self.poll_idle(cx))).await
    }

    fn poll_idle(&mut self, cx: &mut Context<'_>) -> bool {
        if !self.is_open() || !self.rbuf.is_empty() {
            return false;
        }
        match self.io.poll_read_ready(cx) {
            Poll::Pending => true,
            Poll::Ready(Err(_)) => false,
            // Readable: end of stream, an error, or stray bytes; or nothing (spurious).
            Poll::Ready(Ok(())) => match self.poll_fill(cx, HEAD_READ) {
                Poll::Pending => true,
                Poll::Ready(_) => {
                    self.broken = true;
                    false
                }
            },
        }
    }

    /// The buffer the next request head is written into, empty.
    pub(crate) fn head_buf(&mut self) -> &mut Vec<u8> {
        self.out.clear();
        self.written = 0;
        &mut self.out
    }

    /// Sends the head in [`UpstreamConn::head_buf`] and then `body` (framed as `framing`
    /// says), and waits for the response head until `first_byte`. `head_request`: the
    /// response has no body whatever it says. The upstream's copy of `own` is dropped from the
    /// response.
    pub(crate) async fn exchange(
        &mut self,
        body: Option<Incoming>,
        framing: RequestBody,
        head_request: bool,
        own: Option<&HeaderName>,
        first_byte: Instant,
    ) -> Result<ResponseHead, Failed> {
        self.upload = match (body, framing) {
            (Some(body), RequestBody::Length { .. } | RequestBody::Chunked) => Upload::Body {
                body,
                chunked: framing == RequestBody::Chunked,
                started: false,
            },
            // A body that is not sent is dropped (hyper's rule for GET and HEAD).
            _ => Upload::Done,
        };
        self.reading = Reading::Head { head_request };
        self.received = false;
        poll_fn(|cx| self.poll_head(cx, own, first_byte)).await
    }

    fn poll_head(
        &mut self,
        cx: &mut Context<'_>,
        own: Option<&HeaderName>,
        first_byte: Instant,
    ) -> Poll<Result<ResponseHead, Failed>> {
        let Reading::Head { head_request } = self.reading else {
            return Poll::Ready(Err(self.fail(Failure::Upstream(ExchangeError::Closed))));
        };
        loop {
            match self.poll_upload(cx) {
                Ok(()) => {}
                Err(Failure::Upstream(ExchangeError::Io(e))) => self.stop_upload(&e),
                Err(e) => return Poll::Ready(Err(self.fail(e))),
            }
            match wire::parse_response(&mut self.rbuf, head_request, own) {
                Err(e) => return Poll::Ready(Err(self.fail(Failure::Upstream(e)))),
                // An interim response (100 Continue): the final one follows.
                Ok(Some(head)) if head.status.is_informational() => continue,
                Ok(Some(head)) => {
                    self.start_body(&head);
                    return Poll::Ready(Ok(head));
                }
                Ok(None) => {}
            }
            match self.poll_fill(cx, HEAD_READ) {
                Poll::Ready(Ok(0)) => {
                    return Poll::Ready(Err(self.fail(Failure::Upstream(ExchangeError::Closed))));
                }
                Poll::Ready(Ok(_)) => self.received = true,
                Poll::Ready(Err(e)) => {
                    return Poll::Ready(Err(self.fail(Failure::Upstream(e.into()))));
                }
                Poll::Pending => {
                    if self.poll_deadline(first_byte, cx).is_ready() {
                        return Poll::Ready(Err(self.fail(Failure::Timeout)));
                    }
                    return Poll::Pending;
                }
            }
        }
    }

    fn start_body(&mut self, head: &ResponseHead) {
        self.keep_alive = head.keep_alive;
        self.reading = match head.body {
            ResponseBody::Empty | ResponseBody::Length(0) => Reading::Done,
            ResponseBody::Length(n) => Reading::Body(Decoder::Length(n)),
            ResponseBody::Chunked => {
                let mut chunked = Chunked::Size;
                match chunked.settle(&mut self.rbuf) {
                    true => Reading::Done,
                    false => Reading::Body(Decoder::Chunked(chunked)),
                }
            }
            ResponseBody::UntilClose => Reading::Body(Decoder::UntilClose),
        };
    }

    /// Writing the request failed: stops sending and reads on, for an answer the upstream
    /// may have sent before it closed. The connection is not reused whatever comes.
    fn stop_upload(&mut self, error: &io::Error) {
        tracing::debug!(%error, "writing to the upstream failed; reading on for an early answer");
        self.broken = true;
        self.out.clear();
        self.written = 0;
        self.frame = Bytes::new();
        self.upload = match std::mem::replace(&mut self.upload, Upload::Done) {
            Upload::Body { body, started, .. } | Upload::Failed { body, started } => {
                Upload::Failed { body, started }
            }
            Upload::Done => Upload::Done,
        };
    }

    /// Marks the connection broken and hands back the request body if none of it was sent.
    fn fail(&mut self, error: Failure) -> Failed {
        self.broken = true;
        let body = self.take_unsent_body();
        Failed {
            error,
            body,
            nothing_received: !self.received,
        }
    }

    /// Ends the upload, returning the request body if none of it was taken.
    fn take_unsent_body(&mut self) -> Option<Incoming> {
        match std::mem::replace(&mut self.upload, Upload::Done) {
            Upload::Body {
                body,
                started: false,
                ..
            }
            | Upload::Failed {
                body,
                started: false,
            } => Some(body),
            _ => None,
        }
    }

    /// The client's request body, when the response ended before all of it was sent: the
    /// rest is to be discarded (see [`crate::exchange`]).
    pub(crate) fn take_unsent_rest(&mut self) -> Option<Incoming> {
        match std::mem::replace(&mut self.upload, Upload::Done) {
            Upload::Body { body, .. } | Upload::Failed { body, .. } => Some(body),
            Upload::Done => None,
        }
    }

    /// Writes what is pending and streams the request body as far as the socket and the
    /// client allow. Returns without error when it has to wait.
    fn poll_upload(&mut self, cx: &mut Context<'_>) -> Result<(), Failure> {
        if matches!(self.upload, Upload::Failed { .. }) {
            return Ok(());
        }
        loop {
            match self.poll_flush(cx) {
                Poll::Ready(Ok(())) => {}
                Poll::Ready(Err(e)) => return Err(Failure::Upstream(e.into())),
                Poll::Pending => return Ok(()),
            }
            let Upload::Body {
                body,
                chunked,
                started,
            } = &mut self.upload
            else {
                return Ok(());
            };
            let chunked = *chunked;
            match Pin::new(body).poll_frame(cx) {
                Poll::Pending => return Ok(()),
                Poll::Ready(None) => {
                    if chunked {
                        self.out.extend_from_slice(LAST_CHUNK);
                    }
                    self.upload = Upload::Done;
                }
                Poll::Ready(Some(Err(e))) => return Err(Failure::ClientBody(e)),
                Poll::Ready(Some(Ok(frame))) => {
                    *started = true;
                    // Trailers are not forwarded (hyper's client drops them too without a
                    // `Trailer` header, which is hop-by-hop).
                    if let Ok(data) = frame.into_data() {
                        self.queue(data, chunked);
                    }
                }
            }
        }
    }

    /// Queues one request body frame (everything before it is written).
    fn queue(&mut self, data: Bytes, chunked: bool) {
        if data.is_empty() {
            return;
        }
        if chunked {
            size_line_of(&mut self.out, data.len());
        }
        if data.len() <= COPY_MAX {
            self.out.extend_from_slice(&data);
            if chunked {
                self.out.extend_from_slice(b"\r\n");
            }
        } else {
            self.frame = data;
            self.frame_crlf = chunked;
        }
    }

    /// Writes `out`, then `frame`, until both are written or the socket is full.
    fn poll_flush(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        loop {
            let head = &self.out[self.written..];
            let io = Pin::new(&mut self.io);
            let n = match (head.is_empty(), self.frame.is_empty()) {
                (true, true) => {
                    self.out.clear();
                    self.written = 0;
                    return Poll::Ready(Ok(()));
                }
                (false, true) => ready!(io.poll_write(cx, head))?,
                (true, false) => ready!(io.poll_write(cx, &self.frame))?,
                (false, false) => {
                    let bufs = [IoSlice::new(head), IoSlice::new(&self.frame)];
                    ready!(io.poll_write_vectored(cx, &bufs))?
                }
            };
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            let from_head = n.min(head.len());
            self.written += from_head;
            let from_frame = n - from_head;
            if from_frame > 0 {
                self.frame.advance(from_frame);
                if self.frame.is_empty() && std::mem::take(&mut self.frame_crlf) {
                    self.out.extend_from_slice(b"\r\n");
                }
            }
        }
    }

    /// Reads more of the response into `rbuf`, in reads of about `want` bytes.
    fn poll_fill(&mut self, cx: &mut Context<'_>, want: usize) -> Poll<io::Result<usize>> {
        if self.rbuf.capacity() - self.rbuf.len() < want / 4 {
            self.rbuf.reserve(want);
        }
        tokio_util::io::poll_read_buf(Pin::new(&mut self.io), cx, &mut self.rbuf)
    }

    /// The next frame of the response body. Also keeps sending the request body, for
    /// upstreams that answer before they have read all of it.
    pub(crate) fn poll_frame(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, ExchangeError>>> {
        if !matches!(self.upload, Upload::Done) {
            // When the rest of the upload is lost, the response may still complete, but the
            // connection cannot be reused.
            match self.poll_upload(cx) {
                Ok(()) => {}
                Err(Failure::Upstream(ExchangeError::Io(e))) => self.stop_upload(&e),
                Err(_) => {
                    self.broken = true;
                    self.upload = Upload::Done;
                }
            }
        }
        loop {
            let Reading::Body(decoder) = &mut self.reading else {
                return Poll::Ready(None);
            };
            let want = match decoder {
                Decoder::Length(left) if !self.rbuf.is_empty() => {
                    let n =
                        usize::try_from(*left).map_or(self.rbuf.len(), |l| l.min(self.rbuf.len()));
                    *left -= n as u64;
                    if *left == 0 {
                        self.reading = Reading::Done;
                    }
                    return Poll::Ready(Some(Ok(Frame::data(self.rbuf.split_to(n).freeze()))));
                }
                Decoder::Length(left) => match *left > HEAD_READ as u64 {
                    true => BODY_READ,
                    false => HEAD_READ,
                },
                Decoder::Chunked(chunked) => match chunked.decode(&mut self.rbuf) {
                    Ok(Decoded::Data(data)) => {
                        if chunked.settle(&mut self.rbuf) {
                            self.reading = Reading::Done;
                        }
                        return Poll::Ready(Some(Ok(Frame::data(data))));
                    }
                    Ok(Decoded::Trailers(trailers)) => {
                        self.reading = Reading::Done;
                        return Poll::Ready(Some(Ok(Frame::trailers(trailers))));
                    }
                    Ok(Decoded::End) => {
                        self.reading = Reading::Done;
                        return Poll::Ready(None);
                    }
                    Ok(Decoded::More) => BODY_READ,
                    Err(e) => return Poll::Ready(Some(Err(self.break_off(e)))),
                },
                Decoder::UntilClose if !self.rbuf.is_empty() => {
                    let data = self.rbuf.split().freeze();
                    return Poll::Ready(Some(Ok(Frame::data(data))));
                }
                Decoder::UntilClose => BODY_READ,
            };
            match ready!(self.poll_fill(cx, want)) {
                Ok(0) if matches!(self.reading, Reading::Body(Decoder::UntilClose)) => {
                    self.keep_alive = false;
                    self.reading = Reading::Done;
                    return Poll::Ready(None);
                }
                Ok(0) => return Poll::Ready(Some(Err(self.break_off(ExchangeError::Closed)))),
                Ok(_) => {}
                Err(e) => return Poll::Ready(Some(Err(self.break_off(e.into())))),
            }
        }
    }

    fn break_off(&mut self, e: ExchangeError) -> ExchangeError {
        self.broken = true;
        self.reading = Reading::Done;
        e
    }

    /// Whether the response body is complete.
    pub(crate) fn is_end_stream(&self) -> bool {
        matches!(self.reading, Reading::Done)
    }

    /// What is known of the response body's length.
    pub(crate) fn size_hint(&self) -> SizeHint {
        match self.reading {
            Reading::Body(Decoder::Length(left)) => SizeHint::with_exact(left),
            Reading::Done => SizeHint::with_exact(0),
            _ => SizeHint::default(),
        }
    }

    /// Ready once `deadline` has passed (the connection's timer, re-armed as needed).
    pub(crate) fn poll_deadline(&mut self, deadline: Instant, cx: &mut Context<'_>) -> Poll<()> {
        let timer = self
            .timer
            .get_or_insert_with(|| Box::pin(sleep_until(deadline)));
        if timer.deadline() != deadline {
            timer.as_mut().reset(deadline);
        }
        timer.as_mut().poll(cx)
    }

    /// Whether the exchange ended cleanly and the connection can carry the next one; it is
    /// then ready for it.
    pub(crate) fn finish(&mut self) -> bool {
        let clean = self.is_open()
            && matches!(self.upload, Upload::Done)
            && matches!(self.reading, Reading::Done)
            && self.written == self.out.len()
            && self.frame.is_empty()
            && self.rbuf.is_empty();
        self.reading = Reading::Idle;
        clean
    }
}

impl std::fmt::Debug for UpstreamConn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UpstreamConn")
            .field("reading", &self.reading)
            .field("keep_alive", &self.keep_alive)
            .field("broken", &self.broken)
            .finish_non_exhaustive()
    }
}
