//! The watch call: a long-lived POST whose answer is a stream of JSON messages.

use bytes::{Buf, BytesMut};

use super::{Etcd, Retry};
use crate::EtcdError;
use crate::wire::{StreamMessage, WatchCreateRequest, WatchRequest, WatchResponse};

const PATH: &str = "/v3/watch";
/// A single watch message larger than this is refused (the biggest value Rollgate writes is a
/// routing snapshot, far smaller).
const MAX_MESSAGE: usize = 64 << 20;

/// An open watch: call [`WatchStream::next`] for each batch of changes.
#[derive(Debug)]
pub struct WatchStream {
    endpoint: String,
    resp: reqwest::Response,
    buf: BytesMut,
    /// The store revision when the watch was created.
    created_at: i64,
}

impl Etcd {
    /// Opens a watch and waits until etcd confirms it. Changes at or after
    /// `req.start_revision` are then delivered in order by [`WatchStream::next`]; when that
    /// revision was compacted, the first `next` fails with `WatchEnded`.
    pub async fn watch(&self, req: WatchCreateRequest) -> Result<WatchStream, EtcdError> {
        let body = self.encode(
            PATH,
            &WatchRequest {
                create_request: req,
            },
        )?;
        let (endpoint, resp) = self
            .with_failover(PATH, |endpoint| {
                let body = body.clone();
                async move {
                    let resp = self
                        .send(&endpoint, PATH, body, Retry::Idempotent, false)
                        .await?;
                    Ok((endpoint, resp))
                }
            })
            .await?;
        let mut stream = WatchStream {
            endpoint,
            resp,
            buf: BytesMut::new(),
            created_at: 0,
        };
        // The first message confirms the watch.
        match stream.next().await? {
            Some(first) if first.created && first.events.is_empty() => {
                stream.created_at = first.header.revision;
                Ok(stream)
            }
            Some(_) | None => Err(EtcdError::Decode {
                endpoint: stream.endpoint,
                call: PATH,
                reason: "the watch was not confirmed by etcd".into(),
            }),
        }
    }
}

impl WatchStream {
    /// The endpoint serving this watch.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The store revision when etcd registered the watch.
    pub fn created_at(&self) -> i64 {
        self.created_at
    }

    /// The next message: changes (oldest first), or an empty progress message. `Ok(None)`
    /// when the connection ended cleanly; `WatchEnded` when etcd cancelled the watch (for
    /// example because its start revision was compacted); `Unreachable` when the connection
    /// broke. Cancel-safe: a message is only consumed when it is returned.
    pub async fn next(&mut self) -> Result<Option<WatchResponse>, EtcdError> {
        loop {
            if let Some(msg) = self.parse_one()? {
                return self.accept(msg).map(Some);
            }
            let chunk = self
                .resp
                .chunk()
                .await
                .map_err(|e| EtcdError::Unreachable {
                    endpoint: self.endpoint.clone(),
                    call: PATH,
                    reason: e.to_string(),
                })?;
            match chunk {
                Some(bytes) => self.buf.extend_from_slice(&bytes),
                None => return Ok(None),
            }
            if self.buf.len() > MAX_MESSAGE {
                return Err(
                    self.decode_error(format!("a message is larger than {MAX_MESSAGE} bytes"))
                );
            }
        }
    }

    /// One whole message from the buffer, if it holds one.
    fn parse_one(&mut self) -> Result<Option<StreamMessage<WatchResponse>>, EtcdError> {
        let start = self
            .buf
            .iter()
            .take_while(|b| b.is_ascii_whitespace())
            .count();
        self.buf.advance(start);
        if self.buf.is_empty() {
            return Ok(None);
        }
        let mut it = serde_json::Deserializer::from_slice(&self.buf).into_iter();
        match it.next() {
            Some(Ok(msg)) => {
                let used = it.byte_offset();
                self.buf.advance(used);
                Ok(Some(msg))
            }
            Some(Err(e)) if e.is_eof() => Ok(None),
            Some(Err(e)) => Err(self.decode_error(e.to_string())),
            None => Ok(None),
        }
    }

    fn accept(&self, msg: StreamMessage<WatchResponse>) -> Result<WatchResponse, EtcdError> {
        match (msg.result, msg.error) {
            (_, Some(e)) => Err(EtcdError::Rejected {
                endpoint: self.endpoint.clone(),
                call: PATH,
                status: 200,
                code: e.code,
                message: e.text().to_owned(),
            }),
            (Some(r), None) if r.canceled => Err(EtcdError::WatchEnded {
                endpoint: self.endpoint.clone(),
                reason: if r.compact_revision > 0 {
                    format!(
                        "revisions before {} were compacted; read the keys again",
                        r.compact_revision
                    )
                } else if r.cancel_reason.is_empty() {
                    "cancelled by the server".to_owned()
                } else {
                    r.cancel_reason.clone()
                },
                compact_revision: r.compact_revision,
            }),
            (Some(r), None) => Ok(r),
            (None, None) => {
                Err(self.decode_error("a message with neither result nor error".into()))
            }
        }
    }

    fn decode_error(&self, reason: String) -> EtcdError {
        EtcdError::Decode {
            endpoint: self.endpoint.clone(),
            call: PATH,
            reason,
        }
    }
}
