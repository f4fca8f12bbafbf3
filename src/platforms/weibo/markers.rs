//! What Weibo's own words say about a post: deletion, visibility and account markers.

use crate::model::{Cause, Outcome};

/// What a Weibo message says about a post: `此微博已被作者删除` → deleted by the author,
/// `因被多人举报…已被删除` → removed by the platform, `由于作者设置…` → restricted, account
/// texts → account gone. `None` when the text is no known marker.
pub fn classify_marker(text: &str) -> Option<(Outcome, Option<Cause>)> {
    let has = |s: &str| text.contains(s);
    // Account level first: a banned account's message also says "无法查看".
    if has("该账号因用户自行申请关闭") || has("该账号已关闭") {
        return Some((Outcome::AccountGone, Some(Cause::Author)));
    }
    if (has("该账号因被投诉") && has("无法查看")) || has("该账号行为异常") || has("该账号已被封")
    {
        return Some((Outcome::AccountGone, Some(Cause::Platform)));
    }
    if has("此微博已被作者删除")
        || has("此微博已被原作者删除")
        || has("此微博已被原作者刪除")
        || has("此微博已被作者刪除")
    {
        return Some((Outcome::Deleted, Some(Cause::Author)));
    }
    if ((has("因被多人举报") || has("因被多人投诉")) && (has("删除") || has("刪除")))
        || (has("根据") && has("社区公约") && has("已被删除"))
        || (has("根据") && has("社区管理规定") && has("已被删除"))
        || has("此微博已被删除")
        || has("该微博已被删除")
        || has("該微博已被刪除")
        || has("此微博已被刪除")
    {
        return Some((Outcome::Deleted, Some(Cause::Platform)));
    }
    if has("由于作者设置")
        || has("仅展示半年内微博")
        || has("微博可见时间范围")
        || has("根据博主设置")
        || has("由于博主设置")
        || has("此微博已不可见")
    {
        return Some((Outcome::Restricted, Some(Cause::Author)));
    }
    if has("营销推广") && (has("未备案") || has("审核中")) {
        return Some((Outcome::Restricted, Some(Cause::Platform)));
    }
    if has("微博不存在或暂无查看权限") || has("不存在的微博") || has("Target weibo does not exist")
    {
        return Some((Outcome::Deleted, Some(Cause::Unknown)));
    }
    None
}

/// What a `/detail/` page says to its reader, as text: the message box of Weibo's error
/// page (`.h5-4box`, `.h5-4con`) and the page title. Markers are read from this and never
/// from the whole page: its scripts and attributes are not Weibo speaking to the reader
/// (a live page's script may carry any marker string).
pub(super) fn page_said(html: &str) -> String {
    let doc = scraper::Html::parse_document(html);
    let mut out = String::new();
    for s in [".h5-4con", ".h5-4box", "title"] {
        let Ok(sel) = scraper::Selector::parse(s) else {
            continue;
        };
        for e in doc.select(&sel) {
            out.extend(e.text());
            out.push('\n');
        }
    }
    out
}

/// The error text of what a `/detail/` page says ([`page_said`]).
pub(super) fn page_message(said: &str) -> Option<String> {
    for needle in ["该账号", "抱歉", "微博不存在", "根据", "由于"] {
        if let Some(i) = said.find(needle) {
            let rest = &said[i..];
            let end = rest.find(['<', '"', '\n']).unwrap_or(rest.len());
            return Some(rest[..end].trim().to_string());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A phrase for every rule of `classify_marker` (combined rules as one phrase).
    const MARKERS: &[&str] = &[
        "该账号因用户自行申请关闭",
        "该账号已关闭",
        "该账号因被投诉，无法查看",
        "该账号行为异常",
        "该账号已被封",
        "此微博已被作者删除",
        "此微博已被原作者删除",
        "此微博已被原作者刪除",
        "此微博已被作者刪除",
        "因被多人举报，已被删除",
        "因被多人投诉，已被刪除",
        "根据社区公约，已被删除",
        "根据社区管理规定，已被删除",
        "此微博已被删除",
        "该微博已被删除",
        "該微博已被刪除",
        "此微博已被刪除",
        "由于作者设置，无法查看",
        "仅展示半年内微博",
        "微博可见时间范围",
        "根据博主设置",
        "由于博主设置",
        "此微博已不可见",
        "营销推广未备案",
        "营销推广审核中",
        "微博不存在或暂无查看权限",
        "不存在的微博",
        "Target weibo does not exist",
    ];

    /// A page carrying every marker in a script, a style and an attribute says nothing
    /// to its reader: no verdict. The same words in Weibo's message box or the title are
    /// read.
    #[test]
    fn markers_count_only_in_what_the_page_says_to_its_reader() {
        let all = MARKERS.join(" ");
        let live = format!(
            "<html><head><title>微博正文 - 微博HTML5版</title><style>/* {all} */</style>\
             <script>var $config = {{\"msgs\": \"{all}\"}};</script></head>\
             <body><div id=\"app\" data-tips=\"{all}\"></div></body></html>"
        );
        let said = page_said(&live);
        assert_eq!(classify_marker(&said), None, "read from {said:?}");
        assert_eq!(page_message(&said), None);
        for m in MARKERS {
            let err = format!(
                "<html><head><title>微博-出错了</title><script>var x = 1;</script></head>\
                 <body><div class=\"h5-4box\"><p class=\"h5-4con\">{m}</p></div></body></html>"
            );
            assert!(
                classify_marker(&page_said(&err)).is_some(),
                "{m} in the message box is read"
            );
        }
    }
}
