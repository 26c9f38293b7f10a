//! Issue 16, finding 2, over real sockets: slow request heads, idle and kept-alive sockets
//! and stalled uploads are cut; past the per-address limit a connection is answered 503
//! while other addresses and the open connections go on working.

use std::time::Duration;

use figment::Figment;
use figment::providers::Serialized;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

use crate::harness::{Backend, TestApp};
use crate::on_both_backends;

on_both_backends!(
    connections_slow_headers_and_idle_sockets_are_cut,
    connections_idle_and_header_read_timeouts_are_separate,
    connections_a_stalled_upload_is_cut_and_its_file_removed,
    connections_past_the_per_address_limit_get_503,
);

/// Comfortably longer than the 1 s timeouts the tests configure, so a loaded machine does
/// not make them flaky; today's server kept such sockets open for minutes.
const CUT_WITHIN: Duration = Duration::from_secs(8);

fn short_timeouts(figment: Figment) -> Figment {
    figment
        .merge(Serialized::default("connections.idle_secs", 1))
        .merge(Serialized::default("connections.header_read_secs", 1))
        .merge(Serialized::default("connections.body_progress_secs", 1))
}

fn addr(app: &TestApp) -> String {
    app.base.trim_start_matches("http://").to_owned()
}

/// True when the server closes the socket (EOF or reset) within [`CUT_WITHIN`], reading
/// and discarding whatever it sends first.
async fn closed_by_server(tcp: &mut TcpStream) -> bool {
    let mut buf = [0u8; 4096];
    let read_all = async {
        loop {
            match tcp.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    };
    tokio::time::timeout(CUT_WITHIN, read_all).await.is_ok()
}

async fn connections_slow_headers_and_idle_sockets_are_cut(backend: Backend) {
    let Some(app) = TestApp::start_with(backend, short_timeouts).await else {
        return;
    };
    // A request head trickling in a byte every 200 ms.
    let mut slow = TcpStream::connect(addr(&app)).await.unwrap();
    let trickle = async {
        for byte in b"GET /api/health HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" {
            if slow.write_all(&[*byte]).await.is_err() {
                return true; // cut while sending
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        false
    };
    let cut_while_sending = trickle.await;
    assert!(
        cut_while_sending || closed_by_server(&mut slow).await,
        "slow head not cut"
    );

    // A socket that never sends anything.
    let mut idle = TcpStream::connect(addr(&app)).await.unwrap();
    assert!(closed_by_server(&mut idle).await, "idle socket not cut");

    // A kept-alive socket after one answered request.
    let mut kept = TcpStream::connect(addr(&app)).await.unwrap();
    kept.write_all(b"GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut first = [0u8; 12];
    kept.read_exact(&mut first).await.unwrap();
    assert_eq!(&first, b"HTTP/1.1 200");
    assert!(
        closed_by_server(&mut kept).await,
        "idle keep-alive socket not cut"
    );
}

/// `idle_secs` and `header_read_secs` cut different things: a short header-read timeout
/// leaves an idle socket alone, and a short idle timeout leaves a slow (but not too slow)
/// head alone. Before they were separate, one timeout counted both.
async fn connections_idle_and_header_read_timeouts_are_separate(backend: Backend) {
    let Some(app) = TestApp::start_with(backend, |f| {
        f.merge(Serialized::default("connections.idle_secs", 30))
            .merge(Serialized::default("connections.header_read_secs", 1))
    })
    .await
    else {
        return;
    };
    let mut idle = TcpStream::connect(addr(&app)).await.unwrap();
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        health(&mut idle).await,
        "200",
        "an idle socket was cut by the header timeout"
    );
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        health(&mut idle).await,
        "200",
        "a kept-alive socket was cut by the header timeout"
    );

    let Some(app) = TestApp::start_with(backend, |f| {
        f.merge(Serialized::default("connections.idle_secs", 1))
            .merge(Serialized::default("connections.header_read_secs", 30))
    })
    .await
    else {
        return;
    };
    // A head taking 3 s (a byte every 100 ms), three times the idle timeout.
    let mut slow = TcpStream::connect(addr(&app)).await.unwrap();
    let head = b"GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n";
    for byte in head {
        tokio::time::sleep(Duration::from_millis(3000 / head.len() as u64)).await;
        slow.write_all(&[*byte]).await.unwrap();
    }
    let answered = read_answer(&mut slow).await;
    assert!(
        answered.starts_with("HTTP/1.1 200"),
        "a slow head was cut by the idle timeout: {answered}"
    );
    assert!(
        closed_by_server(&mut slow).await,
        "idle keep-alive socket not cut"
    );
}

async fn connections_a_stalled_upload_is_cut_and_its_file_removed(backend: Backend) {
    let Some(app) = TestApp::start_with(backend, short_timeouts).await else {
        return;
    };
    let token = app.user_with_role("uploader@example.com", "user").await;
    let mut tcp = TcpStream::connect(addr(&app)).await.unwrap();
    let head = format!(
        "POST /api/workbook/audio HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: multipart/form-data; boundary=XyZ\r\nContent-Length: 10000000\r\n\r\n\
         --XyZ\r\nContent-Disposition: form-data; name=\"audio\"; filename=\"a.wav\"\r\n\
         Content-Type: audio/wav\r\n\r\nRIFF\0\0\0\0WAVE"
    );
    tcp.write_all(head.as_bytes()).await.unwrap();
    tcp.write_all(&[0u8; 64 * 1024]).await.unwrap();
    let audio_dir = app.state.config.storage.data_dir.join("audio");
    // The upload is streaming into its temporary file...
    let mut started = false;
    for _ in 0..100 {
        if part_files(&audio_dir) > 0 {
            started = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(started, "the upload never reached its temporary file");
    // ...then stalls: the server cuts it and removes the file.
    assert!(closed_by_server(&mut tcp).await, "stalled upload not cut");
    let mut gone = false;
    for _ in 0..100 {
        if part_files(&audio_dir) == 0 {
            gone = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(gone, "the stalled upload's temporary file is still there");
}

fn part_files(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |entries| {
        entries
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().ends_with(".part"))
            .count()
    })
}

async fn connections_past_the_per_address_limit_get_503(backend: Backend) {
    let Some(app) = TestApp::start_with(backend, |f| {
        f.merge(Serialized::default(
            "connections.max_connections_per_address",
            2,
        ))
    })
    .await
    else {
        return;
    };
    let server: std::net::SocketAddr = addr(&app).parse().unwrap();
    let connect_from = |ip: &str| {
        let socket = TcpSocket::new_v4().unwrap();
        socket.bind(format!("{ip}:0").parse().unwrap()).unwrap();
        socket.connect(server)
    };
    let mut open = Vec::new();
    for _ in 0..2 {
        open.push(connect_from("127.0.0.1").await.unwrap());
    }
    // Both slots are taken before the third arrives.
    for tcp in &mut open {
        assert_eq!(health(tcp).await, "200");
    }
    let mut third = connect_from("127.0.0.1").await.unwrap();
    let refused = answer(&mut third).await;
    assert!(refused.starts_with("HTTP/1.1 503"), "{refused}");
    assert!(
        refused.contains("\"code\":\"too_many_connections\""),
        "{refused}"
    );
    // Another address still gets in, and the open connections still work.
    let mut other = connect_from("127.0.0.2").await.unwrap();
    assert_eq!(health(&mut other).await, "200");
    for tcp in &mut open {
        assert_eq!(health(tcp).await, "200");
    }
}

/// Sends `GET /api/health` on a kept-alive socket; the status code of the answer.
async fn health(tcp: &mut TcpStream) -> String {
    let text = answer(tcp).await;
    text.get(9..12).unwrap_or(&text).to_owned()
}

/// Sends `GET /api/health` and reads one answer.
async fn answer(tcp: &mut TcpStream) -> String {
    let _ = tcp
        .write_all(b"GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n")
        .await;
    read_answer(tcp).await
}

/// Reads one answer (head and body, which is small).
async fn read_answer(tcp: &mut TcpStream) -> String {
    let mut buf = vec![0u8; 8192];
    let mut text = String::new();
    let read = async {
        loop {
            match tcp.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => {
                    text.push_str(&String::from_utf8_lossy(&buf[..n]));
                    if let Some((head, body)) = text.split_once("\r\n\r\n") {
                        let length = head
                            .lines()
                            .find_map(|l| {
                                l.to_ascii_lowercase()
                                    .strip_prefix("content-length: ")
                                    .map(str::to_owned)
                            })
                            .and_then(|l| l.trim().parse::<usize>().ok());
                        if length.is_some_and(|l| body.len() >= l) {
                            return;
                        }
                    }
                }
            }
        }
    };
    let _ = tokio::time::timeout(Duration::from_secs(5), read).await;
    text
}
