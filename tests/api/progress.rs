//! Progress: reports accumulate time and set the server's timestamps, locked modules refuse
//! reports, validation, per-module statistics, and attendance credit.

use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::harness::{Backend, TestApp};
use crate::modules::{create_module, id_of, module_body};
use crate::on_both_backends;

on_both_backends!(
    reports_accumulate_and_stamp_times,
    prerequisites_lock_until_completed,
    invalid_reports_are_refused,
    admins_see_per_module_stats,
    admins_see_each_learner_and_completions_per_day,
    attendance_credits_completion,
);

fn progress_path(module: &Value) -> String {
    format!("/api/workbook/progress/{}", id_of(module))
}

async fn report(app: &TestApp, token: &str, module: &Value, body: Value) -> Value {
    let (status, response) = app.post(&progress_path(module), Some(token), body).await;
    assert_eq!(status, StatusCode::OK, "{response}");
    assert_eq!(response["success"], true);
    response["progress"].clone()
}

fn time(value: &Value) -> DateTime<Utc> {
    value.as_str().unwrap().parse().unwrap()
}

async fn reports_accumulate_and_stamp_times(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let admin = app.user_with_role("admin@example.com", "admin").await;
    let module = create_module(&app, &admin, module_body("Intro", json!({}))).await;
    let user = app.user_with_role("u@example.com", "user").await;

    let before = Utc::now();
    let first = report(
        &app,
        &user,
        &module,
        json!({"progressPercent": 30, "timeSpentMinutes": 20, "status": "in_progress"}),
    )
    .await;
    assert_eq!(first["moduleId"], id_of(&module));
    assert_eq!(first["status"], "in_progress");
    assert_eq!(first["progressPercent"], 30);
    assert_eq!(first["timeSpentMinutes"], 20);
    assert_eq!(first["completedAt"], Value::Null);
    assert!(time(&first["lastAccessedAt"]) >= before);

    let second = report(
        &app,
        &user,
        &module,
        json!({"progressPercent": 60, "timeSpentMinutes": 15, "status": "in_progress"}),
    )
    .await;
    assert_eq!(second["timeSpentMinutes"], 35, "minutes add up");
    assert_eq!(second["progressPercent"], 60);
    assert!(time(&second["lastAccessedAt"]) >= time(&first["lastAccessedAt"]));

    let done = report(
        &app,
        &user,
        &module,
        json!({"progressPercent": 80, "timeSpentMinutes": 5, "status": "completed"}),
    )
    .await;
    assert_eq!(done["status"], "completed");
    assert_eq!(done["progressPercent"], 100, "completed means 100 %");
    assert_eq!(done["timeSpentMinutes"], 40);
    let completed_at = time(&done["completedAt"]);
    assert!(completed_at >= time(&second["lastAccessedAt"]));

    let again = report(
        &app,
        &user,
        &module,
        json!({"progressPercent": 100, "status": "completed"}),
    )
    .await;
    assert_eq!(
        time(&again["completedAt"]),
        completed_at,
        "kept while completed"
    );
    assert_eq!(
        again["timeSpentMinutes"], 40,
        "timeSpentMinutes defaults to 0"
    );
    assert!(time(&again["lastAccessedAt"]) >= time(&done["lastAccessedAt"]));

    // Mine only: another learner's reports are theirs.
    let other = app.user_with_role("o@example.com", "user").await;
    let (_, theirs) = app.get("/api/workbook/progress", Some(&other)).await;
    assert_eq!(theirs["progress"], json!([]));
    let (status, mine) = app.get("/api/workbook/progress", Some(&user)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(mine["progress"], json!([again]));
    let (_, got) = app
        .get(
            &format!("/api/workbook/modules/{}", id_of(&module)),
            Some(&user),
        )
        .await;
    assert_eq!(
        got["module"]["progress"], again,
        "modules carry my progress"
    );
    let (_, got) = app
        .get(
            &format!("/api/workbook/modules/{}", id_of(&module)),
            Some(&other),
        )
        .await;
    assert_eq!(got["module"]["progress"], Value::Null);

    let back = report(
        &app,
        &user,
        &module,
        json!({"progressPercent": 50, "status": "in_progress"}),
    )
    .await;
    assert_eq!(
        back["completedAt"],
        Value::Null,
        "cleared when no longer completed"
    );
    assert_eq!(back["progressPercent"], 50);

    // Without a status, the percent decides it.
    for (percent, status) in [(0, "not_started"), (25, "in_progress"), (100, "completed")] {
        let progress = report(&app, &user, &module, json!({"progressPercent": percent})).await;
        assert_eq!(progress["status"], status, "{percent}");
    }
}

async fn prerequisites_lock_until_completed(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let admin = app.user_with_role("admin@example.com", "admin").await;
    let a = create_module(&app, &admin, module_body("A", json!({}))).await;
    let b = create_module(&app, &admin, module_body("B", json!({}))).await;
    let c = create_module(
        &app,
        &admin,
        module_body("C", json!({"prerequisites": [id_of(&a), id_of(&b)]})),
    )
    .await;
    let user = app.user_with_role("u@example.com", "user").await;
    let locks = |list: &Value| -> Vec<bool> {
        list["modules"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["isLocked"].as_bool().unwrap())
            .collect()
    };
    let (_, list) = app.get("/api/workbook/modules", Some(&user)).await;
    assert_eq!(locks(&list), [false, false, true]);

    let (status, body) = app
        .post(
            &progress_path(&c),
            Some(&user),
            json!({"progressPercent": 10}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["error"]["code"], "module_locked");
    let (_, mine) = app.get("/api/workbook/progress", Some(&user)).await;
    assert_eq!(
        mine["progress"],
        json!([]),
        "a refused report stores nothing"
    );

    report(
        &app,
        &user,
        &a,
        json!({"progressPercent": 100, "status": "completed"}),
    )
    .await;
    report(
        &app,
        &user,
        &b,
        json!({"progressPercent": 90, "status": "in_progress"}),
    )
    .await;
    let (_, list) = app.get("/api/workbook/modules", Some(&user)).await;
    assert_eq!(locks(&list), [false, false, true], "B is not completed yet");
    let (status, _) = app
        .post(
            &progress_path(&c),
            Some(&user),
            json!({"progressPercent": 10}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);

    report(
        &app,
        &user,
        &b,
        json!({"progressPercent": 100, "status": "completed"}),
    )
    .await;
    let (_, list) = app.get("/api/workbook/modules", Some(&user)).await;
    assert_eq!(locks(&list), [false, false, false]);
    report(&app, &user, &c, json!({"progressPercent": 10})).await;

    // Locks are per learner, and reopening a prerequisite locks again.
    let other = app.user_with_role("o@example.com", "user").await;
    let (_, list) = app.get("/api/workbook/modules", Some(&other)).await;
    assert_eq!(locks(&list), [false, false, true]);
    report(
        &app,
        &user,
        &a,
        json!({"progressPercent": 40, "status": "in_progress"}),
    )
    .await;
    let (_, got) = app
        .get(&format!("/api/workbook/modules/{}", id_of(&c)), Some(&user))
        .await;
    assert_eq!(got["module"]["isLocked"], true);
    assert_eq!(got["module"]["progress"]["progressPercent"], 10);
}

async fn invalid_reports_are_refused(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let admin = app.user_with_role("admin@example.com", "admin").await;
    let module = create_module(&app, &admin, module_body("Intro", json!({}))).await;
    let user = app.user_with_role("u@example.com", "user").await;
    for (body, field) in [
        (json!({"progressPercent": 101}), "progressPercent"),
        (json!({"progressPercent": -1}), "progressPercent"),
        (
            json!({"progressPercent": 5, "timeSpentMinutes": 1441}),
            "timeSpentMinutes",
        ),
        (
            json!({"progressPercent": 5, "timeSpentMinutes": -5}),
            "timeSpentMinutes",
        ),
        (json!({"progressPercent": 5, "status": "done"}), "status"),
        (json!({"timeSpentMinutes": 5}), "progressPercent"),
        (json!({"progressPercent": "half"}), "progressPercent"),
    ] {
        let (status, response) = app
            .post(&progress_path(&module), Some(&user), body.clone())
            .await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {response}"
        );
        assert_eq!(response["error"]["fields"][0]["field"], field, "{body}");
    }
    let (_, mine) = app.get("/api/workbook/progress", Some(&user)).await;
    assert_eq!(mine["progress"], json!([]));

    let unknown = format!("/api/workbook/progress/{}", uuid::Uuid::new_v4());
    let (status, body) = app
        .post(&unknown, Some(&user), json!({"progressPercent": 5}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (status, _) = app
        .post(
            "/api/workbook/progress/not-a-uuid",
            Some(&user),
            json!({"progressPercent": 5}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = app
        .post(&progress_path(&module), None, json!({"progressPercent": 5}))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

async fn admins_see_per_module_stats(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let admin = app.user_with_role("admin@example.com", "admin").await;
    let a = create_module(&app, &admin, module_body("A", json!({}))).await;
    let b = create_module(&app, &admin, module_body("B", json!({}))).await;
    let ann = app.user_with_role("ann@example.com", "user").await;
    let bob = app.user_with_role("bob@example.com", "premium").await;
    let cat = app.user_with_role("cat@example.com", "user").await;
    report(
        &app,
        &ann,
        &a,
        json!({"progressPercent": 100, "timeSpentMinutes": 30, "status": "completed"}),
    )
    .await;
    report(
        &app,
        &bob,
        &a,
        json!({"progressPercent": 40, "timeSpentMinutes": 10}),
    )
    .await;
    report(
        &app,
        &cat,
        &a,
        json!({"progressPercent": 0, "timeSpentMinutes": 2}),
    )
    .await;

    for token in [&ann, &bob] {
        let (status, body) = app.get("/api/workbook/progress/stats", Some(token)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    }
    let (status, stats) = app.get("/api/workbook/progress/stats", Some(&admin)).await;
    assert_eq!(status, StatusCode::OK, "{stats}");
    let expected = json!([
        {
            "moduleId": id_of(&a), "title": "A", "order": 1,
            "learners": 3, "started": 2, "completed": 1,
            "averagePercent": 140.0 / 3.0, "averageTimeSpentMinutes": 14.0,
        },
        {
            "moduleId": id_of(&b), "title": "B", "order": 2,
            "learners": 0, "started": 0, "completed": 0,
            "averagePercent": 0.0, "averageTimeSpentMinutes": 0.0,
        },
    ]);
    let modules = stats["modules"].as_array().unwrap();
    assert_eq!(modules.len(), 2);
    for (got, want) in modules.iter().zip(expected.as_array().unwrap()) {
        for key in [
            "moduleId",
            "title",
            "order",
            "learners",
            "started",
            "completed",
        ] {
            assert_eq!(got[key], want[key], "{key}: {got}");
        }
        for key in ["averagePercent", "averageTimeSpentMinutes"] {
            let (got, want) = (got[key].as_f64().unwrap(), want[key].as_f64().unwrap());
            assert!((got - want).abs() < 1e-9, "{key}: {got} != {want}");
        }
    }
}

/// The dashboard's numbers: each account's totals, most recently active first, and the
/// completions of the last days with empty days kept.
async fn admins_see_each_learner_and_completions_per_day(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let admin = app.user_with_role("admin@example.com", "admin").await;
    let a = create_module(&app, &admin, module_body("A", json!({}))).await;
    let b = create_module(&app, &admin, module_body("B", json!({}))).await;
    let ann = app.user_with_role("ann@example.com", "user").await;
    let bob = app.user_with_role("bob@example.com", "user").await;
    let done = json!({"progressPercent": 100, "timeSpentMinutes": 30});
    report(
        &app,
        &bob,
        &a,
        json!({"progressPercent": 40, "timeSpentMinutes": 5}),
    )
    .await;
    report(&app, &ann, &a, done.clone()).await;
    report(&app, &ann, &b, done).await;

    let (status, body) = app
        .get("/api/workbook/progress/learners", Some(&admin))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let rows: Vec<(&str, i64, i64, i64)> = body["learners"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["email"].as_str().unwrap(),
                l["completed"].as_i64().unwrap(),
                l["inProgress"].as_i64().unwrap(),
                l["timeSpentMinutes"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("ann@example.com", 2, 0, 60),
            ("bob@example.com", 0, 1, 5),
            ("admin@example.com", 0, 0, 0),
        ],
        "most recently active first, accounts without progress last"
    );
    assert_eq!(body["learners"][2]["lastAccessedAt"], Value::Null);

    let (status, body) = app
        .get("/api/workbook/progress/completions?days=7", Some(&admin))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let days = body["days"].as_array().unwrap();
    assert_eq!(days.len(), 7);
    assert_eq!(days[6]["date"], Utc::now().date_naive().to_string());
    assert_eq!(days[6]["completed"], 2);
    assert!(days[..6].iter().all(|d| d["completed"] == 0), "{body}");

    for query in ["days=0", "days=366", "days=x"] {
        let path = format!("/api/workbook/progress/completions?{query}");
        let (status, body) = app.get(&path, Some(&admin)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{query}: {body}");
    }
    for path in [
        "/api/workbook/progress/learners",
        "/api/workbook/progress/completions",
    ] {
        let (status, _) = app.get(path, Some(&ann)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
    }
}

async fn attendance_credits_completion(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let admin = app.user_with_role("admin@example.com", "admin").await;
    let session = uuid::Uuid::new_v4();
    let a = create_module(&app, &admin, module_body("A", json!({}))).await;
    let b = create_module(
        &app,
        &admin,
        module_body(
            "B",
            json!({"prerequisites": [id_of(&a)], "linkedSessionId": session}),
        ),
    )
    .await;
    let registered = app.register("learner@example.com", "password123").await;
    let user_id: uuid::Uuid = registered["user"]["id"].as_str().unwrap().parse().unwrap();
    let token = registered["token"].as_str().unwrap();

    let db = &app.state.db;
    let linked = workbook::db::modules::linked_to_session(db, session)
        .await
        .unwrap();
    assert_eq!(linked, [id_of(&b).parse::<uuid::Uuid>().unwrap()]);
    report(
        &app,
        token,
        &a,
        json!({"progressPercent": 20, "timeSpentMinutes": 7}),
    )
    .await;
    let credited = workbook::db::progress::credit_completion(db, user_id, linked[0], 60)
        .await
        .unwrap()
        .expect("the module exists");
    assert_eq!(credited.progress_percent, 100);
    assert_eq!(credited.time_spent_minutes, 60);
    assert!(credited.completed_at.is_some(), "credit ignores the lock");
    let missing = workbook::db::progress::credit_completion(db, user_id, uuid::Uuid::new_v4(), 5)
        .await
        .unwrap();
    assert!(missing.is_none());

    let (_, mine) = app.get("/api/workbook/progress", Some(token)).await;
    let statuses: Vec<&str> = mine["progress"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["in_progress", "completed"], "in workshop order");
}
