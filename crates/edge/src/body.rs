//! The body of every response the edge sends: either a short message of its own, or the
//! upstream's body streamed through frame by frame (never buffered), counting bytes, enforcing
//! the total timeout and settling the request's accounting when it ends.

use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use tokio::time::Instant;

use crate::exchange::{End, Exchange};
use crate::wire::ExchangeError;

/// A response body sent by the edge.
#[derive(Debug)]
pub struct ProxyBody {
    kind: Kind,
}

#[derive(Debug)]
enum Kind {
    Full(Option<Bytes>),
    Stream(Streaming),
}

/// An upstream body on its way to the client, read from the exchange's connection.
#[derive(Debug)]
struct Streaming {
    /// The end of the request's total timeout. The connection's timer is set to it the first
    /// time the upstream makes the client wait (a body that is ready at once, the common
    /// case, never needs it).
    deadline: Instant,
    /// Frames since the clock was last compared with `deadline`.
    frames: u32,
    exchange: Exchange,
}

/// Why a streamed response was cut short; hyper then aborts the client's stream.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    /// The upstream failed while sending its body.
    #[error("the upstream failed while sending the response body: {0}")]
    Upstream(#[source] ExchangeError),
    /// The request's total timeout passed while the body was still streaming.
    #[error("the response took longer than the total timeout")]
    Timeout,
}

/// A body that keeps flowing never waits on the timer: the clock is checked every this many
/// frames.
const FRAMES_PER_CLOCK_CHECK: u32 = 64;

impl ProxyBody {
    /// A complete body.
    pub fn full(bytes: impl Into<Bytes>) -> ProxyBody {
        ProxyBody {
            kind: Kind::Full(Some(bytes.into())),
        }
    }

    /// No body.
    pub fn empty() -> ProxyBody {
        ProxyBody {
            kind: Kind::Full(None),
        }
    }

    /// The upstream's body on the connection of `exchange`, cut at `deadline`; `exchange` is
    /// settled when it ends.
    pub(crate) fn stream(deadline: Instant, exchange: Exchange) -> ProxyBody {
        let mut s = Streaming {
            deadline,
            frames: 0,
            exchange,
        };
        if s.exchange.is_end_stream() {
            // Nothing will be polled (HEAD, 204, 304): settle now.
            s.exchange.finish(End::Complete);
        }
        ProxyBody {
            kind: Kind::Stream(s),
        }
    }
}

impl Body for ProxyBody {
    type Data = Bytes;
    type Error = BodyError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
        match &mut self.kind {
            Kind::Full(bytes) => Poll::Ready(bytes.take().map(|b| Ok(Frame::data(b)))),
            Kind::Stream(s) => s.poll_frame(cx),
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.kind {
            Kind::Full(bytes) => bytes.is_none(),
            Kind::Stream(s) => s.exchange.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            Kind::Full(Some(b)) => SizeHint::with_exact(b.len() as u64),
            Kind::Full(None) => SizeHint::with_exact(0),
            Kind::Stream(s) => s.exchange.size_hint(),
        }
    }
}

impl Streaming {
    fn poll_frame(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
        let polled = self.exchange.poll_frame(cx);
        if polled.is_pending() {
            ready!(self.exchange.poll_deadline(self.deadline, cx));
            return self.timed_out();
        }
        match ready!(polled) {
            Some(Ok(frame)) => {
                self.frames += 1;
                if self.frames >= FRAMES_PER_CLOCK_CHECK {
                    self.frames = 0;
                    if Instant::now() >= self.deadline {
                        return self.timed_out();
                    }
                }
                if let Some(data) = frame.data_ref() {
                    self.exchange.add_bytes(data.len());
                }
                if self.exchange.is_end_stream() {
                    self.exchange.finish(End::Complete);
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Some(Err(e)) => {
                self.exchange.finish(End::Upstream);
                Poll::Ready(Some(Err(BodyError::Upstream(e))))
            }
            None => {
                self.exchange.finish(End::Complete);
                Poll::Ready(None)
            }
        }
    }

    fn timed_out(&mut self) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
        self.exchange.finish(End::Upstream);
        Poll::Ready(Some(Err(BodyError::Timeout)))
    }
}
