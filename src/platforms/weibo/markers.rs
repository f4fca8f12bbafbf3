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

/// The visible error text of a `/detail/` error page, or its title.
pub(super) fn page_message(html: &str) -> Option<String> {
    for needle in ["该账号", "抱歉", "微博不存在", "根据", "由于"] {
        if let Some(i) = html.find(needle) {
            let rest = &html[i..];
            let end = rest.find(['<', '"', '\n']).unwrap_or(rest.len());
            return Some(rest[..end].trim().to_string());
        }
    }
    None
}
