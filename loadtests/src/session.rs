//! Live sessions for the load: a premium host, a started session, and hub sockets that have
//! had their welcome.

use anyhow::{Context, bail};
use futures_util::StreamExt;
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::Server;
use crate::account::{self, PASSWORD};

/// A hub WebSocket.
pub type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Concurrent joins while setting up.
pub const SETUP_CONCURRENCY: usize = 16;

/// Creates `host@load.test` with the premium role (hosting needs it) through the CLI, and
/// logs it in; returns its access token.
pub async fn premium_host(server: &Server, http: &reqwest::Client) -> anyhow::Result<String> {
    let email = "host@load.test";
    let args = [
        "user", "create", "--email", email, "--name", "Host", "--role", "premium",
    ];
    server.cli(&args, &format!("{PASSWORD}\n"))?;
    account::login(http, &server.base, email).await
}

/// Schedules and starts a session hosted by `host`; returns its id.
pub async fn start(http: &reqwest::Client, base: &str, host: &str) -> anyhow::Result<String> {
    let body = json!({"title": "Load", "scheduledStart": "2030-01-01T10:00:00Z"});
    let session: Value = http
        .post(format!("{base}/api/workbook/sessions"))
        .bearer_auth(host)
        .json(&body)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let id = session["id"].as_str().context("no session id")?.to_owned();
    http.post(format!("{base}/api/workbook/sessions/{id}/start"))
        .bearer_auth(host)
        .send()
        .await?
        .error_for_status()?;
    Ok(id)
}

/// Gets a join ticket, opens the hub socket and waits for the welcome.
pub async fn join(
    http: &reqwest::Client,
    base: &str,
    session: &str,
    token: &str,
) -> anyhow::Result<Socket> {
    Ok(join_welcomed(http, base, session, token).await?.0)
}

/// Like [`join`], also answering the welcome frame.
pub async fn join_welcomed(
    http: &reqwest::Client,
    base: &str,
    session: &str,
    token: &str,
) -> anyhow::Result<(Socket, Value)> {
    let joined: Value = http
        .post(format!("{base}/api/workbook/sessions/{session}/join"))
        .bearer_auth(token)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let url = format!(
        "{}?ticket={}",
        joined["hubUrl"].as_str().context("hubUrl")?,
        joined["ticket"].as_str().context("ticket")?
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(url).await?;
    match socket.next().await {
        Some(Ok(Message::Text(text))) if text.contains(r#""type":"welcome""#) => {
            let welcome = serde_json::from_str(&text)?;
            Ok((socket, welcome))
        }
        other => bail!("expected a welcome, got {other:?}"),
    }
}

/// Joins every token's account, [`SETUP_CONCURRENCY`] at a time.
pub async fn join_all(
    http: &reqwest::Client,
    base: &str,
    session: &str,
    tokens: Vec<String>,
) -> anyhow::Result<Vec<Socket>> {
    futures_util::stream::iter(tokens)
        .map(|token| async move { join(http, base, session, &token).await })
        .buffered(SETUP_CONCURRENCY)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect()
}
