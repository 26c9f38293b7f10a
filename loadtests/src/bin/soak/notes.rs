//! Note rooms with live editors: each room is a note of its own account, typed into by
//! editors (twice a second each) and watched by a listener. Every client leaves and rejoins
//! each minute, so rooms see connections come and go all the time.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use loadtests::yclient::{Role, YClient};
use serde_json::{Value, json};
use tokio::task::JoinSet;

use crate::Load;

/// How long a client stays before it rejoins.
const STAY: Duration = Duration::from_secs(60);
/// Edits per second of one editor.
const TYPING_RATE: f64 = 2.0;

/// Yjs client ids, unique within the run.
static NEXT_CLIENT_ID: AtomicU64 = AtomicU64::new(1);

/// Creates the notes and starts their clients.
pub async fn spawn(
    tasks: &mut JoinSet<()>,
    load: &Arc<Load>,
    rooms: usize,
    editors: usize,
) -> anyhow::Result<()> {
    let ws_base = load.base.replacen("http://", "ws://", 1);
    for room in 0..rooms {
        let token = &load.tokens[1 + room];
        let created: Value = load
            .http
            .post(format!("{}/api/workbook/notes", load.base))
            .bearer_auth(token)
            .json(&json!({"title": format!("Soak room {room}"), "isPrivate": false}))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let note = created["note"]["id"].as_str().context("no note id")?;
        let url = format!("{ws_base}/api/workbook/notes/ws/{note}?token={token}");
        for slot in 0..=editors {
            tasks.spawn(client(load.clone(), url.clone(), slot < editors));
        }
    }
    Ok(())
}

/// One seat in a room, rejoining every [`STAY`] until the deadline.
async fn client(load: Arc<Load>, url: String, editor: bool) {
    // Seats start at different moments, so a room is never empty.
    tokio::time::sleep(STAY.mul_f64(rand::random::<f64>())).await;
    while load.running() {
        let until = (Instant::now() + STAY).min(load.deadline);
        let id = NEXT_CLIENT_ID.fetch_add(1, Ordering::Relaxed);
        let client = match YClient::connect(&url, id).await {
            Ok(client) => client,
            Err(error) => {
                load.counters.error(format!("note connect: {error:#}"));
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        let _open = load.counters.socket();
        let role = if editor {
            // Stops typing a little before leaving, so what it typed reaches the others.
            let send_until = until.checked_sub(Duration::from_secs(2)).unwrap_or(until);
            Role::Editor {
                per_second: TYPING_RATE,
                send_until,
            }
        } else {
            Role::Listener
        };
        client.run(role, until, load.notes.clone()).await;
    }
}
