//! ICE over TCP (RFC 6544), the fallback for networks that block UDP: a listener on the
//! same port number as the UDP socket, and one task per accepted connection that cuts the
//! stream into RFC 4571 frames (a 16-bit length, then a datagram) for the shard and writes
//! the shard's datagrams back the same way.
//!
//! The shard sees the frames as datagrams from the connection's address
//! ([`crate::shard::ShardInput::Datagram`] with `Protocol::Tcp`); str0m answers over TCP to
//! that address, and [`TcpConnections::send`] finds the connection. Every queue is bounded:
//! a slow connection loses its own datagrams (as UDP would), never anyone else's.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

/// The largest frame accepted (str0m's own datagram limit is 2,000 bytes).
const MAX_FRAME: usize = 2_048;
/// A connection silent this long is closed (ICE keeps a live one busy every few seconds).
const IDLE: Duration = Duration::from_secs(30);
/// Datagrams queued toward one connection before new ones are dropped.
const OUTGOING: usize = 256;

/// What the connection tasks tell the shard's loop.
pub(crate) enum TcpInput {
    /// One frame from `source`.
    Frame { source: SocketAddr, bytes: Vec<u8> },
    /// The connection from `source` ended.
    Closed { source: SocketAddr },
}

/// The open connections, by their remote address.
pub(crate) struct TcpConnections {
    writers: HashMap<SocketAddr, mpsc::Sender<Vec<u8>>>,
    inputs: mpsc::Sender<TcpInput>,
    max: usize,
}

impl TcpConnections {
    /// At most `max` connections; their frames go to `inputs`.
    pub(crate) fn new(inputs: mpsc::Sender<TcpInput>, max: usize) -> Self {
        Self {
            writers: HashMap::new(),
            inputs,
            max,
        }
    }

    /// Takes an accepted connection (refused past the limit) and starts its tasks on the
    /// current runtime.
    pub(crate) fn accept(&mut self, stream: TcpStream, source: SocketAddr) {
        if self.writers.len() >= self.max {
            return; // dropped: closed at once
        }
        let _ = stream.set_nodelay(true);
        let (tx, rx) = mpsc::channel(OUTGOING);
        self.writers.insert(source, tx);
        let (reader, writer) = stream.into_split();
        tokio::spawn(read_frames(reader, source, self.inputs.clone()));
        tokio::spawn(write_frames(writer, rx));
    }

    /// Forgets a connection that ended.
    pub(crate) fn closed(&mut self, source: SocketAddr) {
        self.writers.remove(&source);
    }

    /// Queues a datagram for the connection to `destination`; false when there is none or
    /// its queue is full (the datagram is lost, as on UDP).
    pub(crate) fn send(&self, destination: SocketAddr, contents: &[u8]) -> bool {
        self.writers
            .get(&destination)
            .is_some_and(|w| w.try_send(contents.to_vec()).is_ok())
    }
}

/// Binds the TCP listener on `addr` (the UDP socket's address and port).
pub(crate) fn listen(addr: SocketAddr) -> std::io::Result<std::net::TcpListener> {
    let listener = std::net::TcpListener::bind(addr)?;
    listener.set_nonblocking(true)?;
    Ok(listener)
}

/// Registers the listener with the current runtime.
pub(crate) fn register(listener: std::net::TcpListener) -> std::io::Result<TcpListener> {
    TcpListener::from_std(listener)
}

async fn read_frames(
    mut reader: tokio::net::tcp::OwnedReadHalf,
    source: SocketAddr,
    inputs: mpsc::Sender<TcpInput>,
) {
    loop {
        let frame = tokio::time::timeout(IDLE, read_frame(&mut reader)).await;
        let Ok(Ok(bytes)) = frame else { break };
        if inputs
            .send(TcpInput::Frame { source, bytes })
            .await
            .is_err()
        {
            return;
        }
    }
    let _ = inputs.send(TcpInput::Closed { source }).await;
}

/// One RFC 4571 frame; an error for a frame longer than [`MAX_FRAME`] or a closed stream.
async fn read_frame(reader: &mut tokio::net::tcp::OwnedReadHalf) -> std::io::Result<Vec<u8>> {
    let len = usize::from(reader.read_u16().await?);
    if len > MAX_FRAME {
        return Err(std::io::Error::other("an ICE-TCP frame over 2 KB"));
    }
    let mut bytes = vec![0; len];
    reader.read_exact(&mut bytes).await?;
    Ok(bytes)
}

async fn write_frames(
    mut writer: tokio::net::tcp::OwnedWriteHalf,
    mut outgoing: mpsc::Receiver<Vec<u8>>,
) {
    while let Some(datagram) = outgoing.recv().await {
        let Ok(len) = u16::try_from(datagram.len()) else {
            continue;
        };
        let mut frame = Vec::with_capacity(2 + datagram.len());
        frame.extend_from_slice(&len.to_be_bytes());
        frame.extend_from_slice(&datagram);
        if writer.write_all(&frame).await.is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn frames_cross_both_ways_and_an_oversized_one_closes_the_connection() {
        let listener = register(listen("127.0.0.1:0".parse().unwrap()).unwrap()).unwrap();
        let addr = listener.local_addr().unwrap();
        let (inputs, mut frames) = mpsc::channel(8);
        let mut connections = TcpConnections::new(inputs, 4);
        let mut client = TcpStream::connect(addr).await.unwrap();
        let (stream, source) = listener.accept().await.unwrap();
        connections.accept(stream, source);

        client.write_all(&[0, 3, b'a', b'b', b'c']).await.unwrap();
        match frames.recv().await.unwrap() {
            TcpInput::Frame { bytes, .. } => assert_eq!(bytes, b"abc"),
            TcpInput::Closed { .. } => panic!("closed"),
        }
        let local = client.local_addr().unwrap();
        assert!(connections.send(local, b"xy"));
        let mut back = [0u8; 4];
        client.read_exact(&mut back).await.unwrap();
        assert_eq!(back, [0, 2, b'x', b'y']);

        client.write_all(&[0x10, 0x00]).await.unwrap();
        assert!(matches!(
            frames.recv().await.unwrap(),
            TcpInput::Closed { .. }
        ));
    }
}
