//! The I/O edge: one thread, one UDP socket, one [`Shard`], and a handle to command it.
//!
//! **One shard, on purpose.** Every peer of a room must be on the thread that forwards its
//! packets (str0m instances are `&mut`, not shared), so shards would split by room, each
//! with its own socket and port. On the 2-core machines this targets, the other core runs
//! the hub, the notes and transcription, and one forwarding thread moves well over
//! 100,000 packets/s without a lock or a cross-thread hop per packet. Splitting by room
//! (one socket per shard on consecutive ports, rooms pinned by hash) is the way to use
//! more cores; the shard/handle split here is already shaped for it.
//!
//! The thread runs a current-thread tokio runtime: it waits on the socket, the command
//! queue and the shard's timeout, feeds the shard, and sends what it yields. Commands
//! answer through a oneshot before the events they caused are queued, so a session sees
//! an offer's answer before any server offer that follows it. Events go to a bounded
//! queue; when the consumer lags they are dropped and counted, never buffered without end.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use str0m::net::Protocol;
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, oneshot};

use crate::config::SfuConfig;
use crate::error::SfuError;
use crate::event::SfuEvent;
use crate::forward::layer::Quality;
use crate::ids::{PeerId, RoomId, Source, Sources, TrackId};
use crate::peer::PeerConfig;
use crate::record::RecordSink;
use crate::shard::{Shard, ShardInput, ShardOutput};
use crate::stats::{Counters, SfuStats, ShardCounters};
use crate::tcp::{self, TcpConnections, TcpInput};

/// Largest datagram read (str0m's own limit is 2,000 bytes).
const RECV_BUFFER: usize = 2_048;
/// Datagrams handled per wake-up before commands and time get a turn.
const RECV_BATCH: usize = 64;
/// ICE-TCP frames queued from the connection tasks toward the shard.
const TCP_INPUT_QUEUE: usize = 1_024;

type Reply<T> = oneshot::Sender<Result<T, SfuError>>;

enum Command {
    AddPeer(PeerConfig, Reply<PeerId>),
    ApplyOffer(PeerId, String, Vec<(String, Source)>, Reply<String>),
    ApplyAnswer(PeerId, String, Reply<()>),
    AddCandidate(PeerId, String, Reply<()>),
    Subscribe(PeerId, TrackId, Option<Quality>, Reply<()>),
    SetMuted(PeerId, Source, bool, Reply<()>),
    SetMayPublish(PeerId, Sources, Reply<()>),
    ClosePeer(PeerId, Reply<()>),
    EndRoom(RoomId, Reply<()>),
    SetRecording(RoomId, bool, Reply<()>),
    RecordingKeyframe(TrackId),
}

/// Commands the SFU. Cheap to clone; when every clone is dropped the SFU thread ends.
#[derive(Clone)]
pub struct SfuHandle {
    commands: mpsc::Sender<Command>,
    counters: Vec<Counters>,
    local_addr: SocketAddr,
}

/// Starts the SFU on its own thread. Returns the handle and the event stream.
/// The UDP socket and, with `tcp`, the ICE-TCP listener on the same port number. Port 0
/// asks for a port free on both: the ephemeral UDP port the system picks may be taken on TCP
/// (by any outgoing connection), so the TCP port is picked first and UDP follows it. With a
/// fixed port, a TCP port already taken leaves ICE-TCP off with a warning; UDP still works.
fn bind(
    addr: SocketAddr,
    tcp: bool,
) -> io::Result<(std::net::UdpSocket, Option<std::net::TcpListener>)> {
    if tcp && addr.port() == 0 {
        for _ in 0..16 {
            let listener = tcp::listen(addr)?;
            let same_port = SocketAddr::new(addr.ip(), listener.local_addr()?.port());
            if let Ok(socket) = std::net::UdpSocket::bind(same_port) {
                return Ok((socket, Some(listener)));
            }
        }
    }
    let socket = std::net::UdpSocket::bind(addr)?;
    let local = socket.local_addr()?;
    let listener = match tcp.then(|| tcp::listen(local)).transpose() {
        Ok(listener) => listener,
        Err(e) => {
            tracing::warn!(error = %e, %local, "sfu: no ICE-TCP (cannot listen on TCP)");
            None
        }
    };
    Ok((socket, listener))
}

pub fn start(config: SfuConfig) -> io::Result<(SfuHandle, mpsc::Receiver<SfuEvent>)> {
    let (socket, tcp) = bind(config.bind, config.tcp)?;
    socket.set_nonblocking(true)?;
    let local = socket.local_addr()?;
    let announce_ip = config.public_ip.unwrap_or(local.ip());
    if announce_ip.is_unspecified() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "the SFU binds an unspecified address: set the public address to announce",
        ));
    }
    let counters: Counters = Arc::new(ShardCounters::default());
    let announce = SocketAddr::new(announce_ip, local.port());
    let invalid = |e: SfuError| io::Error::new(io::ErrorKind::InvalidInput, e.to_string());
    let mut shard = Shard::new(
        local,
        announce,
        config.limits,
        counters.clone(),
        Instant::now(),
    )
    .map_err(invalid)?;
    if tcp.is_some() {
        shard = shard.with_tcp(announce).map_err(invalid)?;
    }
    let (commands, command_rx) = mpsc::channel(config.limits.command_queue);
    let (event_tx, events) = mpsc::channel(config.limits.event_queue);
    let shard_counters = counters.clone();
    let recorder = config.recorder;
    std::thread::Builder::new()
        .name("sfu-shard-0".into())
        .spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            match rt {
                Ok(rt) => rt.block_on(run(
                    socket,
                    tcp,
                    shard,
                    command_rx,
                    Outputs {
                        events: event_tx,
                        recorder,
                        counters: shard_counters,
                    },
                )),
                Err(e) => tracing::error!(error = %e, "sfu: cannot start its runtime"),
            }
        })?;
    Ok((
        SfuHandle {
            commands,
            counters: vec![counters],
            local_addr: local,
        },
        events,
    ))
}

/// Where the shard's outputs other than datagrams go.
struct Outputs {
    events: mpsc::Sender<SfuEvent>,
    recorder: Option<RecordSink>,
    counters: Counters,
}

async fn run(
    socket: std::net::UdpSocket,
    tcp: Option<std::net::TcpListener>,
    mut shard: Shard,
    mut commands: mpsc::Receiver<Command>,
    outputs: Outputs,
) {
    let Outputs {
        events,
        recorder,
        counters,
    } = outputs;
    let socket = match UdpSocket::from_std(socket) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "sfu: cannot register its socket");
            return;
        }
    };
    let listener = match tcp.map(tcp::register).transpose() {
        Ok(listener) => listener,
        Err(e) => {
            tracing::error!(error = %e, "sfu: cannot register its TCP listener");
            None
        }
    };
    let (tcp_inputs, mut tcp_in) = mpsc::channel(TCP_INPUT_QUEUE);
    let mut connections = TcpConnections::new(tcp_inputs, shard.max_peers());
    let mut buf = vec![0u8; RECV_BUFFER];
    loop {
        let busy_from = Instant::now();
        let timeout = loop {
            match shard.poll_output() {
                ShardOutput::Transmit(t) => {
                    // A full socket buffer or connection queue drops the datagram, as the
                    // network would.
                    let sent = match t.proto {
                        Protocol::Udp => socket.try_send_to(&t.contents, t.destination).is_ok(),
                        _ => connections.send(t.destination, &t.contents),
                    };
                    if !sent {
                        ShardCounters::add(&counters.dropped_datagrams, 1);
                    }
                }
                ShardOutput::Event(e) => {
                    if events.try_send(e).is_err() {
                        ShardCounters::add(&counters.dropped_events, 1);
                    }
                }
                ShardOutput::Record(packet) => {
                    let queued = recorder
                        .as_ref()
                        .is_some_and(|r| r.try_send(packet).is_ok());
                    if !queued {
                        ShardCounters::add(&counters.recording_dropped, 1);
                    }
                }
                ShardOutput::Timeout(t) => break t,
            }
        };
        ShardCounters::add(
            &counters.busy_micros,
            busy_from.elapsed().as_micros() as u64,
        );
        tokio::select! {
            biased;
            command = commands.recv() => {
                let Some(command) = command else { return };
                let started = Instant::now();
                apply(&mut shard, command);
                ShardCounters::add(&counters.busy_micros, started.elapsed().as_micros() as u64);
            }
            received = socket.recv_from(&mut buf) => {
                let started = Instant::now();
                let mut next = received;
                for _ in 0..RECV_BATCH {
                    match next {
                        Ok((n, source)) => shard.handle_input(
                            Instant::now(),
                            ShardInput::Datagram {
                                protocol: Protocol::Udp,
                                source,
                                contents: &buf[..n],
                            },
                        ),
                        // Loopback ICMP errors and the like: nothing to do for one datagram.
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                        Err(_) => {}
                    }
                    next = socket.try_recv_from(&mut buf);
                }
                ShardCounters::add(&counters.busy_micros, started.elapsed().as_micros() as u64);
            }
            accepted = accept(listener.as_ref()) => {
                if let Ok((stream, source)) = accepted {
                    connections.accept(stream, source);
                }
            }
            Some(input) = tcp_in.recv() => {
                let started = Instant::now();
                match input {
                    TcpInput::Frame { source, bytes } => shard.handle_input(
                        Instant::now(),
                        ShardInput::Datagram {
                            protocol: Protocol::Tcp,
                            source,
                            contents: &bytes,
                        },
                    ),
                    TcpInput::Closed { source } => connections.closed(source),
                }
                ShardCounters::add(&counters.busy_micros, started.elapsed().as_micros() as u64);
            }
            _ = tokio::time::sleep_until(timeout.into()) => {
                let started = Instant::now();
                shard.handle_input(Instant::now(), ShardInput::Timeout);
                ShardCounters::add(&counters.busy_micros, started.elapsed().as_micros() as u64);
            }
        }
    }
}

/// The next ICE-TCP connection, or never without a listener.
async fn accept(
    listener: Option<&tokio::net::TcpListener>,
) -> io::Result<(tokio::net::TcpStream, SocketAddr)> {
    match listener {
        Some(listener) => listener.accept().await,
        None => std::future::pending().await,
    }
}

/// Carries out one command; its reply is sent before the events it caused are queued.
fn apply(shard: &mut Shard, command: Command) {
    let now = Instant::now();
    // A caller that gave up waiting dropped its receiver: nothing to tell it.
    match command {
        Command::AddPeer(config, reply) => _ = reply.send(shard.add_peer(now, config)),
        Command::ApplyOffer(peer, sdp, declared, reply) => {
            _ = reply.send(shard.apply_offer(now, peer, &sdp, &declared))
        }
        Command::ApplyAnswer(peer, sdp, reply) => {
            _ = reply.send(shard.apply_answer(now, peer, &sdp))
        }
        Command::AddCandidate(peer, c, reply) => _ = reply.send(shard.add_candidate(now, peer, &c)),
        Command::Subscribe(peer, track, quality, reply) => {
            _ = reply.send(shard.subscribe(now, peer, track, quality))
        }
        Command::SetMuted(peer, source, muted, reply) => {
            _ = reply.send(shard.set_muted(now, peer, source, muted))
        }
        Command::SetMayPublish(peer, sources, reply) => {
            _ = reply.send(shard.set_may_publish(now, peer, sources))
        }
        Command::ClosePeer(peer, reply) => _ = reply.send(shard.close_peer(now, peer)),
        Command::EndRoom(room, reply) => {
            shard.end_room(now, room);
            _ = reply.send(Ok(()));
        }
        Command::SetRecording(room, on, reply) => {
            shard.set_recording(now, room, on);
            _ = reply.send(Ok(()));
        }
        Command::RecordingKeyframe(track) => shard.request_recording_keyframe(now, track),
    }
}

impl SfuHandle {
    /// The bound UDP address (its port is the media port `/api/health` reports).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The counters of every shard, for `/metrics`.
    pub fn stats(&self) -> SfuStats {
        SfuStats {
            shards: self.counters.iter().map(|c| c.snapshot()).collect(),
        }
    }

    async fn call<T>(&self, make: impl FnOnce(Reply<T>) -> Command) -> Result<T, SfuError> {
        let (tx, rx) = oneshot::channel();
        self.commands
            .send(make(tx))
            .await
            .map_err(|_| SfuError::Stopped)?;
        rx.await.map_err(|_| SfuError::Stopped)?
    }

    /// Adds a peer for a participant allowed to publish `config.may_publish`.
    pub async fn add_peer(&self, config: PeerConfig) -> Result<PeerId, SfuError> {
        self.call(|r| Command::AddPeer(config, r)).await
    }

    /// Applies the participant's SDP offer, with a source declared for each m-line it sends
    /// on (`(mid, source)`); returns the SDP answer. Refused, with the peer unchanged, if it
    /// sends on an undeclared m-line or a source it may not publish.
    pub async fn apply_offer(
        &self,
        peer: PeerId,
        sdp: String,
        declared: Vec<(String, Source)>,
    ) -> Result<String, SfuError> {
        self.call(|r| Command::ApplyOffer(peer, sdp, declared, r))
            .await
    }

    /// Applies the participant's answer to the last [`SfuEvent::Offer`].
    pub async fn apply_answer(&self, peer: PeerId, sdp: String) -> Result<(), SfuError> {
        self.call(|r| Command::ApplyAnswer(peer, sdp, r)).await
    }

    /// Adds a trickled remote ICE candidate.
    pub async fn add_candidate(&self, peer: PeerId, candidate: String) -> Result<(), SfuError> {
        self.call(|r| Command::AddCandidate(peer, candidate, r))
            .await
    }

    /// Chooses what `peer` receives of `track`: a quality, or `None` for nothing.
    pub async fn subscribe(
        &self,
        peer: PeerId,
        track: TrackId,
        quality: Option<Quality>,
    ) -> Result<(), SfuError> {
        self.call(|r| Command::Subscribe(peer, track, quality, r))
            .await
    }

    /// Mutes (or unmutes) what `peer` publishes from `source`, on the server.
    pub async fn set_muted(
        &self,
        peer: PeerId,
        source: Source,
        muted: bool,
    ) -> Result<(), SfuError> {
        self.call(|r| Command::SetMuted(peer, source, muted, r))
            .await
    }

    /// Changes what `peer` may publish (a role change); tracks of a source no longer
    /// allowed are muted.
    pub async fn set_may_publish(&self, peer: PeerId, sources: Sources) -> Result<(), SfuError> {
        self.call(|r| Command::SetMayPublish(peer, sources, r))
            .await
    }

    /// Closes a peer (the participant left, was removed or banned).
    pub async fn close_peer(&self, peer: PeerId) -> Result<(), SfuError> {
        self.call(|r| Command::ClosePeer(peer, r)).await
    }

    /// Starts or stops copying the room's published packets to the recorder
    /// ([`SfuConfig::recorder`]); starting asks its video publishers for keyframes.
    pub async fn set_recording(&self, room: RoomId, on: bool) -> Result<(), SfuError> {
        self.call(|r| Command::SetRecording(room, on, r)).await
    }

    /// Asks the publisher of `track` for a keyframe for the recorder. Callable from any
    /// thread without waiting: when the command queue is full the request is dropped (the
    /// recorder asks again at its next loss).
    pub fn request_recording_keyframe(&self, track: TrackId) {
        let _ = self.commands.try_send(Command::RecordingKeyframe(track));
    }

    /// Closes every peer of a room (the session ended).
    pub async fn end_room(&self, room: RoomId) -> Result<(), SfuError> {
        self.call(|r| Command::EndRoom(room, r)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_zero_finds_a_port_free_for_udp_and_tcp() {
        let (udp, tcp) = bind("127.0.0.1:0".parse().unwrap(), true).unwrap();
        let tcp = tcp.expect("an ICE-TCP listener");
        assert_eq!(udp.local_addr().unwrap(), tcp.local_addr().unwrap());
    }

    #[test]
    fn a_fixed_port_taken_on_tcp_keeps_udp() {
        let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let (udp, tcp) = bind(taken.local_addr().unwrap(), true).unwrap();
        assert_eq!(udp.local_addr().unwrap(), taken.local_addr().unwrap());
        assert!(tcp.is_none(), "no ICE-TCP where the port is taken");
    }
}
