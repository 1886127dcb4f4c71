//! `frontdeskctl`'s side of the control socket (blocking; one request at a time).

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};

use super::proto::{ErrorKind, Request};

/// Why a request did not get a successful answer.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The socket could not be reached.
    #[error("cannot connect to the daemon at {path}: {source} (is frontdeskd running? see --socket/--config)")]
    Connect {
        /// Socket path.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
    /// The connection broke.
    #[error("control socket I/O failed: {0}")]
    Io(#[from] std::io::Error),
    /// The daemon answered something we cannot read.
    #[error("unreadable answer from the daemon: {0}")]
    Protocol(String),
    /// The daemon refused the request.
    #[error("{message}")]
    Daemon {
        /// Failure class.
        kind: ErrorKind,
        /// In words.
        message: String,
    },
}

/// A connection to the daemon.
pub struct Client {
    reader: BufReader<UnixStream>,
    writer: UnixStream,
}

impl Client {
    /// Connect to the socket at `path`.
    pub fn connect(path: &Path) -> Result<Client, ClientError> {
        let stream = UnixStream::connect(path).map_err(|source| ClientError::Connect {
            path: path.to_path_buf(),
            source,
        })?;
        let writer = stream.try_clone()?;
        Ok(Client {
            reader: BufReader::new(stream),
            writer,
        })
    }

    /// Send one request; the `data` payload of a success.
    pub fn call(&mut self, request: &Request) -> Result<serde_json::Value, ClientError> {
        let mut line =
            serde_json::to_vec(request).map_err(|e| ClientError::Protocol(e.to_string()))?;
        line.push(b'\n');
        self.writer.write_all(&line)?;
        self.writer.flush()?;
        let mut answer = String::new();
        if self.reader.read_line(&mut answer)? == 0 {
            return Err(ClientError::Protocol(
                "the daemon closed the connection".into(),
            ));
        }
        let mut value: serde_json::Value =
            serde_json::from_str(&answer).map_err(|e| ClientError::Protocol(e.to_string()))?;
        if value.get("ok").and_then(|v| v.as_bool()) == Some(true) {
            Ok(value
                .get_mut("data")
                .map(serde_json::Value::take)
                .unwrap_or_default())
        } else {
            let message = value
                .get("error")
                .and_then(|v| v.as_str())
                .unwrap_or("unknown error")
                .to_string();
            let kind = value
                .get("kind")
                .and_then(|k| serde_json::from_value(k.clone()).ok())
                .unwrap_or(ErrorKind::Failed);
            Err(ClientError::Daemon { kind, message })
        }
    }

    /// Send one request and decode the payload as `T`.
    pub fn call_as<T: serde::de::DeserializeOwned>(
        &mut self,
        request: &Request,
    ) -> Result<T, ClientError> {
        let value = self.call(request)?;
        serde_json::from_value(value).map_err(|e| ClientError::Protocol(e.to_string()))
    }
}
