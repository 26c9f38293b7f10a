//! Modules: admin CRUD and reorder, who may write, list filters and paging, validation,
//! and the prerequisite graph (unknown ids, self, cycles, deletion).

use figment::providers::Serialized;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::harness::{Backend, TestApp};
use crate::on_both_backends;

on_both_backends!(
    admin_creates_reads_updates_and_deletes,
    only_admins_write,
    list_filters_and_pages,
    invalid_fields_are_named,
    prerequisites_must_exist_and_not_cycle,
    reorder_sets_the_workshop_order,
    module_and_progress_routes_are_rate_limited_per_user,
);

const MODULES: &str = "/api/workbook/modules";

/// A valid module body; `extra` fields override.
pub fn module_body(title: &str, extra: Value) -> Value {
    let mut body = json!({
        "title": title,
        "description": format!("All about {title}"),
        "duration": 45,
        "difficulty": "beginner",
        "content": {
            "objectives": ["understand it"],
            "materials": ["slides.pdf"],
            "exercises": [{"title": "Try it", "description": "Do the thing"}]
        }
    });
    if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
        for (key, value) in extra {
            body.insert(key.clone(), value.clone());
        }
    }
    body
}

/// Creates a module as `admin` and returns it.
pub async fn create_module(app: &TestApp, admin: &str, body: Value) -> Value {
    let (status, created) = app.post(MODULES, Some(admin), body).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["success"], true);
    created["module"].clone()
}

pub fn id_of(module: &Value) -> String {
    module["id"].as_str().unwrap().to_owned()
}

async fn put(app: &TestApp, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
    app.call(Method::PUT, path, Some(token), Some(body)).await
}

async fn delete(app: &TestApp, path: &str, token: &str) -> (StatusCode, Value) {
    app.call(Method::DELETE, path, Some(token), None).await
}

fn field_names(body: &Value) -> Vec<String> {
    body["error"]["fields"]
        .as_array()
        .map(|fields| {
            fields
                .iter()
                .map(|f| f["field"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

async fn admin_creates_reads_updates_and_deletes(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let admin = app.user_with_role("admin@example.com", "admin").await;
    let session = uuid::Uuid::new_v4().to_string();
    let first = create_module(
        &app,
        &admin,
        module_body("Intro", json!({"linkedSessionId": session})),
    )
    .await;
    assert_eq!(first["title"], "Intro");
    assert_eq!(first["description"], "All about Intro");
    assert_eq!(first["order"], 1, "the first module goes first");
    assert_eq!(first["duration"], 45);
    assert_eq!(first["difficulty"], "beginner");
    assert_eq!(first["content"]["objectives"], json!(["understand it"]));
    assert_eq!(first["content"]["materials"], json!(["slides.pdf"]));
    assert_eq!(
        first["content"]["exercises"],
        json!([{"title": "Try it", "description": "Do the thing"}])
    );
    assert_eq!(first["prerequisites"], json!([]));
    assert_eq!(first["linkedSessionId"], session.as_str());
    assert_eq!(first["isLocked"], false);
    assert_eq!(first["progress"], Value::Null);
    assert_eq!(first["createdAt"], first["updatedAt"]);
    let second = create_module(&app, &admin, module_body("Next", json!({}))).await;
    assert_eq!(second["order"], 2, "new modules go last");

    let path = format!("{MODULES}/{}", id_of(&first));
    let (status, got) = app.get(&path, Some(&admin)).await;
    assert_eq!(status, StatusCode::OK, "{got}");
    assert_eq!(got["module"], first);

    let (status, updated) = put(
        &app,
        &path,
        &admin,
        json!({"title": "  Intro, revised  ", "difficulty": "advanced", "linkedSessionId": null}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    let updated = &updated["module"];
    assert_eq!(updated["title"], "Intro, revised", "titles are trimmed");
    assert_eq!(updated["difficulty"], "advanced");
    assert_eq!(updated["linkedSessionId"], Value::Null);
    assert_eq!(
        updated["description"], first["description"],
        "absent fields stay"
    );
    assert_eq!(updated["content"], first["content"]);
    assert_eq!(updated["order"], 1);
    assert_eq!(updated["createdAt"], first["createdAt"]);
    assert_ne!(updated["updatedAt"], first["updatedAt"]);

    let (status, _) = delete(&app, &path, &admin).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = app.get(&path, Some(&admin)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"]["code"], "not_found");
    let (status, _) = delete(&app, &path, &admin).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = put(&app, &path, &admin, json!({"title": "ghost"})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body) = app
        .get(&format!("{MODULES}/not-a-uuid"), Some(&admin))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
}

async fn only_admins_write(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let admin = app.user_with_role("admin@example.com", "admin").await;
    let module = create_module(&app, &admin, module_body("Intro", json!({}))).await;
    let path = format!("{MODULES}/{}", id_of(&module));
    for (email, role) in [("u@example.com", "user"), ("p@example.com", "premium")] {
        let token = app.user_with_role(email, role).await;
        let (status, body) = app
            .post(MODULES, Some(&token), module_body("Mine", json!({})))
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{role}: {body}");
        assert_eq!(body["error"]["code"], "forbidden");
        let (status, _) = put(&app, &path, &token, json!({"title": "Mine"})).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{role}");
        let (status, _) = delete(&app, &path, &token).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{role}");
        let (status, _) = app
            .post(
                &format!("{MODULES}/reorder"),
                Some(&token),
                json!({"ids": [id_of(&module)]}),
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{role}");

        let (status, got) = app.get(&path, Some(&token)).await;
        assert_eq!(status, StatusCode::OK, "{role} reads");
        assert_eq!(got["module"]["title"], "Intro", "{role}: unchanged");
        let (status, list) = app.get(MODULES, Some(&token)).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(list["total"], 1);
    }
    let (status, _) = app.get(MODULES, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = app.get(&path, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

fn titles(list: &Value) -> Vec<&str> {
    list["modules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["title"].as_str().unwrap())
        .collect()
}

async fn list_filters_and_pages(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let admin = app.user_with_role("admin@example.com", "admin").await;
    let modules = [
        ("Intro to Rust", "beginner", "Ownership and borrowing"),
        ("Async Rust", "advanced", "Futures, tasks and über-fast IO"),
        ("Databases", "intermediate", "SQL for 100% of us"),
        ("Testing", "beginner", "Property tests and FUZZING"),
        ("Deployment", "intermediate", "Containers"),
    ];
    for (title, difficulty, description) in modules {
        create_module(
            &app,
            &admin,
            module_body(
                title,
                json!({"difficulty": difficulty, "description": description}),
            ),
        )
        .await;
    }
    let user = app.user_with_role("u@example.com", "user").await;
    let list = |query: &'static str| {
        let app = &app;
        let user = user.clone();
        async move {
            let (status, body) = app.get(&format!("{MODULES}{query}"), Some(&user)).await;
            assert_eq!(status, StatusCode::OK, "{query}: {body}");
            body
        }
    };

    let all = list("").await;
    assert_eq!(titles(&all), modules.map(|m| m.0), "workshop order");
    assert_eq!(all["total"], 5);
    assert_eq!(all["hasMore"], false);

    let rust = list("?search=RUST").await;
    assert_eq!(titles(&rust), ["Intro to Rust", "Async Rust"]);
    assert_eq!(rust["total"], 2);
    let in_description = list("?search=fuzz").await;
    assert_eq!(titles(&in_description), ["Testing"]);
    let unicode = list("?search=%C3%9CBER").await;
    assert_eq!(titles(&unicode), ["Async Rust"], "ÜBER finds über");
    let literal_percent = list("?search=100%25").await;
    assert_eq!(titles(&literal_percent), ["Databases"]);
    let wildcard = list("?search=%25").await;
    assert_eq!(titles(&wildcard), ["Databases"], "% is no wildcard");
    let blank = list("?search=%20%20").await;
    assert_eq!(blank["total"], 5, "a blank search is no filter");

    let beginner = list("?difficulty=beginner").await;
    assert_eq!(titles(&beginner), ["Intro to Rust", "Testing"]);
    let both = list("?difficulty=advanced&search=rust").await;
    assert_eq!(titles(&both), ["Async Rust"]);
    let none = list("?difficulty=advanced&search=sql").await;
    assert_eq!(none["total"], 0);
    assert_eq!(none["modules"], json!([]));

    let first = list("?limit=2").await;
    assert_eq!(titles(&first), ["Intro to Rust", "Async Rust"]);
    assert_eq!(
        (first["total"].as_i64(), first["hasMore"].as_bool()),
        (Some(5), Some(true))
    );
    let middle = list("?limit=2&offset=2").await;
    assert_eq!(titles(&middle), ["Databases", "Testing"]);
    assert_eq!(middle["hasMore"], true);
    let last = list("?limit=2&offset=4").await;
    assert_eq!(titles(&last), ["Deployment"]);
    assert_eq!(last["hasMore"], false);
    let past = list("?offset=10").await;
    assert_eq!(
        (past["total"].as_i64(), past["hasMore"].as_bool()),
        (Some(5), Some(false))
    );
    let filtered_page = list("?difficulty=intermediate&limit=1").await;
    assert_eq!(titles(&filtered_page), ["Databases"]);
    assert_eq!(filtered_page["total"], 2);
    assert_eq!(filtered_page["hasMore"], true);

    for (query, field) in [
        ("?limit=0", "limit"),
        ("?limit=101", "limit"),
        ("?offset=-1", "offset"),
        ("?difficulty=expert", "difficulty"),
        ("?limit=ten", "query"),
    ] {
        let (status, body) = app.get(&format!("{MODULES}{query}"), Some(&user)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{query}");
        assert_eq!(field_names(&body), [field], "{query}: {body}");
    }
    let long = format!("{MODULES}?search={}", "a".repeat(201));
    let (status, body) = app.get(&long, Some(&user)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(field_names(&body), ["search"]);
}

async fn invalid_fields_are_named(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let admin = app.user_with_role("admin@example.com", "admin").await;
    let too_many: Vec<String> = (0..51).map(|i| format!("objective {i}")).collect();
    let bad = json!({
        "title": "   ",
        "description": "d".repeat(5001),
        "order": -1,
        "duration": 10_001,
        "difficulty": "expert",
        "content": {
            "objectives": too_many,
            "materials": ["", "m".repeat(2001), "fine"],
            "exercises": [{"title": "ok"}, {"title": "", "description": "x".repeat(2001)}]
        },
        "prerequisites": (0..21).map(|_| uuid::Uuid::new_v4()).collect::<Vec<_>>(),
    });
    let (status, body) = app.post(MODULES, Some(&admin), bad).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["code"], "validation_failed");
    let fields = field_names(&body);
    for field in [
        "title",
        "description",
        "order",
        "duration",
        "difficulty",
        "prerequisites",
        "content.objectives",
        "content.materials[0]",
        "content.materials[1]",
        "content.exercises[1].title",
        "content.exercises[1].description",
    ] {
        assert!(fields.iter().any(|f| f == field), "{field} in {fields:?}");
    }
    assert!(
        !fields.iter().any(|f| f == "content.materials[2]"),
        "{fields:?}"
    );

    for (body, field) in [
        (module_body("\u{7}bell", json!({})), "title"),
        (module_body(&"t".repeat(256), json!({})), "title"),
        (
            module_body("nul", json!({"description": "a\u{0}b"})),
            "description",
        ),
        (
            module_body("a", json!({"content": {"objectives": ["x\u{0}"]}})),
            "content.objectives[0]",
        ),
        (
            module_body("a", json!({"prerequisites": ["nope"]})),
            "prerequisites[0]",
        ),
        (
            json!({"description": "no title", "difficulty": "beginner"}),
            "title",
        ),
    ] {
        let (status, response) = app.post(MODULES, Some(&admin), body.clone()).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {response}"
        );
        assert_eq!(field_names(&response), [field], "{body}: {response}");
    }
    let (status, list) = app.get(MODULES, Some(&admin)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["total"], 0, "nothing invalid was stored");

    let module = create_module(&app, &admin, module_body("Fine", json!({}))).await;
    let path = format!("{MODULES}/{}", id_of(&module));
    let (status, body) = put(&app, &path, &admin, json!({"duration": -5, "title": ""})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(field_names(&body), ["title", "duration"]);
    let (status, got) = app.get(&path, Some(&admin)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(got["module"], module, "a refused update changes nothing");
}

async fn prerequisites_must_exist_and_not_cycle(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let admin = app.user_with_role("admin@example.com", "admin").await;
    let a = create_module(&app, &admin, module_body("A", json!({}))).await;
    let b = create_module(
        &app,
        &admin,
        module_body("B", json!({"prerequisites": [id_of(&a), id_of(&a)]})),
    )
    .await;
    assert_eq!(b["prerequisites"], json!([id_of(&a)]), "repeats collapse");
    assert_eq!(b["isLocked"], true, "A is not completed");
    let c = create_module(
        &app,
        &admin,
        module_body("C", json!({"prerequisites": [id_of(&b)]})),
    )
    .await;

    let unknown = uuid::Uuid::new_v4();
    let (status, body) = app
        .post(
            MODULES,
            Some(&admin),
            module_body("D", json!({"prerequisites": [unknown]})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(field_names(&body), ["prerequisites"]);
    let (_, list) = app.get(MODULES, Some(&admin)).await;
    assert_eq!(list["total"], 3, "the refused module was not stored");

    let path = |m: &Value| format!("{MODULES}/{}", id_of(m));
    for (module, prerequisites, why) in [
        (&a, json!([id_of(&c)]), "a -> c -> b -> a"),
        (&a, json!([id_of(&b)]), "a -> b -> a"),
        (&b, json!([id_of(&b)]), "self"),
        (&b, json!([unknown]), "unknown"),
    ] {
        let (status, body) = put(
            &app,
            &path(module),
            &admin,
            json!({"prerequisites": prerequisites}),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{why}: {body}");
        assert_eq!(field_names(&body), ["prerequisites"], "{why}");
    }
    let (_, got) = app.get(&path(&b), Some(&admin)).await;
    assert_eq!(
        got["module"]["prerequisites"],
        json!([id_of(&a)]),
        "unchanged"
    );

    // A second path to the same module is no cycle.
    let (status, body) = put(
        &app,
        &path(&c),
        &admin,
        json!({"prerequisites": [id_of(&b), id_of(&a)]}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["module"]["prerequisites"],
        json!([id_of(&a), id_of(&b)]),
        "prerequisites are listed in workshop order"
    );

    // Deleting a prerequisite removes it from the modules that required it.
    let (status, _) = delete(&app, &path(&a), &admin).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, got) = app.get(&path(&b), Some(&admin)).await;
    assert_eq!(got["module"]["prerequisites"], json!([]));
    assert_eq!(got["module"]["isLocked"], false);
    let (_, got) = app.get(&path(&c), Some(&admin)).await;
    assert_eq!(got["module"]["prerequisites"], json!([id_of(&b)]));
}

async fn reorder_sets_the_workshop_order(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let admin = app.user_with_role("admin@example.com", "admin").await;
    let mut ids = Vec::new();
    for title in ["A", "B", "C"] {
        ids.push(id_of(
            &create_module(&app, &admin, module_body(title, json!({}))).await,
        ));
    }
    let reorder = format!("{MODULES}/reorder");
    let new_order = [ids[2].clone(), ids[0].clone(), ids[1].clone()];
    let (status, body) = app
        .post(&reorder, Some(&admin), json!({"ids": new_order}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["modules"],
        json!([
            {"id": new_order[0], "order": 1},
            {"id": new_order[1], "order": 2},
            {"id": new_order[2], "order": 3},
        ])
    );
    let (_, list) = app.get(MODULES, Some(&admin)).await;
    assert_eq!(titles(&list), ["C", "A", "B"]);
    let orders: Vec<i64> = list["modules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["order"].as_i64().unwrap())
        .collect();
    assert_eq!(orders, [1, 2, 3]);

    let unknown = uuid::Uuid::new_v4().to_string();
    for ids in [
        json!([ids[0], ids[1]]),
        json!([ids[0], ids[1], ids[2], ids[2]]),
        json!([ids[0], ids[1], unknown]),
        json!([ids[0], ids[1], ids[2], unknown]),
        json!([]),
    ] {
        let (status, body) = app.post(&reorder, Some(&admin), json!({"ids": ids})).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{ids}: {body}");
        assert_eq!(field_names(&body), ["ids"], "{ids}");
    }
    let (_, list) = app.get(MODULES, Some(&admin)).await;
    assert_eq!(
        titles(&list),
        ["C", "A", "B"],
        "refused reorders change nothing"
    );
}

async fn module_and_progress_routes_are_rate_limited_per_user(backend: Backend) {
    let Some(app) = TestApp::start_with(backend, |f| {
        f.merge(Serialized::default(
            "rate_limits.api",
            json!({"max": 3, "window_secs": 900}),
        ))
    })
    .await
    else {
        return;
    };
    let admin = app.user_with_role("admin@example.com", "admin").await;
    let module = create_module(&app, &admin, module_body("Intro", json!({}))).await;
    let progress = format!("/api/workbook/progress/{}", id_of(&module));
    let user = app.user_with_role("u@example.com", "user").await;
    for _ in 0..3 {
        let (status, _) = app.get(MODULES, Some(&user)).await;
        assert_eq!(status, StatusCode::OK);
    }
    let response = app
        .client
        .get(app.url(MODULES))
        .bearer_auth(&user)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(response.headers().contains_key("retry-after"));
    let (status, body) = app
        .post(&progress, Some(&user), json!({"progressPercent": 5}))
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(body["error"]["code"], "rate_limited");

    let other = app.user_with_role("o@example.com", "user").await;
    let (status, _) = app
        .post(&progress, Some(&other), json!({"progressPercent": 5}))
        .await;
    assert_eq!(status, StatusCode::OK, "limits are per user");
}
