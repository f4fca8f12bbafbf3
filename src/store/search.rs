//! Full-text search over post text and author names.
//!
//! SQLite FTS5 with the `porter` stemmer over the `unicode61` tokenizer, fed with a
//! transformed text: CJK runs become space-separated unigrams and bigrams (so one- and
//! two-character Chinese queries like 卡 or 冻结 match), everything else is kept as
//! words, which the stemmer reduces to their stems ("cards", "carding" -> "card"; it
//! leaves CJK terms as they are). Queries go through the same transform and stemmer, so
//! "bank card" finds "bank cards". Ranked with bm25 over at most [`RANK_CAP`] hits, ties
//! newest capture first; highlighting is done on the original text, which is never
//! altered.

use rusqlite::{Connection, OptionalExtension, params};

/// Tables, created with the index schema. The tokenizer changed in index version 3
/// (`porter` added); migration 3 rebuilds the table of an older index with
/// [`rebuild`].
pub const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS search_docs (rid INTEGER PRIMARY KEY, post_id TEXT NOT NULL UNIQUE);
CREATE VIRTUAL TABLE IF NOT EXISTS post_search USING fts5(author, body, tokenize = 'porter unicode61 remove_diacritics 2');
"#;

/// Most hits ranked per query (the rest are counted as "more").
pub const RANK_CAP: usize = 1_000;

/// Longest query accepted, in characters.
pub const MAX_QUERY_CHARS: usize = 256;

/// Most search terms (words and CJK bigrams) in one query.
pub const MAX_QUERY_TERMS: usize = 16;

/// Refuses a query longer than [`MAX_QUERY_CHARS`] or with more than [`MAX_QUERY_TERMS`]
/// terms, naming the limit. Each term is one more FTS5 posting list to intersect, so
/// these bound the work of one query.
pub fn check_query(q: &str) -> std::result::Result<(), String> {
    // Counting stops just past the limit: a huge query costs no more than a long one.
    let chars = q.chars().take(MAX_QUERY_CHARS + 1).count();
    if chars > MAX_QUERY_CHARS {
        return Err(format!(
            "the search query is longer than {MAX_QUERY_CHARS} characters: shorten it"
        ));
    }
    let n = terms(q, false).len();
    if n > MAX_QUERY_TERMS {
        return Err(format!(
            "the search query has {n} terms, more than {MAX_QUERY_TERMS} (words; a run of CJK characters counts one term per pair): shorten it"
        ));
    }
    Ok(())
}

/// Whether `c` is written without spaces between words (Han, kana, Hangul, CJK marks).
pub fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF      // Hiragana, Katakana
        | 0x3400..=0x4DBF    // CJK Ext A
        | 0x4E00..=0x9FFF    // CJK Unified
        | 0xAC00..=0xD7AF    // Hangul syllables
        | 0xF900..=0xFAFF    // CJK compatibility
        | 0x20000..=0x3134F  // Ext B..G
    )
}

/// Splits text into search terms: CJK runs into unigrams and bigrams (`doc`) or, for
/// queries, into the bigrams (or the single character) of each run; other text into
/// words of letters and digits.
fn terms(text: &str, doc: bool) -> Vec<String> {
    let mut out = vec![];
    each_term(text, doc, &mut |t| out.push(t.to_string()));
    out
}

/// [`terms`] without an allocation per term: each term is a slice of `text` (CJK runs
/// and words are contiguous), handed to `emit` in the same order.
fn each_term(text: &str, doc: bool, emit: &mut dyn FnMut(&str)) {
    let flush_run = |run: &str, emit: &mut dyn FnMut(&str)| {
        let mut chars = run.char_indices().peekable();
        if doc {
            for (i, c) in run.char_indices() {
                emit(&run[i..i + c.len_utf8()]);
            }
        } else if run.chars().nth(1).is_none() {
            emit(run);
        }
        while let Some((i, _)) = chars.next() {
            if let Some(&(j, c)) = chars.peek() {
                emit(&run[i..j + c.len_utf8()]);
            }
        }
    };
    // Where the current word or CJK run started (at most one of them is open).
    let mut word: Option<usize> = None;
    let mut run: Option<usize> = None;
    for (i, c) in text.char_indices() {
        if is_cjk(c) {
            if let Some(w) = word.take() {
                emit(&text[w..i]);
            }
            run.get_or_insert(i);
        } else if c.is_alphanumeric() {
            if let Some(r) = run.take() {
                flush_run(&text[r..i], emit);
            }
            word.get_or_insert(i);
        } else {
            if let Some(r) = run.take() {
                flush_run(&text[r..i], emit);
            }
            if let Some(w) = word.take() {
                emit(&text[w..i]);
            }
        }
    }
    if let Some(r) = run {
        flush_run(&text[r..], emit);
    }
    if let Some(w) = word {
        emit(&text[w..]);
    }
}

/// The text stored in the FTS table for a document.
pub fn doc_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 4);
    each_term(text, true, &mut |t| {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(t);
    });
    out
}

/// The FTS5 query for a user query: every term must match (quoted, so no FTS syntax
/// from the user is interpreted). `None` when the query has no terms.
pub fn fts_query(q: &str) -> Option<String> {
    let t = terms(q, false);
    if t.is_empty() {
        return None;
    }
    Some(
        t.iter()
            .map(|w| format!("\"{}\"", w.replace('"', "")))
            .collect::<Vec<_>>()
            .join(" AND "),
    )
}

/// Indexes (or re-indexes) one post. Called from the index's `apply`, inside its
/// transaction, so a rebuilt index searches exactly as before.
pub fn index_post(
    conn: &Connection,
    post_id: &str,
    text: Option<&str>,
    author: &[Option<&str>],
) -> rusqlite::Result<()> {
    let rid: Option<i64> = conn
        .prepare_cached("SELECT rid FROM search_docs WHERE post_id = ?1")?
        .query_row([post_id], |r| r.get(0))
        .optional()?;
    let rid = match rid {
        Some(r) => {
            conn.prepare_cached("DELETE FROM post_search WHERE rowid = ?1")?
                .execute([r])?;
            r
        }
        None => {
            conn.prepare_cached("INSERT INTO search_docs (post_id) VALUES (?1)")?
                .execute([post_id])?;
            conn.last_insert_rowid()
        }
    };
    let author: Vec<&str> = author.iter().flatten().copied().collect();
    conn.prepare_cached("INSERT INTO post_search (rowid, author, body) VALUES (?1, ?2, ?3)")?
        .execute(params![
            rid,
            doc_text(&author.join(" ")),
            doc_text(text.unwrap_or(""))
        ])?;
    Ok(())
}

/// Removes everything (for `reindex`).
pub fn clear(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch("DELETE FROM post_search; DELETE FROM search_docs;")
}

/// Builds the full-text table again from the `posts` table (index migration 3: the
/// tokenizer changed). The documents keep their `search_docs` row ids (the order they
/// were first indexed in, which ranking uses); posts an older index never indexed for
/// search are added after them, oldest capture first. Returns the posts indexed.
pub fn rebuild(conn: &Connection) -> rusqlite::Result<usize> {
    conn.execute_batch(
        "DROP TABLE IF EXISTS post_search; \
         CREATE TABLE IF NOT EXISTS search_docs (rid INTEGER PRIMARY KEY, post_id TEXT NOT NULL UNIQUE); \
         DELETE FROM search_docs WHERE post_id NOT IN (SELECT id FROM posts); \
         INSERT INTO search_docs (post_id) SELECT id FROM posts \
           WHERE id NOT IN (SELECT post_id FROM search_docs) ORDER BY first_captured, id;",
    )?;
    conn.execute_batch(SCHEMA)?;
    let mut read = conn.prepare(
        "SELECT d.rid, p.text, p.author_name, p.author_id FROM search_docs d \
         JOIN posts p ON p.id = d.post_id ORDER BY d.rid",
    )?;
    let mut write =
        conn.prepare("INSERT INTO post_search (rowid, author, body) VALUES (?1, ?2, ?3)")?;
    let mut rows = read.query([])?;
    let mut n = 0;
    while let Some(r) = rows.next()? {
        let text: Option<String> = r.get(1)?;
        let author: Vec<String> = [r.get::<_, Option<String>>(2)?, r.get(3)?]
            .into_iter()
            .flatten()
            .collect();
        write.execute(params![
            r.get::<_, i64>(0)?,
            doc_text(&author.join(" ")),
            doc_text(text.as_deref().unwrap_or(""))
        ])?;
        n += 1;
    }
    Ok(n)
}

/// Every state name (`store::state::State`), as filters take them.
pub const STATES: [&str; 8] = [
    "live",
    "edited",
    "deleted",
    "restricted",
    "account_gone",
    "gone_unconfirmed",
    "not_listed",
    "not_found",
];

/// What a search is narrowed to, besides its words: every field given must match (the
/// same fields as `list`'s). Times are WARC-Dates (`store::since` parses them).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchFilter {
    /// A platform name (`weibo`, `web`...).
    pub platform: Option<String>,
    /// A state name (`live`, `deleted`...).
    pub state: Option<String>,
    /// Last captured at or after this time (as `list --since`).
    pub since: Option<String>,
    /// Last captured before this time.
    pub until: Option<String>,
}

impl SearchFilter {
    /// The filter from what a user typed (the web UI's `platform=`, `state=`, `since=`,
    /// `until=`; empty = not given): a platform or state name is checked against the
    /// known ones, times go through `store::since` (as the command line's). A bad value
    /// is refused in one sentence naming it and what is accepted.
    pub fn parse(
        platform: Option<&str>,
        state: Option<&str>,
        since: Option<&str>,
        until: Option<&str>,
        clock: &crate::clock::Clock,
    ) -> std::result::Result<SearchFilter, String> {
        fn given(v: Option<&str>) -> Option<&str> {
            v.map(str::trim).filter(|v| !v.is_empty())
        }
        let platform = match given(platform) {
            Some(p) if crate::platforms::PLATFORMS.iter().any(|k| k.name() == p) => {
                Some(p.to_string())
            }
            Some(p) => {
                let names: Vec<&str> = crate::platforms::PLATFORMS
                    .iter()
                    .map(|k| k.name())
                    .collect();
                return Err(format!(
                    "platform {p:?} is not a platform: give one of {}",
                    names.join(", ")
                ));
            }
            None => None,
        };
        let state = match given(state) {
            Some(s) if crate::store::state::State::parse(s).is_some() => Some(s.to_string()),
            Some(s) => {
                return Err(format!(
                    "state {s:?} is not a state: give one of {}",
                    STATES.join(", ")
                ));
            }
            None => None,
        };
        let time = |name: &str, v: Option<&str>| {
            given(v)
                .map(|v| crate::store::since::parse(name, v, clock))
                .transpose()
        };
        Ok(SearchFilter {
            platform,
            state,
            since: time("since", since)?,
            until: time("until", until)?,
        })
    }

    /// Whether nothing narrows the search.
    pub fn is_empty(&self) -> bool {
        *self == SearchFilter::default()
    }

    /// The SQL conditions on `p` (the posts table), their arguments numbered from `?2`.
    fn sql(&self) -> (String, Vec<String>) {
        let mut sql = String::new();
        let mut args = vec![];
        for (value, cond) in [
            (&self.platform, "p.platform = "),
            (&self.state, "p.state = "),
            (&self.since, "p.last_captured >= "),
            (&self.until, "p.last_captured < "),
        ] {
            if let Some(v) = value {
                args.push(v.clone());
                sql += &format!(" AND {cond}?{}", args.len() + 1);
            }
        }
        (sql, args)
    }
}

/// One page of ranked hits.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Hits {
    /// Post ids, best first.
    pub ids: Vec<String>,
    /// Hits counted, at most [`RANK_CAP`].
    pub total: usize,
    /// Whether there are more hits than were ranked.
    pub capped: bool,
}

/// Runs a query: `limit` hits from `offset`, ranked by bm25 (author matches weigh double)
/// among the newest [`RANK_CAP`] matching posts (first indexed = oldest) that pass
/// `filter`; equal scores newest capture first (then by post id, so pages are stable).
pub fn search(
    conn: &Connection,
    q: &str,
    filter: &SearchFilter,
    offset: usize,
    limit: usize,
) -> rusqlite::Result<Hits> {
    let Some(fq) = fts_query(q) else {
        return Ok(Hits {
            ids: vec![],
            total: 0,
            capped: false,
        });
    };
    let (cond, args) = filter.sql();
    // Without a filter the hits are counted and ranked from the FTS table alone; a
    // filter joins each hit's post.
    let from = if cond.is_empty() {
        "post_search WHERE post_search MATCH ?1".to_string()
    } else {
        format!(
            "post_search JOIN search_docs fd ON fd.rid = post_search.rowid \
             JOIN posts p ON p.id = fd.post_id WHERE post_search MATCH ?1{cond}"
        )
    };
    let mut all: Vec<&dyn rusqlite::ToSql> = vec![&fq];
    all.extend(args.iter().map(|a| a as &dyn rusqlite::ToSql));
    let total: usize = conn
        .prepare_cached(&format!(
            "SELECT count(*) FROM (SELECT post_search.rowid FROM {from} LIMIT {})",
            RANK_CAP + 1
        ))?
        .query_row(all.as_slice(), |r| r.get::<_, i64>(0))? as usize;
    let n = all.len();
    let mut st = conn.prepare_cached(&format!(
        "SELECT d.post_id FROM (SELECT post_search.rowid AS rid, bm25(post_search, 2.0, 1.0) AS score \
         FROM {from} ORDER BY post_search.rowid DESC LIMIT {RANK_CAP}) h \
         JOIN search_docs d ON d.rid = h.rid LEFT JOIN posts tp ON tp.id = d.post_id \
         ORDER BY h.score, tp.last_captured DESC, d.post_id LIMIT ?{} OFFSET ?{}",
        n + 1,
        n + 2
    ))?;
    // Past the ranked hits there is nothing: a huge offset or limit is that bound.
    let (limit, offset) = (limit.min(RANK_CAP) as i64, offset.min(RANK_CAP) as i64);
    all.push(&limit);
    all.push(&offset);
    let ids = st
        .query_map(all.as_slice(), |r| r.get(0))?
        .collect::<rusqlite::Result<Vec<String>>>()?;
    Ok(Hits {
        ids,
        total: total.min(RANK_CAP),
        capped: total > RANK_CAP,
    })
}

/// The query's terms as the user would see them in text (for highlighting): CJK runs
/// whole, Latin words lowercased.
pub fn highlight_terms(q: &str) -> Vec<String> {
    let mut out: Vec<String> = vec![];
    let mut cur = String::new();
    let mut cur_cjk = false;
    for c in q.chars() {
        let cjk = is_cjk(c);
        if cjk || c.is_alphanumeric() {
            if !cur.is_empty() && cjk != cur_cjk {
                out.push(std::mem::take(&mut cur));
            }
            cur_cjk = cjk;
            cur.extend(c.to_lowercase());
        } else if !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Byte ranges of `text` where a term occurs (case-insensitive for simple case folds),
/// and the words that are another form of a Latin term (the same Porter stem as the
/// search's: "blocked" for "blocking"), sorted and not overlapping.
pub fn match_ranges(text: &str, terms: &[String]) -> Vec<(usize, usize)> {
    // Lowercase char by char, keeping a map back to the original byte offsets.
    let mut lower = String::new();
    let mut map = vec![]; // byte offset in `lower` -> (start, end) in text
    for (i, c) in text.char_indices() {
        let end = i + c.len_utf8();
        for l in c.to_lowercase() {
            for _ in 0..l.len_utf8() {
                map.push((i, end));
            }
            lower.push(l);
        }
    }
    let mut ranges = vec![];
    for t in terms.iter().filter(|t| !t.is_empty()) {
        let mut from = 0;
        while let Some(p) = lower[from..].find(t.as_str()) {
            let s = from + p;
            let e = s + t.len();
            ranges.push((map[s].0, map[e - 1].1));
            from = e;
        }
    }
    let stems: Vec<String> = terms
        .iter()
        .filter(|t| t.len() > 2 && t.bytes().all(|b| b.is_ascii_lowercase()))
        .map(|t| porter(t))
        .collect();
    if !stems.is_empty() {
        // A stem keeps the word's first letters (it changes only endings), so only the
        // words that start as a stem does are stemmed: a long text costs little more.
        let starts = |w: &str| {
            stems
                .iter()
                .any(|st| w.as_bytes().starts_with(&st.as_bytes()[..st.len().min(2)]))
        };
        each_term(&lower, false, &mut |w| {
            if w.len() > 2
                && w.bytes().all(|b| b.is_ascii_lowercase())
                && starts(w)
                && stems.contains(&porter(w))
            {
                // `w` is a slice of `lower`: its offsets map back to the text.
                let s = w.as_ptr() as usize - lower.as_ptr() as usize;
                ranges.push((map[s].0, map[s + w.len() - 1].1));
            }
        });
    }
    ranges.sort();
    let mut merged: Vec<(usize, usize)> = vec![];
    for r in ranges {
        match merged.last_mut() {
            Some(last) if r.0 <= last.1 => last.1 = last.1.max(r.1),
            _ => merged.push(r),
        }
    }
    merged
}

/// The Porter stem of a lowercase ASCII word, as SQLite's `porter` tokenizer makes it
/// (M. F. Porter's algorithm with his later `bli` and `logi` rules; a unit test checks it
/// against SQLite's): for highlighting the words a stemmed search matched.
pub fn porter(word: &str) -> String {
    let mut w: Vec<u8> = word.as_bytes().to_vec();
    // SQLite's leaves words of fewer than 3 or more than 64 letters as they are.
    if w.len() <= 2 || w.len() > 64 || !w.iter().all(u8::is_ascii_lowercase) {
        return word.to_string();
    }
    fn cons(w: &[u8], i: usize) -> bool {
        match w[i] {
            b'a' | b'e' | b'i' | b'o' | b'u' => false,
            b'y' => i == 0 || !cons(w, i - 1),
            _ => true,
        }
    }
    // The number of vowel-consonant sequences in `w`.
    fn measure(w: &[u8]) -> usize {
        let (n, mut i, mut m) = (w.len(), 0, 0);
        while i < n && cons(w, i) {
            i += 1;
        }
        loop {
            while i < n && !cons(w, i) {
                i += 1;
            }
            if i >= n {
                return m;
            }
            while i < n && cons(w, i) {
                i += 1;
            }
            m += 1;
            if i >= n {
                return m;
            }
        }
    }
    fn has_vowel(w: &[u8]) -> bool {
        (0..w.len()).any(|i| !cons(w, i))
    }
    fn double_cons(w: &[u8]) -> bool {
        let n = w.len();
        n >= 2 && w[n - 1] == w[n - 2] && cons(w, n - 1)
    }
    fn cvc(w: &[u8]) -> bool {
        let n = w.len();
        n >= 3
            && cons(w, n - 3)
            && !cons(w, n - 2)
            && cons(w, n - 1)
            && !matches!(w[n - 1], b'w' | b'x' | b'y')
    }
    // The first of `rules` whose suffix `w` ends with: replaced when the stem before it
    // passes `ok`. Whether a rule matched at all.
    fn replace(w: &mut Vec<u8>, rules: &[(&str, &str)], ok: &dyn Fn(&[u8]) -> bool) -> bool {
        for (suffix, by) in rules {
            if w.ends_with(suffix.as_bytes()) {
                let stem = w.len() - suffix.len();
                if ok(&w[..stem]) {
                    w.truncate(stem);
                    w.extend_from_slice(by.as_bytes());
                }
                return true;
            }
        }
        false
    }
    // 1a
    replace(
        &mut w,
        &[("sses", "ss"), ("ies", "i"), ("ss", "ss"), ("s", "")],
        &|_| true,
    );
    // 1b
    if w.ends_with(b"eed") {
        if measure(&w[..w.len() - 3]) > 0 {
            w.pop();
        }
    } else {
        let cut = [&b"ed"[..], b"ing"]
            .into_iter()
            .find(|s| w.ends_with(s) && has_vowel(&w[..w.len() - s.len()]));
        if let Some(s) = cut {
            w.truncate(w.len() - s.len());
            if w.ends_with(b"at") || w.ends_with(b"bl") || w.ends_with(b"iz") {
                w.push(b'e');
            } else if double_cons(&w) && !matches!(w[w.len() - 1], b'l' | b's' | b'z') {
                w.pop();
            } else if measure(&w) == 1 && cvc(&w) {
                w.push(b'e');
            }
        }
    }
    // 1c
    if w.ends_with(b"y") && has_vowel(&w[..w.len() - 1]) {
        let n = w.len();
        w[n - 1] = b'i';
    }
    let m_gt0 = |s: &[u8]| measure(s) > 0;
    // 2
    replace(
        &mut w,
        &[
            ("ational", "ate"),
            ("tional", "tion"),
            ("enci", "ence"),
            ("anci", "ance"),
            ("izer", "ize"),
            ("logi", "log"),
            ("bli", "ble"),
            ("alli", "al"),
            ("entli", "ent"),
            ("eli", "e"),
            ("ousli", "ous"),
            ("ization", "ize"),
            ("ation", "ate"),
            ("ator", "ate"),
            ("alism", "al"),
            ("iveness", "ive"),
            ("fulness", "ful"),
            ("ousness", "ous"),
            ("aliti", "al"),
            ("iviti", "ive"),
            ("biliti", "ble"),
        ],
        &m_gt0,
    );
    // 3
    replace(
        &mut w,
        &[
            ("icate", "ic"),
            ("ative", ""),
            ("alize", "al"),
            ("iciti", "ic"),
            ("ical", "ic"),
            ("ful", ""),
            ("ness", ""),
        ],
        &m_gt0,
    );
    // 4
    let m_gt1 = |s: &[u8]| measure(s) > 1;
    let ion = w.ends_with(b"ion") && {
        let n = w.len();
        n > 3 && matches!(w[n - 4], b's' | b't')
    };
    if ion {
        replace(&mut w, &[("ion", "")], &m_gt1);
    } else {
        replace(
            &mut w,
            &[
                ("al", ""),
                ("ance", ""),
                ("ence", ""),
                ("er", ""),
                ("ic", ""),
                ("able", ""),
                ("ible", ""),
                ("ant", ""),
                ("ement", ""),
                ("ment", ""),
                ("ent", ""),
                ("ou", ""),
                ("ism", ""),
                ("ate", ""),
                ("iti", ""),
                ("ous", ""),
                ("ive", ""),
                ("ize", ""),
            ],
            &m_gt1,
        );
    }
    // 5a
    if w.ends_with(b"e") {
        let stem = &w[..w.len() - 1];
        let m = measure(stem);
        if m > 1 || (m == 1 && !cvc(stem)) {
            w.pop();
        }
    }
    // 5b
    if measure(&w) > 1 && double_cons(&w) && w.ends_with(b"l") {
        w.pop();
    }
    String::from_utf8(w).unwrap_or_else(|_| word.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cjk_unigrams_and_bigrams() {
        assert_eq!(doc_text("反诈中心"), "反 诈 中 心 反诈 诈中 中心");
        assert_eq!(fts_query("冻结").unwrap(), "\"冻结\"");
        assert_eq!(fts_query("卡").unwrap(), "\"卡\"");
        assert_eq!(fts_query("银行卡").unwrap(), "\"银行\" AND \"行卡\"");
        assert_eq!(
            fts_query("bank\"card OR x").unwrap(),
            "\"bank\" AND \"card\" AND \"OR\" AND \"x\""
        );
        assert_eq!(fts_query(" -- "), None);
    }

    #[test]
    fn doc_text_is_the_terms_joined() {
        for t in [
            "",
            "  ",
            "a",
            "卡",
            "Hello, 世界! 反诈中心 call 110 now—ok? 한국어 テスト x卡y",
            "end with 中文",
            "中文 then word",
        ] {
            assert_eq!(doc_text(t), terms(t, true).join(" "), "{t:?}");
        }
        assert_eq!(
            terms("ab 中文字 c", false),
            ["ab", "中文", "文字", "c"].map(String::from)
        );
        assert_eq!(
            doc_text("ab 中文 c"),
            "ab 中 文 中文 c",
            "unigrams, then bigrams, words as they come"
        );
    }

    #[test]
    fn search_finds_short_chinese_queries() {
        let c = db();
        let none = SearchFilter::default();
        index_post(&c, "a", Some("反诈中心冻结了我的银行卡"), &[Some("小明")]).unwrap();
        index_post(&c, "b", Some("The bank froze my card"), &[Some("Alice")]).unwrap();
        index_post(
            &c,
            "b",
            Some("The bank froze my card again"),
            &[Some("Alice")],
        )
        .unwrap();
        for q in ["冻结", "反诈", "卡", "小明", "银行卡"] {
            assert_eq!(search(&c, q, &none, 0, 10).unwrap().ids, vec!["a"], "{q}");
        }
        assert_eq!(search(&c, "BANK", &none, 0, 10).unwrap().ids, vec!["b"]);
        assert_eq!(search(&c, "alice again", &none, 0, 10).unwrap().total, 1);
        assert!(search(&c, "结冻", &none, 0, 10).unwrap().ids.is_empty());
    }

    /// The search tables and the columns of `posts` that search reads.
    fn db() -> Connection {
        let c = Connection::open_in_memory().unwrap();
        c.execute_batch(SCHEMA).unwrap();
        c.execute_batch(
            "CREATE TABLE posts (id TEXT PRIMARY KEY, platform TEXT NOT NULL, state TEXT NOT NULL, \
             text TEXT, author_name TEXT, author_id TEXT, first_captured TEXT NOT NULL, \
             last_captured TEXT NOT NULL);",
        )
        .unwrap();
        c
    }

    fn post(c: &Connection, id: &str, platform: &str, state: &str, at: &str, text: &str) {
        c.execute(
            "INSERT INTO posts VALUES (?1, ?2, ?3, ?4, NULL, NULL, ?5, ?5)",
            params![id, platform, state, text, at],
        )
        .unwrap();
        index_post(c, id, Some(text), &[]).unwrap();
    }

    #[test]
    fn english_words_match_their_inflections_and_cjk_is_untouched() {
        let c = db();
        let none = SearchFilter::default();
        post(
            &c,
            "a",
            "web",
            "live",
            "2026-01-01T00:00:00.000000Z",
            "Two bank cards were blocked",
        );
        post(
            &c,
            "b",
            "web",
            "live",
            "2026-01-02T00:00:00.000000Z",
            "反诈中心冻结了我的银行卡",
        );
        for q in [
            "bank card",
            "banking cards",
            "card blocking",
            "BANKS blocks",
        ] {
            assert_eq!(search(&c, q, &none, 0, 10).unwrap().ids, ["a"], "{q}");
        }
        for q in ["银行卡", "卡", "冻结"] {
            assert_eq!(search(&c, q, &none, 0, 10).unwrap().ids, ["b"], "{q}");
        }
        assert!(search(&c, "bandit", &none, 0, 10).unwrap().ids.is_empty());
    }

    #[test]
    fn ties_are_newest_capture_first_and_filters_narrow() {
        let c = db();
        let none = SearchFilter::default();
        post(
            &c,
            "old",
            "web",
            "live",
            "2026-01-01T00:00:00.000000Z",
            "same words here",
        );
        post(
            &c,
            "new",
            "x",
            "deleted",
            "2026-01-03T00:00:00.000000Z",
            "same words here",
        );
        post(
            &c,
            "mid",
            "web",
            "deleted",
            "2026-01-02T00:00:00.000000Z",
            "same words here",
        );
        let ids = |f: &SearchFilter, o, l| search(&c, "same words", f, o, l).unwrap().ids;
        assert_eq!(ids(&none, 0, 10), ["new", "mid", "old"]);
        assert_eq!(ids(&none, 1, 1), ["mid"], "a page from an offset");
        let f = |p: Option<&str>, s: Option<&str>, since: Option<&str>, until: Option<&str>| {
            SearchFilter {
                platform: p.map(String::from),
                state: s.map(String::from),
                since: since.map(String::from),
                until: until.map(String::from),
            }
        };
        assert_eq!(
            ids(&f(Some("web"), None, None, None), 0, 10),
            ["mid", "old"]
        );
        assert_eq!(
            ids(&f(None, Some("deleted"), None, None), 0, 10),
            ["new", "mid"]
        );
        assert_eq!(
            ids(&f(Some("web"), Some("deleted"), None, None), 0, 10),
            ["mid"]
        );
        let day2 = Some("2026-01-02T00:00:00.000000Z");
        assert_eq!(ids(&f(None, None, day2, None), 0, 10), ["new", "mid"]);
        assert_eq!(ids(&f(None, None, None, day2), 0, 10), ["old"]);
        let hits = search(&c, "same", &f(Some("x"), None, None, None), 0, 10).unwrap();
        assert_eq!((hits.total, hits.ids.len()), (1, 1));
    }

    #[test]
    fn rebuild_indexes_every_post_with_the_current_tokenizer() {
        let c = db();
        let none = SearchFilter::default();
        // The table as index version 2 made it, a post indexed and one never indexed.
        c.execute_batch(
            "DROP TABLE post_search; CREATE VIRTUAL TABLE post_search USING fts5(author, body, \
             tokenize = 'unicode61 remove_diacritics 2');",
        )
        .unwrap();
        post(
            &c,
            "a",
            "web",
            "live",
            "2026-01-01T00:00:00.000000Z",
            "bank cards",
        );
        c.execute(
            "INSERT INTO posts VALUES ('b', 'web', 'live', 'frozen cards', 'Alice', NULL, \
             '2026-01-02T00:00:00.000000Z', '2026-01-02T00:00:00.000000Z')",
            [],
        )
        .unwrap();
        assert!(
            search(&c, "bank card", &none, 0, 10)
                .unwrap()
                .ids
                .is_empty()
        );
        assert_eq!(rebuild(&c).unwrap(), 2);
        assert_eq!(search(&c, "bank card", &none, 0, 10).unwrap().ids, ["a"]);
        let mut both = search(&c, "card", &none, 0, 10).unwrap().ids;
        both.sort();
        assert_eq!(both, ["a", "b"]);
        let rids: Vec<(i64, String)> = c
            .prepare("SELECT rid, post_id FROM search_docs ORDER BY rid")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(
            rids,
            [(1, "a".to_string()), (2, "b".to_string())],
            "order kept"
        );
        assert_eq!(search(&c, "alice", &none, 0, 10).unwrap().ids, ["b"]);
    }

    #[test]
    fn the_state_names_are_the_states() {
        for s in STATES {
            assert_eq!(crate::store::state::State::parse(s).unwrap().as_str(), s);
        }
        let clock = crate::clock::Clock::parse("2026-03-10T15:30:00Z").unwrap();
        let f = SearchFilter::parse(Some(" web "), Some(""), Some("today"), None, &clock);
        assert_eq!(
            f.unwrap(),
            SearchFilter {
                platform: Some("web".into()),
                since: Some("2026-03-10T00:00:00.000000Z".into()),
                ..Default::default()
            }
        );
        let e = SearchFilter::parse(Some("myspace"), None, None, None, &clock).unwrap_err();
        assert!(e.contains("mastodon"), "{e}");
        let e = SearchFilter::parse(None, Some("gone"), None, None, &clock).unwrap_err();
        assert!(e.contains("gone_unconfirmed"), "{e}");
    }

    #[test]
    fn a_huge_offset_is_no_hits_not_an_error() {
        let c = db();
        post(
            &c,
            "a",
            "web",
            "live",
            "2026-01-01T00:00:00.000000Z",
            "words",
        );
        let h = search(
            &c,
            "words",
            &SearchFilter::default(),
            usize::MAX,
            usize::MAX,
        )
        .unwrap();
        assert_eq!((h.ids.len(), h.total), (0, 1));
    }

    #[test]
    fn long_queries_are_refused_naming_the_limit() {
        assert!(check_query("bank froze my card").is_ok());
        let e = check_query(&"a".repeat(20_000)).unwrap_err();
        assert!(e.contains("256 characters"), "{e}");
        let many = (0..17)
            .map(|i| format!("w{i}"))
            .collect::<Vec<_>>()
            .join(" ");
        let e = check_query(&many).unwrap_err();
        assert!(e.contains("more than 16"), "{e}");
    }

    #[test]
    fn porter_stems_as_sqlite_does() {
        let words = "cards blocked blocking caresses ponies ties caress cats feed agreed plastered \
            bled motoring sing conflated troubled sized hopping tanned falling hissing fizzed \
            failing filing happy sky relational conditional rational valenci hesitanci \
            digitizer conformabli radicalli differentli vileli analogousli vietnamization \
            predication operator feudalism decisiveness hopefulness callousness formaliti \
            sensitiviti sensibiliti triplicate formative formalize electriciti electrical \
            hopeful goodness revival allowance inference airliner gyroscopic adjustable \
            defensible irritant replacement adjustment dependent adoption homologou \
            communism activate angulariti homologous effective bowdlerize probate rate \
            cease controll roll generalization oscillators news froze frozen freezing \
            police reporters banking deletion watched deleted yesterday archive archived \
            archives archiving searches searching ion lion nation option enormous \
            agreement ement cement abilities logic biology possibly knees try tried";
        let c = Connection::open_in_memory().unwrap();
        c.execute_batch(
            "CREATE VIRTUAL TABLE t USING fts5(x, tokenize = 'porter ascii'); \
             CREATE VIRTUAL TABLE v USING fts5vocab(t, 'row');",
        )
        .unwrap();
        for w in words.split_whitespace() {
            c.execute("DELETE FROM t", []).unwrap();
            c.execute("INSERT INTO t (x) VALUES (?1)", [w]).unwrap();
            let sqlite: String = c.query_row("SELECT term FROM v", [], |r| r.get(0)).unwrap();
            assert_eq!(porter(w), sqlite, "{w}");
        }
        assert_eq!(porter("blocked"), porter("blocking"));
        assert_eq!(porter("ab"), "ab");
        assert_eq!(porter("Cards"), "Cards", "only lowercase ASCII is stemmed");
    }

    #[test]
    fn highlight_ranges() {
        let t = "The Bank froze 银行卡";
        let r = match_ranges(t, &highlight_terms("bank 银行"));
        assert_eq!(
            r.iter().map(|(s, e)| &t[*s..*e]).collect::<Vec<_>>(),
            vec!["Bank", "银行"]
        );
        // Other forms of a word are marked as the search matched them.
        let t = "Two bank cards were BLOCKED; the blockade";
        let r = match_ranges(t, &highlight_terms("blocking card"));
        assert_eq!(
            r.iter().map(|(s, e)| &t[*s..*e]).collect::<Vec<_>>(),
            vec!["cards", "BLOCKED"]
        );
    }
}
