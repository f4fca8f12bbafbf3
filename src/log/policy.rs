//! C2SP tlog-policy: which log keys and witnesses a reader trusts, and how many
//! witnesses must have cosigned a checkpoint for it to count (the quorum). No I/O.
//!
//! The archive writes its own policy (`keys/policy`, [`Policy::for_log`]) from its key,
//! `[[log.witnesses]]` and `[log] witness_quorum`; every evidence bundle carries it, and
//! `verify-bundle --policy FILE` checks a bundle against the reader's instead. Written by
//! hand: no Rust crate of the field parses tlog-policy, and the format is a dozen lines.

use super::cosignature::CosignatureVerifier;
use super::note::{NoteSignature, NoteVerifier};
use std::collections::{BTreeMap, BTreeSet};

/// Implementation limits (the spec recommends supporting at least 32 of each).
const MAX_ENTRIES: usize = 64;
const MAX_BYTES: usize = 64 * 1024;

/// A name of the policy: a witness or a group.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Member {
    Witness(usize),
    Group(usize),
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Group {
    name: String,
    /// At least this many members must have witnessed.
    threshold: usize,
    members: Vec<Member>,
}

/// A parsed policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub logs: Vec<NoteVerifier>,
    /// Each witness: its policy name and key.
    pub witnesses: Vec<(String, CosignatureVerifier)>,
    groups: Vec<Group>,
    /// `None`: `quorum none`.
    quorum: Option<Member>,
}

/// What a set of cosignatures comes to under a policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WitnessCheck {
    /// The witness's policy name and key name.
    pub name: String,
    pub key_name: String,
    /// `Some(timestamp)` when its cosignature verifies; the error when one is there and
    /// does not; `None` with no error when it did not cosign.
    pub cosigned_at: Option<u64>,
    pub error: Option<String>,
}

impl Policy {
    /// The policy of a log with these witnesses, `quorum` of which must cosign (0: none).
    pub fn for_log(log: &NoteVerifier, witnesses: &[CosignatureVerifier], quorum: usize) -> Policy {
        let mut named: Vec<(String, CosignatureVerifier)> = vec![];
        for w in witnesses {
            // Names are the witnesses' key names, made unique when two share one.
            let mut name = w.name().to_string();
            let mut n = 2;
            while named.iter().any(|(m, _)| *m == name) || name == "none" {
                name = format!("{}#{n}", w.name());
                n += 1;
            }
            named.push((name, w.clone()));
        }
        let k = quorum.min(named.len());
        let (groups, quorum) = match (k, named.len()) {
            (0, _) => (vec![], None),
            (1, 1) => (vec![], Some(Member::Witness(0))),
            (k, n) => (
                vec![Group {
                    // Unique among the witnesses' names.
                    name: {
                        let mut g = "quorum".to_string();
                        while named.iter().any(|(m, _)| *m == g) {
                            g.push('_');
                        }
                        g
                    },
                    threshold: k,
                    members: (0..n).map(Member::Witness).collect(),
                }],
                Some(Member::Group(0)),
            ),
        };
        Policy {
            logs: vec![log.clone()],
            witnesses: named,
            groups,
            quorum,
        }
    }

    /// The policy file (the format [`Policy::parse`] reads).
    pub fn render(&self) -> String {
        let mut s = String::from(
            "# C2SP tlog-policy (https://c2sp.org/tlog-policy), written by samizdat\n",
        );
        for l in &self.logs {
            s += &format!("log {}\n", l.to_vkey());
        }
        for (name, w) in &self.witnesses {
            s += &format!("witness {name} {}\n", w.to_vkey());
        }
        for g in &self.groups {
            let members: Vec<&str> = g.members.iter().map(|m| self.name_of(m)).collect();
            let k = if g.threshold == g.members.len() {
                "all".to_string()
            } else if g.threshold == 1 {
                "any".to_string()
            } else {
                g.threshold.to_string()
            };
            s += &format!("group {} {k} {}\n", g.name, members.join(" "));
        }
        s += &format!(
            "quorum {}\n",
            self.quorum.as_ref().map_or("none", |m| self.name_of(m))
        );
        s
    }

    fn name_of(&self, m: &Member) -> &str {
        match m {
            Member::Witness(i) => &self.witnesses[*i].0,
            Member::Group(i) => &self.groups[*i].name,
        }
    }

    /// Parses a policy file; the error names the line.
    pub fn parse(text: &str) -> Result<Policy, String> {
        if text.len() > MAX_BYTES {
            return Err(format!("more than {MAX_BYTES} bytes"));
        }
        if let Some(c) = text
            .chars()
            .find(|&c| c.is_ascii_control() && c != '\t' && c != '\n')
        {
            return Err(format!("control character {c:?}"));
        }
        let mut p = Policy {
            logs: vec![],
            witnesses: vec![],
            groups: vec![],
            quorum: None,
        };
        let mut names: BTreeMap<String, Member> = BTreeMap::new();
        let mut quorum_seen = false;
        for (n, line) in text.lines().enumerate() {
            let at = |m: String| format!("line {}: {m}", n + 1);
            let f: Vec<&str> = line.split([' ', '\t']).filter(|s| !s.is_empty()).collect();
            if f.is_empty() || f[0].starts_with('#') {
                continue;
            }
            if p.logs.len() + p.witnesses.len() + p.groups.len() > MAX_ENTRIES {
                return Err(at(format!(
                    "more than {MAX_ENTRIES} logs, witnesses and groups"
                )));
            }
            match f[0] {
                "log" => {
                    if !(2..=3).contains(&f.len()) {
                        return Err(at("want `log <vkey> [<url>]`".into()));
                    }
                    let k = NoteVerifier::from_vkey(f[1]).map_err(|e| at(e.to_string()))?;
                    if p.logs.iter().any(|l| l.public_key() == k.public_key()) {
                        return Err(at("this log key is listed twice".into()));
                    }
                    p.logs.push(k);
                }
                "witness" => {
                    if !(3..=4).contains(&f.len()) {
                        return Err(at("want `witness <name> <vkey> [<url>]`".into()));
                    }
                    let k = CosignatureVerifier::from_vkey(f[2]).map_err(|e| at(e.to_string()))?;
                    if p.witnesses
                        .iter()
                        .any(|(_, w)| w.public_key() == k.public_key())
                    {
                        return Err(at("this witness key is listed twice".into()));
                    }
                    let name = f[1].to_string();
                    if name == "none" || names.contains_key(&name) {
                        return Err(at(format!("the name {name:?} is taken")));
                    }
                    names.insert(name.clone(), Member::Witness(p.witnesses.len()));
                    p.witnesses.push((name, k));
                }
                "group" => {
                    if f.len() < 4 {
                        return Err(at("want `group <name> all|any|<k> <name>...`".into()));
                    }
                    let name = f[1].to_string();
                    if name == "none" || names.contains_key(&name) {
                        return Err(at(format!("the name {name:?} is taken")));
                    }
                    let mut members = vec![];
                    let mut used = BTreeSet::new();
                    for m in &f[3..] {
                        let Some(member) = names.get(*m) else {
                            return Err(at(format!("{m:?} is not defined on an earlier line")));
                        };
                        if !used.insert(*m) {
                            return Err(at(format!("{m:?} is listed twice")));
                        }
                        members.push(member.clone());
                    }
                    let threshold = match f[2] {
                        "all" => members.len(),
                        "any" => 1,
                        k => match k.parse::<usize>() {
                            Ok(k) if k >= 1 && k <= members.len() && k.to_string() == f[2] => k,
                            _ => {
                                return Err(at(format!(
                                    "threshold {k:?}: want all, any or 1..={}",
                                    members.len()
                                )));
                            }
                        },
                    };
                    names.insert(name.clone(), Member::Group(p.groups.len()));
                    p.groups.push(Group {
                        name,
                        threshold,
                        members,
                    });
                }
                "quorum" => {
                    if f.len() != 2 {
                        return Err(at("want `quorum <name>`".into()));
                    }
                    if quorum_seen {
                        return Err(at("a second quorum line".into()));
                    }
                    quorum_seen = true;
                    p.quorum = match f[1] {
                        "none" => None,
                        m => Some(names.get(m).cloned().ok_or_else(|| {
                            at(format!("{m:?} is not defined on an earlier line"))
                        })?),
                    };
                }
                other => return Err(at(format!("unknown keyword {other:?}"))),
            }
        }
        if !quorum_seen {
            return Err("no `quorum` line".into());
        }
        Ok(p)
    }

    /// Checks the cosignature lines of a checkpoint whose signed text is `text`: one
    /// entry per witness of the policy, in policy order.
    pub fn check(&self, text: &str, sigs: &[NoteSignature]) -> Vec<WitnessCheck> {
        self.witnesses
            .iter()
            .map(|(name, w)| {
                let mine: Vec<&NoteSignature> = sigs.iter().filter(|s| w.is_mine(s)).collect();
                let (cosigned_at, error) = match mine.as_slice() {
                    [] => (None, None),
                    [s] => match w.verify(text, s) {
                        Ok(t) => (Some(t), None),
                        Err(e) => (None, Some(e.to_string())),
                    },
                    _ => (
                        None,
                        Some("more than one cosignature line by this key".into()),
                    ),
                };
                WitnessCheck {
                    name: name.clone(),
                    key_name: w.name().to_string(),
                    cosigned_at,
                    error,
                }
            })
            .collect()
    }

    /// Whether the witnesses whose cosignatures verified (`checks`) make the quorum.
    pub fn quorum_holds(&self, checks: &[WitnessCheck]) -> bool {
        let ok: Vec<bool> = checks.iter().map(|c| c.cosigned_at.is_some()).collect();
        match &self.quorum {
            None => true,
            Some(m) => self.holds(m, &ok),
        }
    }

    fn holds(&self, m: &Member, ok: &[bool]) -> bool {
        match m {
            Member::Witness(i) => ok.get(*i).copied().unwrap_or(false),
            Member::Group(g) => {
                let g = &self.groups[*g];
                g.members.iter().filter(|m| self.holds(m, ok)).count() >= g.threshold
            }
        }
    }

    /// The quorum in words: "none", "witness.example/1", "2 of a, b, c".
    pub fn describe_quorum(&self) -> String {
        match &self.quorum {
            None => "none (no cosignature is required)".into(),
            Some(m) => self.describe(m),
        }
    }

    fn describe(&self, m: &Member) -> String {
        match m {
            Member::Witness(i) => self.witnesses[*i].0.clone(),
            Member::Group(g) => {
                let g = &self.groups[*g];
                let members: Vec<String> = g.members.iter().map(|m| self.describe(m)).collect();
                format!("{} of ({})", g.threshold, members.join(", "))
            }
        }
    }

    /// Whether the policy requires any cosignature.
    pub fn requires_witnesses(&self) -> bool {
        self.quorum.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::cosignature::{CosignerKey, signature_lines};
    use crate::log::note::NoteSigner;

    fn keys(n: usize) -> Vec<CosignerKey> {
        (0..n)
            .map(|i| CosignerKey::generate(&format!("w{i}.example")).unwrap())
            .collect()
    }

    #[test]
    fn a_written_policy_reads_back_and_counts_its_quorum() {
        let log = NoteSigner::generate("example.org/log-a").unwrap();
        let ws = keys(3);
        let vs: Vec<_> = ws.iter().map(|k| k.verifier()).collect();
        let p = Policy::for_log(&log.verifier(), &vs, 2);
        let text = p.render();
        assert!(
            text.contains("group quorum 2 w0.example w1.example w2.example\nquorum quorum\n"),
            "{text}"
        );
        assert_eq!(Policy::parse(&text).unwrap(), p);

        let note = log
            .sign("example.org/log-a\n3\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n")
            .unwrap();
        let body = note.split("\n\n").next().unwrap().to_string() + "\n";
        let one = ws[0].cosign(&body, 100);
        let sigs = signature_lines(&format!("{note}{one}"));
        let c = p.check(&body, &sigs);
        assert_eq!(c[0].cosigned_at, Some(100));
        assert_eq!((c[1].cosigned_at, &c[1].error), (None, &None));
        assert!(!p.quorum_holds(&c), "1 of 3 is not 2");
        let two = ws[2].cosign(&body, 101);
        let c = p.check(&body, &signature_lines(&format!("{note}{one}{two}")));
        assert!(p.quorum_holds(&c));
        // A cosignature over another checkpoint is named, and does not count.
        let other = ws[1].cosign(
            "example.org/log-a\n4\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
            5,
        );
        let c = p.check(&body, &signature_lines(&format!("{note}{one}{other}")));
        assert!(
            c[1].error.as_deref().unwrap().contains("does not verify"),
            "{c:?}"
        );
        assert!(!p.quorum_holds(&c));

        // No witnesses: quorum none, always met.
        let none = Policy::for_log(&log.verifier(), &[], 0);
        assert!(none.render().ends_with("quorum none\n"));
        assert!(none.quorum_holds(&[]));
        assert!(!none.requires_witnesses());
        // A witness named like the group: the group takes another name, and it reads back.
        let odd = vec![
            CosignerKey::generate("quorum").unwrap().verifier(),
            vs[0].clone(),
        ];
        let p = Policy::for_log(&log.verifier(), &odd, 2);
        assert!(
            p.render()
                .contains("group quorum_ all quorum w0.example\nquorum quorum_\n"),
            "{}",
            p.render()
        );
        assert_eq!(Policy::parse(&p.render()).unwrap(), p);
        // One witness: the quorum is that witness.
        let single = Policy::for_log(&log.verifier(), &vs[..1], 1);
        assert!(
            single.render().ends_with("quorum w0.example\n"),
            "{}",
            single.render()
        );
    }

    #[test]
    fn the_spec_s_nested_groups_parse_and_bad_files_name_their_line() {
        let ws = keys(6);
        let v = |i: usize| ws[i].verifier().to_vkey();
        let text = format!(
            "# a comment\n\nwitness X1 {}\nwitness X2 {}\nwitness X3 {}\ngroup X-witnesses 2 X1 X2 X3\n\
             \twitness Y1 {} https://y1.example/\nwitness Y2 {}\nwitness Y3 {}\ngroup Y-witnesses any Y1 Y2 Y3\n\
             group X-and-Y all X-witnesses Y-witnesses\nquorum X-and-Y\n",
            v(0),
            v(1),
            v(2),
            v(3),
            v(4),
            v(5)
        );
        let p = Policy::parse(&text).unwrap();
        assert!(p.logs.is_empty());
        let with = |on: &[usize]| {
            let checks: Vec<WitnessCheck> = (0..6)
                .map(|i| WitnessCheck {
                    name: String::new(),
                    key_name: String::new(),
                    cosigned_at: on.contains(&i).then_some(1),
                    error: None,
                })
                .collect();
            p.quorum_holds(&checks)
        };
        assert!(with(&[0, 1, 3]));
        assert!(!with(&[0, 3, 4, 5]), "one X is not two");
        assert!(!with(&[0, 1, 2]), "no Y");
        assert_eq!(
            p.describe_quorum(),
            "2 of (2 of (X1, X2, X3), 1 of (Y1, Y2, Y3))"
        );

        for (bad, why) in [
            ("quorum X\n", "line 1"),
            (
                &format!("witness A {}\nwitness B {}\nquorum A\n", v(0), v(0)),
                "twice",
            ),
            (
                &format!("witness A {}\ngroup G 3 A\nquorum G\n", v(0)),
                "threshold",
            ),
            (
                &format!("witness A {}\ngroup G 01 A\nquorum G\n", v(0)),
                "threshold",
            ),
            (
                &format!("witness A {}\ngroup G any A A\nquorum G\n", v(0)),
                "twice",
            ),
            (&format!("witness A {}\n", v(0)), "no `quorum`"),
            ("quorum none\nquorum none\n", "second"),
            ("frobnicate\nquorum none\n", "unknown keyword"),
            (&format!("witness none {}\nquorum none\n", v(0)), "taken"),
            ("log not-a-key\nquorum none\n", "line 1"),
        ] {
            let e = Policy::parse(bad).unwrap_err();
            assert!(e.contains(why), "{bad:?}: {e}");
        }
    }
}
