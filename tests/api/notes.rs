//! Notes: CRUD with versions, the authorization matrix, filters, export, privacy (search is
//! in `note_search.rs`).

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::harness::{Backend, TestApp};
use crate::on_both_backends;

on_both_backends!(
    create_read_update_delete_with_versions,
    authorization_matrix,
    list_filters_and_paging,
    exports_in_every_format,
    account_export_and_deletion,
    validation_names_the_fields,
);

pub(crate) async fn put(app: &TestApp, token: &str, id: &str, body: Value) -> (StatusCode, Value) {
    app.call(
        Method::PUT,
        &format!("/api/workbook/notes/{id}"),
        Some(token),
        Some(body),
    )
    .await
}

async fn create_read_update_delete_with_versions(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let token = app.user_with_role("owner@example.com", "user").await;
    let note = app.create_note(&token,
        json!({"title": "Week 1", "content": "# Goals\nlearn", "tags": ["Rust", "rust", " week "],
               "folder": "course"}),
    )
    .await;
    assert_eq!(note["tags"], json!(["rust", "week"]));
    assert_eq!(note["version"], 1);
    assert_eq!(note["isPrivate"], true);
    assert_eq!(note["permission"], "owner");
    let id = note["id"].as_str().unwrap();

    let (status, fetched) = app
        .get(&format!("/api/workbook/notes/{id}"), Some(&token))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(fetched["note"]["content"], "# Goals\nlearn");

    let (status, updated) = put(&app, &token, id, json!({"version": 1, "title": "Week one"})).await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated["note"]["version"], 2);
    assert_eq!(updated["note"]["title"], "Week one");
    assert_eq!(updated["note"]["content"], "# Goals\nlearn");
    assert_eq!(updated["note"]["folder"], "course");

    // A change based on version 1 lost the race.
    let (status, body) = put(&app, &token, id, json!({"version": 1, "content": "stale"})).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["error"]["code"], "version_conflict");

    let (status, updated) = put(&app, &token, id, json!({"version": 2, "folder": null})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(updated["note"]["folder"], Value::Null);

    let (status, _) = app
        .call(
            Method::DELETE,
            &format!("/api/workbook/notes/{id}"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = app
        .get(&format!("/api/workbook/notes/{id}"), Some(&token))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

pub(crate) async fn share(
    app: &TestApp,
    owner: &str,
    id: &str,
    email: &str,
    permission: &str,
) -> StatusCode {
    let (status, _) = app
        .post(
            &format!("/api/workbook/notes/{id}/shares"),
            Some(owner),
            json!({"email": email, "permission": permission}),
        )
        .await;
    status
}

async fn authorization_matrix(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let owner = app.user_with_role("owner@example.com", "user").await;
    let writer = app.user_with_role("writer@example.com", "user").await;
    let reader = app.user_with_role("reader@example.com", "user").await;
    let stranger = app.user_with_role("stranger@example.com", "user").await;
    let admin = app.user_with_role("admin@example.com", "admin").await;

    let private = app.create_note(&owner, json!({"title": "Diary"})).await;
    let private_id = private["id"].as_str().unwrap();
    assert_eq!(
        share(&app, &owner, private_id, "reader@example.com", "read").await,
        StatusCode::CONFLICT
    );

    let note = app
        .create_note(&owner, json!({"title": "Plan", "isPrivate": false}))
        .await;
    let id = note["id"].as_str().unwrap();
    assert_eq!(
        share(&app, &owner, id, "writer@example.com", "write").await,
        StatusCode::CREATED
    );
    assert_eq!(
        share(&app, &owner, id, "reader@example.com", "read").await,
        StatusCode::CREATED
    );
    assert_eq!(
        share(&app, &owner, id, "nobody@example.com", "read").await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        share(&app, &writer, id, "stranger@example.com", "read").await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        share(&app, &stranger, id, "stranger@example.com", "read").await,
        StatusCode::NOT_FOUND
    );

    let path = format!("/api/workbook/notes/{id}");
    let expect = |who: &str, status: StatusCode, wanted: StatusCode, what: &str| {
        assert_eq!(status, wanted, "{who} {what}");
    };
    for (who, token, read, edit) in [
        ("owner", &owner, StatusCode::OK, StatusCode::OK),
        ("writer", &writer, StatusCode::OK, StatusCode::OK),
        ("reader", &reader, StatusCode::OK, StatusCode::FORBIDDEN),
        (
            "stranger",
            &stranger,
            StatusCode::NOT_FOUND,
            StatusCode::NOT_FOUND,
        ),
        (
            "admin",
            &admin,
            StatusCode::NOT_FOUND,
            StatusCode::NOT_FOUND,
        ),
    ] {
        let (status, body) = app.get(&path, Some(token)).await;
        expect(who, status, read, "get");
        if read == StatusCode::OK {
            let expected = match who {
                "owner" => "owner",
                "writer" => "write",
                _ => "read",
            };
            assert_eq!(body["note"]["permission"], expected);
        }
        let (_, current) = app.get(&path, Some(&owner)).await;
        let version = current["note"]["version"].as_i64().unwrap();
        let (status, _) = put(
            &app,
            token,
            id,
            json!({"version": version, "title": format!("by {who}")}),
        )
        .await;
        expect(who, status, edit, "edit title");
        let (status, _) = app
            .get(&format!("{path}/export?format=md"), Some(token))
            .await;
        expect(who, status, read, "export");
        let (status, listed) = app.get("/api/workbook/notes", Some(token)).await;
        assert_eq!(status, StatusCode::OK);
        let sees = listed["notes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["id"] == id);
        assert_eq!(sees, read == StatusCode::OK, "{who} list");
    }
    for (who, token, wanted) in [
        ("writer", &writer, StatusCode::FORBIDDEN),
        ("reader", &reader, StatusCode::FORBIDDEN),
        ("stranger", &stranger, StatusCode::NOT_FOUND),
        ("admin", &admin, StatusCode::NOT_FOUND),
    ] {
        let (status, _) = app.call(Method::DELETE, &path, Some(token), None).await;
        expect(who, status, wanted, "delete");
        let (status, _) = app.get(&format!("{path}/shares"), Some(token)).await;
        expect(who, status, wanted, "list shares");
        let (_, current) = app.get(&path, Some(&owner)).await;
        let version = current["note"]["version"].as_i64().unwrap();
        let (status, _) = put(
            &app,
            token,
            id,
            json!({"version": version, "isPrivate": true}),
        )
        .await;
        expect(who, status, wanted, "change privacy");
    }

    let (status, shares) = app.get(&format!("{path}/shares"), Some(&owner)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(shares["shares"].as_array().unwrap().len(), 2);
    let reader_id = shares["shares"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["email"] == "reader@example.com")
        .unwrap()["userId"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, _) = app
        .call(
            Method::DELETE,
            &format!("{path}/shares/{reader_id}"),
            Some(&owner),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = app.get(&path, Some(&reader)).await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "a revoked share reads nothing"
    );

    // Making the note private revokes every remaining share.
    let (_, current) = app.get(&path, Some(&owner)).await;
    let version = current["note"]["version"].as_i64().unwrap();
    let (status, _) = put(
        &app,
        &owner,
        id,
        json!({"version": version, "isPrivate": true}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = app.get(&path, Some(&writer)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (status, _) = app.call(Method::DELETE, &path, Some(&owner), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
}

pub(crate) fn titles(list: &Value) -> Vec<String> {
    let mut titles: Vec<String> = list["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["title"].as_str().unwrap().to_owned())
        .collect();
    titles.sort();
    titles
}

async fn list_filters_and_paging(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let me = app.user_with_role("me@example.com", "user").await;
    let friend = app.user_with_role("friend@example.com", "user").await;
    for (title, tags, folder) in [
        ("a", json!(["x", "y"]), "one"),
        ("b", json!(["x"]), "one"),
        ("c", json!(["y", "under_score"]), "two"),
        ("d", json!([]), "two"),
        ("e", json!(["x", "y", "z"]), "two"),
    ] {
        app.create_note(&me, json!({"title": title, "tags": tags, "folder": folder}))
            .await;
    }
    let theirs = app
        .create_note(
            &friend,
            json!({"title": "f", "tags": ["x"], "isPrivate": false}),
        )
        .await;
    share(
        &app,
        &friend,
        theirs["id"].as_str().unwrap(),
        "me@example.com",
        "read",
    )
    .await;

    let list = |query: &'static str| {
        let app = &app;
        let me = me.clone();
        async move {
            let (status, body) = app
                .get(&format!("/api/workbook/notes{query}"), Some(&me))
                .await;
            assert_eq!(status, StatusCode::OK, "{query}: {body}");
            body
        }
    };
    assert_eq!(titles(&list("").await), ["a", "b", "c", "d", "e", "f"]);
    assert_eq!(titles(&list("?tags=x").await), ["a", "b", "e", "f"]);
    assert_eq!(titles(&list("?tags=x,y").await), ["a", "e"]);
    assert_eq!(titles(&list("?tags=under_score").await), ["c"]);
    assert_eq!(
        titles(&list("?tags=under-score").await),
        Vec::<String>::new()
    );
    assert_eq!(titles(&list("?folder=two").await), ["c", "d", "e"]);
    assert_eq!(titles(&list("?shared=true").await), ["f"]);
    assert_eq!(
        titles(&list("?shared=false&tags=y&folder=two").await),
        ["c", "e"]
    );

    let page = list("?limit=2&offset=0").await;
    assert_eq!(
        (page["total"].as_i64(), page["hasMore"].as_bool()),
        (Some(6), Some(true))
    );
    assert_eq!(page["notes"].as_array().unwrap().len(), 2);
    let last = list("?limit=2&offset=4").await;
    assert_eq!(last["hasMore"], false);
    assert_eq!(last["notes"].as_array().unwrap().len(), 2);

    for bad in [
        "?limit=0",
        "?limit=101",
        "?offset=-1",
        "?limit=abc",
        "?moduleId=nope",
        "?search=%20%2A",
    ] {
        let (status, body) = app
            .get(&format!("/api/workbook/notes{bad}"), Some(&me))
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {body}");
    }
}

async fn download(app: &TestApp, token: &str, path: &str) -> (String, Vec<u8>) {
    let response = app
        .client
        .get(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    let kind = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    (kind, response.bytes().await.unwrap().to_vec())
}

/// The text `pdftotext` reads back from a PDF.
fn pdf_text(pdf: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("export.pdf");
    std::fs::write(&path, pdf).unwrap();
    let output = std::process::Command::new("pdftotext")
        .arg(&path)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils) is installed by scripts/setup.sh");
    assert!(
        output.status.success(),
        "pdftotext failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

async fn exports_in_every_format(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let me = app.user_with_role("me@example.com", "user").await;
    let body = format!(
        "# Heading\n\nFirst paragraph (with parens).\n\n{}",
        "word ".repeat(400)
    );
    let note = app
        .create_note(
            &me,
            json!({"title": "Export me", "content": body, "tags": ["t1"]}),
        )
        .await;
    app.create_note(
        &me,
        json!({"title": "Second note", "content": "second body"}),
    )
    .await;
    let id = note["id"].as_str().unwrap();

    let (kind, md) = download(
        &app,
        &me,
        &format!("/api/workbook/notes/{id}/export?format=md"),
    )
    .await;
    assert!(kind.starts_with("text/markdown"));
    let md = String::from_utf8(md).unwrap();
    assert!(md.starts_with("# Export me\n"), "{md}");
    assert!(md.contains("First paragraph (with parens)."));

    let (kind, json_bytes) = download(
        &app,
        &me,
        &format!("/api/workbook/notes/{id}/export?format=json"),
    )
    .await;
    assert_eq!(kind, "application/json");
    let parsed: Value = serde_json::from_slice(&json_bytes).unwrap();
    assert_eq!(parsed[0]["title"], "Export me");

    let (kind, pdf) = download(
        &app,
        &me,
        &format!("/api/workbook/notes/{id}/export?format=pdf"),
    )
    .await;
    assert_eq!(kind, "application/pdf");
    let text = pdf_text(&pdf);
    assert!(text.contains("Export me"), "{text}");
    assert!(text.contains("First paragraph (with parens)."), "{text}");
    assert!(text.contains("Heading"), "{text}");

    let (_, all) = download(&app, &me, "/api/workbook/notes/export?format=pdf").await;
    let text = pdf_text(&all);
    assert!(
        text.contains("Export me") && text.contains("second body"),
        "{text}"
    );

    let (status, body) = app
        .get(
            &format!("/api/workbook/notes/{id}/export?format=docx"),
            Some(&me),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
}

async fn account_export_and_deletion(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let leaving = app.user_with_role("leaving@example.com", "user").await;
    let friend = app.user_with_role("friend@example.com", "user").await;
    let note = app
        .create_note(&leaving, json!({"title": "Mine", "isPrivate": false}))
        .await;
    let id = note["id"].as_str().unwrap();
    share(&app, &leaving, id, "friend@example.com", "write").await;
    let theirs = app
        .create_note(&friend, json!({"title": "Theirs", "isPrivate": false}))
        .await;
    share(
        &app,
        &friend,
        theirs["id"].as_str().unwrap(),
        "leaving@example.com",
        "read",
    )
    .await;

    let (status, export) = app.get("/api/workbook/me/export", Some(&leaving)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(export["user"]["email"], "leaving@example.com");
    assert_eq!(export["notes"][0]["title"], "Mine");
    assert_eq!(
        export["notes"][0]["shares"][0]["email"],
        "friend@example.com"
    );
    assert_eq!(export["sharedWithMe"][0]["title"], "Theirs");

    let (status, _) = app
        .call(
            Method::DELETE,
            "/api/workbook/me",
            Some(&leaving),
            Some(json!({"password": "wrong"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = app
        .call(
            Method::DELETE,
            "/api/workbook/me",
            Some(&leaving),
            Some(json!({"password": "password123"})),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = app.get("/api/workbook/auth/me", Some(&leaving)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = app
        .get(&format!("/api/workbook/notes/{id}"), Some(&friend))
        .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "the deleted account's notes are gone"
    );
    let (status, _) = app
        .get(
            &format!("/api/workbook/notes/{}", theirs["id"].as_str().unwrap()),
            Some(&friend),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "others' notes stay");
}

async fn validation_names_the_fields(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let me = app.user_with_role("me@example.com", "user").await;
    let cases = [
        (json!({"title": ""}), "title"),
        (json!({"title": "x".repeat(256)}), "title"),
        (
            json!({"title": "ok", "content": "x".repeat(100_001)}),
            "content",
        ),
        (
            json!({"title": "ok", "tags": (0..11).map(|i| format!("t{i}")).collect::<Vec<_>>()}),
            "tags",
        ),
        (json!({"title": "ok", "tags": ["a,b"]}), "tags"),
        (json!({"title": "ok", "tags": ["x".repeat(51)]}), "tags"),
        (
            json!({"title": "ok", "moduleId": uuid::Uuid::new_v4()}),
            "moduleId",
        ),
        (json!({"title": "ok", "moduleId": "not-a-uuid"}), "moduleId"),
    ];
    for (body, field) in cases {
        let (status, answer) = app.post("/api/workbook/notes", Some(&me), body).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
        let fields: Vec<&str> = answer["error"]["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["field"].as_str().unwrap())
            .collect();
        assert!(fields.contains(&field), "{field}: {answer}");
    }
    let (status, _) = app.get("/api/workbook/notes/not-a-uuid", Some(&me)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = app
        .get(
            &format!("/api/workbook/notes/{}", uuid::Uuid::new_v4()),
            Some(&me),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
