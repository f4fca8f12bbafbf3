//! The `/add` page: capture URLs (or capture and watch them) from a browser, behind the
//! same token as `POST /api/captures`.
//!
//! A plain form cannot send a bearer header, so the token is a (password) field of the
//! form, sent in the POST body only, never in a URL, never stored in a cookie. Being the
//! secret itself, it is also what protects the form from cross-site requests: a page
//! elsewhere cannot submit it without knowing the token.

use super::api::{capture_for, constant_time_eq};
use super::html::{badge, enc, esc, when};
use super::pages::now;
use super::state::*;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// URLs one submission of the form may add.
pub(super) const MAX_URLS: usize = 20;

pub(super) async fn add_page(State(st): St) -> std::result::Result<Response, Fail> {
    blocking(&st, false, |st| {
        Ok(add_html(st, &Form::default(), None, &[]).into_response())
    })
    .await
}

/// What the form sent.
#[derive(Default)]
pub(super) struct Form {
    token: String,
    urls: String,
    watch: bool,
}

impl Form {
    fn parse(body: &[u8]) -> Form {
        let mut f = Form::default();
        for (k, v) in url::form_urlencoded::parse(body) {
            match k.as_ref() {
                "token" => f.token = v.trim().to_string(),
                "urls" => f.urls = v.into_owned(),
                "mode" => f.watch = v == "watch",
                _ => {}
            }
        }
        f
    }

    fn urls(&self) -> Vec<String> {
        self.urls.split_whitespace().map(str::to_string).collect()
    }
}

/// One URL's result, as the page shows it.
pub(super) struct Outcome {
    url: String,
    status: &'static str,
    post_id: Option<String>,
    detail: Option<String>,
    watch: Option<String>,
}

pub(super) async fn add_submit(
    State(st): St,
    body: axum::body::Bytes,
) -> std::result::Result<Response, Fail> {
    let form = Form::parse(&body);
    let page = |st: &std::sync::Arc<AppState>, code: StatusCode, msg: &str, res: Vec<Outcome>| {
        let st = st.clone();
        let msg = msg.to_string();
        let form_urls = form.urls.clone();
        let watch = form.watch;
        async move {
            let form = Form {
                token: String::new(),
                urls: form_urls,
                watch,
            };
            let msg = (!msg.is_empty()).then_some(msg);
            blocking(&st, false, move |st| {
                Ok((code, add_html(st, &form, msg.as_deref(), &res)).into_response())
            })
            .await
        }
    };
    let Some(token) = &st.token else {
        return page(
            &st,
            StatusCode::FORBIDDEN,
            "Adding is disabled on this server (no [serve] token_file is configured).",
            vec![],
        )
        .await;
    };
    if form.token.is_empty() || !constant_time_eq(form.token.as_bytes(), token.as_bytes()) {
        return page(
            &st,
            StatusCode::UNAUTHORIZED,
            "That is not this server's token: nothing was captured. Enter the token of [serve] token_file.",
            vec![],
        )
        .await;
    }
    let urls = form.urls();
    if urls.is_empty() {
        return page(
            &st,
            StatusCode::BAD_REQUEST,
            "Enter at least one URL, one a line.",
            vec![],
        )
        .await;
    }
    if urls.len() > MAX_URLS {
        return page(
            &st,
            StatusCode::BAD_REQUEST,
            &format!(
                "{} URLs at once is too many: at most {MAX_URLS} a time (use `samizdat capture --from FILE` for more).",
                urls.len()
            ),
            vec![],
        )
        .await;
    }
    let mut results = vec![];
    for u in urls {
        let o = match capture_for(&st, &u, form.watch, false).await {
            Ok((r, w)) => Outcome {
                url: u,
                status: r.status,
                post_id: r.post_id.clone(),
                detail: r.error.clone().or_else(|| {
                    (r.status == "gone").then(|| {
                        let o = r.outcome.map(|o| o.as_str()).unwrap_or("gone");
                        format!("the platform answered {o}")
                    })
                }),
                watch: w.map(|w| match w.error {
                    Some(e) => format!("{}: {e}", w.action),
                    None => w.action.to_string(),
                }),
            },
            Err(Fail(_, m, _)) => Outcome {
                url: u,
                status: "failed",
                post_id: None,
                detail: Some(m),
                watch: None,
            },
        };
        results.push(o);
    }
    let failed = results.iter().filter(|r| r.status == "failed").count();
    let code = if failed > 0 && failed == results.len() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    page(&st, code, "", results).await
}

/// What a capture status means, for a reader.
fn status_words(status: &str) -> &'static str {
    match status {
        "captured" => "captured",
        "partial" => "captured, but a body was cut at the size limit",
        "gone" => "already gone: the platform's answer is recorded",
        "not_found" => "nothing at the address: the answer is recorded",
        "failed" => "failed: nothing was recorded",
        _ => "",
    }
}

fn add_html(st: &AppState, form: &Form, msg: Option<&str>, results: &[Outcome]) -> Response {
    let mut b = String::from("<h1>Add posts</h1>");
    if st.token.is_none() {
        b += "<p id=\"disabled\">Adding is disabled on this server: it is read-only. To enable it, \
write a secret token of at least 16 characters to a file, name it in the archive's \
<code>samizdat.toml</code> as <code>[serve] token_file = \"token\"</code>, and restart \
<code>samizdat serve</code>. The same token then admits <code>POST /api/captures</code> and \
this form.</p><p>From the command line: <code>samizdat capture URL</code> or \
<code>samizdat watch add URL</code>.</p>";
    } else {
        if let Some(m) = msg {
            b += &format!("<p class=\"bad\" id=\"message\">{}</p>", esc(m));
        }
        if !results.is_empty() {
            b += "<section id=\"results\"><h2>Results</h2><table class=\"stack\"><colgroup><col style=\"width:40%\"><col></colgroup>\
<tr><th>URL</th><th>Result</th></tr>";
            for r in results {
                let mut what = format!(
                    "<span class=\"result {}\">{}</span>",
                    esc(r.status),
                    esc(status_words(r.status))
                );
                if let Some(d) = &r.detail {
                    what += &format!(": {}", esc(d));
                }
                if let Some(w) = &r.watch {
                    what += &format!("<br>watchlist: {}", esc(w));
                }
                if let Some(id) = &r.post_id {
                    what += &format!(" <a href=\"/posts/{}\">Open the post</a>", enc(id));
                }
                b += &format!("<tr><td>{}</td><td>{what}</td></tr>", esc(&r.url));
            }
            b += "</table></section>";
        }
        let (cap, wat) = if form.watch {
            ("", " checked")
        } else {
            (" checked", "")
        };
        b += &format!(
            "<form class=\"add\" method=\"post\" action=\"/add\">\
<p><label for=\"urls\">URLs of posts, one a line (at most {MAX_URLS})</label><br>\
<textarea id=\"urls\" name=\"urls\" rows=\"5\" required placeholder=\"https://mastodon.social/@someone/123\">{}</textarea></p>\
<p><label><input type=\"radio\" name=\"mode\" value=\"capture\"{cap}> Capture now</label> \
<label><input type=\"radio\" name=\"mode\" value=\"watch\"{wat}> Capture and watch (re-check it for deletion)</label></p>\
<p><label for=\"token\">Token</label> <input id=\"token\" type=\"password\" name=\"token\" \
autocomplete=\"current-password\" required size=\"24\"> <button type=\"submit\">Add</button></p>\
<p class=\"meta\">The token is this server's <code>[serve] token_file</code>, the one <code>POST /api/captures</code> takes; \
it is sent in the form's body only, and not kept.</p></form>",
            esc(&form.urls)
        );
    }
    let added = st.added();
    b += "<section id=\"added\"><h2>Recently added</h2>";
    if added.is_empty() {
        b += "<p>Nothing added since the server started.</p>";
    } else {
        let ix = st.index().ok();
        let now = now();
        b += "<table class=\"stack\"><colgroup><col style=\"width:40%\"><col style=\"width:25%\"><col></colgroup>\
<tr><th>URL</th><th>When</th><th>Status now</th></tr>";
        for a in &added {
            let state = a.post_id.as_deref().and_then(|id| {
                ix.as_ref()
                    .and_then(|ix| ix.post_view(id).ok().flatten())
                    .map(|v| v.state.as_str().to_string())
            });
            let mut s = match (&state, &a.post_id) {
                (Some(state), Some(id)) => {
                    format!("{} <a href=\"/posts/{}\">post</a>", badge(state), enc(id))
                }
                _ => format!(
                    "<span class=\"result {}\">{}</span>",
                    esc(a.status),
                    esc(a.status)
                ),
            };
            if let Some(e) = &a.error {
                s += &format!(": {}", esc(e));
            }
            if let Some(w) = &a.watch {
                s += &format!("<br>watchlist: {}", esc(w));
            }
            b += &format!(
                "<tr><td>{}</td><td>{}</td><td>{s}</td></tr>",
                esc(&a.url),
                when(&a.at, now)
            );
        }
        b += "</table>";
    }
    b += "</section>";
    html_page("Add", "", &b)
}
