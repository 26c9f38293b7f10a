//! Note search: ranking and snippets, and that a search sees exactly the notes its caller
//! may read (the index is scoped to the reader; see `src/db/search.rs`), at once after every
//! change of a share, alone and combined with the listing filters.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::harness::{Backend, TestApp};
use crate::notes::{put, share, titles};
use crate::on_both_backends;

on_both_backends!(
    search_ranks_and_highlights,
    search_sees_only_what_the_caller_may_read,
    search_follows_deleted_accounts,
    search_combines_with_filters_and_paging,
);

/// `GET /notes?search=` as `token`; `query` is the rest of the query string.
async fn search(app: &TestApp, token: &str, query: &str) -> Value {
    let (status, found) = app
        .get(&format!("/api/workbook/notes?search={query}"), Some(token))
        .await;
    assert_eq!(status, StatusCode::OK, "{query}: {found}");
    found
}

async fn search_ranks_and_highlights(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let me = app.user_with_role("me@example.com", "user").await;
    let other = app.user_with_role("other@example.com", "user").await;
    app.create_note(
        &me,
        json!({"title": "Tokio runtime", "content": "How the tokio runtime schedules tasks."}),
    )
    .await;
    app.create_note(&me, json!({"title": "Misc", "content": "A note that mentions the runtime of <b>tokio</b> once."})).await;
    app.create_note(
        &me,
        json!({"title": "Unrelated", "content": "Gardening tips."}),
    )
    .await;
    app.create_note(
        &other,
        json!({"title": "Tokio runtime secrets", "content": "tokio runtime"}),
    )
    .await;

    let found = search(&app, &me, "Tokio%20runtimes").await;
    let notes = found["notes"].as_array().unwrap();
    assert_eq!(found["total"], 2, "{found}");
    assert_eq!(
        notes[0]["title"], "Tokio runtime",
        "a title match ranks first"
    );
    assert!(notes[0]["rank"].as_f64().unwrap() >= notes[1]["rank"].as_f64().unwrap());
    let snippet = notes[1]["snippet"].as_str().unwrap();
    assert!(snippet.contains("<mark>"), "{snippet}");
    // User HTML never reaches the snippet raw (SQLite escapes it, PostgreSQL drops tags).
    let unmarked = snippet.replace("<mark>", "").replace("</mark>", "");
    assert!(
        !unmarked.contains('<') && !unmarked.contains('>'),
        "{snippet}"
    );

    let (status, everything) = app.get("/api/workbook/search?q=tokio", Some(&me)).await;
    assert_eq!(status, StatusCode::OK);
    let hits = everything["hits"].as_array().unwrap();
    assert_eq!(hits.len(), 2, "{everything}");
    assert!(hits.iter().all(|h| h["kind"] == "note"));

    let (status, _) = app.get("/api/workbook/search?q=%22%22", Some(&me)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}

/// The ids of the notes a search found, with the caller's permission on each.
fn permissions(found: &Value) -> Vec<(String, String)> {
    let mut found: Vec<(String, String)> = found["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            (
                n["title"].as_str().unwrap().to_owned(),
                n["permission"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    found.sort();
    found
}

fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
    expected
        .iter()
        .map(|(t, p)| ((*t).to_owned(), (*p).to_owned()))
        .collect()
}

async fn search_sees_only_what_the_caller_may_read(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let me = app.user_with_role("me@example.com", "user").await;
    let owner = app.user_with_role("owner@example.com", "user").await;
    let stranger = app.user_with_role("stranger@example.com", "user").await;
    let mine = app
        .create_note(
            &me,
            json!({"title": "Kernel notes", "content": "my kernel"}),
        )
        .await;
    let theirs = app
        .create_note(
            &owner,
            json!({"title": "Kernel secrets", "content": "the kernel", "isPrivate": false}),
        )
        .await;
    app.create_note(
        &owner,
        json!({"title": "Kernel diary", "content": "kernel kernel kernel"}),
    )
    .await;
    let id = theirs["id"].as_str().unwrap();
    let path = format!("/api/workbook/notes/{id}");

    assert_eq!(
        permissions(&search(&app, &me, "kernel").await),
        pairs(&[("Kernel notes", "owner")]),
        "another account's notes are never found"
    );
    assert_eq!(search(&app, &stranger, "kernel").await["total"], 0);

    // A share is searchable at once, with the permission it gives.
    assert_eq!(
        share(&app, &owner, id, "me@example.com", "read").await,
        StatusCode::CREATED
    );
    let found = search(&app, &me, "kernel").await;
    assert_eq!(found["total"], 2, "{found}");
    assert_eq!(
        permissions(&found),
        pairs(&[("Kernel notes", "owner"), ("Kernel secrets", "read")])
    );
    assert_eq!(
        titles(&search(&app, &me, "kernel&shared=true").await),
        ["Kernel secrets"]
    );
    assert_eq!(
        titles(&search(&app, &me, "kernel&shared=false").await),
        ["Kernel notes"]
    );
    let (_, everything) = app.get("/api/workbook/search?q=kernel", Some(&me)).await;
    assert_eq!(
        everything["hits"].as_array().unwrap().len(),
        2,
        "{everything}"
    );
    assert_eq!(search(&app, &stranger, "kernel").await["total"], 0);
    assert_eq!(
        permissions(&search(&app, &owner, "kernel").await),
        pairs(&[("Kernel diary", "owner"), ("Kernel secrets", "owner")])
    );

    // A changed permission, and a retitled note, are seen at once.
    assert_eq!(
        share(&app, &owner, id, "me@example.com", "write").await,
        StatusCode::CREATED
    );
    let (status, _) = put(
        &app,
        &owner,
        id,
        json!({"version": 1, "title": "Scheduler"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        permissions(&search(&app, &me, "scheduler").await),
        pairs(&[("Scheduler", "write")])
    );

    // User ids are not words: not the caller's own, not the owner's.
    for user in [&mine["ownerId"], &theirs["ownerId"]] {
        let hex = user.as_str().unwrap().replace('-', "");
        for word in [hex.clone(), format!("u{hex}0")] {
            let found = search(&app, &me, &word).await;
            assert_eq!(found["total"], 0, "{word}: {found}");
        }
    }

    // A revoked share is gone at once.
    let me_id = mine["ownerId"].as_str().unwrap();
    let (status, _) = app
        .call(
            Method::DELETE,
            &format!("{path}/shares/{me_id}"),
            Some(&owner),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(titles(&search(&app, &me, "kernel").await), ["Kernel notes"]);
    assert_eq!(search(&app, &me, "scheduler").await["total"], 0);

    // So is every share of a note made private.
    for email in ["me@example.com", "stranger@example.com"] {
        assert_eq!(
            share(&app, &owner, id, email, "read").await,
            StatusCode::CREATED
        );
    }
    assert_eq!(search(&app, &stranger, "scheduler").await["total"], 1);
    let (status, _) = put(&app, &owner, id, json!({"version": 2, "isPrivate": true})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(search(&app, &me, "scheduler").await["total"], 0);
    assert_eq!(search(&app, &stranger, "scheduler").await["total"], 0);
    assert_eq!(search(&app, &owner, "scheduler").await["total"], 1);
}

/// `DELETE /me` with the password [`TestApp::user_with_role`] gives.
async fn delete_account(app: &TestApp, token: &str) -> (StatusCode, Value) {
    let password = json!({"password": "password123"});
    app.call(
        Method::DELETE,
        "/api/workbook/me",
        Some(token),
        Some(password),
    )
    .await
}

async fn search_follows_deleted_accounts(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let owner = app.user_with_role("owner@example.com", "user").await;
    let leaving = app.user_with_role("leaving@example.com", "user").await;
    let staying = app.user_with_role("staying@example.com", "user").await;
    let shared = app
        .create_note(
            &owner,
            json!({"title": "Shared plan", "content": "rollout", "isPrivate": false}),
        )
        .await;
    let id = shared["id"].as_str().unwrap();
    for email in ["leaving@example.com", "staying@example.com"] {
        assert_eq!(
            share(&app, &owner, id, email, "read").await,
            StatusCode::CREATED
        );
    }
    assert_eq!(search(&app, &leaving, "rollout").await["total"], 1);

    // A reader leaves: the others still find the note.
    assert_eq!(
        delete_account(&app, &leaving).await.0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(search(&app, &owner, "rollout").await["total"], 1);
    assert_eq!(search(&app, &staying, "rollout").await["total"], 1);

    // The owner leaves: the note, and every hit on it, go.
    assert_eq!(delete_account(&app, &owner).await.0, StatusCode::NO_CONTENT);
    assert_eq!(search(&app, &staying, "rollout").await["total"], 0);
}

async fn search_combines_with_filters_and_paging(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let me = app.user_with_role("me@example.com", "user").await;
    let friend = app.user_with_role("friend@example.com", "user").await;
    for (title, tags, folder) in [
        ("a", json!(["linux"]), "os"),
        ("b", json!(["linux", "rust"]), "lang"),
        ("c", json!([]), "lang"),
    ] {
        app.create_note(
            &me,
            json!({"title": title, "content": "kernel", "tags": tags, "folder": folder}),
        )
        .await;
    }
    app.create_note(
        &me,
        json!({"title": "d", "content": "userland", "tags": ["linux"]}),
    )
    .await;
    let theirs = app
        .create_note(
            &friend,
            json!({"title": "e", "content": "kernel", "tags": ["linux"], "folder": "os",
               "isPrivate": false}),
        )
        .await;
    app.create_note(
        &friend,
        json!({"title": "f", "content": "kernel", "tags": ["linux"], "folder": "os"}),
    )
    .await;
    let id = theirs["id"].as_str().unwrap();
    assert_eq!(
        share(&app, &friend, id, "me@example.com", "read").await,
        StatusCode::CREATED
    );

    assert_eq!(
        titles(&search(&app, &me, "kernel").await),
        ["a", "b", "c", "e"]
    );
    assert_eq!(
        titles(&search(&app, &me, "kernel&tags=linux").await),
        ["a", "b", "e"]
    );
    assert_eq!(
        titles(&search(&app, &me, "kernel&tags=linux,rust").await),
        ["b"]
    );
    assert_eq!(
        titles(&search(&app, &me, "kernel&folder=os").await),
        ["a", "e"]
    );
    assert_eq!(
        titles(&search(&app, &me, "kernel&folder=os&shared=false").await),
        ["a"]
    );

    // Paging: `total` counts every match, also on a page past the end.
    let mut seen = Vec::new();
    for offset in 0..4 {
        let page = search(&app, &me, &format!("kernel&limit=1&offset={offset}")).await;
        assert_eq!(page["total"], 4, "{page}");
        assert_eq!(page["hasMore"], offset < 3, "{page}");
        seen.extend(titles(&page));
    }
    seen.sort();
    assert_eq!(seen, ["a", "b", "c", "e"], "pages neither repeat nor skip");
    let past = search(&app, &me, "kernel&limit=2&offset=10").await;
    assert_eq!(past["total"], 4, "{past}");
    assert_eq!(past["notes"], json!([]));
    assert_eq!(past["hasMore"], false);
    let none = search(&app, &me, "nothing&offset=3").await;
    assert_eq!(none["total"], 0, "{none}");
}
