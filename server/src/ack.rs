//! Acknowledgements: answering the client's acks ([`AckSender`]) and waiting for the
//! client's answers to ours ([`AckError`]).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use serde::Serialize;

use crate::connection::Command;
use crate::payload::Payload;
use crate::socket::{SendError, SocketRef};

/// Why an awaited ack did not come.
#[derive(Debug, thiserror::Error)]
pub enum AckError {
    /// No answer within the timeout.
    #[error("ack timed out")]
    Timeout,
    /// The socket disconnected first (or was not connected).
    #[error("socket disconnected")]
    Disconnected,
    /// The answer did not deserialize into the requested type.
    #[error("cannot deserialize the ack: {0}")]
    Data(#[from] serde_json::Error),
    /// The emit could not be sent.
    #[error(transparent)]
    Send(#[from] SendError),
}

/// Answers the client's event, if it asked for an ack. Extract it in an event handler;
/// only the first answer is sent.
#[derive(Clone)]
pub struct AckSender {
    socket: SocketRef,
    id: Option<u64>,
    sent: Arc<AtomicBool>,
}

impl AckSender {
    /// `sent` is shared with the event's context: the server answers with an error in the
    /// handler's stead only if nobody answered.
    pub(crate) fn new(socket: SocketRef, id: Option<u64>, sent: Arc<AtomicBool>) -> AckSender {
        AckSender { socket, id, sent }
    }

    /// Whether the client asked for an ack.
    pub fn is_requested(&self) -> bool {
        self.id.is_some()
    }

    /// Acks with one argument. Does nothing if no ack was requested.
    pub fn send<T: Serialize + ?Sized>(&self, data: &T) -> Result<(), SendError> {
        self.send_payload(Payload::one(data)?)
    }

    /// Acks with raw arguments (several, or binary).
    pub fn send_payload(&self, payload: Payload) -> Result<(), SendError> {
        let Some(id) = self.id else { return Ok(()) };
        if self.sent.swap(true, Ordering::AcqRel) {
            return Ok(());
        }
        self.socket.command(Command::Ack {
            nsp: self.socket.ns_name().clone(),
            id,
            payload,
        })
    }
}
