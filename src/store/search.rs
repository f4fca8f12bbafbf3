//! Full-text search over post text and author names.
//!
//! SQLite FTS5 with the `unicode61` tokenizer, fed with a transformed text: CJK runs
//! become space-separated unigrams and bigrams (so one- and two-character Chinese
//! queries like 卡 or 冻结 match), everything else is kept as words. Queries go through
//! the same transform. Ranked with bm25 over at most [`RANK_CAP`] hits; highlighting is
//! done on the original text, which is never altered.

use rusqlite::{Connection, OptionalExtension, params};

/// Tables, created with the index schema.
pub const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS search_docs (rid INTEGER PRIMARY KEY, post_id TEXT NOT NULL UNIQUE);
CREATE VIRTUAL TABLE IF NOT EXISTS post_search USING fts5(author, body, tokenize = 'unicode61 remove_diacritics 2');
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
/// among the newest [`RANK_CAP`] matching posts (first indexed = oldest).
pub fn search(conn: &Connection, q: &str, offset: usize, limit: usize) -> rusqlite::Result<Hits> {
    let Some(fq) = fts_query(q) else {
        return Ok(Hits {
            ids: vec![],
            total: 0,
            capped: false,
        });
    };
    let total: usize = conn.prepare_cached(&format!(
            "SELECT count(*) FROM (SELECT rowid FROM post_search WHERE post_search MATCH ?1 LIMIT {})",
            RANK_CAP + 1
        ))?.query_row([&fq],
        |r| r.get::<_, i64>(0),
    )? as usize;
    let mut st = conn.prepare_cached(&format!(
        "SELECT d.post_id FROM (SELECT rowid AS rid, bm25(post_search, 2.0, 1.0) AS score \
         FROM post_search WHERE post_search MATCH ?1 ORDER BY rowid DESC LIMIT {RANK_CAP}) h \
         JOIN search_docs d ON d.rid = h.rid ORDER BY h.score, d.post_id LIMIT ?2 OFFSET ?3"
    ))?;
    let ids = st
        .query_map(params![fq, limit as i64, offset as i64], |r| r.get(0))?
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
/// sorted and not overlapping.
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
        let c = Connection::open_in_memory().unwrap();
        c.execute_batch(SCHEMA).unwrap();
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
            assert_eq!(search(&c, q, 0, 10).unwrap().ids, vec!["a"], "{q}");
        }
        assert_eq!(search(&c, "BANK", 0, 10).unwrap().ids, vec!["b"]);
        assert_eq!(search(&c, "alice again", 0, 10).unwrap().total, 1);
        assert!(search(&c, "结冻", 0, 10).unwrap().ids.is_empty());
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
    fn highlight_ranges() {
        let t = "The Bank froze 银行卡";
        let r = match_ranges(t, &highlight_terms("bank 银行"));
        assert_eq!(
            r.iter().map(|(s, e)| &t[*s..*e]).collect::<Vec<_>>(),
            vec!["Bank", "银行"]
        );
    }
}
