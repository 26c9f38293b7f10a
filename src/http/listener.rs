//! The accept loop: per-connection limits and timeouts that `axum::serve` does not offer.
//!
//! - at most `max_connections` open sockets in all and `max_connections_per_address` from one
//!   IP address; a connection past either is answered `503` with the usual JSON error and
//!   closed, and the connections already open never notice;
//! - a connection must start a request within `idle_secs` of opening or of its previous
//!   answer (idle and kept-alive sockets), and a request head must be complete within
//!   `header_read_secs` of its first byte (slow-header senders), see [`Deadlines`];
//! - a request body must make progress (the router's body timeout, see [`crate::api`]).
//!
//! A WebSocket keeps its slot until it closes: the slot travels with the socket through
//! the HTTP upgrade.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio::time::Sleep;
use tower::ServiceExt;

use super::deadlines::Deadlines;
use crate::config::ConnectionsConfig;
use crate::error::ApiError;

/// Refusals being written at once; past it a refused socket is just closed, so a flood
/// cannot make the refusals themselves hold descriptors.
const MAX_REFUSING: usize = 64;
/// How long a refused client gets to read the 503 before its socket is closed.
const REFUSAL_LINGER: Duration = Duration::from_secs(2);

/// Serves `app` on `listener` until `shutdown` resolves; returns the handle that winds down
/// the open HTTP connections.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    config: &ConnectionsConfig,
    shutdown: impl Future<Output = ()>,
) -> Draining {
    let slots = Arc::new(Slots::new(config));
    let refusing = Arc::new(Semaphore::new(MAX_REFUSING));
    let mut http = hyper::server::conn::http1::Builder::new();
    // hyper's header timeout would count idle time too; [`Deadlines`] keeps them apart.
    http.header_read_timeout(None);
    let (stop, stopping) = watch::channel(());
    tokio::pin!(shutdown);
    loop {
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of descriptors, mostly: wait for some to close instead of spinning.
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // Without TCP_NODELAY small WebSocket frames wait for delayed ACKs (~40 ms).
        let _ = tcp.set_nodelay(true);
        let Some(slot) = slots.take(peer.ip()) else {
            metrics::counter!("connections_refused_total").increment(1);
            if let Ok(permit) = refusing.clone().try_acquire_owned() {
                tokio::spawn(async move {
                    refuse(tcp).await;
                    drop(permit);
                });
            }
            continue;
        };
        let deadlines = Deadlines::new(config);
        let (started, answered) = (Arc::clone(&deadlines), Arc::clone(&deadlines));
        let service = app
            .clone()
            .map_request(move |mut request: axum::http::Request<Incoming>| {
                started.request_started();
                request.extensions_mut().insert(ConnectInfo(peer));
                request
            })
            .map_response(move |response| answered.track(response));
        let io = TokioIo::new(Counted {
            tcp,
            _slot: slot,
            deadlines,
            timer: None,
        });
        let connection = http
            .serve_connection(io, TowerToHyperService::new(service))
            .with_upgrades();
        let mut stopping = stopping.clone();
        tokio::spawn(async move {
            tokio::pin!(connection);
            let ended = tokio::select! {
                ended = connection.as_mut() => ended,
                _ = stopping.changed() => {
                    // Finish the request in flight, then close instead of keeping alive.
                    connection.as_mut().graceful_shutdown();
                    connection.await
                }
            };
            if let Err(error) = ended {
                tracing::debug!(%error, %peer, "connection ended with an error");
            }
            // Dropping `stopping` here tells `Draining` this connection is done.
        });
    }
    Draining(stop)
}

/// The open HTTP connections of a listener that stopped accepting.
pub struct Draining(watch::Sender<()>);

impl Draining {
    /// Asks every connection to close after its request in flight and waits until they
    /// have. Upgraded WebSockets are their handlers' to close.
    pub async fn shutdown(self) {
        let _ = self.0.send(());
        self.0.closed().await;
    }
}

/// Answers 503 in the API's JSON shape and closes, reading what the client sent meanwhile
/// so the close does not reset the connection before the answer is read.
async fn refuse(mut tcp: TcpStream) {
    let body = refusal_body().await;
    let head = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n\
         content-length: {}\r\nretry-after: 5\r\nconnection: close\r\n\r\n",
        body.len()
    );
    let _ = tokio::time::timeout(REFUSAL_LINGER, async {
        tcp.write_all(head.as_bytes()).await?;
        tcp.write_all(&body).await?;
        tcp.shutdown().await?;
        let mut sink = [0u8; 1024];
        while tcp.read(&mut sink).await? > 0 {}
        Ok::<_, io::Error>(())
    })
    .await;
}

async fn refusal_body() -> bytes::Bytes {
    let error = ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "too_many_connections",
        "too many open connections; retry shortly",
    );
    axum::body::to_bytes(error.into_response().into_body(), usize::MAX)
        .await
        .unwrap_or_default()
}

/// Open connections, in all and per IP address.
struct Slots {
    max_total: usize,
    max_per_address: usize,
    open: Mutex<Open>,
}

#[derive(Default)]
struct Open {
    total: usize,
    by_address: HashMap<IpAddr, usize>,
}

impl Slots {
    fn new(config: &ConnectionsConfig) -> Self {
        Self {
            max_total: config.max_connections,
            max_per_address: config.max_connections_per_address,
            open: Mutex::default(),
        }
    }

    /// A slot for a connection from `ip`, if both limits allow one more.
    fn take(self: &Arc<Self>, ip: IpAddr) -> Option<Slot> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let from_ip = open.by_address.get(&ip).copied().unwrap_or(0);
        if open.total >= self.max_total || from_ip >= self.max_per_address {
            return None;
        }
        open.total += 1;
        open.by_address.insert(ip, from_ip + 1);
        Some(Slot {
            slots: Arc::clone(self),
            ip,
        })
    }
}

/// One open connection; dropping it frees the slot.
struct Slot {
    slots: Arc<Slots>,
    ip: IpAddr,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.slots.open.lock().unwrap_or_else(|e| e.into_inner());
        open.total -= 1;
        if let Some(count) = open.by_address.get_mut(&self.ip) {
            *count -= 1;
            if *count == 0 {
                open.by_address.remove(&self.ip);
            }
        }
    }
}

/// A socket holding its slot: the slot is freed when the socket is dropped, also after an
/// upgrade hands the socket to a WebSocket. Its reads enforce the connection's
/// [`Deadlines`]: past one, a read fails and hyper closes the connection.
struct Counted {
    tcp: TcpStream,
    _slot: Slot,
    deadlines: Arc<Deadlines>,
    timer: Option<Pin<Box<Sleep>>>,
}

impl AsyncRead for Counted {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let this = &mut *self;
        let polled = Pin::new(&mut this.tcp).poll_read(cx, buf);
        match polled {
            Poll::Ready(Ok(())) if buf.filled().len() > before => this.deadlines.bytes_read(),
            Poll::Pending => {
                this.deadlines.read_pending(cx.waker());
                if let Some(due) = this.deadlines.due() {
                    let timer = this
                        .timer
                        .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(due)));
                    if timer.deadline() != due {
                        timer.as_mut().reset(due);
                    }
                    if timer.as_mut().poll(cx).is_ready() {
                        return Poll::Ready(Err(io::ErrorKind::TimedOut.into()));
                    }
                }
            }
            Poll::Ready(_) => {}
        }
        polled
    }
}

impl AsyncWrite for Counted {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.tcp).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.tcp).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.tcp.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tcp).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tcp).poll_shutdown(cx)
    }
}

/// Raises the soft open-file limit to the hard limit: every connection is a descriptor,
/// and the common soft default of 1,024 runs out long before memory or CPU do.
#[cfg(unix)]
pub fn raise_open_file_limit() {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit only read and write the struct passed by pointer.
    let raised = unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            tracing::warn!(error = %io::Error::last_os_error(), "reading the open-file limit");
            return;
        }
        let before = limit.rlim_cur;
        limit.rlim_cur = limit.rlim_max;
        if before < limit.rlim_max && libc::setrlimit(libc::RLIMIT_NOFILE, &limit) != 0 {
            tracing::warn!(error = %io::Error::last_os_error(), "raising the open-file limit");
            limit.rlim_cur = before;
        }
        limit.rlim_cur
    };
    tracing::info!(
        open_files = raised,
        hard_limit = limit.rlim_max,
        "open-file limit"
    );
}

#[cfg(not(unix))]
pub fn raise_open_file_limit() {}

#[cfg(test)]
mod tests {
    use super::*;

    fn slots(total: usize, per_address: usize) -> Arc<Slots> {
        Arc::new(Slots {
            max_total: total,
            max_per_address: per_address,
            open: Mutex::default(),
        })
    }

    #[test]
    fn limits_count_per_address_and_in_all_and_free_on_drop() {
        let slots = slots(3, 2);
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        let first = slots.take(a).unwrap();
        let _second = slots.take(a).unwrap();
        assert!(slots.take(a).is_none(), "a third from one address");
        let _third = slots.take(b).unwrap();
        assert!(slots.take(b).is_none(), "a fourth in all");
        drop(first);
        assert!(slots.take(a).is_some());
        assert_eq!(slots.open.lock().unwrap().by_address.len(), 2);
    }
}
