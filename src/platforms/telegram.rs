//! Telegram public channels, through the web preview (`t.me/s/`) and the embed widget.
//!
//! # URL forms
//!
//! | form | target |
//! | --- | --- |
//! | `t.me/<channel>/<id>`, `t.me/s/<channel>/<id>` (also `?single`, `?comment=…`, `telegram.me`, `www.`) | post `telegram:<channel>/<id>` |
//! | `t.me/<channel>`, `t.me/s/<channel>` | account (channel) |
//!
//! The channel name is lower-cased in the post id (Telegram usernames are
//! case-insensitive); the post `url` keeps the case the page gives.
//!
//! # Endpoints (no cookies)
//!
//! - `GET https://t.me/s/<channel>/<id>`: the channel preview page centred on the message,
//!   with its neighbours (redirects not followed: a 302 to `t.me/<channel>` means the
//!   preview is off or restricted for this channel).
//! - `GET https://t.me/<channel>/<id>?embed=1&mode=tme`: the embed widget, one message, or
//!   `div.tgme_widget_message_error` ("Post not found"). A widget page
//!   (`body.body_widget_post`) whose one message has no `data-post` (2018 pages:
//!   `div.tgme_widget_message#widget_message`) is read as the post asked for, unless the
//!   message's own links name another post.
//! - `GET https://t.me/s/<channel>[?before=<id>]`: a timeline page (about 20 messages);
//!   the next (older) page is `a.tme_messages_more[data-before]`.
//!
//! A post plan reads the preview page; when the message is not there it asks the widget.
//! Markers ("Post not found"; "can't be displayed" / "cannot be displayed" → restricted by
//! the platform; "private" → restricted) are read only from the visible text of the
//! widget's `div.tgme_widget_message_error`, where Telegram speaks to the reader: never
//! from scripts, styles, attributes, the title or a message's own text. An empty error
//! element says nothing.
//! A message missing from the page **and** refused by the widget is `deleted`, cause
//! `unknown` (Telegram never says who deleted); one missing answer alone concludes
//! nothing. An album item (`/<id>?single`) is found inside its album's message.
//!
//! # Comments
//!
//! Not read: [`Platform::comments_plan`] is `None`. What is public without login, and why
//! it is not built yet:
//!
//! - A channel post's comments live in the channel's linked discussion group. The
//!   discussion widget, `GET https://t.me/<channel>/<id>?embed=1&discussion=1
//!   &comments_limit=<n>` (what `telegram-widget.js` loads for `data-telegram-discussion`),
//!   renders the newest comments server-side without login: `h3.tgme_post_discussion_header`
//!   ("44 comments on this post"), then `div.tgme_widget_message` items in the usual
//!   widget markup, each with `data-peer="c<group id>_<hash>"`, `data-post-id=<message id
//!   in the group>` and a date link `t.me/<channel>/<id>?comment=<message id>`. A
//!   recorded page of this shape exists (a public GitHub repository's saved widget page,
//!   2022). A comment's id would be `telegram:c/<group id>/<message id>` (the group's own
//!   `t.me/c/…` form; the group's username is not in the page).
//! - Older comments are behind `div.tme_messages_more[data-before]` ("Show 39 more
//!   comments"), which the widget's script loads through `t.me/api/method`
//!   (`loadComments`, with the page's `peer` and hash); no recorded answer of that was
//!   found, and a GET form of it is not documented. Without it a page holds only the
//!   newest comments, which the contract would read as a complete listing and later as
//!   comments `not_listed`: wrong, so nothing is read rather than a partial page.
//! - Discussions of a private group answer `div.tme_no_messages_found` ("Please open
//!   Telegram to view this discussion from …"); a channel without a group, or with
//!   comments off, has no discussion ("Discussion is not available at the moment.").
//!   The `t.me/s/` page only shows a comments count, not the comments.
//!
//! # Not possible without an account
//!
//! Private channels (`t.me/c/…`), invite links (`t.me/+…`), groups, reactions,
//! media the preview marks "Media is too big" / not supported (recorded in
//! `extra.media_not_supported`), documents (titles only), and stickers.

use super::kit::{broken, gone, unreachable};
use super::{Fetched, Finding, Job, Plan, PlanContext, Platform, Request, Response, Step, Target};
use crate::extract::{html_to_text, sanitize_html, to_rfc3339};
use crate::model::{Author, Cause, Counts, Media, MediaKind, Outcome, Post};
use scraper::{ElementRef, Html, Selector};
use serde_json::{Value, json};
use url::Url;

pub struct Telegram;

const BASE: &str = "https://t.me";
const HTML_ACCEPT: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
/// First path segments that are not channels.
const RESERVED: &[&str] = &[
    "s",
    "c",
    "joinchat",
    "addstickers",
    "addemoji",
    "share",
    "proxy",
    "socks",
    "iv",
    "login",
    "i",
    "k",
    "z",
    "a",
    "dl",
    "apps",
    "blog",
    "faq",
    "setlanguage",
    "addtheme",
    "bg",
    "invoice",
    "boost",
    "contact",
];

fn is_channel(s: &str) -> bool {
    s.len() >= 3
        && s.len() <= 64
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        && !RESERVED.contains(&s.to_ascii_lowercase().as_str())
}

fn is_digits(s: &str) -> bool {
    !s.is_empty() && s.len() <= 12 && s.bytes().all(|b| b.is_ascii_digit())
}

fn recognise_url(url: &Url) -> Option<Target> {
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    let host = url.host_str()?.to_ascii_lowercase();
    let host = host.strip_prefix("www.").unwrap_or(&host);
    if !matches!(host, "t.me" | "telegram.me" | "telegram.dog") {
        return None;
    }
    let segs = crate::platforms::kit::segments(url);
    let segs = match segs.as_slice() {
        ["s", rest @ ..] => rest.to_vec(),
        other => other.to_vec(),
    };
    match segs.as_slice() {
        [channel, id] if is_channel(channel) && is_digits(id) => Some(Target::Post {
            platform_id: format!("{}/{id}", channel.to_ascii_lowercase()),
            url: format!("{BASE}/{channel}/{id}"),
        }),
        [channel] if is_channel(channel) => Some(Target::Account {
            account_id: channel.to_ascii_lowercase(),
            url: format!("{BASE}/s/{channel}"),
        }),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------
// Parsing

fn sel(s: &str) -> Selector {
    Selector::parse(s).expect("static selector")
}

fn text_of(e: ElementRef) -> String {
    e.text()
        .collect::<String>()
        .replace('\u{a0}', " ")
        .trim()
        .to_string()
}

fn first<'a>(e: ElementRef<'a>, s: &str) -> Option<ElementRef<'a>> {
    e.select(&sel(s)).next()
}

fn has_ancestor_class(e: ElementRef, classes: &[&str]) -> bool {
    e.ancestors().filter_map(ElementRef::wrap).any(|a| {
        a.value()
            .attr("class")
            .is_some_and(|c| c.split_whitespace().any(|k| classes.contains(&k)))
    })
}

/// `url('…')` of a `style` attribute.
fn background_image(style: &str) -> Option<String> {
    let i = style.find("background-image")?;
    let rest = &style[i..];
    let u = rest.find("url(")?;
    let rest = &rest[u + 4..];
    let end = rest.find(')')?;
    let raw = rest[..end].trim().trim_matches(|c| c == '\'' || c == '"');
    if raw.is_empty() {
        return None;
    }
    Some(if raw.starts_with("//") {
        format!("https:{raw}")
    } else {
        raw.to_string()
    })
}

/// `214.4K` → 214400, `1.2M` → 1200000, `987` → 987.
pub fn parse_views(s: &str) -> Option<u64> {
    let s = s.trim().replace(',', "");
    let (num, mult) = if let Some(n) = s.strip_suffix(['K', 'k']) {
        (n.to_string(), 1_000f64)
    } else if let Some(n) = s.strip_suffix(['M', 'm']) {
        (n.to_string(), 1_000_000f64)
    } else if let Some(n) = s.strip_suffix(['B', 'b']) {
        (n.to_string(), 1_000_000_000f64)
    } else {
        (s.clone(), 1f64)
    };
    let f: f64 = num.trim().parse().ok()?;
    Some((f * mult).round() as u64)
}

/// `(channel, id)` of a `https://t.me/<channel>/<id>` link.
fn post_ref(href: &str) -> Option<(String, String)> {
    let u = Url::parse(href).ok()?;
    match recognise_url(&u)? {
        Target::Post { platform_id, .. } => {
            let (c, i) = platform_id.split_once('/')?;
            let orig_channel = u
                .path_segments()?
                .find(|s| !s.is_empty() && *s != "s")?
                .to_string();
            debug_assert_eq!(orig_channel.to_ascii_lowercase(), c);
            Some((orig_channel, i.to_string()))
        }
        _ => None,
    }
}

/// Reads one `div.tgme_widget_message[data-post]` into a post.
fn parse_message(m: ElementRef) -> Option<Post> {
    let data_post = m.value().attr("data-post")?;
    let (channel, id) = data_post.split_once('/')?;
    parse_message_as(m, channel, id)
}

/// Reads one `div.tgme_widget_message` into the post `channel/id`.
fn parse_message_as(m: ElementRef, channel: &str, id: &str) -> Option<Post> {
    if !is_channel(channel) || !is_digits(id) {
        return None;
    }
    let url = first(m, "a.tgme_widget_message_date")
        .and_then(|a| a.value().attr("href"))
        .filter(|h| h.starts_with("https://"))
        .map(str::to_string)
        .unwrap_or_else(|| format!("{BASE}/{channel}/{id}"));
    let mut post = Post::new(
        "telegram",
        &format!("{}/{id}", channel.to_ascii_lowercase()),
        &url,
    );
    let base = Url::parse(&url).or_else(|_| Url::parse(BASE)).ok()?;

    let owner = first(m, ".tgme_widget_message_owner_name");
    post.author = Some(Author {
        id: Some(channel.to_string()),
        name: owner.map(text_of).filter(|s| !s.is_empty()),
        handle: Some(channel.to_string()),
        url: Some(format!("{BASE}/{channel}")),
    });
    if let Some(a) = first(m, ".tgme_widget_message_from_author") {
        post.extra.insert("signed_by".into(), json!(text_of(a)));
    }

    // The message text: the outermost text block that is not inside a reply or preview.
    let text_el = m.select(&sel(".tgme_widget_message_text")).find(|e| {
        !has_ancestor_class(
            *e,
            &[
                "tgme_widget_message_reply",
                "tgme_widget_message_link_preview",
                "tgme_widget_message_poll",
            ],
        )
    });
    if let Some(t) = text_el {
        let inner = t.inner_html();
        post.text = Some(html_to_text(&inner));
        post.html = Some(sanitize_html(&inner, &base));
    }

    if let Some(t) = first(m, "a.tgme_widget_message_date time[datetime]")
        .or_else(|| first(m, ".tgme_widget_message_meta time[datetime]"))
        .or_else(|| first(m, "time.time[datetime]"))
    {
        let raw = t.value().attr("datetime").unwrap_or("").to_string();
        post.created_at = to_rfc3339(&raw);
        post.created_at_raw = Some(raw);
    }
    if let Some(meta) = first(m, ".tgme_widget_message_meta")
        && text_of(meta).contains("edited")
    {
        post.extra.insert("edited".into(), json!(true));
    }
    if let Some(v) = first(m, ".tgme_widget_message_views") {
        let raw = text_of(v);
        let mut c = Counts {
            views: parse_views(&raw),
            ..Counts::default()
        };
        if raw.parse::<u64>().is_err() {
            c.raw.insert("views".into(), json!(raw));
        }
        post.counts = Some(c);
    }

    // Media.
    for a in m.select(&sel("a.tgme_widget_message_photo_wrap")) {
        if let Some(u) = a.value().attr("style").and_then(background_image) {
            let mut media = Media::new(MediaKind::Image, u);
            media.alt = a.value().attr("href").map(str::to_string);
            post.media.push(media);
        }
    }
    for v in m.select(&sel(
        "video.tgme_widget_message_video[src], video.tgme_widget_message_roundvideo[src]",
    )) {
        let src = v.value().attr("src").unwrap_or("");
        if src.starts_with("http") {
            let gif = has_ancestor_class(v, &["tgme_widget_message_video_player"])
                && first_ancestor_lacks_play(v);
            post.media.push(Media::new(
                if gif {
                    MediaKind::Gif
                } else {
                    MediaKind::Video
                },
                src,
            ));
        }
    }
    for a in m.select(&sel("audio.tgme_widget_message_voice[src]")) {
        if let Some(src) = a.value().attr("src") {
            post.media.push(Media::new(MediaKind::Audio, src));
        }
    }
    let not_supported: Vec<String> = m
        .select(&sel(".message_media_not_supported_label"))
        .map(text_of)
        .filter(|s| !s.is_empty())
        .collect();
    if !not_supported.is_empty() {
        post.extra
            .insert("media_not_supported".into(), json!(not_supported));
    }
    let docs: Vec<Value> = m
        .select(&sel(".tgme_widget_message_document"))
        .map(|d| {
            json!({
                "title": first(d, ".tgme_widget_message_document_title").map(text_of),
                "extra": first(d, ".tgme_widget_message_document_extra").map(text_of),
            })
        })
        .collect();
    if !docs.is_empty() {
        post.extra.insert("documents".into(), json!(docs));
    }
    if first(m, ".tgme_widget_message_sticker_wrap").is_some() {
        post.extra.insert("sticker".into(), json!(true));
    }
    if let Some(lp) = first(m, "a.tgme_widget_message_link_preview") {
        post.extra.insert(
            "link_preview".into(),
            json!({
                "url": lp.value().attr("href"),
                "site": first(lp, ".link_preview_site_name").map(text_of),
                "title": first(lp, ".link_preview_title").map(text_of),
                "description": first(lp, ".link_preview_description").map(text_of),
            }),
        );
    }
    if let Some(p) = first(m, ".tgme_widget_message_poll") {
        let options: Vec<Value> = p
            .select(&sel(".tgme_widget_message_poll_option"))
            .map(|o| {
                json!({
                    "text": first(o, ".tgme_widget_message_poll_option_text").map(text_of),
                    "percent": first(o, ".tgme_widget_message_poll_option_percent").map(text_of),
                })
            })
            .collect();
        let question = first(p, ".tgme_widget_message_poll_question").map(text_of);
        post.extra.insert(
            "poll".into(),
            json!({
                "question": question,
                "type": first(p, ".tgme_widget_message_poll_type").map(text_of),
                "options": options,
                "voters": first(m, ".tgme_widget_message_voters").map(text_of),
            }),
        );
        if post.text.as_deref().is_none_or(str::is_empty)
            && let Some(q) = question
        {
            post.text = Some(q);
        }
    }

    // Forwards and replies.
    if let Some(f) = first(m, ".tgme_widget_message_forwarded_from_name") {
        let name = text_of(f);
        let href = f.value().attr("href").map(str::to_string);
        post.extra
            .insert("forwarded_from".into(), json!({"name": name, "url": href}));
        if let Some((c, i)) = href.as_deref().and_then(post_ref) {
            let mut orig = Post::new(
                "telegram",
                &format!("{}/{i}", c.to_ascii_lowercase()),
                &format!("{BASE}/{c}/{i}"),
            );
            orig.author = Some(Author {
                id: Some(c.clone()),
                name: Some(name),
                handle: Some(c.clone()),
                url: Some(format!("{BASE}/{c}")),
            });
            post.repost_of = Some(Box::new(orig));
        }
    }
    if let Some(r) = first(m, "a.tgme_widget_message_reply")
        && let Some((c, i)) = r.value().attr("href").and_then(post_ref)
    {
        let mut parent = Post::new(
            "telegram",
            &format!("{}/{i}", c.to_ascii_lowercase()),
            &format!("{BASE}/{c}/{i}"),
        );
        parent.author = first(r, ".tgme_widget_message_author_name").map(|a| Author {
            id: Some(c.clone()),
            name: Some(text_of(a)),
            handle: Some(c.clone()),
            url: Some(format!("{BASE}/{c}")),
        });
        parent.text = first(r, ".tgme_widget_message_metatext").map(text_of);
        post.reply_to = Some(Box::new(parent));
    }
    if m.value()
        .attr("class")
        .is_some_and(|c| c.contains("service_message"))
    {
        post.extra.insert("service_message".into(), json!(true));
    }
    Some(post)
}

/// A video player without the "play" badge is a GIF.
fn first_ancestor_lacks_play(v: ElementRef) -> bool {
    v.ancestors()
        .filter_map(ElementRef::wrap)
        .find(|a| {
            a.value()
                .attr("class")
                .is_some_and(|c| c.contains("tgme_widget_message_video_player"))
        })
        .is_some_and(|p| p.select(&sel(".message_video_play")).next().is_none())
}

/// Every message of a page, in page order (oldest first).
pub fn parse_page(html: &str) -> Vec<Post> {
    let doc = Html::parse_document(html);
    doc.select(&sel("div.tgme_widget_message[data-post]"))
        .filter_map(parse_message)
        .collect()
}

/// The message `channel/id` of a page: its own message, or the album holding
/// `/<id>?single` (returned under the requested id, with `extra.album` naming the album).
pub fn find_message(html: &str, channel: &str, id: &str) -> Option<Post> {
    let doc = Html::parse_document(html);
    let want = format!("{}/{id}", channel.to_ascii_lowercase());
    let msgs: Vec<ElementRef> = doc
        .select(&sel("div.tgme_widget_message[data-post]"))
        .collect();
    if let Some(m) = msgs.iter().find(|m| {
        m.value()
            .attr("data-post")
            .is_some_and(|p| p.eq_ignore_ascii_case(&want))
    }) {
        return parse_message(*m);
    }
    for m in &msgs {
        let in_album = m.select(&sel("a[href]")).any(|a| {
            a.value().attr("href").is_some_and(|h| {
                let h = h.to_ascii_lowercase();
                h.ends_with(&format!("/{want}?single"))
            })
        });
        if in_album && let Some(mut p) = parse_message(*m) {
            p.extra.insert("album".into(), json!(p.platform_id.clone()));
            let url = format!(
                "{BASE}/{}/{id}",
                p.author
                    .as_ref()
                    .and_then(|a| a.handle.clone())
                    .unwrap_or_else(|| channel.to_string())
            );
            p.id = crate::model::PostId::new("telegram", &want);
            p.platform_id = want.clone();
            p.alt_urls.push(p.url.clone());
            p.url = url;
            return Some(p);
        }
    }
    if msgs.is_empty() {
        return widget_message(&doc, channel, id);
    }
    None
}

/// The one message an embed widget (`t.me/<channel>/<id>?embed=1`) shows when it has no
/// `data-post` (the widget's `div.tgme_widget_message#widget_message` of 2018 pages): read
/// as `channel/id` when the page is a widget (`body.body_widget_post`) holding exactly one
/// message, and that message's own links
/// (`a.tgme_widget_message_date`, `.tgme_widget_message_link a`) name no other post.
fn widget_message(doc: &Html, channel: &str, id: &str) -> Option<Post> {
    doc.select(&sel("body.body_widget_post")).next()?;
    let one = sel("div.tgme_widget_message");
    let mut msgs = doc.select(&one);
    let m = msgs.next()?;
    if msgs.next().is_some() {
        return None;
    }
    let own = first(m, "a.tgme_widget_message_date[href]")
        .or_else(|| first(m, ".tgme_widget_message_link a[href]"))
        .and_then(|a| a.value().attr("href"))
        .and_then(post_ref);
    let channel = match own {
        Some((c, i)) if c.eq_ignore_ascii_case(channel) && i == id => c,
        Some(_) => return None,
        None => channel.to_string(),
    };
    parse_message_as(m, &channel, id)
}

/// Whether a page is a channel preview page at all (header or message history), by its
/// elements: a class name in a script or an attribute makes no page a channel page.
fn is_channel_page(html: &str) -> bool {
    Html::parse_document(html)
        .select(&sel(
            ".tgme_channel_history, .tgme_channel_info, .tgme_widget_message_wrap",
        ))
        .next()
        .is_some()
}

/// `a.tme_messages_more[data-before]` of a timeline page.
pub fn before_cursor(html: &str) -> Option<String> {
    let doc = Html::parse_document(html);
    doc.select(&sel("a.tme_messages_more[data-before]"))
        .filter_map(|a| a.value().attr("data-before"))
        .find(|b| is_digits(b))
        .map(str::to_string)
}

/// The error text of an embed page (`div.tgme_widget_message_error`): where the widget
/// speaks to its reader, its visible text only (never a script or style inside it). An
/// empty error element says nothing.
pub fn widget_error(html: &str) -> Option<String> {
    let doc = Html::parse_document(html);
    doc.select(&sel(".tgme_widget_message_error"))
        .map(|e| html_to_text(&e.inner_html()).trim().to_string())
        .find(|t| !t.is_empty())
}

/// What a widget error text says: "Post not found" → deleted (cause unknown); a channel
/// that "can't be displayed" (terms of service, local laws, copyright) → restricted by the
/// platform; a private channel → restricted.
pub fn classify_widget_error(text: &str) -> (Outcome, Option<Cause>) {
    let t = text.to_ascii_lowercase().replace('’', "'");
    if t.contains("can't be displayed") || t.contains("cannot be displayed") {
        return (Outcome::Restricted, Some(Cause::Platform));
    }
    if t.contains("private") {
        return (Outcome::Restricted, None);
    }
    (Outcome::Deleted, Some(Cause::Unknown))
}

// ---------------------------------------------------------------------------------------
// Plans

fn page_body(r: &Response) -> String {
    crate::extract::decode_text(&r.body, r.header("content-type")).text
}

/// What the preview page said about the message.
enum PageSaid {
    /// A channel page without the message.
    Missing,
    /// A redirect: the preview is off for this channel.
    NoPreview(String),
    /// No usable answer.
    Failed(String),
}

/// `https://t.me/<path>`, or the finding that says the target makes no URL.
fn t_me(path: &str, endpoint: &str) -> Result<Url, Finding> {
    Url::parse(&format!("{BASE}/{path}")).map_err(|e| broken(endpoint, format!("a URL ({e})")))
}

/// A message's preview page first, then its embed widget.
fn post_plan(channel: String, id: String) -> Step {
    let url = match t_me(&format!("s/{channel}/{id}"), "channel page") {
        Ok(u) => u,
        Err(f) => return Step::Done(f),
    };
    let req = Request::get(url, "channel page")
        .header("Accept", HTML_ACCEPT)
        .no_redirects()
        .page();
    Step::fetch(req, PagePlan { channel, id })
}

/// Reads the preview page (`t.me/s/<channel>/<id>`).
struct PagePlan {
    channel: String,
    id: String,
}

impl Plan for PagePlan {
    fn next(self: Box<Self>, answer: Fetched) -> Step {
        let said = match &answer {
            Fetched::Failed(e) => PageSaid::Failed(e.clone()),
            Fetched::Response(r) if (300..400).contains(&r.status) => PageSaid::NoPreview(format!(
                "t.me/s/ redirected to {} (channel preview unavailable)",
                r.header("location").unwrap_or("?")
            )),
            Fetched::Response(r) if r.status != 200 => {
                PageSaid::Failed(format!("t.me/s/: HTTP {}", r.status))
            }
            Fetched::Response(r) if r.truncated => {
                PageSaid::Failed("t.me/s/: answer cut at the size limit".into())
            }
            Fetched::Response(r) => {
                let html = page_body(r);
                if let Some(p) = find_message(&html, &self.channel, &self.id) {
                    return Step::Done(Finding::Post(Box::new(p)));
                }
                if is_channel_page(&html) {
                    PageSaid::Missing
                } else {
                    PageSaid::Failed("t.me/s/: not a channel page".into())
                }
            }
        };
        let url = match t_me(
            &format!("{}/{}?embed=1&mode=tme", self.channel, self.id),
            "embed widget",
        ) {
            Ok(u) => u,
            Err(f) => return Step::Done(f),
        };
        let req = Request::get(url, "embed widget")
            .header("Accept", HTML_ACCEPT)
            .page();
        let PagePlan { channel, id } = *self;
        Step::fetch(
            req,
            WidgetPlan {
                channel,
                id,
                page: said,
            },
        )
    }
}

/// Reads the embed widget, with what the preview page said.
struct WidgetPlan {
    channel: String,
    id: String,
    page: PageSaid,
}

impl Plan for WidgetPlan {
    fn next(self: Box<Self>, answer: Fetched) -> Step {
        let r = match &answer {
            Fetched::Response(r) if r.status == 200 && !r.truncated => r,
            Fetched::Response(r) => {
                return Step::Done(unreachable(format!("embed widget: HTTP {}", r.status)));
            }
            Fetched::Failed(e) => return Step::Done(unreachable(e.clone())),
        };
        let html = page_body(r);
        if let Some(p) = find_message(&html, &self.channel, &self.id) {
            return Step::Done(Finding::Post(Box::new(p)));
        }
        let Some(err) = widget_error(&html) else {
            return Step::Done(broken(
                "embed widget",
                "div.tgme_widget_message or div.tgme_widget_message_error",
            ));
        };
        let (outcome, cause) = classify_widget_error(&err);
        Step::Done(match self.page {
            PageSaid::Missing => gone(
                outcome,
                cause,
                format!("not on the channel page; widget: {err}"),
            ),
            PageSaid::NoPreview(why) => gone(outcome, cause, format!("{why}; widget: {err}")),
            // One source only: nothing is concluded.
            PageSaid::Failed(why) => unreachable(format!("{why}; widget: {err}")),
        })
    }
}

/// One channel page (`t.me/s/<channel>[?before=<id>]`).
fn timeline_plan(channel: &str, cursor: Option<&str>) -> Step {
    let mut path = format!("s/{channel}");
    if let Some(c) = cursor.filter(|c| is_digits(c)) {
        path.push_str(&format!("?before={c}"));
    }
    let url = match t_me(&path, "channel page") {
        Ok(u) => u,
        Err(f) => return Step::Done(f),
    };
    let req = Request::get(url, "channel page")
        .header("Accept", HTML_ACCEPT)
        .no_redirects()
        .page();
    Step::fetch(req, TimelinePlan)
}

/// Reads a channel page.
struct TimelinePlan;

impl Plan for TimelinePlan {
    fn next(self: Box<Self>, answer: Fetched) -> Step {
        Step::Done(match answer {
            Fetched::Failed(e) => unreachable(e),
            Fetched::Response(r) if (300..400).contains(&r.status) => gone(
                Outcome::Restricted,
                None,
                format!(
                    "t.me/s/ redirected to {} (channel preview unavailable)",
                    r.header("location").unwrap_or("?")
                ),
            ),
            Fetched::Response(r) if r.status != 200 || r.truncated => {
                unreachable(format!("t.me/s/: HTTP {}", r.status))
            }
            Fetched::Response(r) => {
                let html = page_body(&r);
                if !is_channel_page(&html) {
                    broken("t.me/s/", "tgme_channel_history")
                } else {
                    let mut posts = parse_page(&html);
                    posts.reverse();
                    Finding::Timeline {
                        posts,
                        next_cursor: before_cursor(&html),
                    }
                }
            }
        })
    }
}

impl Platform for Telegram {
    fn name(&self) -> &'static str {
        "telegram"
    }
    fn hosts(&self) -> &'static [&'static str] {
        &["t.me"]
    }
    fn recognise(&self, url: &Url) -> Option<Target> {
        recognise_url(url)
    }
    fn post_plan(&self, target: &Target, _job: Job, _ctx: &PlanContext) -> Step {
        // A channel is no post: its first timeline page says so (`Finding::Timeline`).
        if let Target::Account { account_id, .. } = target {
            return timeline_plan(account_id, None);
        }
        let (channel, id) = match target {
            Target::Post { platform_id, url } => {
                let from_url = Url::parse(url).ok().and_then(|u| {
                    u.path_segments()
                        .map(|s| s.filter(|p| !p.is_empty() && *p != "s").collect::<Vec<_>>())
                        .and_then(|s| match s.as_slice() {
                            [c, i] => Some((c.to_string(), i.to_string())),
                            _ => None,
                        })
                });
                from_url.unwrap_or_else(|| {
                    let (c, i) = platform_id.split_once('/').unwrap_or((platform_id, ""));
                    (c.to_string(), i.to_string())
                })
            }
            Target::Account { account_id, .. } => (account_id.clone(), String::new()),
            Target::Follow { url } => (url.clone(), String::new()),
        };
        post_plan(channel, id)
    }
    fn timeline_plan(
        &self,
        target: &Target,
        cursor: Option<&str>,
        _ctx: &PlanContext,
    ) -> Option<Step> {
        let Target::Account { account_id, .. } = target else {
            return None;
        };
        if !is_channel(account_id) {
            return None;
        }
        Some(timeline_plan(account_id, cursor))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(s: &str) -> Option<Target> {
        recognise_url(&Url::parse(s).unwrap())
    }

    #[test]
    fn url_forms() {
        let post = Some(Target::Post {
            platform_id: "topwar_official/71000".into(),
            url: "https://t.me/topwar_official/71000".into(),
        });
        assert_eq!(target("https://t.me/topwar_official/71000"), post);
        assert_eq!(target("https://t.me/s/topwar_official/71000"), post);
        assert_eq!(target("https://t.me/topwar_official/71000?single"), post);
        assert_eq!(target("http://telegram.me/topwar_official/71000"), post);
        assert_eq!(
            target("https://www.t.me/topwar_official/71000?comment=5"),
            post
        );
        assert_eq!(
            target("https://t.me/s/topwar_official"),
            Some(Target::Account {
                account_id: "topwar_official".into(),
                url: "https://t.me/s/topwar_official".into()
            })
        );
        assert_eq!(target("https://t.me/c/12345/6"), None);
        assert_eq!(target("https://t.me/+AbCdEf"), None);
        assert_eq!(target("https://t.me/joinchat/AbCdEf"), None);
        assert_eq!(target("https://example.org/topwar_official/1"), None);
    }

    #[test]
    fn views_and_backgrounds() {
        assert_eq!(parse_views("214.4K"), Some(214_400));
        assert_eq!(parse_views("1.2M"), Some(1_200_000));
        assert_eq!(parse_views("987"), Some(987));
        assert_eq!(parse_views("views"), None);
        assert_eq!(
            background_image(
                "width:1px;background-image:url('https://cdn4.telegram-cdn.org/file/a.jpg')"
            )
            .as_deref(),
            Some("https://cdn4.telegram-cdn.org/file/a.jpg")
        );
        assert_eq!(
            background_image("background-image:url(//telegram.org/img/x.png)").as_deref(),
            Some("https://telegram.org/img/x.png")
        );
    }

    const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/telegram");

    fn fixture(name: &str) -> String {
        std::fs::read_to_string(format!("{FIXTURES}/{name}")).unwrap()
    }

    fn html_answer(url: &str, status: u16, body: &str) -> Fetched {
        Fetched::Response(Response {
            url: Url::parse(url).unwrap(),
            status,
            headers: vec![("content-type".into(), "text/html; charset=utf-8".into())],
            body: body.as_bytes().to_vec(),
            truncated: false,
        })
    }

    /// Runs the post plan of `t.me/<channel>/<id>` with the preview page and the widget
    /// answered as given.
    fn run_post(channel: &str, id: &str, page: Fetched, widget: Fetched) -> Finding {
        let target =
            recognise_url(&Url::parse(&format!("https://t.me/{channel}/{id}")).unwrap()).unwrap();
        let first = Telegram.post_plan(&target, Job::Capture, &PlanContext::default());
        let (finding, _) = crate::platforms::testing::run(first, |r| {
            if r.url.path().starts_with("/s/") {
                page.clone()
            } else {
                widget.clone()
            }
        });
        finding
    }

    /// Every text `classify_widget_error` reads, and the widget's "Post not found".
    const MARKERS: &[&str] = &[
        "Post not found",
        "This channel can't be displayed because it violated Telegram's Terms of Service.",
        "This channel can’t be displayed",
        "This channel cannot be displayed",
        "This channel is private",
    ];

    /// `html` with every marker put in a script, a style, an attribute, the title, and a
    /// hidden script inside a `.tgme_widget_message_error` element.
    fn with_markers_outside(html: &str) -> String {
        let all = MARKERS.join(" | ").replace('\'', "&#39;");
        let head = format!(
            "<title>{all}</title><style>/* {all} */</style><script>var e = \"{all}\";</script>"
        );
        let body = format!(
            "<div data-error=\"{all}\" hidden></div>\
             <div class=\"tgme_widget_message_error\"><script>var m = \"{all}\";</script></div>"
        );
        html.replacen("</head>", &format!("{head}</head>"), 1)
            .replacen("</body>", &format!("{body}</body>"), 1)
    }

    /// A live message whose pages carry every marker outside the widget's error text is
    /// read as the post: from the preview page, and from the widget when the preview is
    /// off (the 2018 widget page has no `data-post`).
    #[test]
    fn markers_outside_the_widget_error_never_make_a_live_post_gone() {
        let page = with_markers_outside(&fixture("t.me_s_channel_page_topwar_official.html"));
        match run_post(
            "topwar_official",
            "71000",
            html_answer("https://t.me/s/topwar_official/71000", 200, &page),
            Fetched::Failed("not asked".into()),
        ) {
            Finding::Post(p) => assert_eq!(p.platform_id, "topwar_official/71000"),
            other => panic!("a live post read as {other:?}"),
        }

        let widget = with_markers_outside(&fixture("embed_2018_no_data_post_k1inusa_5346.html"));
        // The message's own text may say anything: it is the channel's words.
        let widget = widget.replacen(
            "رسوایی تحصیلی",
            &format!("{} رسوایی تحصیلی", MARKERS.join(" ")),
            1,
        );
        let moved = html_answer("https://t.me/s/K1inUSA/5346", 302, "");
        match run_post(
            "K1inUSA",
            "5346",
            moved.clone(),
            html_answer("https://t.me/K1inUSA/5346?embed=1&mode=tme", 200, &widget),
        ) {
            Finding::Post(p) => {
                assert_eq!(p.platform_id, "k1inusa/5346");
                assert_eq!(p.url, "https://t.me/K1inUSA/5346");
                assert_eq!(p.media.len(), 1, "{:?}", p.media);
                assert!(p.text.unwrap_or_default().contains("Study International"));
            }
            other => panic!("a live post read as {other:?}"),
        }

        // A widget that shows no message and whose error element says nothing visible
        // concludes nothing, even after a channel page without the message.
        let empty = with_markers_outside(
            "<html><head></head><body class=\"body_widget_post\"></body></html>",
        );
        let missing = html_answer(
            "https://t.me/s/topwar_official/70991",
            200,
            &fixture("t.me_s_channel_page_topwar_official.html"),
        );
        match run_post(
            "topwar_official",
            "70991",
            missing.clone(),
            html_answer("https://t.me/topwar_official/70991?embed=1", 200, &empty),
        ) {
            Finding::Gone(g) => panic!("nothing said, read as {g:?}"),
            Finding::Broken { .. } => {}
            other => panic!("unexpected {other:?}"),
        }

        // A page that only names the channel page's classes in a script is no channel
        // page: with the widget's "Post not found" alone, nothing is concluded.
        let wall = html_answer(
            "https://t.me/s/topwar_official/70991",
            200,
            "<html><head><script>var c = 'tgme_channel_history tgme_channel_info \
             tgme_widget_message_wrap';</script></head><body>Log in</body></html>",
        );
        let not_found = html_answer(
            "https://t.me/topwar_official/70991?embed=1",
            200,
            &fixture("constructed_embed_post_not_found.html"),
        );
        match run_post("topwar_official", "70991", wall, not_found) {
            Finding::Gone(g) => assert_eq!(g.outcome, Outcome::Unreachable, "{g:?}"),
            other => panic!("unexpected {other:?}"),
        }

        // The same words in the widget's error element are read: the rule is where.
        for (m, outcome) in [
            ("Post not found", Outcome::Deleted),
            ("This channel can’t be displayed", Outcome::Restricted),
            ("This channel is private", Outcome::Restricted),
        ] {
            let err = format!(
                "<html><head></head><body class=\"body_widget_post\">\
                 <div class=\"tgme_widget_message_error\">{m}</div></body></html>"
            );
            match run_post(
                "topwar_official",
                "70991",
                missing.clone(),
                html_answer("https://t.me/topwar_official/70991?embed=1", 200, &err),
            ) {
                Finding::Gone(g) => assert_eq!(g.outcome, outcome, "{m}"),
                other => panic!("{m}: {other:?}"),
            }
        }
    }

    /// A widget without `data-post` whose message links to another post is not taken
    /// for the one asked.
    #[test]
    fn a_widget_message_naming_another_post_is_not_the_post() {
        let widget = fixture("embed_2018_no_data_post_k1inusa_5346.html");
        assert!(find_message(&widget, "K1inUSA", "5346").is_some());
        assert!(find_message(&widget, "k1inusa", "5346").is_some());
        assert!(find_message(&widget, "K1inUSA", "5340").is_none());
        assert!(find_message(&widget, "other_channel", "5346").is_none());
        // Not a widget page: a lone message without data-post is not read.
        let not_widget = widget.replace("body_widget_post", "");
        assert!(find_message(&not_widget, "K1inUSA", "5346").is_none());
    }

    #[test]
    fn widget_errors() {
        assert_eq!(
            classify_widget_error("Post not found"),
            (Outcome::Deleted, Some(Cause::Unknown))
        );
        assert_eq!(
            classify_widget_error(
                "This channel can’t be displayed because it violated Telegram's Terms of Service."
            ),
            (Outcome::Restricted, Some(Cause::Platform))
        );
    }
}
