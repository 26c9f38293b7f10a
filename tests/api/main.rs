//! HTTP API tests against a real server on loopback, each on SQLite and on PostgreSQL.

mod harness;
mod hub_client;

mod audio;
mod audio_restart;
mod auth;
mod cli;
mod client_address;
mod errors;
mod hardening_connections;
mod hardening_export;
mod hardening_http;
mod hub;
mod hub_capabilities;
mod hub_chat;
mod hub_crash;
mod hub_hardening;
mod hub_moderation;
mod login_lifetime;
mod media;
mod modules;
mod note_admission;
mod note_search;
mod note_store;
mod notes;
mod notes_live;
mod openapi;
mod operations;
mod progress;
mod recording;
mod recording_crash;
mod request_fields;
mod security_table;
mod sessions;
mod sign_in_limits;
mod ws_heartbeat;
