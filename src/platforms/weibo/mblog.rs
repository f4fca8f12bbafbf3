//! Reading an `mblog` (a post object of the API, the page's `$render_data` and timeline
//! cards) into a post.

use super::ids::{account_url, detail_url, is_digits, mid_to_bid};
use super::markers::classify_marker;
use super::text::text_and_html;
use super::times::{counts, parse_created_at};
use crate::model::{Author, Cause, Media, MediaKind, Post};
use crate::platforms::kit::str_of;
use serde_json::{Value, json};
use url::Url;

const PIC_REFERER: &str = "https://weibo.com/";
const VIDEO_REFERER: &str = "https://m.weibo.cn/";

/// The picture list, whether `pics` is an array or an object `{"0": …, "1": …}`.
pub(super) fn pics_of(m: &Value) -> Vec<Value> {
    match m.get("pics") {
        Some(Value::Array(a)) => a.clone(),
        Some(Value::Object(o)) => {
            let mut items: Vec<(u64, Value)> = o
                .iter()
                .map(|(k, v)| (k.parse().unwrap_or(u64::MAX), v.clone()))
                .collect();
            items.sort_by_key(|(k, _)| *k);
            items.into_iter().map(|(_, v)| v).collect()
        }
        _ => vec![],
    }
}

/// A sinaimg URL at original size: `/orj360/`, `/mw690/`, `/bmiddle/`, `/thumb150/`,
/// `/woriginal/` become `/large/`.
fn large_url(url: &str) -> String {
    let Ok(mut u) = Url::parse(url) else {
        return url.to_string();
    };
    let segs: Vec<String> = u
        .path_segments()
        .map(|s| s.map(str::to_string).collect())
        .unwrap_or_default();
    if segs.len() >= 2 {
        let size = &segs[0];
        let is_size = size == "bmiddle"
            || size == "woriginal"
            || size == "large"
            || ["mw", "orj", "thumb", "wap"]
                .iter()
                .any(|p| size.strip_prefix(p).is_some_and(is_digits));
        if is_size {
            let mut new = segs.clone();
            new[0] = "large".into();
            u.set_path(&format!("/{}", new.join("/")));
        }
    }
    u.to_string()
}

pub(super) fn pic_media(p: &Value) -> Vec<Media> {
    let mut out = Vec::new();
    let url = p
        .pointer("/large/url")
        .and_then(Value::as_str)
        .or_else(|| p.get("url").and_then(Value::as_str));
    if let Some(url) = url {
        let url = large_url(url);
        let gif = p.get("type").and_then(Value::as_str) == Some("gif")
            || url.to_ascii_lowercase().ends_with(".gif");
        let mut m = Media::new(
            if gif {
                MediaKind::Gif
            } else {
                MediaKind::Image
            },
            url,
        );
        m.referer = Some(PIC_REFERER.into());
        out.push(m);
    }
    if let Some(v) = p
        .get("videoSrc")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
    {
        let mut m = Media::new(MediaKind::Video, v);
        m.referer = Some(VIDEO_REFERER.into());
        out.push(m);
    }
    out
}

/// The best video stream of a `page_info`: 720p, then HD, then SD/LD, HEVC last.
fn best_video(pi: &Value) -> Option<String> {
    const ORDER: &[&str] = &[
        "/urls/mp4_720p_mp4",
        "/media_info/mp4_720p_mp4",
        "/urls/mp4_hd_mp4",
        "/media_info/mp4_hd_url",
        "/media_info/stream_url_hd",
        "/urls/mp4_ld_mp4",
        "/media_info/mp4_sd_url",
        "/media_info/stream_url",
        "/urls/hevc_mp4_hd",
        "/media_info/h265_mp4_hd",
    ];
    ORDER.iter().find_map(|p| {
        pi.pointer(p)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    })
}

/// Reads one `mblog`/`status` object. `Err(field)` names the first missing essential field.
pub fn parse_mblog(m: &Value, now: &jiff::ZonedDateTime) -> Result<Post, String> {
    parse_mblog_with(m, now, None)
}

pub(super) fn parse_mblog_with(
    m: &Value,
    now: &jiff::ZonedDateTime,
    long_text: Option<&str>,
) -> Result<Post, String> {
    if !m.is_object() {
        return Err("data".into());
    }
    let mid = str_of(m.get("id"))
        .or_else(|| str_of(m.get("mid")))
        .filter(|s| is_digits(s))
        .ok_or("id")?;
    let bid = str_of(m.get("bid"))
        .or_else(|| str_of(m.get("mblogid")))
        .or_else(|| mid_to_bid(&mid));
    let user = m.get("user").filter(|u| u.is_object());
    let uid = user.and_then(|u| str_of(u.get("id")));
    let detail = detail_url(&mid);
    let mut post = match (&uid, &bid) {
        (Some(uid), Some(bid)) => {
            let mut p = Post::new("weibo", &mid, &format!("https://weibo.com/{uid}/{bid}"));
            p.alt_urls.push(detail.clone());
            p
        }
        _ => Post::new("weibo", &mid, &detail),
    };
    if let Some(u) = user {
        post.author = Some(Author {
            id: uid.clone(),
            name: str_of(u.get("screen_name")),
            handle: None,
            url: uid.as_deref().map(account_url),
        });
    }
    let raw_text = long_text
        .map(str::to_string)
        .or_else(|| str_of(m.pointer("/longText/longTextContent")))
        .or_else(|| str_of(m.get("text")));
    if let Some(raw) = &raw_text {
        let (t, h) = text_and_html(raw);
        post.text = Some(t);
        post.html = Some(h);
        // A timeline card (or a failed extend) gives the cut text ending in "全文".
        if long_text.is_none()
            && m.pointer("/longText/longTextContent").is_none()
            && looks_truncated(m)
        {
            post.extra.insert("text_truncated".into(), json!(true));
        }
    }
    if let Some(raw) = str_of(m.get("created_at")) {
        post.created_at = parse_created_at(&raw, now);
        post.created_at_raw = Some(raw);
    }
    for p in pics_of(m) {
        post.media.extend(pic_media(&p));
    }
    if let Some(pi) = m.get("page_info").filter(|p| p.is_object())
        && pi.get("type").and_then(Value::as_str) == Some("video")
    {
        if let Some(v) = best_video(pi) {
            let mut media = Media::new(MediaKind::Video, v);
            media.referer = Some(VIDEO_REFERER.into());
            media.alt = str_of(pi.get("title")).or_else(|| str_of(pi.get("content2")));
            post.media.push(media);
        }
        if let Some(cover) = str_of(pi.pointer("/page_pic/url")) {
            post.extra.insert("video_cover".into(), json!(cover));
        }
    }
    post.counts = counts(m);
    if let Some(b) = &bid {
        post.extra.insert("bid".into(), json!(b));
    }
    for key in ["edit_count", "edit_at", "region_name", "source", "pic_num"] {
        if let Some(v) = m.get(key).filter(|v| !v.is_null() && *v != "") {
            post.extra.insert(key.into(), v.clone());
        }
    }
    if m.get("isLongText").and_then(Value::as_bool) == Some(true) {
        post.extra.insert("is_long_text".into(), json!(true));
    }
    if let Some(rt) = m.get("retweeted_status").filter(|v| v.is_object()) {
        let rt_raw = str_of(rt.get("text")).unwrap_or_default();
        let gone_marks = rt.get("user").is_none_or(Value::is_null)
            || rt
                .get("deleted")
                .is_some_and(|d| d == "1" || d == 1 || d == true);
        if gone_marks && let Some((outcome, cause)) = classify_marker(&rt_raw) {
            post.extra.insert(
                "original_state".into(),
                json!({
                    "outcome": outcome.as_str(),
                    "cause": cause.map(Cause::as_str),
                    "message": rt_raw,
                }),
            );
        }
        match parse_mblog_with(rt, now, None) {
            Ok(orig) => post.repost_of = Some(Box::new(orig)),
            Err(_) => {
                // An original without an id: keep what is readable.
                let mut orig = Post::new("weibo", "", "");
                let (t, h) = text_and_html(&rt_raw);
                orig.text = Some(t);
                orig.html = Some(h);
                post.repost_of = Some(Box::new(orig));
            }
        }
    }
    Ok(post)
}

pub(super) fn needs_long_text(m: &Value) -> bool {
    m.get("isLongText").and_then(Value::as_bool) == Some(true)
        || m.get("pic_num").and_then(Value::as_u64).unwrap_or(0) > 9
}

pub(super) fn looks_truncated(m: &Value) -> bool {
    m.get("text")
        .and_then(Value::as_str)
        .is_some_and(|t| t.contains(">全文<"))
}

/// The `status` object of a `/detail/` page's `var $render_data = [...][0] || {};`.
pub fn render_data_status(html: &str) -> Option<Value> {
    let start = html.find("$render_data")?;
    let after = &html[start..];
    let eq = after.find('=')?;
    let body = &after[eq + 1..];
    // `[0]` may also appear inside the JSON's strings: try each until the array parses.
    let arr: Value = body
        .match_indices("[0]")
        .find_map(|(end, _)| serde_json::from_str(body[..end].trim()).ok())?;
    let first = arr.get(0)?;
    first.get("status").filter(|s| s.is_object()).cloned()
}

/// Reads a timeline page: its posts (`card_type == 9`, also inside `card_group`) and the
/// next cursor (`since_id`, or `page:<n+1>` for page-numbered lists).
pub fn read_timeline(
    v: &Value,
    now: &jiff::ZonedDateTime,
) -> Result<(Vec<Post>, Option<String>), String> {
    let cards = v
        .pointer("/data/cards")
        .and_then(Value::as_array)
        .ok_or("data.cards")?;
    let mut mblogs = Vec::new();
    for c in cards {
        if c.get("card_type").and_then(Value::as_i64) == Some(9) {
            mblogs.push(c.get("mblog").ok_or("data.cards[].mblog")?);
        }
        if let Some(group) = c.get("card_group").and_then(Value::as_array) {
            for g in group {
                if g.get("card_type").and_then(Value::as_i64) == Some(9)
                    && let Some(m) = g.get("mblog")
                {
                    mblogs.push(m);
                }
            }
        }
    }
    let mut posts = Vec::new();
    for m in mblogs {
        posts.push(parse_mblog(m, now).map_err(|f| format!("data.cards[].mblog.{f}"))?);
    }
    let info = v.pointer("/data/cardlistInfo");
    let since = info
        .and_then(|i| str_of(i.get("since_id")))
        .filter(|s| s != "0");
    let page = info
        .and_then(|i| i.get("page"))
        .and_then(|p| p.as_u64().or_else(|| p.as_str()?.parse().ok()));
    let next = match (since, page) {
        (Some(s), _) => Some(s),
        (None, Some(p)) if !posts.is_empty() => Some(format!("page:{p}")),
        _ => None,
    };
    let next = if posts.is_empty() { None } else { next };
    Ok((posts, next))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_picture_urls() {
        assert_eq!(
            large_url("https://wx1.sinaimg.cn/orj360/006QZngZgy1grl2q3n98jj30rs2084qp.jpg"),
            "https://wx1.sinaimg.cn/large/006QZngZgy1grl2q3n98jj30rs2084qp.jpg"
        );
        assert_eq!(
            large_url("https://wx1.sinaimg.cn/mw690/abc.jpg"),
            "https://wx1.sinaimg.cn/large/abc.jpg"
        );
        assert_eq!(
            large_url("https://wx1.sinaimg.cn/crop.0.0/abc.jpg"),
            "https://wx1.sinaimg.cn/crop.0.0/abc.jpg"
        );
    }

    #[test]
    fn render_data_is_read() {
        let html = "<script>var $render_data = [{\"status\": {\"id\": \"1\", \"text\": \"a] [0] || b\"}, \"call\": 1}][0] || {};</script>";
        assert_eq!(render_data_status(html).unwrap()["id"], "1");
        let html = "var $render_data = [{\"status\": {\"id\": \"42\"}, \"call\": 1}][0] || {};";
        assert_eq!(render_data_status(html).unwrap()["id"], "42");
        assert!(render_data_status("<title>微博-出错了</title>").is_none());
    }
}
