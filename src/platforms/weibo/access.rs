//! Reading m.weibo.cn answers (walls, refusals, shapes) and climbing the access levels:
//! anonymous, then visitor cookies, then the user's cookies.

use super::{JSON_ACCEPT, VISITOR_URL, WALL_HOSTS};
use crate::platforms::kit::{str_of, unreachable, url};
use crate::platforms::{Fetched, Finding, Request, Response};
use serde_json::Value;
use url::Url;

/// How an m.weibo.cn API call answered.
pub(super) enum Api {
    /// `ok:1`, the JSON body.
    Ok(Value),
    /// `ok:0` or another refusal, with the platform's words.
    No { message: String, json: Value },
    /// A wall: login, visitor, risk control, captcha, non-JSON.
    Walled(String),
    /// No usable answer (network, 5xx, 429, cut body).
    Failed(String),
    /// JSON, but not in a shape we know: the named field is missing.
    Shape(&'static str),
}

fn wall_redirect(r: &Response) -> Option<String> {
    if !(300..400).contains(&r.status) {
        return None;
    }
    let loc = r.header("location").unwrap_or("");
    let host = Url::parse(loc)
        .or_else(|_| r.url.join(loc))
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_default();
    if WALL_HOSTS.contains(&host.as_str()) || host.ends_with("passport.weibo.com") {
        Some(format!("redirect to {host}"))
    } else {
        Some(format!("HTTP {} redirect to {loc}", r.status))
    }
}

pub(super) fn read_api(answer: &Fetched) -> Api {
    let r = match answer {
        Fetched::Failed(e) => return Api::Failed(e.clone()),
        Fetched::Response(r) => r,
    };
    if let Some(w) = wall_redirect(r) {
        return Api::Walled(w);
    }
    match r.status {
        432 | 418 | 403 | 401 => return Api::Walled(format!("HTTP {}", r.status)),
        s if s >= 400 => return Api::Failed(format!("HTTP {s}")),
        _ => {}
    }
    if r.truncated {
        return Api::Failed("answer cut at the size limit".into());
    }
    let Ok(v) = serde_json::from_slice::<Value>(&r.body) else {
        let body = String::from_utf8_lossy(&r.body);
        if body.contains("captcha") || body.contains("验证码") {
            return Api::Walled("captcha page".into());
        }
        return Api::Walled(format!("non-JSON answer ({})", r.mime()));
    };
    let ok = v
        .get("ok")
        .and_then(|o| o.as_i64().or_else(|| o.as_str()?.parse().ok()));
    match ok {
        Some(1) => Api::Ok(v),
        Some(-100) => Api::Walled(format!(
            "ok:-100 login wall{}",
            str_of(v.get("url"))
                .map(|u| format!(" ({u})"))
                .unwrap_or_default()
        )),
        _ => {
            let url = str_of(v.get("url")).unwrap_or_default();
            if v.get("data").is_none()
                && (url.contains("captcha") || url.contains("verify") || url.contains("passport"))
            {
                return Api::Walled(format!("captcha or verification ({url})"));
            }
            if ok.is_none() {
                return Api::Shape("ok");
            }
            let message = str_of(v.get("msg"))
                .or_else(|| str_of(v.get("message")))
                .or_else(|| str_of(v.get("errmsg")))
                .or_else(|| str_of(v.get("errno")).map(|e| format!("errno {e}")))
                .or_else(|| str_of(v.get("error_code")).map(|e| format!("error_code {e}")))
                .unwrap_or_else(|| String::from_utf8_lossy(&r.body).into_owned());
            Api::No { message, json: v }
        }
    }
}

/// `SUB=…; SUBP=…` from a visitor answer's Set-Cookie headers, or from its JSONP body
/// (`visitor_gray_callback({"data":{"sub":…,"subp":…}})`).
pub(super) fn visitor_cookie(answer: &Fetched) -> Option<String> {
    let Fetched::Response(r) = answer else {
        return None;
    };
    let mut sub = None;
    let mut subp = None;
    for (name, value) in &r.headers {
        if !name.eq_ignore_ascii_case("set-cookie") {
            continue;
        }
        let pair = value.split(';').next().unwrap_or("").trim();
        if let Some((k, v)) = pair.split_once('=') {
            let v = v.trim();
            if v.is_empty() || v.eq_ignore_ascii_case("deleted") {
                continue;
            }
            match k.trim() {
                "SUB" => sub = Some(v.to_string()),
                "SUBP" => subp = Some(v.to_string()),
                _ => {}
            }
        }
    }
    if sub.is_none() {
        let body = String::from_utf8_lossy(&r.body);
        let json = body
            .find('(')
            .zip(body.rfind(')'))
            .filter(|(a, b)| a < b)
            .map(|(a, b)| &body[a + 1..b])
            .unwrap_or(&body);
        if let Ok(v) = serde_json::from_str::<Value>(json) {
            sub = str_of(v.pointer("/data/sub"));
            subp = subp.or_else(|| str_of(v.pointer("/data/subp")));
        }
    }
    let sub = sub?;
    Some(match subp {
        Some(p) => format!("SUB={sub}; SUBP={p}"),
        None => format!("SUB={sub}"),
    })
}

// Access levels, shared by post and timeline plans

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Access {
    Anonymous,
    Visitor(String),
    User,
}

impl Access {
    fn name(&self) -> &'static str {
        match self {
            Access::Anonymous => "anonymous",
            Access::Visitor(_) => "visitor cookies",
            Access::User => "user cookies",
        }
    }
    pub(super) fn apply(&self, mut req: Request) -> Request {
        match self {
            Access::Anonymous => {}
            Access::Visitor(c) => req = req.header("Cookie", c),
            Access::User => req.with_user_cookies = true,
        }
        req
    }
}

/// Walls met so far, for the final message.
#[derive(Default)]
pub(super) struct Walls(Vec<String>);

impl Walls {
    pub(super) fn push(&mut self, access: &Access, wall: &str) {
        self.0.push(format!("{} ({wall})", access.name()));
    }
    /// The visitor flow issued no cookie.
    pub(super) fn no_visitor_cookie(&mut self) {
        self.0.push("visitor cookies (no SUB cookie issued)".into());
    }
    pub(super) fn gone(&self, endpoint: &str) -> Finding {
        unreachable(format!("{endpoint} walled: {}", self.0.join("; then ")))
    }
}

/// The visitor flow's POST, which issues the visitor cookies.
pub(super) fn visitor_request() -> Result<Request, Finding> {
    let req = Request {
        method: "POST",
        body: Some(b"cb=visitor_gray_callback&tid=&from=weibo".to_vec()),
        ..Request::get(url(VISITOR_URL, "visitor")?, "visitor")
    };
    Ok(req
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header(
            "Referer",
            "https://visitor.passport.weibo.cn/visitor/visitor",
        )
        .header("Accept", "*/*")
        .no_redirects())
}

/// An m.weibo.cn API call as the web app makes it, at the given access level.
pub(super) fn api_request(
    url: Url,
    purpose: &'static str,
    referer: &str,
    access: &Access,
) -> Request {
    access.apply(
        Request::get(url, purpose)
            .header("Accept", JSON_ACCEPT)
            .header("X-Requested-With", "XMLHttpRequest")
            .header("MWeibo-Pwa", "1")
            .header("Referer", referer)
            .no_redirects(),
    )
}
