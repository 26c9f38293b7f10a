//! The database behind note rooms, on both backends: the update log, snapshots, the
//! plain-text `content` saved beside it, and seeding notes that predate their document.

use std::time::Instant;

use bytes::Bytes;
use crdt::{Input, Limits, NoteId, NoteStore, Output, Room, Snapshot, StoreError, StoredNote};
use reqwest::StatusCode;
use serde_json::json;
use workbook::db::note_documents::DbNoteStore;
use workbook::on_pool;

use crate::harness::{Backend, TestApp};
use crate::on_both_backends;

on_both_backends!(
    appends_extend_the_log_and_text_follows_through_saves_and_compaction,
    a_note_without_a_document_is_seeded_once,
);

/// A room rebuilt from what the store holds.
fn rebuild(stored: &StoredNote) -> Room {
    let updates = stored.updates.iter().map(|(_, u)| u.as_slice());
    Room::load(
        stored.snapshot.as_deref(),
        updates,
        Limits::default(),
        Instant::now(),
    )
    .unwrap()
}

async fn note_with_body(app: &TestApp, token: &str, body: &str) -> (String, NoteId) {
    let (status, created) = app
        .post(
            "/api/workbook/notes",
            Some(token),
            json!({"title": "T", "content": body}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["note"]["id"].as_str().unwrap().to_owned();
    let key = NoteId::from(id.clone());
    (id, key)
}

async fn appends_extend_the_log_and_text_follows_through_saves_and_compaction(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let token = app.user_with_role("store@example.com", "user").await;
    let (id, note) = note_with_body(&app, &token, "hello").await;
    let store = DbNoteStore::new(app.state.db.clone());

    // Creating the note stored its first update.
    let stored = store.load(&note).await.unwrap();
    assert_eq!(stored.updates.len(), 1);
    let mut room = rebuild(&stored);
    assert_eq!(room.text(), "hello");

    assert_eq!(stored.text_seq, 1, "the created text is the first update's");

    // An append stores only the update; the text follows when the room saves it.
    let update = replace_text(&mut room, "hello world");
    assert_eq!(store.append(&note, &[update]).await.unwrap(), 2);
    let rest_body = || async {
        let (_, body) = app
            .get(&format!("/api/workbook/notes/{id}"), Some(&token))
            .await;
        body["note"].clone()
    };
    assert_eq!(rest_body().await["content"], "hello");
    store.save_text(&note, &room.text(), 2).await.unwrap();
    assert_eq!(rest_body().await["content"], "hello world");
    assert_eq!(rest_body().await["version"], 2);
    // An older save arriving late changes nothing.
    store.save_text(&note, "hello", 1).await.unwrap();
    assert_eq!(rest_body().await["content"], "hello world");
    assert_eq!(store.load(&note).await.unwrap().text_seq, 2);

    // Compaction folds the log; later appends continue the sequence.
    let snapshot = Snapshot {
        state: room.encode_state(),
        through_seq: 2,
        text: room.text(),
    };
    store.compact(&note, snapshot).await.unwrap();
    let stored = store.load(&note).await.unwrap();
    assert!(stored.snapshot.is_some() && stored.updates.is_empty());
    let update = replace_text(&mut room, "hello, world");
    assert_eq!(store.append(&note, &[update]).await.unwrap(), 3);
    let stored = store.load(&note).await.unwrap();
    assert_eq!(rebuild(&stored).text(), "hello, world");
    assert_eq!(stored.text_seq, 2, "compaction saved the text it folded");

    // Appends from many notes at once are grouped, each on its own sequence.
    let mut others = Vec::new();
    for _ in 0..8 {
        others.push(note_with_body(&app, &token, "x").await.1);
    }
    for appended in append_to_each(&store, &others).await {
        assert_eq!(appended.unwrap(), 2);
    }

    // A deleted note is gone for the store too.
    let (status, _) = app
        .call(
            reqwest::Method::DELETE,
            &format!("/api/workbook/notes/{id}"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(matches!(store.load(&note).await, Err(StoreError::NotFound)));
    let late = store.append(&note, &[Bytes::from_static(b"x")]).await;
    assert!(matches!(late, Err(StoreError::NotFound)));
    // Grouped with live notes, its append fails alone.
    others.push(note);
    let mut appended = append_to_each(&store, &others).await;
    assert!(matches!(appended.pop(), Some(Err(StoreError::NotFound))));
    assert!(appended.into_iter().all(|seq| seq.unwrap() == 3));
}

/// One update appended to each of `notes` at once, so the note writer groups them.
async fn append_to_each(store: &DbNoteStore, notes: &[NoteId]) -> Vec<Result<u64, StoreError>> {
    let appends = notes.iter().map(|note| async move {
        store
            .append(note, &[Bytes::from(crdt::seed_update("y"))])
            .await
    });
    futures_util::future::join_all(appends).await
}

/// Replaces the room's text and returns the update it asks to store.
fn replace_text(room: &mut Room, text: &str) -> Bytes {
    room.handle_input(Instant::now(), Input::ReplaceText(text))
        .unwrap();
    loop {
        match room.poll_output() {
            Output::Persist(update) => return update,
            Output::Timeout(_) => panic!("the edit produced no update"),
            _ => {}
        }
    }
}

async fn a_note_without_a_document_is_seeded_once(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let token = app.user_with_role("legacy@example.com", "user").await;
    let (id, note) = note_with_body(&app, &token, "written before live notes").await;
    // As if the note had been written before its document existed.
    let uuid: uuid::Uuid = id.parse().unwrap();
    on_pool!(&app.state.db, |pool| sqlx::query(
        "DELETE FROM note_updates WHERE note_id = $1"
    )
    .bind(uuid)
    .execute(pool)
    .await
    .map(|_| ()))
    .unwrap();
    let store = DbNoteStore::new(app.state.db.clone());
    let first = store.load(&note).await.unwrap();
    assert_eq!(rebuild(&first).text(), "written before live notes");
    // The seed was stored: loading again gives the same update, not a second copy.
    assert_eq!(store.load(&note).await.unwrap(), first);
    assert_eq!(
        app.state.rooms.text(&note).await.unwrap(),
        "written before live notes"
    );
}

/// Appends that never pause still let the WAL start over: the writer's connection leaves
/// checkpoints to a background copy and restarts the WAL between groups once one is done,
/// so the WAL holds about a second of commits, not everything since the server started.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wal_starts_over_under_steady_appends() {
    let app = TestApp::start(Backend::Sqlite).await.unwrap();
    let token = app.user_with_role("wal@example.com", "user").await;
    let (_, note) = note_with_body(&app, &token, "x").await;
    let store = DbNoteStore::new(app.state.db.clone());
    let wal = app.state.config.storage.data_dir.join("workbook.db-wal");

    // A restart follows a background copy (once a second) and may be refused while a
    // reader is busy (then the next copy retries): under a loaded test run it can take a
    // few tries, so the appends go on until it happens, within a generous deadline.
    let first = wal_restarts(&wal);
    let started = Instant::now();
    while wal_restarts(&wal) == first {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "20 s of appends and the WAL never started over"
        );
        let update = Bytes::from(crdt::seed_update("y"));
        store.append(&note, &[update]).await.unwrap();
    }
}

/// The WAL header's checkpoint sequence number: SQLite adds one each time the WAL starts
/// over from its beginning.
fn wal_restarts(wal: &std::path::Path) -> u32 {
    use std::io::Read;
    let mut header = [0; 32];
    std::fs::File::open(wal)
        .and_then(|mut file| file.read_exact(&mut header))
        .expect("a WAL with its header");
    u32::from_be_bytes([header[12], header[13], header[14], header[15]])
}
