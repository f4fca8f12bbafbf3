//! Sina Weibo (to be written).

use super::{Job, Plan, PlanContext, Platform, Target};
use url::Url;

pub struct Weibo;

impl Platform for Weibo {
    fn name(&self) -> &'static str {
        "weibo"
    }
    fn hosts(&self) -> &'static [&'static str] {
        &["m.weibo.cn", "weibo.com"]
    }
    fn recognise(&self, _url: &Url) -> Option<Target> {
        None
    }
    fn post_plan(&self, _target: &Target, _job: Job, _ctx: &PlanContext) -> Box<dyn Plan> {
        unimplemented!("weibo plans are not written yet")
    }
}
