//! The integration tests: one binary with a module per room, so the library and the
//! shared helpers (`common`, split by purpose) are compiled and linked once, not once per
//! test file. Run one room with `cargo test --test it ROOM::` (e.g. `watch::`).

mod common;

mod addresses;
mod alerts;
mod archive_integrity;
mod bilibili_cli;
mod capture_http;
mod cli_output;
mod comments;
mod docs_links;
mod douban_cli;
mod douyin_cli;
mod entries;
mod evidence;
mod exports;
mod extract_pages;
mod feed_platform;
mod gone_at_capture;
mod infra_selftest;
mod log_vectors;
mod platforms_a;
mod platforms_b;
mod progress;
mod provenance;
mod readonly;
mod render;
mod replay;
mod search_cli;
mod security_capture;
mod security_evidence;
mod security_recovery;
mod security_requests;
mod security_serve;
mod watch;
mod watch_cli;
mod watch_feed;
mod web;
mod web_ui;
mod weibo_cli;
mod weibo_platform;
mod witness;
mod witness_bundle;
mod witness_serve;
mod xiaohongshu_cli;
mod zhihu_cli;
