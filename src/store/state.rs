//! The post state machine of docs/states.md, pure: what a post's state and its facts
//! (cause, the platform's words, `last_seen_live`, `first_seen_gone`) become after one
//! more capture or check.
//!
//! The index derives its `posts` columns with it (`store::index`, on append and on
//! `reindex`), and `verify-bundle` replays a bundle's post and check records through it,
//! so what a bundle asserts is what the archive would derive from the same records.
//!
//! The rules: `live` and `edited` count at once (an edited post stays `edited` while it is
//! live); a gone outcome (`deleted`, `restricted`, `account_gone`) becomes the state only
//! when the previous definite check (`unreachable` ones skipped) said the same, and then
//! `first_seen_gone` is that previous check's time; while it stays gone the first sighting
//! is kept and the newest words are taken; a gone post seen live again is `restored`. A
//! capture makes the post `live`, `last_seen_live` the capture's time and clears
//! `first_seen_gone`; it counts as a live sighting, so a gone check before it and one after
//! it do not agree (only two gone checks with no live sighting between them confirm).
//!
//! A post first known from a gone answer (a capture that found it already gone writes a
//! check naming the post, and no post record) is made by [`gone_at_capture`]:
//! `gone_unconfirmed` for a definite gone answer, which a second agreeing check confirms
//! like any other; `not_found` for a page's 404 that says nothing about a post ever
//! having been there, which no gone answer turns into a deletion (only a live answer or a
//! capture changes it).

use crate::model::{Cause, Outcome};

/// A post's state (the `state` of docs/post.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Live,
    Edited,
    Deleted,
    Restricted,
    AccountGone,
    /// Never seen live; one definite gone answer so far (its outcome is that check's).
    GoneUnconfirmed,
    /// Never seen live; the address answered that nothing is there (a web page's 404).
    NotFound,
    /// A comment its post's last complete listing did not show (docs/comments.md): not
    /// gone, only not listed.
    NotListed,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Live => "live",
            State::Edited => "edited",
            State::Deleted => "deleted",
            State::Restricted => "restricted",
            State::AccountGone => "account_gone",
            State::GoneUnconfirmed => "gone_unconfirmed",
            State::NotFound => "not_found",
            State::NotListed => "not_listed",
        }
    }

    pub fn parse(s: &str) -> Option<State> {
        Some(match s {
            "live" => State::Live,
            "edited" => State::Edited,
            "deleted" => State::Deleted,
            "restricted" => State::Restricted,
            "account_gone" => State::AccountGone,
            "gone_unconfirmed" => State::GoneUnconfirmed,
            "not_found" => State::NotFound,
            "not_listed" => State::NotListed,
            _ => return None,
        })
    }

    /// The state a gone outcome becomes once confirmed (a `not_found` answer about a
    /// post that has a history is a deletion, cause unknown).
    fn gone(o: Outcome) -> Option<State> {
        match o {
            Outcome::Deleted | Outcome::NotFound => Some(State::Deleted),
            Outcome::Restricted => Some(State::Restricted),
            Outcome::AccountGone => Some(State::AccountGone),
            _ => None,
        }
    }

    /// A confirmed gone state.
    pub fn is_gone(self) -> bool {
        matches!(
            self,
            State::Deleted | State::Restricted | State::AccountGone
        )
    }

    /// A post known only from gone answers: never captured, never seen live.
    pub fn never_seen_live(self) -> bool {
        matches!(self, State::GoneUnconfirmed | State::NotFound)
    }
}

/// What is derived about a post from its records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    pub state: State,
    pub cause: Option<Cause>,
    /// The platform's own words or code, from the check that confirmed (or kept) a gone state.
    pub message: Option<String>,
    pub last_seen_live: Option<String>,
    pub first_seen_gone: Option<String>,
}

/// What a check adds to the post's history (the `event` of a check).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    /// A gone post was seen live again.
    Restored,
    /// A gone state began (two definite checks agreed).
    Confirmed,
}

impl Event {
    pub fn as_str(self) -> &'static str {
        match self {
            Event::Restored => "restored",
            Event::Confirmed => "confirmed",
        }
    }

    /// The event named by [`Event::as_str`].
    pub fn parse(s: &str) -> Option<Event> {
        [Event::Restored, Event::Confirmed]
            .into_iter()
            .find(|e| e.as_str() == s)
    }
}

/// One check, as its record states it.
#[derive(Debug, Clone, Copy)]
pub struct CheckIn<'a> {
    pub outcome: Outcome,
    pub cause: Option<Cause>,
    pub message: Option<&'a str>,
    pub at: &'a str,
}

/// The post after a capture (a post record) at `at`: live, seen live at `at`, with no
/// `first_seen_gone` (a capture is made from a live answer).
pub fn after_capture(_prev: Option<&Facts>, at: &str) -> Facts {
    Facts {
        state: State::Live,
        cause: None,
        message: None,
        last_seen_live: Some(at.to_string()),
        first_seen_gone: None,
    }
}

/// The post a check makes when no post record came before it and the check names its
/// post (written by a capture that found the post already gone): `gone_unconfirmed` for
/// a definite gone answer (`first_seen_gone` = this answer), `not_found` for a
/// `not_found` one; `None` (no post) for any other outcome.
pub fn gone_at_capture(c: &CheckIn) -> Option<Facts> {
    let state = match c.outcome {
        Outcome::Deleted | Outcome::Restricted | Outcome::AccountGone => State::GoneUnconfirmed,
        Outcome::NotFound => State::NotFound,
        Outcome::Live | Outcome::Edited | Outcome::Unreachable | Outcome::NotListed => {
            return None;
        }
    };
    Some(Facts {
        state,
        cause: c.cause,
        message: c.message.map(str::to_string),
        last_seen_live: None,
        first_seen_gone: (state == State::GoneUnconfirmed).then(|| c.at.to_string()),
    })
}

/// The post after one check. `prev` is `None` when no post record came before the check
/// (then there is still no post, but the check's event is decided all the same);
/// `last_definite` is the outcome and time of the newest earlier check of this post that
/// was not `unreachable`.
pub fn after_check(
    prev: Option<&Facts>,
    last_definite: Option<(Outcome, &str)>,
    c: &CheckIn,
) -> (Option<Facts>, Option<Event>) {
    let was_gone = prev.is_some_and(|p| p.state.is_gone());
    match c.outcome {
        Outcome::Live | Outcome::Edited => {
            let event = was_gone.then_some(Event::Restored);
            let next = prev.map(|p| Facts {
                state: if c.outcome == Outcome::Edited || p.state == State::Edited {
                    State::Edited
                } else {
                    State::Live
                },
                cause: None,
                message: None,
                last_seen_live: match &p.last_seen_live {
                    Some(l) if l.as_str() >= c.at => Some(l.clone()),
                    _ => Some(c.at.to_string()),
                },
                first_seen_gone: None,
            });
            (next, event)
        }
        Outcome::Deleted | Outcome::Restricted | Outcome::AccountGone | Outcome::NotFound => {
            // Nothing ever said a `not_found` post was there: no gone answer makes it a
            // deletion. The newest words are kept.
            if let Some(p) = prev.filter(|p| p.state == State::NotFound) {
                let next = Facts {
                    message: c.message.map(str::to_string).or(p.message.clone()),
                    ..p.clone()
                };
                return (Some(next), None);
            }
            let gone = State::gone(c.outcome);
            let already = prev.is_some_and(|p| Some(p.state) == gone);
            // A live sighting after the last definite check (a capture) is the newest
            // definite word on the post: a gone check before it does not agree with this one.
            let seen_live_since = |pat: &str| {
                prev.and_then(|p| p.last_seen_live.as_deref())
                    .is_some_and(|l| l > pat)
            };
            let last_definite = last_definite.filter(|(_, pat)| !seen_live_since(pat));
            match (last_definite, gone) {
                (Some((po, pat)), Some(g)) if State::gone(po) == Some(g) && !already => {
                    let next = prev.map(|p| Facts {
                        state: g,
                        cause: c
                            .cause
                            .or((c.outcome == Outcome::NotFound).then_some(Cause::Unknown)),
                        message: c.message.map(str::to_string),
                        first_seen_gone: Some(pat.to_string()),
                        ..p.clone()
                    });
                    (next, Some(Event::Confirmed))
                }
                _ if already => {
                    let next = prev.map(|p| Facts {
                        message: c.message.map(str::to_string).or(p.message.clone()),
                        ..p.clone()
                    });
                    (next, None)
                }
                // Still one definite gone answer (this one) for a post never seen live:
                // its cause and words are this answer's.
                _ => match prev {
                    Some(p) if p.state == State::GoneUnconfirmed => {
                        let next = Facts {
                            cause: c.cause,
                            message: c.message.map(str::to_string).or(p.message.clone()),
                            ..p.clone()
                        };
                        (Some(next), None)
                    }
                    _ => (prev.cloned(), None),
                },
            }
        }
        Outcome::Unreachable => (prev.cloned(), None),
        // Only a post seen live, and not gone, can stop being listed; its facts stay.
        Outcome::NotListed => match prev {
            Some(p) if !p.state.is_gone() && !p.state.never_seen_live() => (
                Some(Facts {
                    state: State::NotListed,
                    ..p.clone()
                }),
                None,
            ),
            _ => (prev.cloned(), None),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn live(at: &str) -> Facts {
        after_capture(None, at)
    }
    fn chk<'a>(o: Outcome, cause: Option<Cause>, msg: Option<&'a str>, at: &'a str) -> CheckIn<'a> {
        CheckIn {
            outcome: o,
            cause,
            message: msg,
            at,
        }
    }

    #[test]
    fn a_capture_makes_the_post_live_and_clears_first_seen_gone() {
        let f = live("t1");
        assert_eq!(f.state, State::Live);
        assert_eq!(f.last_seen_live.as_deref(), Some("t1"));
        let gone = Facts {
            state: State::Deleted,
            cause: Some(Cause::Platform),
            message: Some("removed".into()),
            last_seen_live: Some("t1".into()),
            first_seen_gone: Some("t2".into()),
        };
        let f = after_capture(Some(&gone), "t3");
        assert_eq!(
            f,
            Facts {
                state: State::Live,
                cause: None,
                message: None,
                last_seen_live: Some("t3".into()),
                first_seen_gone: None,
            }
        );
    }

    #[test]
    fn a_capture_between_two_gone_checks_keeps_them_from_agreeing() {
        // gone at t2, captured live at t3, gone at t4: one gone check since the post was
        // last seen live, so not confirmed yet; a second one at t5 confirms from t4.
        let f = live("t3");
        let (n, e) = after_check(
            Some(&f),
            Some((Outcome::Deleted, "t2")),
            &chk(Outcome::Deleted, Some(Cause::Platform), Some("gone"), "t4"),
        );
        assert_eq!((n.as_ref().unwrap().state, e), (State::Live, None));
        let (n, e) = after_check(
            n.as_ref(),
            Some((Outcome::Deleted, "t4")),
            &chk(Outcome::Deleted, Some(Cause::Platform), Some("gone"), "t5"),
        );
        let n = n.unwrap();
        assert_eq!((n.state, e), (State::Deleted, Some(Event::Confirmed)));
        assert_eq!(n.first_seen_gone.as_deref(), Some("t4"));
    }

    #[test]
    fn live_counts_at_once_and_last_seen_live_only_moves_forward() {
        let f = live("t5");
        let (n, e) = after_check(Some(&f), None, &chk(Outcome::Live, None, None, "t6"));
        assert_eq!(e, None);
        assert_eq!(n.as_ref().unwrap().last_seen_live.as_deref(), Some("t6"));
        let (n, _) = after_check(Some(&f), None, &chk(Outcome::Live, None, None, "t4"));
        assert_eq!(n.unwrap().last_seen_live.as_deref(), Some("t5"));
    }

    #[test]
    fn edited_counts_at_once_and_stays_while_live() {
        let f = live("t1");
        let (n, e) = after_check(Some(&f), None, &chk(Outcome::Edited, None, None, "t2"));
        let n = n.unwrap();
        assert_eq!((n.state, e), (State::Edited, None));
        let (n, _) = after_check(
            Some(&n),
            Some((Outcome::Edited, "t2")),
            &chk(Outcome::Live, None, None, "t3"),
        );
        assert_eq!(n.unwrap().state, State::Edited);
    }

    #[test]
    fn one_gone_check_is_not_a_state_two_consecutive_are() {
        for (o, s) in [
            (Outcome::Deleted, State::Deleted),
            (Outcome::Restricted, State::Restricted),
            (Outcome::AccountGone, State::AccountGone),
        ] {
            let f = live("t1");
            let (n, e) = after_check(
                Some(&f),
                Some((Outcome::Live, "t1")),
                &chk(o, Some(Cause::Platform), Some("first"), "t2"),
            );
            assert_eq!((n.as_ref(), e), (Some(&f), None), "{o:?} once");
            let (n, e) = after_check(
                n.as_ref(),
                Some((o, "t2")),
                &chk(o, Some(Cause::Platform), Some("second"), "t3"),
            );
            assert_eq!(e, Some(Event::Confirmed));
            assert_eq!(
                n.unwrap(),
                Facts {
                    state: s,
                    cause: Some(Cause::Platform),
                    message: Some("second".into()),
                    last_seen_live: Some("t1".into()),
                    first_seen_gone: Some("t2".into()),
                }
            );
        }
    }

    #[test]
    fn unreachable_changes_nothing_and_is_skipped_over() {
        let f = live("t1");
        let (n, e) = after_check(
            Some(&f),
            Some((Outcome::Deleted, "t2")),
            &chk(Outcome::Unreachable, None, Some("timeout"), "t3"),
        );
        assert_eq!((n.as_ref(), e), (Some(&f), None));
        // The caller skips unreachable checks when naming the last definite one.
        let (n, e) = after_check(
            Some(&f),
            Some((Outcome::Deleted, "t2")),
            &chk(Outcome::Deleted, Some(Cause::Author), None, "t4"),
        );
        assert_eq!(e, Some(Event::Confirmed));
        assert_eq!(n.unwrap().first_seen_gone.as_deref(), Some("t2"));
    }

    #[test]
    fn two_different_gone_outcomes_do_not_agree() {
        let f = live("t1");
        let (n, e) = after_check(
            Some(&f),
            Some((Outcome::Restricted, "t2")),
            &chk(Outcome::Deleted, Some(Cause::Author), None, "t3"),
        );
        assert_eq!((n.as_ref(), e), (Some(&f), None));
    }

    #[test]
    fn still_gone_keeps_the_first_sighting_and_takes_the_newest_words() {
        let gone = Facts {
            state: State::Deleted,
            cause: Some(Cause::Platform),
            message: Some("old words".into()),
            last_seen_live: Some("t1".into()),
            first_seen_gone: Some("t2".into()),
        };
        let (n, e) = after_check(
            Some(&gone),
            Some((Outcome::Deleted, "t3")),
            &chk(
                Outcome::Deleted,
                Some(Cause::Author),
                Some("new words"),
                "t4",
            ),
        );
        assert_eq!(e, None);
        let n = n.unwrap();
        assert_eq!(n.message.as_deref(), Some("new words"));
        assert_eq!(
            n.cause,
            Some(Cause::Platform),
            "the cause stays the confirmed one"
        );
        assert_eq!(n.first_seen_gone.as_deref(), Some("t2"));
        let (n, _) = after_check(
            Some(&n),
            Some((Outcome::Deleted, "t4")),
            &chk(Outcome::Deleted, None, None, "t5"),
        );
        assert_eq!(n.unwrap().message.as_deref(), Some("new words"));
    }

    #[test]
    fn a_gone_post_seen_live_is_restored() {
        let gone = Facts {
            state: State::AccountGone,
            cause: Some(Cause::Unknown),
            message: Some("suspended".into()),
            last_seen_live: Some("t1".into()),
            first_seen_gone: Some("t2".into()),
        };
        let (n, e) = after_check(
            Some(&gone),
            Some((Outcome::AccountGone, "t3")),
            &chk(Outcome::Live, None, None, "t4"),
        );
        assert_eq!(e, Some(Event::Restored));
        assert_eq!(
            n.unwrap(),
            Facts {
                state: State::Live,
                cause: None,
                message: None,
                last_seen_live: Some("t4".into()),
                first_seen_gone: None,
            }
        );
    }

    #[test]
    fn a_check_before_any_post_record_makes_no_post_but_keeps_its_event() {
        let (n, e) = after_check(None, None, &chk(Outcome::Live, None, None, "t1"));
        assert_eq!((n, e), (None, None));
        let (n, e) = after_check(
            None,
            Some((Outcome::Deleted, "t1")),
            &chk(Outcome::Deleted, None, None, "t2"),
        );
        assert_eq!((n, e), (None, Some(Event::Confirmed)));
    }

    #[test]
    fn a_gone_answer_at_first_capture_is_a_post_gone_unconfirmed_until_a_second_agrees() {
        let first = chk(
            Outcome::Deleted,
            Some(Cause::Author),
            Some("此微博已被作者删除"),
            "t1",
        );
        let f = gone_at_capture(&first).unwrap();
        assert_eq!(
            f,
            Facts {
                state: State::GoneUnconfirmed,
                cause: Some(Cause::Author),
                message: Some("此微博已被作者删除".into()),
                last_seen_live: None,
                first_seen_gone: Some("t1".into()),
            }
        );
        // An unreachable check changes nothing; the second deleted answer confirms it,
        // gone since the first.
        let (n, e) = after_check(
            Some(&f),
            Some((Outcome::Deleted, "t1")),
            &chk(Outcome::Unreachable, None, Some("timeout"), "t2"),
        );
        assert_eq!((n.as_ref(), e), (Some(&f), None));
        let (n, e) = after_check(
            Some(&f),
            Some((Outcome::Deleted, "t1")),
            &chk(Outcome::Deleted, Some(Cause::Author), Some("again"), "t3"),
        );
        assert_eq!(e, Some(Event::Confirmed));
        let n = n.unwrap();
        assert_eq!(n.state, State::Deleted);
        assert_eq!(n.first_seen_gone.as_deref(), Some("t1"));
        assert_eq!(n.last_seen_live, None);
        // A different gone answer is not a confirmation: still one answer, this one's.
        let (n, e) = after_check(
            Some(&f),
            Some((Outcome::Deleted, "t1")),
            &chk(Outcome::Restricted, None, Some("private"), "t3"),
        );
        let n = n.unwrap();
        assert_eq!((n.state, e), (State::GoneUnconfirmed, None));
        assert_eq!((n.cause, n.message.as_deref()), (None, Some("private")));
        // Seen live: live, no `restored` (it was never confirmed gone).
        let (n, e) = after_check(Some(&f), None, &chk(Outcome::Live, None, None, "t4"));
        assert_eq!(e, None);
        assert_eq!(n.unwrap(), live("t4"));
        // Neither a live nor an unreachable answer makes a post.
        for o in [Outcome::Live, Outcome::Edited, Outcome::Unreachable] {
            assert_eq!(gone_at_capture(&chk(o, None, None, "t1")), None, "{o:?}");
        }
        for o in [Outcome::Restricted, Outcome::AccountGone] {
            assert_eq!(
                gone_at_capture(&chk(o, None, None, "t1")).unwrap().state,
                State::GoneUnconfirmed
            );
        }
    }

    #[test]
    fn a_page_not_found_at_first_capture_is_never_called_deleted() {
        let f = gone_at_capture(&chk(Outcome::NotFound, None, Some("HTTP 404"), "t1")).unwrap();
        assert_eq!(
            f,
            Facts {
                state: State::NotFound,
                cause: None,
                message: Some("HTTP 404".into()),
                last_seen_live: None,
                first_seen_gone: None,
            }
        );
        // Two more 404s (a check reads them as deleted): still not found.
        let (n, e) = after_check(
            Some(&f),
            Some((Outcome::NotFound, "t1")),
            &chk(
                Outcome::Deleted,
                Some(Cause::Unknown),
                Some("HTTP 410"),
                "t2",
            ),
        );
        let (n, e2) = after_check(
            n.as_ref(),
            Some((Outcome::Deleted, "t2")),
            &chk(Outcome::Deleted, Some(Cause::Unknown), None, "t3"),
        );
        assert_eq!((e, e2), (None, None));
        let n = n.unwrap();
        assert_eq!(n.state, State::NotFound);
        assert_eq!(n.message.as_deref(), Some("HTTP 410"));
        // A page that was captured live and then is not found is a deletion once a
        // second answer agrees (cause unknown).
        let (n, e) = after_check(
            Some(&live("t1")),
            Some((Outcome::Deleted, "t2")),
            &chk(Outcome::NotFound, None, Some("HTTP 404"), "t3"),
        );
        let n = n.unwrap();
        assert_eq!((n.state, e), (State::Deleted, Some(Event::Confirmed)));
        assert_eq!(n.cause, Some(Cause::Unknown));
    }

    #[test]
    fn states_read_back() {
        for s in [
            State::Live,
            State::Edited,
            State::Deleted,
            State::Restricted,
            State::AccountGone,
            State::GoneUnconfirmed,
            State::NotFound,
            State::NotListed,
        ] {
            assert_eq!(State::parse(s.as_str()), Some(s));
        }
        assert_eq!(State::parse("censored"), None);
    }

    /// Every transition of the states table (docs/states.md), from every state, for
    /// every outcome, with the previous definite check agreeing, disagreeing or absent,
    /// against the table's rules written out independently here.
    #[test]
    fn every_transition_of_the_states_table() {
        let states = [
            State::Live,
            State::Edited,
            State::Deleted,
            State::Restricted,
            State::AccountGone,
            State::GoneUnconfirmed,
            State::NotFound,
            State::NotListed,
        ];
        let outcomes = [
            Outcome::Live,
            Outcome::Edited,
            Outcome::Deleted,
            Outcome::Restricted,
            Outcome::AccountGone,
            Outcome::NotFound,
            Outcome::NotListed,
            Outcome::Unreachable,
        ];
        let gone_of = |o: Outcome| match o {
            Outcome::Deleted | Outcome::NotFound => Some(State::Deleted),
            Outcome::Restricted => Some(State::Restricted),
            Outcome::AccountGone => Some(State::AccountGone),
            _ => None,
        };
        // What the table says: the state after, and the event.
        let table = |from: State, o: Outcome, agrees: bool| -> (State, Option<Event>) {
            let was_gone = matches!(
                from,
                State::Deleted | State::Restricted | State::AccountGone
            );
            match o {
                Outcome::Unreachable => (from, None),
                // Not listed: an observation about a post seen live and not gone.
                Outcome::NotListed if was_gone || from.never_seen_live() => (from, None),
                Outcome::NotListed => (State::NotListed, None),
                Outcome::Live if from == State::Edited => (State::Edited, None),
                Outcome::Live | Outcome::Edited => (
                    if o == Outcome::Edited {
                        State::Edited
                    } else {
                        State::Live
                    },
                    was_gone.then_some(Event::Restored),
                ),
                // Never said to exist: no gone answer makes it a deletion.
                _ if from == State::NotFound => (from, None),
                _ => {
                    let g = gone_of(o).unwrap();
                    if from == g {
                        (g, None)
                    } else if agrees {
                        (g, Some(Event::Confirmed))
                    } else {
                        (from, None)
                    }
                }
            }
        };
        let mut seen = 0;
        for from in states {
            let prev = Facts {
                state: from,
                cause: (from.is_gone() || from == State::GoneUnconfirmed).then_some(Cause::Unknown),
                message: None,
                last_seen_live: (!from.never_seen_live()).then(|| "2026-01-01T00:00:00Z".into()),
                first_seen_gone: (from.is_gone() || from == State::GoneUnconfirmed)
                    .then(|| "2026-01-01T12:00:00Z".to_string()),
            };
            for o in outcomes {
                // The last definite check: the same outcome, another one, or none.
                let other = if o == Outcome::Live {
                    Outcome::Deleted
                } else {
                    Outcome::Live
                };
                for (last, agrees) in [
                    (Some(o), o != Outcome::Unreachable),
                    (Some(other), false),
                    (None, false),
                ] {
                    let last = last.filter(|l| *l != Outcome::Unreachable);
                    let at = "2026-01-03T00:00:00Z";
                    let (next, event) = after_check(
                        Some(&prev),
                        last.map(|l| (l, "2026-01-02T00:00:00Z")),
                        &chk(o, Some(Cause::Author), Some("words"), at),
                    );
                    let next = next.expect("a post stays a post");
                    let (want, want_event) = table(from, o, agrees && last.is_some());
                    assert_eq!(
                        (next.state, event),
                        (want, want_event),
                        "{from:?} + {o:?} (last definite {last:?})"
                    );
                    // The facts that go with the state.
                    match o {
                        Outcome::Live | Outcome::Edited => {
                            assert_eq!(next.last_seen_live.as_deref(), Some(at));
                            assert_eq!(next.first_seen_gone, None);
                            assert_eq!(next.cause, None);
                        }
                        Outcome::Unreachable => assert_eq!(next, prev),
                        Outcome::NotListed => assert_eq!(
                            Facts {
                                state: from,
                                ..next.clone()
                            },
                            prev,
                            "not listed changes the state alone"
                        ),
                        _ if want_event == Some(Event::Confirmed) => {
                            assert_eq!(
                                next.first_seen_gone.as_deref(),
                                Some("2026-01-02T00:00:00Z")
                            );
                            assert_eq!(next.cause, Some(Cause::Author));
                            assert_eq!(next.message.as_deref(), Some("words"));
                            assert_eq!(next.last_seen_live, prev.last_seen_live);
                        }
                        _ if want == from && from.is_gone() && gone_of(o) == Some(from) => {
                            // Still gone: the first sighting kept, the newest words taken.
                            assert_eq!(next.first_seen_gone, prev.first_seen_gone);
                            assert_eq!(next.message.as_deref(), Some("words"));
                        }
                        _ if from == State::GoneUnconfirmed => {
                            // Still one gone answer: this one's cause and words, the
                            // first sighting kept.
                            assert_eq!(next.cause, Some(Cause::Author));
                            assert_eq!(next.message.as_deref(), Some("words"));
                            assert_eq!(next.first_seen_gone, prev.first_seen_gone);
                            assert_eq!(next.last_seen_live, prev.last_seen_live);
                        }
                        _ if from == State::NotFound => {
                            assert_eq!(next.message.as_deref(), Some("words"));
                            assert_eq!((next.cause, next.first_seen_gone), (prev.cause, None));
                        }
                        _ => assert_eq!(next, prev, "{from:?} + {o:?}: nothing changes"),
                    }
                    seen += 1;
                }
            }
        }
        assert_eq!(seen, 8 * 8 * 3);
        // And a capture, from every state: live, seen live then, nothing gone.
        for from in states {
            let prev = Facts {
                state: from,
                cause: Some(Cause::Platform),
                message: Some("gone".into()),
                last_seen_live: None,
                first_seen_gone: Some("2026-01-01T00:00:00Z".into()),
            };
            let f = after_capture(Some(&prev), "2026-01-05T00:00:00Z");
            assert_eq!(f, live("2026-01-05T00:00:00Z"), "capture after {from:?}");
        }
    }
}
