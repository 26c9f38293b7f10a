//! A simulated Yjs editor or reader over a real WebSocket: connects, syncs like the npm
//! provider, then either types into `Y.Text` "content" at a fixed rate or only listens, and
//! measures how long each relayed update took from its editor to this client.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use yrs::block::ClientID;
use yrs::updates::decoder::Decode;
use yrs::{Doc, Options, ReadTxn, StateVector, Text, TextRef, Transact, Update};

use crate::Latencies;
use crate::ywire::{self, Incoming};

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Time allowed for connecting and the initial sync.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(20);

/// When each update left its editor, by Yjs client id and first clock, which survives a
/// server that re-encodes or merges what it relays. Sharded by client, so hundreds of
/// clients recording and looking up at once seldom wait for each other.
#[derive(Clone)]
pub struct SendTimes(Arc<[Mutex<ClientClocks>]>);

/// Per client id, each update's first clock and when it was sent.
type ClientClocks = HashMap<u64, BTreeMap<u32, Instant>>;

const SEND_TIME_SHARDS: usize = 64;

impl Default for SendTimes {
    fn default() -> Self {
        SendTimes((0..SEND_TIME_SHARDS).map(|_| Mutex::default()).collect())
    }
}

impl SendTimes {
    fn shard(&self, client: u64) -> std::sync::MutexGuard<'_, ClientClocks> {
        let shard = &self.0[(client % SEND_TIME_SHARDS as u64) as usize];
        shard.lock().expect("not poisoned")
    }

    fn record(&self, client: u64, clock: u32, at: Instant) {
        self.shard(client)
            .entry(client)
            .or_default()
            .insert(clock, at);
    }

    /// Send times of the updates in `update` that some other client made: every recorded
    /// update whose first clock lies in one of the clock ranges `update` inserts (one
    /// update's, or several that the server merged).
    fn sent_at(&self, update: &[u8], own_client: u64) -> Vec<Instant> {
        let Ok(update) = Update::decode_v1(update) else {
            return Vec::new();
        };
        let mut sent = Vec::new();
        for (client, ranges) in update.insertions(true).iter() {
            if client.get() == own_client {
                continue;
            }
            let times = self.shard(client.get());
            let Some(clocks) = times.get(&client.get()) else {
                continue;
            };
            for range in ranges {
                sent.extend(clocks.range(range.clone()).map(|(_, at)| *at));
            }
        }
        sent
    }
}

/// What the clients of one measurement share: send times, the fan-out latencies, counters.
#[derive(Clone, Default)]
pub struct Measurement {
    pub send_times: SendTimes,
    /// Filled when the clients end (each keeps its own until then).
    pub latencies: Arc<Mutex<Latencies>>,
    pub sent: Arc<AtomicU64>,
    /// Updates that reached a client other than their editor; filled when the clients end.
    pub delivered: Arc<AtomicU64>,
    /// Clients whose socket closed or failed before the end (e.g. a 4429 or 4500 close).
    pub dropped: Arc<AtomicU64>,
    /// Why they ended, each distinct reason once (at most [`MAX_REASONS`]).
    pub drop_reasons: Arc<Mutex<Vec<String>>>,
}

/// Distinct drop reasons kept per measurement.
pub const MAX_REASONS: usize = 8;

/// How a client behaves once synced.
#[derive(Clone, Copy)]
pub enum Role {
    /// Appends `chunk` to the text `per_second` times a second until `send_until`.
    Editor {
        per_second: f64,
        send_until: Instant,
    },
    Listener,
}

/// How far an editor may fall behind its schedule before it starts over.
const MAX_LAG: Duration = Duration::from_millis(20);

/// What an editor appends each time: a few characters, as a typist would.
const CHUNK: &str = "abc ";

/// A connected, synced client.
pub struct YClient {
    socket: Socket,
    doc: Doc,
    text: TextRef,
    client_id: u64,
    /// Fan-out latencies of the updates this client received from others.
    latencies: Latencies,
}

impl YClient {
    /// Connects and completes the sync handshake: answers the server's step 1, sends our own
    /// and waits for its step 2.
    pub async fn connect(url: &str, client_id: u64) -> anyhow::Result<YClient> {
        tokio::time::timeout(HANDSHAKE_TIMEOUT, Self::connect_and_sync(url, client_id))
            .await
            .context("handshake timed out")?
    }

    async fn connect_and_sync(url: &str, client_id: u64) -> anyhow::Result<YClient> {
        let (socket, _) =
            tokio_tungstenite::connect_async_with_config(url, Some(socket_config()), true)
                .await
                .with_context(|| {
                    format!("connecting to {}", url.split('?').next().unwrap_or(""))
                })?;
        let doc = Doc::with_options(Options::with_client_id(ClientID::new(client_id)));
        let text = doc.get_or_insert_text(TEXT_NAME);
        let mut client = YClient {
            socket,
            doc,
            text,
            client_id,
            latencies: Latencies::new(),
        };
        client
            .send(ywire::sync_step1(&StateVector::default()))
            .await?;
        loop {
            match client.next_frame().await? {
                Incoming::SyncStep1 => client.answer_step1().await?,
                Incoming::SyncStep2 => return Ok(client),
                Incoming::Update(_) | Incoming::Other => {}
            }
        }
    }

    /// Runs `role` until `read_until`, recording what it sees in `measurement`.
    pub async fn run(mut self, role: Role, read_until: Instant, measurement: Measurement) {
        let result = self.run_inner(role, read_until, &measurement).await;
        measurement
            .delivered
            .fetch_add(self.latencies.count(), Ordering::Relaxed);
        measurement
            .latencies
            .lock()
            .expect("not poisoned")
            .merge(&self.latencies);
        if let Err(error) = result {
            measurement.dropped.fetch_add(1, Ordering::Relaxed);
            let reason = format!("{error:#}");
            let mut reasons = measurement.drop_reasons.lock().expect("not poisoned");
            if reasons.len() < MAX_REASONS && !reasons.contains(&reason) {
                reasons.push(reason);
            }
        }
        let _ = tokio::time::timeout(Duration::from_secs(1), self.socket.close(None)).await;
    }

    async fn run_inner(
        &mut self,
        role: Role,
        read_until: Instant,
        measurement: &Measurement,
    ) -> anyhow::Result<()> {
        let (interval, send_until) = match role {
            Role::Editor {
                per_second,
                send_until,
            } => (Duration::from_secs_f64(1.0 / per_second), send_until),
            Role::Listener => (Duration::ZERO, Instant::now()),
        };
        // Editors start at a random phase so a room's editors do not type in lockstep.
        let mut next_send = Instant::now() + interval.mul_f64(rand::random::<f64>());
        loop {
            let sending = next_send < send_until;
            let wake = if sending { next_send } else { read_until };
            tokio::select! {
                _ = tokio::time::sleep_until(wake.into()) => {
                    if Instant::now() >= read_until {
                        return Ok(());
                    }
                    if sending {
                        next_send = self.type_due(next_send, interval, send_until, measurement).await?;
                    }
                }
                frame = self.next_frame() => self.observe(frame?, measurement).await?,
            }
        }
    }

    /// Types every chunk due by now on a fixed schedule from `next_send`, and returns when
    /// the next is due. Tokio's timer wakes with millisecond granularity, so rates above a few
    /// hundred a second need more than one chunk per wake; after a stall the schedule starts
    /// over instead of catching up in a burst.
    async fn type_due(
        &mut self,
        mut next_send: Instant,
        interval: Duration,
        send_until: Instant,
        measurement: &Measurement,
    ) -> anyhow::Result<Instant> {
        let now = Instant::now();
        if now.saturating_duration_since(next_send) > MAX_LAG {
            next_send = now;
        }
        while next_send <= now && next_send < send_until {
            self.type_chunk(measurement).await?;
            next_send += interval;
        }
        Ok(next_send)
    }

    async fn type_chunk(&mut self, measurement: &Measurement) -> anyhow::Result<()> {
        let (clock, update) = {
            let mut txn = self.doc.transact_mut();
            let clock = txn.state_vector().get(&ClientID::new(self.client_id));
            let end = self.text.len(&txn);
            self.text.insert(&mut txn, end, CHUNK);
            (clock, txn.encode_update_v1())
        };
        measurement
            .send_times
            .record(self.client_id, clock, Instant::now());
        self.send(ywire::update(update)).await?;
        measurement.sent.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    async fn observe(&mut self, frame: Incoming, measurement: &Measurement) -> anyhow::Result<()> {
        match frame {
            Incoming::Update(update) => {
                let now = Instant::now();
                for at in measurement.send_times.sent_at(&update, self.client_id) {
                    self.latencies.record(now.saturating_duration_since(at));
                }
            }
            Incoming::SyncStep1 => self.answer_step1().await?,
            Incoming::SyncStep2 | Incoming::Other => {}
        }
        Ok(())
    }

    /// Sync step 2 with what the server lacks: for a load client, its own typing.
    async fn answer_step1(&mut self) -> anyhow::Result<()> {
        let update = self
            .doc
            .transact()
            .encode_state_as_update_v1(&StateVector::default());
        self.send(ywire::sync_step2(update)).await
    }

    async fn send(&mut self, frame: Vec<u8>) -> anyhow::Result<()> {
        self.socket.send(WsMessage::Binary(frame.into())).await?;
        Ok(())
    }

    /// The next y-websocket message; a close or a socket error ends the client.
    async fn next_frame(&mut self) -> anyhow::Result<Incoming> {
        loop {
            match self.socket.next().await {
                Some(Ok(WsMessage::Binary(frame))) => return Ok(ywire::parse(&frame)?),
                Some(Ok(WsMessage::Close(close))) => bail!("closed by the server: {close:?}"),
                Some(Ok(_)) => {}
                Some(Err(error)) => return Err(error.into()),
                None => bail!("socket ended"),
            }
        }
    }
}

/// Small read buffers: the default 128 KiB, zero-filled on the first read, would make the
/// generator's own memory grow by that much per client.
fn socket_config() -> WebSocketConfig {
    WebSocketConfig::default().read_buffer_size(4096)
}

/// The root text every Workbook note and every load client edits.
const TEXT_NAME: &str = "content";

#[cfg(test)]
mod tests {
    use super::*;

    fn typed_update(doc: &Doc, text: &TextRef) -> (u32, Vec<u8>) {
        let mut txn = doc.transact_mut();
        let clock = txn.state_vector().get(&ClientID::new(5));
        text.push(&mut txn, CHUNK);
        (clock, txn.encode_update_v1())
    }

    #[test]
    fn relayed_and_merged_updates_are_found_by_their_clocks_and_own_updates_are_skipped() {
        let doc = Doc::with_options(Options::with_client_id(ClientID::new(5)));
        let text = doc.get_or_insert_text(TEXT_NAME);
        let times = SendTimes::default();
        let t0 = Instant::now();
        let (first_clock, first) = typed_update(&doc, &text);
        times.record(5, first_clock, t0);
        let (second_clock, second) = typed_update(&doc, &text);
        let t1 = t0 + Duration::from_millis(3);
        times.record(5, second_clock, t1);
        assert_ne!(first_clock, second_clock);
        assert_eq!(times.sent_at(&first, 9), vec![t0]);
        assert_eq!(times.sent_at(&second, 9), vec![t1]);
        assert!(times.sent_at(&second, 5).is_empty());
        assert!(times.sent_at(b"not an update", 9).is_empty());

        let (third_clock, third) = typed_update(&doc, &text);
        let t2 = t1 + Duration::from_millis(3);
        times.record(5, third_clock, t2);
        let merged = yrs::merge_updates_v1([second, third]).expect("merges");
        assert_eq!(times.sent_at(&merged, 9), vec![t1, t2]);
    }
}
