//! Event arguments: raw JSON (as the core keeps it) plus binary attachments, and the
//! conversions from and to serde types.

use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde::Serialize;
use sockeye_core::{json, Str};

/// The arguments of an event or ack: a raw JSON array, with `{"_placeholder":true,"num":n}`
/// objects where the binary attachments go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Payload {
    /// The arguments, a JSON array.
    pub args: Str,
    /// Binary attachments, in placeholder order.
    pub attachments: Vec<Bytes>,
}

/// Why arguments could not be (de)serialized.
#[derive(Debug, thiserror::Error)]
pub enum PayloadError {
    /// serde_json failed.
    #[error(transparent)]
    Json(#[from] serde_json::Error),
    /// The value does not serialize to a JSON array (for [`Payload::args`]).
    #[error("arguments must serialize to a JSON array")]
    NotAnArray,
}

/// The placeholder object for attachment `num`, to put where binary data goes in a
/// [`Payload`] built by hand.
pub fn placeholder(num: usize) -> serde_json::Value {
    serde_json::json!({ "_placeholder": true, "num": num })
}

impl Payload {
    /// No arguments.
    pub fn empty() -> Payload {
        Payload {
            args: Str::from_static("[]"),
            attachments: Vec::new(),
        }
    }

    /// One argument.
    pub fn one<T: Serialize + ?Sized>(value: &T) -> Result<Payload, PayloadError> {
        let mut s = String::from("[");
        s.push_str(&serde_json::to_string(value)?);
        s.push(']');
        Ok(Payload {
            args: Str::from(s),
            attachments: Vec::new(),
        })
    }

    /// Several arguments: `values` must serialize to an array (a tuple, a `Vec`, ...).
    pub fn args<T: Serialize + ?Sized>(values: &T) -> Result<Payload, PayloadError> {
        let s = serde_json::to_string(values)?;
        if json::kind(&s) != Some(json::Kind::Array) {
            return Err(PayloadError::NotAnArray);
        }
        Ok(Payload {
            args: Str::from(s),
            attachments: Vec::new(),
        })
    }

    /// One binary argument.
    pub fn binary(data: impl Into<Bytes>) -> Payload {
        Payload {
            args: Str::from_static(r#"[{"_placeholder":true,"num":0}]"#),
            attachments: vec![data.into()],
        }
    }

    /// Adds binary attachments (referenced by [`placeholder`]s in the arguments).
    pub fn with_attachments(mut self, attachments: Vec<Bytes>) -> Payload {
        self.attachments = attachments;
        self
    }

    /// The raw JSON of each argument.
    pub fn raw_args(&self) -> Vec<&str> {
        json::array_elements(&self.args).unwrap_or_default()
    }

    /// Deserializes the arguments: from the only argument if there is exactly one, else from
    /// the whole array (so tuples and `Vec`s take several arguments).
    pub fn deserialize<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        match self.raw_args().as_slice() {
            [one] => serde_json::from_str(one),
            _ => serde_json::from_str(&self.args),
        }
    }

    /// The JSON array `[name, ...args]` of an event with these arguments.
    pub(crate) fn event_data(&self, event: &str) -> Str {
        let mut s = String::with_capacity(event.len() + self.args.len() + 4);
        s.push('[');
        json::write_string(&mut s, event);
        let inner = self.args.trim();
        let inner = inner
            .strip_prefix('[')
            .and_then(|i| i.strip_suffix(']'))
            .unwrap_or("")
            .trim();
        if !inner.is_empty() {
            s.push(',');
            s.push_str(inner);
        }
        s.push(']');
        Str::from(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_round_trip() {
        let p = Payload::args(&(1, "a")).unwrap();
        let data = p.event_data("ev\"x");
        assert_eq!(data, r#"["ev\"x",1,"a"]"#);
        let t: (u32, String) = p.deserialize().unwrap();
        assert_eq!(t, (1, "a".to_owned()));
    }

    #[test]
    fn one_argument_and_none() {
        let p = Payload::one("User left").unwrap();
        assert_eq!(p.event_data("lobby"), r#"["lobby","User left"]"#);
        assert_eq!(p.deserialize::<String>().unwrap(), "User left");
        assert_eq!(Payload::empty().event_data("x"), r#"["x"]"#);
        assert!(Payload::args(&5).is_err());
    }
}
